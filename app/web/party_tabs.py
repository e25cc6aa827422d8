"""Tabs of the lead/prospect/client page. Each area adds its tab here; each tab is its own route.

A tab's endpoint takes `party_id`. `stages` limits where it shows (e.g. negativations only for
clients); `credit=True` hides it when the global credit-analysis switch is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from werkzeug.routing import BuildError


@dataclass(frozen=True)
class PartyTab:
    key: str
    label: str
    endpoint: str
    roles: tuple[str, ...] = ("admin", "finance", "crm", "viewer")
    stages: tuple[str, ...] = ("lead", "prospect", "client")
    credit: bool = False


TABS: list[PartyTab] = []


def register_tab(tab: PartyTab) -> None:
    if all(t.key != tab.key for t in TABS):
        TABS.append(tab)


def tabs_for(party, role: str, credit_enabled: bool) -> list[dict]:
    out = []
    for tab in TABS:
        if party.stage not in tab.stages or role not in tab.roles or (tab.credit and not credit_enabled):
            continue
        try:
            out.append({"key": tab.key, "label": tab.label, "url": url_for(tab.endpoint, party_id=party.id)})
        except BuildError:
            continue
    return out
