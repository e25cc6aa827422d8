"""The one privacy rule: who sees a whole CPF/CNPJ (LGPD minimisation, rule 13 and 15).

Finance negativates, admins audit and CRM users consult: they work with the whole number. Every
other reader (the read-only role, the commerce platform's credential) sees it masked. Pages, API
answers, CSV exports and payloads shown to a user all ask `document_for(role, value)`.
"""

from __future__ import annotations

from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.permissions import sees_full_document

__all__ = ["document_for", "sees_full_document"]


def document_for(role: str | None, value: str | None, *, formatted: bool = True) -> str | None:
    """The document as this role may see it: whole (formatted, or as stored when `formatted` is
    False), or masked. None stays None; a value that is not a valid document is hidden from
    those who may not see it."""
    if not value:
        return value
    try:
        doc = normalize_document(value)
    except InvalidDocument:
        return value if sees_full_document(role) else "***"
    if not sees_full_document(role):
        return doc.masked
    return doc.formatted if formatted else doc.number
