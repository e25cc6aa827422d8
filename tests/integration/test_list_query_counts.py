"""Every paginated web list costs the same number of SQL statements for 2 rows as for 40.

A list that loads a relation per row (an N+1) is fast in the demo and slow at a million titles:
these tests count the statements a page sends (a `before_cursor_execute` listener on the engine)
for a page showing 2 rows and for one showing 40, and require the same count. Each page is asked
for twice and only the second request is counted, so per-process caches filled on a first visit do
not blur the comparison.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.models import (
    AuditEvent,
    Branch,
    BureauIntegration,
    CollectionRun,
    CreditAccount,
    Negativation,
    NegativationTitle,
    Party,
    Title,
)
from app.models.commerce import OutboundUpdate
from app.models.events import EventDelivery, EventEndpoint
from app.models.reconciliation import Divergence, ReconciliationRun
from app.services.core.audit import Actor
from app.services.settings import switches
from app.services.settings import users as user_service
from benchmarks.portfolio import cnpj
from tests.clock import pin_clock
from tests.conftest import PASSWORD, _truncate, login
from tests.integration.collections_support import valid_cpf

TODAY = dt.date(2026, 3, 16)
NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with pin_clock(TODAY):
        yield


def populate(services, n: int) -> dict:
    """n clients, each with one overdue title, a live negativation, a credit account, a collection
    run, a reconciliation run with an open divergence, an event delivery, an audit event and a
    commerce update; returns ids the pages are asked for."""
    with services.session_factory() as s:
        switches.set_credit_analysis(s, Actor.system("test"), True)
        integ = BureauIntegration(name="CnM", base_url="http://127.0.0.1:9", client_id="c",
                                  client_secret_encrypted=services.box.encrypt("s"))
        # One branch per row: a many-to-one loaded per row hits the identity map when every row
        # shares one branch, and would hide an N+1 on `row.branch`.
        branches = [Branch(name=f"Filial {i:03d}", cnpj=cnpj(f"{i + 10:08d}0001"), street="Av. Paulista",
                           number="1000", district="Bela Vista", city="São Paulo", state="SP", zip="01310100",
                           integration=integ) for i in range(n)]
        s.add_all(branches)
        s.flush()
        branch = branches[0]
        endpoints = [EventEndpoint(branch_id=b.id, name=f"ERP {b.name}", url="https://erp.example.com.br/hooks",
                                   secret_encrypted=services.box.encrypt("k"), event_types=[], created_by="test")
                     for b in branches]
        s.add_all(endpoints)
        s.flush()
        endpoint = endpoints[0]
        first_party = None
        for i in range(n):
            branch = branches[i]
            party = Party(branch_id=branch.id, stage="client", name=f"Maria Souza {i:03d}", document=valid_cpf(i + 1),
                          document_kind="CPF", email=f"m{i}@example.com.br", street="Rua A", number="10",
                          district="Centro", city="São Paulo", state="SP", zip="01001000", status="APV")
            s.add(party)
            s.flush()
            first_party = first_party or party
            due = TODAY - dt.timedelta(days=90 + i)
            title = Title(branch_id=branch.id, party_id=party.id, number=f"T-{i:04d}", issue_date=due,
                          due_date=due, amount=Decimal("100.00"), amount_received=Decimal("0.00"),
                          open_amount=Decimal("100.00"), status="open")
            s.add(title)
            if i:
                # The first client also gets a title and a removed negativation per row, so its tabs grow with n.
                extra = Title(branch_id=first_party.branch_id, party_id=first_party.id, number=f"U-{i:04d}",
                              issue_date=due, due_date=due, amount=Decimal("50.00"),
                              amount_received=Decimal("0.00"), open_amount=Decimal("50.00"), status="open")
                s.add(extra)
                s.flush()
                old = Negativation(party_id=first_party.id, branch_id=branch.id, integration_id=integ.id,
                                   restriction_code="12", document=first_party.document, document_type="CPF",
                                   idempotency_key=str(uuid.uuid4()), protocol=f"R-{i}", status="removed",
                                   sent_at=NOW, removed_at=NOW, removal_reason="payment", requested_by="rotina",
                                   origin="routine", payload={"titles": []}, total_amount=Decimal("50.00"))
                old.titles.append(NegativationTitle(title_id=extra.id, number=extra.number, due_date=due,
                                                    amount_sent=Decimal("50.00"), live=False))
                s.add(old)
            s.flush()
            neg = Negativation(party_id=party.id, branch_id=branch.id,
                               integration_id=integ.id, restriction_code="12",
                               document=party.document, document_type="CPF", idempotency_key=str(uuid.uuid4()),
                               protocol=f"P-{i}", status="active", sent_at=NOW, activated_at=NOW,
                               requested_by="rotina", origin="routine", payload={"titles": []},
                               total_amount=Decimal("100.00"))
            neg.titles.append(NegativationTitle(title_id=title.id, number=title.number, due_date=due,
                                                amount_sent=Decimal("100.00")))
            s.add(neg)
            s.add(CreditAccount(branch_id=branch.id, party_id=party.id, credit_limit=Decimal("1000.00")))
            s.add(CollectionRun(branch_id=branch.id, trigger="manual", requested_by="test", status="done",
                                days_to_execute=60, started_at=NOW, finished_at=NOW,
                                counts={"included": 1}))
            run = ReconciliationRun(branch_id=branch.id, trigger="manual", requested_by="test", status="done",
                                    created_at=NOW, started_at=NOW, finished_at=NOW, total=1, checked=1)
            s.add(run)
            s.flush()
            s.add(Divergence(branch_id=branch.id, negativation_id=neg.id, kind="removed_at_bureau",
                             opened_run_id=run.id, evidence={"bureau_status": "removed"}))
            s.add(EventDelivery(event_id=f"evt_{uuid.uuid4().hex}", event_type="title.paid",
                                endpoint_id=endpoint.id, branch_id=endpoint.branch_id, payload={"id": i}))
            s.add(AuditEvent(actor="test", action="title.create", entity_type="title", entity_id=str(title.id),
                             branch_id=branch.id, summary=f"Título {title.number}"))
            s.add(OutboundUpdate(branch_id=branch.id, party_id=party.id, kind="status", payload={"status": "APV"},
                                 created_by="test"))
        s.commit()
        return {"party_id": first_party.id, "endpoint_id": endpoint.id}


PAGES = {
    "titles": "/titulos/",
    "titles_overdue": "/titulos/?overdue=sim",
    "clients": "/crm/clientes/",
    "clients_search": "/crm/clientes/?q=maria",
    "negativations": "/negativacoes/",
    "party_titles": "/clientes/{party_id}/titulos",
    "party_negativations": "/clientes/{party_id}/negativacoes",
    "credit_accounts": "/credito/contas",
    "credit_deliveries": "/credito/entregas",
    "collection_runs": "/cobranca/execucoes?per_page=50",
    "reconciliation": "/conciliacao/",
    "reconciliation_runs": "/conciliacao/execucoes?per_page=50",
    "event_endpoints": "/eventos/",
    "event_deliveries": "/eventos/{endpoint_id}",
    "audit": "/auditoria/",
}


def statements_for(services, client, url: str) -> tuple[int, str]:
    client.get(url)  # warm: per-process caches (settings, labels) are not what is measured
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        resp = client.get(url)
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(seen), resp.get_data(as_text=True)


def fresh_admin(services, client) -> None:
    """An empty database with one admin, logged in."""
    _truncate(services.engine)
    with services.session_factory() as s:
        user_service.create_user(s, Actor.system("test"), username="admin", name="Admin", password=PASSWORD,
                                 role="admin")
        s.commit()
    client.post("/logout")
    login(client, "admin")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_list_page_statements_do_not_grow_with_rows(page, app, services, client):
    counts, rows = {}, {}
    for n in (2, 40):
        fresh_admin(services, client)
        url = PAGES[page].format(**populate(services, n))
        counts[n], html = statements_for(services, client, url)
        rows[n] = html.count("<tr")
    # The page really shows the rows it was built with (else equal counts would prove nothing).
    assert rows[40] - rows[2] >= 38, f"{page}: {rows[2]} table rows for 2, {rows[40]} for 40"
    assert counts[2] == counts[40], f"{page}: {counts[2]} statements for 2 rows, {counts[40]} for 40"
