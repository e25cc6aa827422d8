"""Who may do what: the roles of the product and the personal data each may see."""

from __future__ import annotations

ALL_ROLES = ("admin", "finance", "crm", "viewer")

# Roles that work with the whole CPF/CNPJ (finance negativates, admin audits, crm consults); the
# others see it masked (LGPD minimisation).
FULL_DOCUMENT_ROLES = frozenset({"admin", "finance", "crm"})
