"""The menu: one entry per area, each with the capability needed to see it.

Entries marked credit=True disappear when the global credit-analysis switch is off.
Areas add their entry here; the order here is the order on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, request, url_for
from werkzeug.routing import BuildError

from app.services.core.permissions import Capability, allows


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    capability: Capability
    credit: bool = False


NAV: list[NavItem] = [
    NavItem("Leads", "crm.leads", Capability.READ),
    NavItem("Prospects", "crm.prospects", Capability.READ),
    NavItem("Clientes", "crm.clients", Capability.READ),
    NavItem("Títulos", "titles.index", Capability.READ),
    NavItem("Negativações", "negativations.index", Capability.READ, credit=True),
    NavItem("Rotina de cobrança", "collections.runs", Capability.READ, credit=True),
    NavItem("Painel de cobrança", "dashboard.index", Capability.READ, credit=True),
    NavItem("Conciliação", "reconciliation.index", Capability.READ, credit=True),
    NavItem("Crédito", "credit_admin.accounts", Capability.VIEW_CREDIT),
    NavItem("Filiais", "branches.index", Capability.VIEW_BRANCHES),
    NavItem("Integrações", "integrations.index", Capability.MANAGE_SETTINGS, credit=True),
    NavItem("Parâmetros", "integrations.parameters", Capability.MANAGE_SETTINGS),
    NavItem("Usuários", "users.index", Capability.MANAGE_SETTINGS),
    NavItem("Eventos", "events.index", Capability.MANAGE_SETTINGS),
    NavItem("Auditoria", "audit.index", Capability.VIEW_AUDIT),
]


def nav_items(role: str, credit_enabled: bool) -> list[dict]:
    """The menu of a role, built once per app, role, switch position and mount point (every page
    shows it: fifteen URL builds per page otherwise)."""
    built = current_app.extensions.setdefault("nav_items", {})
    key = (role, credit_enabled, request.script_root)
    if key not in built:
        built[key] = _build(role, credit_enabled)
    return built[key]


def _build(role: str, credit_enabled: bool) -> list[dict]:
    items = []
    for item in NAV:
        if not allows(role, item.capability) or (item.credit and not credit_enabled):
            continue
        try:
            items.append({"label": item.label, "url": url_for(item.endpoint)})
        except BuildError:  # an area not registered in this app (never in production)
            continue
    return items


def query_with(args, **changes) -> str:
    merged = {k: v for k, v in args.items() if v not in (None, "")}
    merged.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(merged)
