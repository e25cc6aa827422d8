"""URL converters: `<int:...>` in every route means a positive 64-bit id.

Werkzeug's int converter accepts any length of digits, and an id past 2^63 - 1 reached the database
driver (OverflowError, a 500). With this converter such an address simply does not exist (404).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app) -> None:
    """Before any blueprint is registered: rules bind their converters when they are added."""
    app.url_map.converters["int"] = IdConverter
