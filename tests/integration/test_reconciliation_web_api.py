"""The Conciliação and Eventos pages, the API, the counts on the home page and the dashboard, the jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import Negativation, Title
from app.models.events import EventEndpoint
from app.models.reconciliation import Divergence, ReconciliationRun
from app.services.core.audit import Actor
from app.services.negativations.inclusion import negativate_titles
from app.services.reconciliation.runs import run_branch
from app.services.settings import switches
from tests.clock import pin_clock
from tests.integration.titles_support import FINANCE, TODAY, world


@pytest.fixture
def divergent(services, fake_bureau):
    """A branch with one negativation the bureau no longer knows (an open divergence)."""
    with pin_clock(TODAY):
        branch_id, party_id, (t1, _) = world(services)
        out = negativate_titles(services, FINANCE, party_id, [t1], "12", today=TODAY)
        with transaction(services.session_factory) as s:
            switches.set_credit_analysis(s, FINANCE, True)
            fake_bureau.forget(s.get(Negativation, out.negativation_id).protocol)
        run_branch(services, Actor.system("rotina"), branch_id)
    return branch_id, out.negativation_id


def test_conciliacao_page_lists_divergences_and_queues_a_run(login_as, divergent, session):
    branch_id, neg_id = divergent
    client = login_as("finance")
    page = client.get("/conciliacao/").get_data(as_text=True)
    assert "Protocolo desconhecido no bureau" in page and f"nº {neg_id}" in page
    assert "Registrar baixa" in page and "Conciliar agora" in page
    resp = client.post("/conciliacao/conciliar", data={"branch_id": str(branch_id)})
    assert resp.status_code == 302
    queued = session.scalars(select(ReconciliationRun).where(ReconciliationRun.status == "queued")).all()
    assert [r.branch_id for r in queued] == [branch_id]
    client.post("/conciliacao/conciliar", data={"branch_id": str(branch_id)})  # a second click asks nothing more
    assert session.scalar(select(ReconciliationRun.id).where(ReconciliationRun.status == "queued")) == queued[0].id
    assert "Histórico de conciliações" in client.get("/conciliacao/execucoes").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "1 divergência com o bureau: Protocolo desconhecido no bureau" in home
    assert "divergências abertas com o bureau" in client.get("/cobranca/painel").get_data(as_text=True)


def test_viewer_reads_but_has_no_actions(login_as, divergent):
    client = login_as("viewer")
    page = client.get("/conciliacao/").get_data(as_text=True)
    assert "Protocolo desconhecido no bureau" in page and "Registrar baixa" not in page
    assert client.post("/conciliacao/conciliar").status_code == 403


def test_mark_removed_from_the_page(login_as, divergent, session):
    _, neg_id = divergent
    divergence = session.scalar(select(Divergence))
    resp = login_as("finance").post(f"/conciliacao/divergencias/{divergence.id}/registrar-baixa",
                                    data={"reason": "error_correction", "note": "protocolo perdido",
                                          "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/conciliacao/")
    assert session.get(Negativation, neg_id).status == "removed"


def test_api(client, api_token, divergent, session):
    branch_id, neg_id = divergent
    headers = api_token("finance")
    body = client.get("/api/v1/reconciliation/divergences", headers=headers).get_json()
    assert [(d["kind"], d["negativation_id"]) for d in body["items"]] == [("unknown_protocol", neg_id)]
    assert body["open_counts"]["unknown_protocol"] == 1
    resp = client.post("/api/v1/reconciliation/runs", json={"branch_id": branch_id}, headers=headers)
    assert resp.status_code == 202 and resp.get_json()["items"][0]["status"] == "queued"
    runs = client.get("/api/v1/reconciliation/runs", headers=headers).get_json()["items"]
    assert [r["status"] for r in runs] == ["queued", "done"] and runs[1]["counts"] == {"unknown_protocol": 1}
    viewer = api_token("viewer")
    assert client.post("/api/v1/reconciliation/runs", json={}, headers=viewer).status_code == 403


def test_api_lists_page_by_cursor_and_bodies_are_checked(client, api_token, services, fake_bureau, divergent,
                                                         session):
    branch_id, neg_id = divergent
    headers = api_token("finance")
    with pin_clock(TODAY):
        second = negativate_titles(services, FINANCE, session.scalar(select(Negativation.party_id)),
                                   [session.scalar(select(Title.id).where(Title.number == "T-2"))], "12", today=TODAY)
        fake_bureau.set_amount(session.get(Negativation, second.negativation_id).protocol, Decimal("999.00"))
        run_branch(services, Actor.system("rotina"), branch_id)

    def walk(url: str) -> list[list[int]]:
        pages, cursor = [], None
        while True:
            body = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers).get_json()
            pages.append([item["id"] for item in body["items"]])
            if (cursor := body["next_cursor"]) is None:
                return pages

    divergences = session.scalars(select(Divergence.id).order_by(Divergence.id.desc())).all()
    assert len(divergences) == 2
    assert walk("/api/v1/reconciliation/divergences?limit=1") == [[divergences[0]], [divergences[1]]]
    assert walk("/api/v1/reconciliation/divergences?status=closed&limit=1") == [[]]
    runs = session.scalars(select(ReconciliationRun.id).order_by(ReconciliationRun.id.desc())).all()
    assert walk("/api/v1/reconciliation/runs?limit=1") == [[runs[0]], [runs[1]]]
    for url in ("/api/v1/reconciliation/runs?offset=1", "/api/v1/reconciliation/divergences?kind=outro",
                "/api/v1/reconciliation/divergences?status=todas", "/api/v1/reconciliation/runs?limit=201"):
        assert client.get(url, headers=headers).status_code == 422, url
    assert client.post("/api/v1/reconciliation/runs", json={"branch_id": "1"}, headers=headers).status_code == 422
    mark = f"/api/v1/reconciliation/divergences/{divergences[1]}/mark-removed"
    for body, message in (({}, "Campo obrigatório."), ({"reason": "paid"}, "Valor inválido; use 'payment', "
                                                       "'agreement', 'error_correction' or 'manual'.")):
        resp = client.post(mark, json=body, headers=headers)
        assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"reason": message}
    assert session.get(Negativation, neg_id).status == "notice"
    done = client.post(mark, json={"reason": "error_correction", "note": "protocolo perdido"}, headers=headers)
    assert done.status_code == 200 and (done.get_json()["negativation_id"], done.get_json()["status"]) == (
        neg_id, "removed")


def test_events_pages(login_as, services, divergent):
    branch_id, _ = divergent
    client = login_as("admin")
    assert "Nenhum destino configurado" in client.get("/eventos/").get_data(as_text=True)
    resp = client.post("/eventos/novo", data={"branch_id": str(branch_id), "name": "ERP", "active": "y",
                                               "url": "http://erp.example/hooks",
                                               "event_types": ["title.payment_recorded"]})
    assert "HTTP sem TLS só é aceito" in resp.get_data(as_text=True)
    resp = client.post("/eventos/novo", data={"branch_id": str(branch_id), "name": "ERP", "active": "y",
                                               "url": "https://erp.example/hooks",
                                               "event_types": ["title.payment_recorded"]}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Segredo HMAC (mostrado só agora" in page and "whsec_" in page
    with services.session_factory() as s:
        endpoint = s.scalar(select(EventEndpoint))
        assert (endpoint.url, endpoint.event_types, endpoint.full_documents) == (
            "https://erp.example/hooks", ["title.payment_recorded"], False)
    assert "Enviar teste" in client.get(f"/eventos/{endpoint.id}").get_data(as_text=True)
    assert login_as("finance").get("/eventos/").status_code == 403


def test_jobs_are_registered():
    from scheduler.registry import JOBS
    from scheduler.runner import load_jobs

    load_jobs()
    assert JOBS["reconciliation"].trigger_args == {"seconds": 30}
    assert JOBS["events_delivery"].trigger_args == {"seconds": 5}


def test_cli_reconcile_prints_counts_per_kind(app, divergent):
    branch_id, _ = divergent
    result = app.test_cli_runner().invoke(args=["reconcile", "--branch", str(branch_id)])
    assert result.exit_code == 0, result.output
    assert "Verificadas: 1 de 1" in result.output
    assert "Protocolo desconhecido no bureau: 1" in result.output
