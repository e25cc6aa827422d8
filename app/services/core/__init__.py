"""Shared building blocks with no feature of their own: errors, money, clock, documents, audit, locks,
crypto, business days, rate limit.
"""
