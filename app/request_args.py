"""Numeric query parameters with bounds: `limit=-1`, `limit=10000000` or `page=10**30` never reach SQL.

A negative LIMIT means "no limit" on SQLite, a huge one reads the whole table, and an OFFSET past
bigint is a database error; every `limit`/`page`/`per_page` goes through here instead.
"""

from __future__ import annotations

from flask import request

MAX_PAGE = 100_000


def bounded_int(name: str, default: int, *, lo: int, hi: int) -> int:
    """The query parameter as an int clamped to [lo, hi]; the default when absent or not a number."""
    raw = (request.args.get(name) or "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = default
    return max(lo, min(hi, value))
