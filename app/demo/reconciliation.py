"""Demo reconciliation: a client whose six negativations each diverge from the bureau in one
of the six ways, so that "Conciliar agora" lists one divergence of each kind.

`seed` (before the processes start) creates the client and its titles. `after_start` (once the
simulator answers) negativates them through the normal services, then makes the simulator diverge
through its /_sim controls, as a bureau would behind credit-desk's back. Both are idempotent.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import requests
from sqlalchemy import select

from app.db import transaction
from app.models import Branch, Negativation, NegativationTitle, Party, Title
from app.services.core.audit import Actor
from app.services.core.clock import now_utc, today_br
from app.services.negativations import records as rec
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.removal import send_removal
from app.services.titles import lifecycle as titles
from app.services.titles import payments

DOCUMENT = "13359239938"
NAME = "Renata Demo Conciliação"
KINDS = ["removed_at_bureau", "live_at_bureau", "unknown_protocol", "settled_but_live", "notice_over",
         "amount_differs"]
PREFIX = "DEMO-CONC"


def _number(kind: str) -> str:
    return f"{PREFIX}-{KINDS.index(kind) + 1}-{kind.upper()[:12]}"


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    today = today_br()
    with transaction(services.session_factory) as s:
        branch = s.scalars(select(Branch).order_by(Branch.id)).first()
        if branch is None:
            return
        party = s.scalar(select(Party).where(Party.branch_id == branch.id, Party.document == DOCUMENT))
        if party is None:
            party = Party(branch_id=branch.id, stage="client", name=NAME, email="renata.demo@example.com",
                          document=DOCUMENT, document_kind="CPF", mobile="11987650000", street="Rua da Consolação",
                          number="200", district="Consolação", city="São Paulo", state="SP", zip="01302000",
                          became_prospect_at=now_utc(), became_client_at=now_utc())
            s.add(party)
            s.flush()
        for kind in KINDS:
            if s.scalar(select(Title.id).where(Title.branch_id == branch.id, Title.number == _number(kind))):
                continue
            due = today - dt.timedelta(days=90)
            titles.create_title(s, actor, titles.TitleInput(
                party_id=party.id, number=_number(kind), issue_date=due - dt.timedelta(days=30), due_date=due,
                amount=Decimal("109.90"), description="Mensalidade internet (demo conciliação)", origin="import"))


def after_start(services, simulator_url: str, echo=print) -> None:
    """Negativate the six titles and make the simulator diverge on each (once)."""
    with services.session_factory() as s:
        branch = s.scalars(select(Branch).order_by(Branch.id)).first()
        ids = {kind: s.scalar(select(Title.id).where(Title.branch_id == branch.id, Title.number == _number(kind)))
               for kind in KINDS} if branch else {}
        if not ids or None in ids.values():
            return
        done = s.scalar(select(NegativationTitle.id).where(NegativationTitle.title_id.in_(ids.values())).limit(1))
        party_id = s.scalar(select(Title.party_id).where(Title.id == ids[KINDS[0]]))
    if done is not None:
        return
    if not _wait_for(simulator_url):
        echo("[demo] simulador não respondeu: divergências da conciliação não preparadas.")
        return
    sim = requests.Session()
    config = sim.get(f"{simulator_url}/_sim/config", timeout=5).json()
    # Ten days of notice for these six (the demo's 45 s would let the status sync fix two kinds on its own).
    sim.post(f"{simulator_url}/_sim/config", json={"notice_seconds": None, "notice_days": 10}, timeout=5)
    actor = Actor.system("demo")
    try:
        protocols = {}
        for kind in KINDS:
            out = negativate_titles(services, actor, party_id, [ids[kind]], "12")
            with services.session_factory() as s:
                protocols[kind] = (out.negativation_id, s.get(Negativation, out.negativation_id).protocol)
    finally:
        sim.post(f"{simulator_url}/_sim/config", json={"notice_seconds": config.get("notice_seconds"),
                                                       "notice_days": config.get("notice_days", 10)}, timeout=5)
    _diverge(services, sim, simulator_url, actor, protocols, ids)
    echo("Conciliação: seis negativações de demonstração divergem do simulador, uma de cada tipo; "
         "use \"Conciliar agora\" em Conciliação.")


def _diverge(services, sim, url, actor, protocols, ids) -> None:
    def control(kind, action, body=None):
        protocol = protocols[kind][1]
        sim.post(f"{url}/_sim/negativations/{protocol}/{action}", json=body or {}, timeout=5).raise_for_status()

    control("removed_at_bureau", "remove")
    control("unknown_protocol", "forget")
    control("notice_over", "activate")
    control("amount_differs", "amount", {"total_amount": "119.90"})
    # Removed here by hand (titles still open), then live again at the bureau.
    neg_id = protocols["live_at_bureau"][0]
    with transaction(services.session_factory) as s:
        rec.request_removal(s, rec.lock_negativation(s, neg_id), "manual", actor, note="demo")
    send_removal(services, neg_id, force=True)
    control("live_at_bureau", "activate")
    # Paid in full, removal confirmed, then live again at the bureau: rule 9's alert.
    with transaction(services.session_factory) as s:
        title = s.get(Title, ids["settled_but_live"])
        result = payments.register_payment(s, actor, title.id, title.open_amount, today_br())
    for removal_id in result.removal_ids:
        send_removal(services, removal_id, force=True)
    control("settled_but_live", "activate")


def _wait_for(url: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sim/stats", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False
