"""CSV files for people's spreadsheets: one way to write them, safe to open.

Every export of the product goes through `csv_lines`:
- UTF-8 with a BOM, `;` between cells, CRLF: what a pt-BR Excel or LibreOffice opens without an
  import wizard;
- text cells that start with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`, so a
  spreadsheet shows them as text and never evaluates them (CSV formula injection: a client named
  `=HYPERLINK(...)` must not become a link that leaks the sheet);
- values in pt-BR: money as `1234,56` (decimal comma, no thousands separator, so the cell stays a
  number when opened), dates `dd/mm/aaaa`, instants `dd/mm/aaaa hh:mm` in Brasília, booleans
  `Sim`/`Não`. Only the cells this module formats from numbers and dates skip the neutralisation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from app.services.core.clock import to_br

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def text_cell(value: object) -> str:
    """A text cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def cell(value: object) -> str:
    """One value as a pt-BR cell: numbers and dates formatted here, everything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return to_br(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return text_cell(value)


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The file as streamed chunks: BOM and header first, then one chunk per row (memory stays flat)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([text_cell(h) for h in header])
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(v) for v in row])
        yield buffer.getvalue()
