"""URL converters: `<int:...>` in every route means a positive id the id columns can hold.

Werkzeug's int converter accepts any length of digits, and an id past the columns' range reached the
database (SQLite's driver: OverflowError past 2^63 - 1; PostgreSQL: "integer out of range" past
2^31 - 1, its INTEGER primary keys), a 500. With this converter such an address does not exist (404).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from app.services.core.ids import MAX_ID


class IdConverter(IntegerConverter):
    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app) -> None:
    """Before any blueprint is registered: rules bind their converters when they are added."""
    app.url_map.converters["int"] = IdConverter
