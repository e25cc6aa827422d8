"""Negativations: eligibility, sending to the bureau through the outbox, outcomes, records, the
per-branch negativation policy.
"""
