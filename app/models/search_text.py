"""Folded text for word searches: lower case, no accents, words separated by single spaces.

`fold_words("João da Silva-Santos")` is `" joao da silva santos"`: the leading space lets one
`LIKE '% term%'` find a term at the start of any word ("silva" and "sant" find this name; "joao"
finds it without the accent a user rarely types).
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold_words(text: str | None) -> str:
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    words = _NOT_WORD.sub(" ", plain).split()
    return " " + " ".join(words) if words else ""
