"""Collections through the web UI, the JSON API and the CLI."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import CollectionPolicy, CollectionRun, Negativation
from app.services.collections.routine import run_queued
from app.services.core.clock import today_br
from tests.integration.collections_support import routine_world


def world(services):
    return routine_world(services, today=today_br())


def test_parameters_page_and_form_refuse_less_than_60_days(client, users, login_as, services, session):
    branch_id, _, _ = world(services)
    login_as("admin")
    page = client.get("/cobranca/parametros").get_data(as_text=True)
    assert "Pronta" in page and "Matriz" in page
    form = {"enabled": "y", "handle_by_title": "sim", "days_to_execute": "45", "grouping": "client",
            "run_time": "07:00", "max_concurrency": "4"}
    html = client.post(f"/cobranca/parametros/{branch_id}", data=form).get_data(as_text=True)
    assert "no mínimo 60" in html
    session.expire_all()
    assert session.get(CollectionPolicy, branch_id).days_to_execute == 60
    resp = client.post(f"/cobranca/parametros/{branch_id}", data=dict(form, days_to_execute="75"))
    assert resp.status_code == 302
    session.expire_all()
    assert (session.get(CollectionPolicy, branch_id).days_to_execute,
            session.get(CollectionPolicy, branch_id).run_time) == (75, "07:00")
    login_as("finance")
    assert client.post(f"/cobranca/parametros/{branch_id}", data=form).status_code == 403


def test_simulate_then_execute_from_the_web(client, users, login_as, services, session, fake_bureau):
    branch_id, _, ids = world(services)
    login_as("finance")
    page = client.post("/cobranca/simular", data={"branch_id": branch_id}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Simulação concluída" in html and "Seria incluída" in html
    assert "Vencido há 59 dias; a rotina exige pelo menos 60." in html  # the 59-day title, with its reason
    assert fake_bureau.calls == [] and session.scalar(select(func.count(Negativation.id))) == 0
    queued = client.post("/cobranca/executar", data={"branch_id": branch_id}, follow_redirects=True)
    assert "na fila" in queued.get_data(as_text=True)
    run_queued(services)  # the scheduler's next tick
    session.expire_all()
    assert session.scalar(select(func.count(Negativation.id))) == 1
    runs = client.get("/cobranca/execucoes").get_data(as_text=True)
    assert "Simulação" in runs and "concluída" in runs


def test_viewer_reads_but_cannot_run_and_switch_off_hides_everything(client, users, login_as, services, session):
    branch_id, _, _ = world(services)
    login_as("viewer")
    assert client.get("/cobranca/execucoes").status_code == 200
    assert client.post("/cobranca/simular", data={"branch_id": branch_id}).status_code == 403
    login_as("admin")
    assert "Rotina de cobrança" in client.get("/").get_data(as_text=True)
    client.post("/configuracoes/parametros", data={"credit_analysis_enabled": "nao"})
    assert "Rotina de cobrança" not in client.get("/").get_data(as_text=True)
    assert client.get("/cobranca/execucoes").status_code == 302


def test_api_dry_run_and_queued_run(client, users, api_token, services, session, fake_bureau):
    branch_id, _, _ = world(services)
    finance = api_token("finance")
    dry = client.post("/api/v1/collections/runs", json={"branch_id": branch_id, "dry_run": True}, headers=finance)
    body = dry.get_json()
    assert dry.status_code == 200 and body["dry_run"] is True and body["counts"]["titles_included"] == 2
    assert body["skip_reasons"] == {"too_recent": 1}
    real = client.post("/api/v1/collections/runs", json={"branch_id": branch_id}, headers=finance)
    assert real.status_code == 202 and real.get_json()["status"] == "queued"
    again = client.post("/api/v1/collections/runs", json={"branch_id": branch_id}, headers=finance)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "collections_already_queued"
    run_queued(services)
    detail = client.get(f"/api/v1/collections/runs/{real.get_json()['id']}", headers=api_token("viewer")).get_json()
    assert detail["status"] == "done"
    assert sorted(i["action"] for i in detail["items"]) == ["include", "include", "skip"]
    assert client.post("/api/v1/collections/runs", json={"branch_id": branch_id},
                       headers=api_token("crm")).status_code == 403


def test_api_policy_validation(client, users, api_token, services):
    branch_id, _, _ = world(services)
    resp = client.put(f"/api/v1/collections/policies/{branch_id}", json={"days_to_execute": 59},
                      headers=api_token("admin"))
    assert resp.status_code == 422 and "no mínimo 60" in resp.get_json()["error"]["fields"]["days_to_execute"]
    ok = client.put(f"/api/v1/collections/policies/{branch_id}", json={"days_to_execute": 90, "run_time": "05:30"},
                    headers=api_token("admin"))
    assert ok.get_json()["days_to_execute"] == 90 and ok.get_json()["run_time"] == "05:30"


def test_cli_run_collections_prints_the_summary(app, services, session, fake_bureau):
    branch_id, _, _ = world(services)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["run-collections", "--branch", str(branch_id), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Negativações incluiria: 1 (2 títulos)" in dry.output
    assert "Ignorados — Vencido há menos dias que o mínimo exigido: 1" in dry.output
    real = runner.invoke(args=["run-collections", "--branch", str(branch_id)])
    assert real.exit_code == 0, real.output
    assert "Negativações incluídas: 1 (2 títulos)" in real.output
    assert session.scalar(select(func.count(CollectionRun.id))) == 2
