"""The menu: one entry per area, each with the roles that may see it.

Entries marked credit=True disappear when the global credit-analysis switch is off (seed 003).
Areas add their entry here; the order here is the order on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for
from werkzeug.routing import BuildError


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...]
    credit: bool = False


NAV: list[NavItem] = [
    NavItem("Leads", "crm.leads", ("admin", "finance", "crm", "viewer")),
    NavItem("Prospects", "crm.prospects", ("admin", "finance", "crm", "viewer")),
    NavItem("Clientes", "crm.clients", ("admin", "finance", "crm", "viewer")),
    NavItem("Títulos", "titles.index", ("admin", "finance", "crm", "viewer")),
    NavItem("Negativações", "negativations.index", ("admin", "finance", "crm", "viewer"), credit=True),
    NavItem("Rotina de cobrança", "collections.runs", ("admin", "finance", "crm", "viewer"), credit=True),
    NavItem("Painel de cobrança", "dashboard.index", ("admin", "finance", "crm", "viewer"), credit=True),
    NavItem("Conciliação", "reconciliation.index", ("admin", "finance", "crm", "viewer"), credit=True),
    NavItem("Crédito", "credit_admin.accounts", ("admin", "finance", "viewer")),
    NavItem("Filiais", "branches.index", ("admin", "finance")),
    NavItem("Integrações", "integrations.index", ("admin",), credit=True),
    NavItem("Parâmetros", "integrations.parameters", ("admin",)),
    NavItem("Usuários", "users.index", ("admin",)),
    NavItem("Eventos", "events.index", ("admin",)),
    NavItem("Auditoria", "audit.index", ("admin",)),
]


def nav_items(role: str, credit_enabled: bool) -> list[dict]:
    items = []
    for item in NAV:
        if role not in item.roles or (item.credit and not credit_enabled):
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
