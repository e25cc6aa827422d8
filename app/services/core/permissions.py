"""Who may do what: the product's roles and the named capabilities each one has.

Views (`requires`), the API (`require`), templates (`can(...)`) and services (`allows`) all ask by
capability, never by role, so this table is the one place where a permission changes.
"""

from __future__ import annotations

import enum

ALL_ROLES = ("admin", "finance", "crm", "viewer")
# The scheduler and the CLI act as "system" (audit.Actor.system): it writes what the routine writes.
SYSTEM = "system"


class Capability(enum.StrEnum):
    READ = "read"  # every list, page and report
    EDIT_PARTIES = "edit_parties"  # leads, prospects, clients and their contacts
    CONSULT = "consult"  # rule 13 (consultation and LGPD): consulting is a permission of its own
    DECIDE_CREDIT = "decide_credit"  # rule 16 (a person applies the suggested decision)
    MANAGE_TITLES = "manage_titles"  # titles, payments, CSV imports
    NEGATIVATE = "negativate"  # include, remove and resend negativations
    RUN_COLLECTIONS = "run_collections"  # simulate or start the collection routine by hand
    VIEW_CREDIT = "view_credit"  # credit accounts, reservations, deliveries to the platform
    MANAGE_CREDIT = "manage_credit"  # limits, statuses, reservations, account imports, redeliveries
    AUTHORISE_PURCHASES = "authorise_purchases"  # the platform's integration user is usually "crm"
    IMPORT_CUSTOMERS = "import_customers"  # customers received from the commerce platform
    VIEW_BRANCHES = "view_branches"
    MANAGE_SETTINGS = "manage_settings"  # branches, integrations, policies, parameters, users
    VIEW_AUDIT = "view_audit"
    SEE_FULL_DOCUMENT = "see_full_document"  # the others see CPF/CNPJ masked (LGPD minimisation)


_ADMIN_FINANCE = frozenset({"admin", "finance"})
GRANTS: dict[Capability, frozenset[str]] = {
    Capability.READ: frozenset(ALL_ROLES),
    Capability.EDIT_PARTIES: frozenset({"admin", "finance", "crm"}),
    Capability.CONSULT: frozenset({"admin", "finance", "crm"}),
    Capability.DECIDE_CREDIT: _ADMIN_FINANCE,  # never "system": a person decides (rule 16)
    Capability.MANAGE_TITLES: _ADMIN_FINANCE | {SYSTEM},
    Capability.NEGATIVATE: _ADMIN_FINANCE | {SYSTEM},
    Capability.RUN_COLLECTIONS: _ADMIN_FINANCE,
    Capability.VIEW_CREDIT: frozenset({"admin", "finance", "viewer"}),
    Capability.MANAGE_CREDIT: _ADMIN_FINANCE | {SYSTEM},
    Capability.AUTHORISE_PURCHASES: frozenset({"admin", "finance", "crm"}),
    Capability.IMPORT_CUSTOMERS: frozenset({"admin", "finance", "crm"}),
    Capability.VIEW_BRANCHES: _ADMIN_FINANCE,
    Capability.MANAGE_SETTINGS: frozenset({"admin"}),
    Capability.VIEW_AUDIT: frozenset({"admin"}),
    Capability.SEE_FULL_DOCUMENT: frozenset({"admin", "finance", "crm"}),
}


def allows(role: str | None, capability: Capability | str) -> bool:
    """Whether `role` has `capability` (an unknown capability name is a bug: ValueError)."""
    return role in GRANTS[Capability(capability)]


def capabilities_of(role: str | None) -> frozenset[Capability]:
    return frozenset(c for c, roles in GRANTS.items() if role in roles)


def sees_full_document(role: str | None) -> bool:
    return allows(role, Capability.SEE_FULL_DOCUMENT)
