"""Numeric query and form values with bounds: `limit=-1`, `limit=10000000`, `page=10**30` or an id
of "²" never reach SQL.

A negative LIMIT means "no limit" on SQLite, a huge one reads the whole table, and an OFFSET past
bigint is a database error; every `limit`/`page`/`per_page` goes through here instead.
"""

from __future__ import annotations

from flask import request

from app.services.core.errors import ValidationError
from app.services.core.ids import as_id

MAX_PAGE = 100_000


def bounded_int(name: str, default: int, *, lo: int, hi: int, args=None) -> int:
    """The query parameter (of `args`, by default the request's) as an int clamped to [lo, hi]; the
    default when absent or not a number."""
    raw = ((request.args if args is None else args).get(name) or "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = default
    return max(lo, min(hi, value))



def id_arg(name: str) -> int | None:
    """The query parameter `name` as an id (app.services.core.ids.as_id), None when it is not one.
    A repeated key is read as its first value, as everywhere in Werkzeug."""
    return as_id(request.args.get(name))


def form_id(name: str) -> int | None:
    """The posted field `name` (a select of records) as an id; None when left blank.

    Anything else that is not an id is a ValidationError on that field: read as blank, a made-up
    `branch_id=abc` would quietly mean "the client's branch" or "no integration"."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    value = as_id(raw)
    if value is None:
        raise ValidationError("Escolha uma opção válida na lista.",
                              field_errors={name: "Escolha uma opção da lista."})
    return value
