"""Tabs of the lead/prospect/client page. Each area adds its tab here; each tab is its own route.

A tab's endpoint takes `party_id`. `stages` limits where it shows (e.g. negativations only for
clients); `credit=True` hides it when the global credit-analysis switch is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from werkzeug.routing import BuildError

from app.services.core.permissions import Capability

from .common import can


@dataclass(frozen=True)
class PartyTab:
    key: str
    label: str
    endpoint: str
    capability: Capability = Capability.READ
    stages: tuple[str, ...] = ("lead", "prospect", "client")
    credit: bool = False


TABS: list[PartyTab] = []


def register_tab(tab: PartyTab) -> None:
    if all(t.key != tab.key for t in TABS):
        TABS.append(tab)


def tabs_for(party, credit_enabled: bool) -> list[dict]:
    """The tabs the logged-in user may open on this party's page."""
    out = []
    for tab in TABS:
        if party.stage not in tab.stages or not can(tab.capability) or (tab.credit and not credit_enabled):
            continue
        try:
            out.append({"key": tab.key, "label": tab.label, "url": url_for(tab.endpoint, party_id=party.id)})
        except BuildError:
            continue
    return out
