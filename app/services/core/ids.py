"""Record ids as people's input carries them: text from a form, a query or a CSV line.

One reading for every caller. `str.isdigit()` is not it: it accepts "²", which int() refuses (a
ValueError that was a server error), and int() itself reads "٣", "３" and "1_000"; an id past the
id columns' range is a database error (PostgreSQL: "integer out of range" past 2^31 - 1; SQLite's
driver: OverflowError past 2^63 - 1). What is not an id here never reaches SQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.services.core.errors import ValidationError

# The largest id the database stores: the primary keys are INTEGER columns, 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1


def as_id(raw: object) -> int | None:
    """`raw` as an id (an int, or ASCII digits) from 1 to MAX_ID; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip() if isinstance(raw, str) else ""
        # Past 10 digits it is no id (and past 4300, int() itself refuses the text).
        if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
            return None
        value = int(text)
    return value if 0 < value <= MAX_ID else None


def ids_or_error(values: Iterable[object], *, field: str, message: str) -> list[int]:
    """The distinct ids in `values`, sorted; a ValidationError on `field` when any is not an id."""
    ids = [as_id(v) for v in values]
    if any(i is None for i in ids):
        raise ValidationError(message, field_errors={field: "Seleção inválida: escolha na lista."})
    return sorted(set(ids))
