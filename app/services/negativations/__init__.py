"""Negativations: eligibility, inclusion and removal through the outbox (`inclusion`, `removal`), the
scheduler's jobs (`outbox`), outcomes, records, the per-branch negativation policy.
"""
