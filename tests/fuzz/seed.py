"""A small portfolio for the fuzz run: ids 1..n exist, so generated ids sometimes hit real rows.

Besides branches, clients and titles it holds what the later operations read and act on: both
branches' bureau integrations (the first with its restriction codes fetched), an event endpoint per
branch with delivered, failed and pending deliveries, negativations (one the bureau forgot, one
whose amount differs there, one removed by hand), the reconciliation runs that found them and the
title the removal by hand left on hold. Nothing leaves the process: the bureau is the FakeBureau the
fuzz app is wired with and events go to OfflineSender.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.models import BureauIntegration, Negativation, Title
from app.models.events import EventDelivery
from app.models.reconciliation import Divergence, ReconciliationRun
from app.services.core.audit import Actor
from app.services.events import delivery
from app.services.events import endpoints as event_endpoints
from app.services.events.catalog import EVENT_TYPES
from app.services.negativations.inclusion import negativate_titles
from app.services.reconciliation.runs import queue_runs, run_branch
from app.services.settings.bureau_integrations import fetch_reasons
from app.services.titles.manual_removal import remove_by_hand
from integrations.events.port import SendResult
from tests.clock import pin_clock
from tests.integration.titles_support import CPF_OK, CPF_OK_2, FINANCE, make_branch, make_client, make_title

TODAY = dt.date(2026, 3, 16)
ADMIN = Actor(name="fuzz", user_id=None, role="admin")


class OfflineSender:
    """The events adapter of the fuzz app: answers like a receiver, without any HTTP. The endpoint
    whose URL says so refuses for good (a `failed` delivery, as a 410 Gone would)."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, url, secret, event_id, event_type, payload) -> SendResult:
        self.sent.append((url, event_id))
        if "recusa" in url:
            return SendResult(False, http_status=410, duration_ms=3, error="HTTP 410", retryable=False)
        return SendResult(True, http_status=200, duration_ms=3)


def seed_portfolio(services, bureau, sender: OfflineSender) -> None:
    with pin_clock(TODAY):
        with services.session_factory() as s:
            branch = make_branch(s, services.box)
            other = make_branch(s, services.box, cnpj="11444777000161", name="Filial RJ", state="RJ")
            titles: dict[str, tuple[int, int]] = {}  # number -> (party id, title id)
            for n, (branch_, document) in enumerate(((branch, CPF_OK), (other, CPF_OK_2)), start=1):
                party = make_client(s, branch_, document=document, name=f"Cliente {n}")
                for days in (10, 70, 200):
                    title = make_title(s, party, number=f"T-{n}-{days}", days_overdue=days)
                    titles[title.number] = (party.id, title.id)
            # Before the negativations, so that their events fill both endpoints' outboxes.
            for branch_, url in ((branch, "https://recusa.example.com.br/hooks"),
                                 (other, "https://erp.example.com.br/hooks")):
                event_endpoints.save_endpoint(s, services.box, ADMIN, branch_.id, event_endpoints.EndpointInput(
                    name=f"ERP {branch_.name}", url=url, event_types=list(EVENT_TYPES),
                    secret="whsec_fuzz-secret-0123456789"))
            s.commit()
            branch_ids, integration_id = (branch.id, other.id), branch.bureau_integration_id
        fetch_reasons(services, ADMIN, integration_id)
        # Title 1 first: generated ids hit 1 most often, so release-hold meets a real hold.
        held = _negativate(services, *titles["T-1-10"])
        remove_by_hand(services, FINANCE, [held.id], "manual", note="fuzz")
        forgotten = _negativate(services, *titles["T-1-200"])
        bureau.forget(forgotten.protocol)  # unknown_protocol at the next check
        differs = _negativate(services, *titles["T-2-200"])
        bureau.set_amount(differs.protocol, Decimal("999.00"))  # amount_differs at the next check
        delivery.deliver_pending(services, sender=sender)  # failed (branch 1), delivered (branch 2)
        for branch_id in branch_ids:
            run_branch(services, Actor.system("rotina"), branch_id)  # divergences; their events stay pending
        with services.session_factory() as s:
            queue_runs(s, FINANCE, branch_ids[0], trigger="api")  # and one run still queued
            s.commit()
        _check(services)


def _check(services) -> None:
    """The fuzz run means something only if the rows above exist: say so if the seed stops making them."""
    with services.session_factory() as s:
        assert s.get(Title, 1).hold_at is not None
        assert sorted(s.scalars(select(Divergence.kind))) == ["amount_differs", "unknown_protocol"]
        assert s.get(EventDelivery, 1).status == "failed"
        assert set(s.scalars(select(EventDelivery.status))) == {"pending", "delivered", "failed"}
        assert sorted(s.scalars(select(ReconciliationRun.status))) == ["done", "done", "queued"]
        assert s.get(BureauIntegration, 1).reasons_cache


def _negativate(services, party_id: int, title_id: int) -> Negativation:
    outcome = negativate_titles(services, FINANCE, party_id, [title_id], "12", today=TODAY)
    with services.session_factory() as s:
        return s.get(Negativation, outcome.negativation_id)
