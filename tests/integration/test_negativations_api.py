"""JSON API: titles, payments, negativations (create, list, get, events, remove, sync), roles."""

from __future__ import annotations

from app.services.core.clock import today_br
from app.services.settings import restriction_reasons

from .titles_support import world


def test_titles_and_payments_api(services, api_token, client):
    _, party_id, _ = world(services, titles=())
    finance, viewer = api_token("finance"), api_token("viewer")
    body = {
        "party_id": party_id,
        "number": "API-1",
        "issue_date": "2026-01-01",
        "due_date": "2026-02-01",
        "amount": "120.00",
    }
    assert client.post("/api/v1/titles", json=body, headers=viewer).status_code == 403
    resp = client.post("/api/v1/titles", json=body, headers=finance)
    assert resp.status_code == 201
    title = resp.get_json()
    assert (title["amount"], title["open_amount"], title["status"], title["overdue"]) == (
        "120.00",
        "120.00",
        "open",
        True,
    )
    resp = client.post(
        f"/api/v1/titles/{title['id']}/payments",
        json={"amount": "500.00", "paid_on": "2026-03-01"},
        headers=finance,
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "overpayment"
    resp = client.post(
        f"/api/v1/titles/{title['id']}/payments",
        json={"amount": "20.00", "paid_on": "2026-03-01"},
        headers=finance,
    )
    assert resp.status_code == 201 and resp.get_json()["title"]["status"] == "partial"
    listing = client.get("/api/v1/titles?status=partial", headers=viewer).get_json()
    assert [t["number"] for t in listing["items"]] == ["API-1"] and listing["next_cursor"] is None
    resp = client.post(
        f"/api/v1/titles/{title['id']}/dispute",
        json={"disputed": True, "reason": "Contesta"},
        headers=finance,
    )
    assert resp.get_json()["disputed"] is True
    resp = client.put(f"/api/v1/titles/{title['id']}", json={"description": "Plano 300M"}, headers=finance)
    assert resp.status_code == 200 and resp.get_json()["description"] == "Plano 300M"
    resp = client.post(f"/api/v1/titles/{title['id']}/cancel", json={"reason": "erro"}, headers=finance)
    assert resp.get_json()["status"] == "cancelled"
    payments = client.get(f"/api/v1/titles/{title['id']}/payments", headers=viewer).get_json()["items"]
    assert [p["amount"] for p in payments] == ["20.00"]


def test_negativation_api_create_get_events_sync_remove(services, api_token, fake_bureau, client):
    today = today_br()
    from .titles_support import make_branch, make_client, make_title

    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        party = make_client(s, branch)
        t1 = make_title(s, party, number="N-1", days_overdue=10, today=today)
        t2 = make_title(s, party, number="N-2", days_overdue=-3, today=today)
        s.commit()
        party_id, ids = party.id, [t1.id, t2.id]
    finance, crm = api_token("finance"), api_token("crm")
    elig = client.get(f"/api/v1/parties/{party_id}/eligibility", headers=crm).get_json()["items"]
    assert [(i["number"], i["eligible"], i["code"]) for i in elig] == [
        ("N-1", True, None),
        ("N-2", False, "not_overdue"),
    ]
    restriction_reasons.clear_cache()  # the per-process cache outlives one test's database
    reasons = client.get(f"/api/v1/parties/{party_id}/restriction-reasons", headers=crm).get_json()
    assert reasons["person_type"] == "PF" and [r["code"] for r in reasons["items"]] == ["12", "13"]
    body = {"party_id": party_id, "title_ids": ids[:1], "restriction_code": "12"}
    assert client.post("/api/v1/negativations", json=body, headers=crm).status_code == 403
    resp = client.post("/api/v1/negativations", json=body, headers=finance)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["status"] == "notice" and created["negativation"]["protocol"] == "N-000001"
    assert created["negativation"]["address_sent"]["zip"] == "01001000"
    neg_id = created["negativation_id"]
    again = client.post("/api/v1/negativations", json=body, headers=finance)
    # A title already in a live negativation is a collision (409), not bad data (422).
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_negativated"
    bad = client.post("/api/v1/negativations", json=body | {"title_ids": ids[1:]}, headers=finance)
    assert "N-2: Título não vencido" in bad.get_json()["error"]["message"]
    fake_bureau.activate("N-000001")
    synced = client.post(f"/api/v1/negativations/{neg_id}/sync", headers=crm).get_json()
    assert synced["status"] == "active" and synced["negativation"]["status_label"] == "Ativo"
    listing = client.get("/api/v1/negativations?status=active", headers=crm).get_json()
    assert [n["id"] for n in listing["items"]] == [neg_id]
    assert (
        client.post(
            "/api/v1/negativations/removals", json={"ids": [neg_id], "reason": "agreement"}, headers=crm
        ).status_code
        == 403
    )
    removed = client.post(
        "/api/v1/negativations/removals", json={"ids": [neg_id], "reason": "agreement"}, headers=finance
    ).get_json()
    assert removed["items"][0]["status"] == "removed"
    events = client.get(f"/api/v1/negativations/{neg_id}/events", headers=crm).get_json()["items"]
    assert [e["kind"] for e in events] == ["created", "accepted", "activated", "removal_requested", "removed"]
    got = client.get(f"/api/v1/negativations/{neg_id}", headers=crm).get_json()
    assert got["status_label"] == "Baixada" and got["removal_reason"] == "agreement"
    assert client.get("/api/v1/negativations/9999", headers=crm).status_code == 404


def test_a_title_of_a_client_belongs_to_the_clients_branch_in_the_api(services, api_token, client):
    from app.models import Title
    from tests.integration.titles_support import make_branch as make_other_branch

    _, party_id, _ = world(services, titles=())
    with services.session_factory() as s:
        other = make_other_branch(s, services.box, cnpj="11444777000161", name="Filial Rio", state="RJ")
        s.commit()
        other_id = other.id
    body = {"party_id": party_id, "branch_id": other_id, "number": "API-X", "issue_date": "2026-01-01",
            "due_date": "2026-02-01", "amount": "120.00"}
    resp = client.post("/api/v1/titles", json=body, headers=api_token("finance"))
    assert resp.status_code == 422
    assert "o título deve ser dessa filial" in resp.get_json()["error"]["fields"]["branch_id"]
    with services.session_factory() as s:
        assert s.query(Title).filter_by(number="API-X").count() == 0
