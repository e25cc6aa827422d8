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


# Words that never tell two names apart: company types ("Ltda", "S.A.", "S/A", "ME", "EPP", "EIRELI"),
# their long forms, and the connectors of Portuguese names ("Maria da Silva" is "Maria Silva").
_NAME_NOISE = frozenset({
    "ltda", "limitada", "sa", "s", "a", "me", "epp", "eireli", "mei", "slu", "ss", "cia", "companhia",
    "sociedade", "anonima", "empresa", "individual", "responsabilidade", "e", "de", "da", "do", "das", "dos",
})


def name_key(text: str | None) -> frozenset[str]:
    """The words that identify a person or company name, with case, accents, punctuation, word order,
    company suffixes and connectors ignored: two names with the same key are the same name."""
    return frozenset(w for w in fold_words(text).split() if w not in _NAME_NOISE)
