"""Signed inbound customer XML: HMAC-SHA256 over timestamp + body with the branch's platform secret,
checked before parsing, with a replay window; the platform simulator signs its posts."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.models import InboundSignature, Party
from app.services.commerce import customer_import
from integrations.commerce.samples import batch_xml
from integrations.commerce.signing import inbound_headers, inbound_signature
from integrations.commerce.simulator import send_customers

from .credit_support import make_branch, set_policy

SECRET = "segredo-da-plataforma"
URL = "/api/v1/commerce/customers"
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def branch_id(services):
    bid = make_branch(services)
    set_policy(services, bid, platform_secret=SECRET)
    return bid


@pytest.fixture
def token(api_token, users):
    return api_token("crm")


def _parties(session) -> int:
    return session.scalar(select(func.count()).select_from(Party))


def _post(client, branch_id, token, body: bytes, headers: dict):
    return client.post(f"{URL}?branch={branch_id}", data=body, headers={**token, **XML, **headers})


def test_worked_example_of_the_docs():
    """The example in docs/commerce-xml.md, computed here so the document cannot drift."""
    body = b'<clientes><cliente><id>PLT-1</id><nome>Loja Um</nome><cnpj>11222333000181</cnpj></cliente></clientes>'
    assert inbound_signature("demo-commerce-secret", "1767225600", body) == (
        "sha256=80d4efd615aad7b36c4163c4d9980c3b9b794c550392ccb6b1d792c23768dcb0")  # also openssl dgst


def test_signed_post_is_accepted_and_the_same_post_again_is_a_replay(client, branch_id, token, session):
    body = batch_xml(1, 2)
    signed = inbound_headers(SECRET, body)
    first = _post(client, branch_id, token, body, signed)
    assert first.status_code == 200 and first.get_json()["created"] == 2
    again = _post(client, branch_id, token, body, signed)
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "replayed_request"
    assert session.scalar(select(func.count()).select_from(InboundSignature)) == 1


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "signature_required"),
    ({"X-Timestamp": "1767225600"}, "signature_required"),
    ("stale", "stale_request"),
    ("other-secret", "invalid_signature"),
    ("tampered", "invalid_signature"),
])
def test_unsigned_stale_or_forged_posts_are_refused_before_parsing(client, branch_id, token, session, monkeypatch,
                                                                   headers, code):
    parsed = []
    monkeypatch.setattr(customer_import, "iter_customers", lambda *a, **k: parsed.append(1) or iter(()))
    body = batch_xml(1, 1)
    if headers == "stale":
        headers = inbound_headers(SECRET, body, now=time.time() - 301)
    elif headers == "other-secret":
        headers = inbound_headers("outro-segredo", body)
    elif headers == "tampered":
        headers = inbound_headers(SECRET, body)
        body = body.replace(b"PLT-00000001", b"PLT-00000666")
    resp = _post(client, branch_id, token, body, headers)
    assert resp.status_code == 401
    assert resp.is_json and resp.get_json()["error"]["code"] == code
    assert parsed == [] and _parties(session) == 0


def test_hostile_xml_with_a_bad_signature_never_reaches_the_parser(client, branch_id, token):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<clientes><cliente><nome>&xxe;</nome></cliente></clientes>")
    resp = _post(client, branch_id, token, bomb, {"X-Timestamp": str(int(time.time())), "X-Signature": "sha256=00"})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_signature"


def test_branch_without_a_platform_secret_refuses_customers(client, services, token, session):
    bare = make_branch(services, cnpj="12345678000195", name="Sem segredo")
    body = batch_xml(1, 1)
    resp = _post(client, bare, token, body, inbound_headers(SECRET, body))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "signature_not_configured"
    assert _parties(session) == 0


def test_each_branch_checks_its_own_secret(client, services, branch_id, token):
    other = make_branch(services, cnpj="12345678000195", name="Filial 2")
    set_policy(services, other, platform_secret="segredo-da-filial-2")
    body = batch_xml(1, 1)
    resp = _post(client, other, token, body, inbound_headers(SECRET, body))
    assert resp.get_json()["error"]["code"] == "invalid_signature"
    assert _post(client, other, token, body, inbound_headers("segredo-da-filial-2", body)).status_code == 200


@pytest.fixture
def live_app(app):
    """The app on a real socket, so the platform simulator posts to it over HTTP."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_platform_simulator_signs_its_posts(live_app, branch_id, token, session):
    to = f"{live_app}{URL}?branch={branch_id}"
    clear = token["Authorization"].split()[1]
    accepted = send_customers(to, clear, secret=SECRET, count=3)
    assert accepted["http_status"] == 200 and accepted["response"]["created"] == 3
    unsigned = send_customers(to, clear, secret=None, count=3, start=10)
    assert unsigned["http_status"] == 401
    assert unsigned["response"]["error"]["code"] == "signature_required"
    assert _parties(session) == 3
