"""LIKE patterns from user text: `%` and `_` typed in a search box are searched for, not wildcards.

Use `contains_pattern(text)` / `prefix_pattern(text)` with `escape=LIKE_ESCAPE`, or SQLAlchemy's
`startswith(text, autoescape=True)`. Without the escape, `q=%` matches every row.
"""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"


def prefix_pattern(text: str) -> str:
    return f"{escape_like(text)}%"
