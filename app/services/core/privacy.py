"""The one privacy rule: who sees a whole CPF/CNPJ (LGPD minimisation, rule 13 and 15).

Finance negativates, admins audit and CRM users consult: they work with the whole number. Every
other reader (the read-only role, the commerce platform's credential) sees it masked. Pages, API
answers, CSV exports and payloads shown to a user all ask `document_for(role, value)`.
"""

from __future__ import annotations

from functools import lru_cache

from app.services.core.documents import Document, InvalidDocument, normalize_document
from app.services.core.permissions import sees_full_document

__all__ = ["document_for", "sees_full_document"]


def document_for(role: str | None, value: str | None, *, formatted: bool = True) -> str | None:
    """The document as this role may see it: whole (formatted, or as stored when `formatted` is
    False), or masked. None stays None; a value that is not a valid document is hidden from
    those who may not see it."""
    if not value:
        return value
    doc = _stored_document(value)
    if doc is None:
        return value if sees_full_document(role) else "***"
    if not sees_full_document(role):
        return doc.masked
    return doc.formatted if formatted else doc.number


@lru_cache(maxsize=2048)
def _stored_document(value: str) -> Document | None:
    """`normalize_document` of a value as stored, None when invalid. A list page shows 50 of them and
    the check-digit validation was a third of the clients list's CPU; the same clients come back
    page after page. A Document is immutable and its repr is masked."""
    try:
        return normalize_document(value)
    except InvalidDocument:
        return None
