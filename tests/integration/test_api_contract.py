"""The /api/v1 contract: regression tests for each 500 and silent coercion of issue 11, the error
body of every failure status, the OpenAPI document and the offline docs page."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from app.api.pagination import make_cursor
from app.models import CollectionPolicy, Negativation, Title
from tests.clock import pin_clock

from .titles_support import TODAY, world

DEEP = ("[" * 50_000 + "]" * 50_000).encode()


@pytest.fixture
def admin(api_token):
    return api_token("admin")


def fields(resp) -> dict:
    return resp.get_json()["error"].get("fields", {})


def test_openapi_documents_every_outbound_event_as_a_webhook(client):
    from app.services.events.catalog import EVENT_TYPES

    doc = client.get("/api/v1/openapi.json").get_json()
    assert set(doc["webhooks"]) == set(EVENT_TYPES)
    hook = doc["webhooks"]["negativation.accepted"]["post"]
    assert {p["name"] for p in hook["parameters"] if p["in"] == "header"} >= {"X-CreditDesk-Signature"}
    assert hook["requestBody"]["content"]["application/json"]["schema"]["properties"]["type"]


def test_openapi_document_is_valid_31_and_public(client):
    resp = client.get("/api/v1/openapi.json")
    doc = resp.get_json()
    assert resp.status_code == 200 and doc["openapi"].startswith("3.1")
    validate(doc)
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert len(operations) >= 89
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "Token de API (cd_...), criado por usuário."}
    assert all("ErrorBody" in op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
               for op in operations)
    listed = doc["paths"]["/api/v1/titles"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"cursor", "limit"}
    assert "before_id" not in {p["name"] for p in doc["paths"]["/api/v1/negativations"]["get"]["parameters"]}


def test_every_api_route_is_in_the_served_contract(app, client):
    """A route without @schema is neither documented nor fuzzed and takes its input unchecked:
    every /api/v1 route and method must be an operation of the served document."""
    doc = client.get("/api/v1/openapi.json").get_json()
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routes = {(method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and not rule.endpoint.startswith("api_docs.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routes) >= 89
    assert sorted(routes - served) == []
    assert served <= routes  # and the document describes no route that does not exist


def test_no_answer_of_the_contract_carries_a_secret(client):
    """Secrets are write-only (client_secret, tokens, signing secrets): no success answer has a field
    for one, at any depth, while the request bodies do take client_secret."""
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def names(node, seen: set[str]) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            ref = node.get("$ref", "").rsplit("/", 1)[-1]
            if ref and ref not in seen:
                seen.add(ref)
                found |= names(schemas[ref], seen)
            found |= set(node.get("properties", {}))
            for value in node.values():
                found |= names(value, seen)
        elif isinstance(node, list):
            for value in node:
                found |= names(value, seen)
        return found

    answers = [r for ops in doc["paths"].values() for op in ops.values()
               for status, r in op["responses"].items() if status.startswith("2")]
    fields = names(answers, set())
    assert {"branch_ids", "token_expires_at", "event_types"} <= fields  # integrations, me, event endpoints
    assert sorted(f for f in fields if "secret" in f or f in ("token", "access_token", "password")) == []
    bodies = [op["requestBody"] for ops in doc["paths"].values() for op in ops.values() if "requestBody" in op]
    assert "client_secret" in names(bodies, set())


def test_docs_page_and_its_assets_are_served_by_the_app(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/v1/openapi.json" in html
    assert "http" not in html.replace("http-equiv", "")  # no CDN
    def status(url: str) -> int:
        with client.get(url) as resp:  # file answers stream: close them
            return resp.status_code

    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert status(f"/api/v1/docs/assets/{asset}") == 200
    assert status("/static/api-docs.js") == 200
    assert status("/api/v1/docs/assets/../../app.py") == 404


def test_every_failure_status_is_the_json_error_body(client, admin, app):
    def is_error(resp, status, code):
        assert resp.status_code == status, resp.get_data(as_text=True)[:200]
        assert resp.mimetype == "application/json" and resp.get_json()["error"]["code"] == code
        assert resp.get_json()["error"]["message"]

    is_error(client.get("/api/v1/nada", headers=admin), 404, "not_found")
    is_error(client.get("/api/v1/titles/99999999999999999999", headers=admin), 404, "not_found")
    is_error(client.delete("/api/v1/me", headers=admin), 405, "method_not_allowed")
    is_error(client.get("/api/v1/me"), 401, "unauthorized")
    is_error(client.post("/api/v1/branches", data=b"{", headers=admin, content_type="application/json"),
             400, "invalid_json")
    is_error(client.post("/api/v1/branches", data=DEEP, headers=admin, content_type="application/json"),
             400, "json_too_deep")
    is_error(client.post("/api/v1/branches", data={"name": "x"}, headers=admin), 415, "unsupported_media_type")
    big = b'{"name": "' + b"x" * (300 * 1024) + b'"}'
    is_error(client.post("/api/v1/branches", data=big, headers=admin, content_type="application/json"),
             413, "body_too_large")
    is_error(client.put("/api/v1/settings/credit-analysis", json={"enabled": True},
                        headers={"Authorization": "Bearer cd_revogado"}), 401, "unauthorized")


def test_an_unexpected_error_is_a_json_500_in_portuguese(app, client, admin, monkeypatch):
    from app.api import settings_api

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(settings_api.branches, "list_branches", lambda s: 1 / 0)
    resp = client.get("/api/v1/branches", headers=admin)
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
    assert "Erro inesperado" in resp.get_json()["error"]["message"]
    web = client.get("/nao-existe")
    assert web.status_code == 404 and "Página não encontrada" in web.get_data(as_text=True)


def test_deep_json_is_refused_on_every_write_operation(client, admin):
    doc = client.get("/api/v1/openapi.json").get_json()
    writes = [(path, method) for path, ops in doc["paths"].items() for method, op in ops.items()
              if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert len(writes) >= 24
    for path, method in writes:
        url = re.sub(r"\{[a-z_]+_id\}", "1", path.replace("{kind}", "leads"))
        resp = client.open(url, method=method.upper(), data=DEEP, headers=admin, content_type="application/json")
        assert resp.status_code in (400, 403), (method, url, resp.status_code)
        assert resp.get_json()["error"]["code"] in ("json_too_deep", "credit_analysis_disabled")


def test_booleans_are_only_true_or_false(client, admin, services, session):
    branch_id, _, _ = world(services)
    for value in ("false", "0", 0, None):
        resp = client.put(f"/api/v1/collections/policies/{branch_id}", json={"enabled": value}, headers=admin)
        assert resp.status_code == 422 and fields(resp) == {"enabled": "Use true ou false."}
    assert session.get(CollectionPolicy, branch_id) is None  # the daily routine was not switched on
    for body in ({"court_blocked": "false"},):
        assert client.put("/api/v1/titles/1", json=body, headers=admin).status_code == 422
    assert client.post("/api/v1/titles/1/dispute", json={"disputed": "false"}, headers=admin).status_code == 422
    assert client.put(f"/api/v1/branches/{branch_id}", json={"name": "B", "cnpj": "11222333000181",
                                                             "active": "false"}, headers=admin).status_code == 422


def test_money_is_a_plain_string_with_two_decimals(client, admin, services, session):
    branch_id, party_id, title_ids = world(services)
    base = {"party_id": party_id, "number": "M-1", "issue_date": "2026-01-10", "due_date": "2026-02-10"}
    for amount in ("1.500", "1,50", 1500, 15.5, "1e3", "١٢٣", "１２３", "²", "-5.00", "NaN", "1234567890123.00"):
        resp = client.post("/api/v1/titles", json=base | {"amount": amount}, headers=admin)
        assert resp.status_code == 422 and "amount" in fields(resp), amount
    assert session.scalar(select(Title).where(Title.number == "M-1")) is None
    ok = client.post("/api/v1/titles", json=base | {"amount": "1500.5"}, headers=admin)
    assert ok.status_code == 201 and ok.get_json()["amount"] == "1500.50"
    limit = client.put(f"/api/v1/credit/accounts/{party_id}/limit", json={"limit": "1.500", "reason": "x"},
                       headers=admin)
    assert limit.status_code == 422 and "limit" in fields(limit)


def test_ids_are_positive_integers_within_the_id_columns(client, admin, services):
    branch_id, party_id, title_ids = world(services)
    huge = 2**63
    past_int32 = 2**31  # PostgreSQL's INTEGER keys answer "integer out of range" here: never a 500
    cases = [
        ("post", "/api/v1/negativations", {"party_id": past_int32, "title_ids": title_ids,
                                           "restriction_code": "12"}),
        ("post", "/api/v1/negativations", {"party_id": party_id, "title_ids": [past_int32]}),
        ("post", "/api/v1/collections/runs", {"branch_id": past_int32}),
        ("post", "/api/v1/negativations", {"party_id": huge, "title_ids": title_ids, "restriction_code": "12"}),
        ("post", "/api/v1/negativations", {"party_id": party_id, "title_ids": [huge]}),
        ("post", "/api/v1/negativations", {"party_id": party_id, "title_ids": [True]}),
        ("post", "/api/v1/negativations", {"party_id": party_id, "title_ids": ["1"]}),
        ("post", "/api/v1/collections/runs", {"branch_id": huge}),
        ("post", "/api/v1/collections/runs", {"branch_id": "1"}),
        ("post", f"/api/v1/parties/{party_id}/consultations", {"contact_id": huge}),
        ("post", "/api/v1/branches", {"name": "B", "cnpj": "11222333000181", "bureau_integration_id": "abc"}),
        ("post", "/api/v1/branches", {"name": "B", "cnpj": "11222333000181", "bureau_integration_id": []}),
        ("post", "/api/v1/branches", {"name": "B", "cnpj": "11222333000181", "bureau_integration_id": {}}),
    ]
    for method, url, body in cases:
        resp = getattr(client, method)(url, json=body, headers=admin)
        assert resp.status_code == 422, (url, body, resp.get_json())
    for query in (f"branch_id={huge}", "branch_id=²", "party_id=٣", "limit=²", f"limit={huge}", "cursor=%%%"):
        assert client.get(f"/api/v1/titles?{query}", headers=admin).status_code == 422, query
    assert client.get(f"/api/v1/negativations?party_id={huge}", headers=admin).status_code == 422
    assert client.get(f"/api/v1/clients?branch_id={huge}", headers=admin).status_code == 422
    assert client.get(f"/api/v1/titles/{huge}", headers=admin).status_code == 404
    for url in (f"/api/v1/titles/{past_int32}", f"/api/v1/clients/{past_int32}"):
        assert client.get(url, headers=admin).status_code == 404, url
    for query in (f"branch_id={past_int32}", f"party_id={past_int32}"):
        assert client.get(f"/api/v1/titles?{query}", headers=admin).status_code == 422, query
    assert client.get(f"/api/v1/negativations?party_id={past_int32}", headers=admin).status_code == 422
    past_cursor = make_cursor(past_int32)
    assert client.get(f"/api/v1/titles?cursor={past_cursor}", headers=admin).status_code == 422
    xml = b"<clientes/>"
    resp = client.post("/api/v1/commerce/customers?branch=%C2%B2", data=xml, headers=admin,
                       content_type="application/xml")
    assert resp.status_code == 422 and "branch" in fields(resp)


def test_lists_and_objects_are_not_stringified_into_text_fields(client, admin, services, session):
    branch_id, party_id, title_ids = world(services)
    for body in ({"name": ["a"]}, {"name": "x", "street": {"a": 1}}, {"name": "x", "city": 12}):
        resp = client.post("/api/v1/leads", json={"branch_id": branch_id} | body, headers=admin)
        assert resp.status_code == 422, body
    for key in ("order_ref", "method"):
        body = {"branch_id": branch_id, "document": "52998224725", "amount": "10.00",
                "method": "boleto_faturado", key: ["x"]}
        assert client.post("/api/v1/credit/authorizations", json=body, headers=admin).status_code == 422
    assert client.post(f"/api/v1/titles/{title_ids[0]}/payments", json={"amount": "1.00", "method": 1},
                       headers=admin).status_code == 422
    assert client.post(f"/api/v1/titles/{title_ids[0]}/payments", json={"amount": "1.00", "reference": []},
                       headers=admin).status_code == 422
    for key, value in (("grouping", 1), ("run_time", 600)):
        resp = client.put(f"/api/v1/collections/policies/{branch_id}", json={key: value}, headers=admin)
        assert resp.status_code == 422 and key in fields(resp)
    resp = client.post("/api/v1/negativations",
                       json={"party_id": party_id, "title_ids": title_ids[:1], "restriction_code": ["12"]},
                       headers=admin)
    assert resp.status_code == 422 and "restriction_code" in fields(resp)
    assert session.scalar(select(Negativation)) is None
    unknown = client.post("/api/v1/leads", json={"branch_id": branch_id, "name": "x", "nome": "y"}, headers=admin)
    assert unknown.status_code == 422 and fields(unknown) == {"nome": "Campo desconhecido."}
    long = client.post("/api/v1/leads", json={"branch_id": branch_id, "name": "x" * 201}, headers=admin)
    assert long.status_code == 422 and fields(long) == {"name": "No máximo 200 caracteres."}


def test_payment_dates_are_iso_and_within_the_title_life(client, admin, services):
    with pin_clock(TODAY):
        _, _, title_ids = world(services)
        url = f"/api/v1/titles/{title_ids[0]}/payments"
        for paid_on in ("1900-01-01", "16/03/2026", "2026-02-31", "2026-03-17", 20260316):
            resp = client.post(url, json={"amount": "1.00", "paid_on": paid_on}, headers=admin)
            assert resp.status_code == 422 and "paid_on" in fields(resp), paid_on
        before_issue = client.post(url, json={"amount": "1.00", "paid_on": "2025-01-02"}, headers=admin)
        assert "anterior à emissão" in fields(before_issue)["paid_on"]
        ok = client.post(url, json={"amount": "1.00", "paid_on": TODAY.isoformat()}, headers=admin)
        assert ok.status_code == 201 and ok.get_json()["payment"]["paid_on"] == "2026-03-16"


def test_title_cursors_edited_by_hand_are_refused(client, admin, services):
    import base64

    world(services)
    for raw in ("abc|1", "NaN|1", "10.00|99999999999999999999", "nada"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        resp = client.get(f"/api/v1/titles?sort=amount&cursor={cursor}", headers=admin)
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_cursor", raw


def test_one_pagination_convention(client, admin, services):
    world(services, titles=(("P-1", 10), ("P-2", 20), ("P-3", 30)))
    first = client.get("/api/v1/titles?limit=2", headers=admin).get_json()
    second = client.get(f"/api/v1/titles?limit=2&cursor={first['next_cursor']}", headers=admin).get_json()
    assert len(first["items"]) == 2 and [t["number"] for t in second["items"]] == ["P-1"]
    assert second["next_cursor"] is None
    for url in ("/api/v1/branches", "/api/v1/negativations", "/api/v1/credit/reservations", "/api/v1/credit/accounts",
                "/api/v1/commerce/updates", "/api/v1/collections/runs", "/api/v1/clients", "/api/v1/integrations",
                "/api/v1/events/types", "/api/v1/events/endpoints", "/api/v1/reconciliation/runs"):
        body = client.get(url, headers=admin).get_json()
        assert set(body) == {"items", "next_cursor"}, url
    bad = client.get("/api/v1/negativations?cursor=abc", headers=admin)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_cursor"


def test_xml_with_an_unknown_encoding_is_a_json_400(client, admin, services):
    from integrations.commerce.signing import inbound_headers

    from .credit_support import set_policy

    branch_id, _, _ = world(services)
    set_policy(services, branch_id, platform_secret="segredo-da-plataforma")
    xml = b'<?xml version="1.0" encoding="klingon"?><clientes/>'
    # Signed, so it reaches the parser (the signature is checked before any parsing).
    resp = client.post(f"/api/v1/commerce/customers?branch={branch_id}", data=xml,
                       headers={**admin, **inbound_headers("segredo-da-plataforma", xml)},
                       content_type="application/xml")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unsupported_encoding"


def test_web_error_pages_are_in_portuguese(app, client, login_as):
    login_as("admin")
    assert "Página não encontrada" in client.get("/nao-existe").get_data(as_text=True)
    resp = client.delete("/")
    assert resp.status_code == 405 and "Operação não permitida" in resp.get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = True
    resp = client.post("/logout")
    assert resp.status_code == 400 and "token de segurança CSRF" in resp.get_data(as_text=True)
    assert "The CSRF" not in resp.get_data(as_text=True)


def test_a_web_500_is_a_portuguese_page(app, client, login_as, monkeypatch):
    from app.web import home

    login_as("admin")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(home, "render_template", lambda *a, **k: 1 / 0)
    resp = client.get("/")
    assert resp.status_code == 500 and "Erro inesperado" in resp.get_data(as_text=True)

