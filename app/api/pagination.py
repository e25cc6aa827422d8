"""The one pagination convention of /api/v1: `?cursor=&limit=` in, `{"items", "next_cursor"}` out.

The cursor is opaque to clients. Lists the services page by keyset (titles, CRM) keep the cursor the
service makes; the others page here by a position (an id to continue after, or an offset) wrapped
in the same kind of opaque token.
"""

from __future__ import annotations

import base64
import re

from app.services.core.errors import ValidationError
from app.services.core.ids import MAX_ID

_TOKEN = re.compile(r"p1\.([0-9]{1,19})")
# Positions are ids or offsets compared with INTEGER columns: past the id range there is no page.
MAX_POSITION = MAX_ID


def make_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p1.{position}".encode()).decode().rstrip("=")


def read_cursor(cursor: str | None) -> int | None:
    """The position in a cursor made by make_cursor, None without one; 422 invalid_cursor otherwise."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raw = ""
    match = _TOKEN.fullmatch(raw)
    if match is None or int(match.group(1)) > MAX_POSITION:
        raise ValidationError("Cursor de página inválido; recomece da primeira página.", code="invalid_cursor",
                              field_errors={"cursor": "Use o next_cursor devolvido pela página anterior."})
    return int(match.group(1))
