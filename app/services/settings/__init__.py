"""Settings of the product and of each branch: the global switch, branches, bureau integrations and
tokens, restriction reasons, users.
"""
