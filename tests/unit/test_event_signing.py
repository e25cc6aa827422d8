"""The outbound events' signature scheme and the LGPD reduction of payloads per endpoint."""

from __future__ import annotations

import hashlib
import hmac

from app.services.events.endpoints import check_url
from app.services.events.payloads import for_endpoint
from integrations.events.signing import signature, verify

BODY = b'{"id":"evt_1","type":"negativation.accepted"}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, BODY) == f"v1={expected}"


def test_verify_accepts_fresh_authentic_requests_and_refuses_the_rest():
    header = signature("s3cret", 1700000000, BODY)
    assert verify(["s3cret"], "1700000000", BODY, header, now=1700000100) is None
    assert verify(["old", "s3cret"], "1700000000", BODY, header, now=1700000100) is None  # rotation
    assert verify(["other"], "1700000000", BODY, header, now=1700000100) == "signature does not match"
    assert verify(["s3cret"], "1700000000", BODY + b" ", header, now=1700000100) == "signature does not match"
    assert verify(["s3cret"], "1700000001", BODY, header, now=1700000100) == "signature does not match"
    assert "replay" in verify(["s3cret"], "1700000000", BODY, header, now=1700000000 + 301)
    assert verify(["s3cret"], None, BODY, header) == "missing or invalid timestamp"
    assert verify(["s3cret"], "1700000000", BODY, None, now=1700000000) == "missing signature"


def test_documents_are_masked_unless_the_endpoint_may_see_them():
    payload = {"data": {"negativation": {"document": "52998224725", "titles": [{"number": "T"}]},
                        "divergence": {"document": "12ABC34501DE35"}}}
    masked = for_endpoint(payload, full_documents=False)
    assert masked["data"]["negativation"]["document"] == "***.982.247-**"
    assert masked["data"]["negativation"]["document_masked"] is True
    assert masked["data"]["divergence"]["document"] == "12.ABC.345/****-**"
    full = for_endpoint(payload, full_documents=True)
    assert full["data"]["negativation"]["document"] == "52998224725"
    assert full["data"]["negativation"]["document_masked"] is False
    assert payload["data"]["negativation"]["document"] == "52998224725"  # the original is untouched


def test_https_is_required_except_loopback_outside_production():
    assert check_url("https://erp.example.com.br/hooks", production=True) is None
    assert check_url("http://erp.example.com.br/hooks", production=False) is not None
    assert check_url("http://127.0.0.1:5970/events", production=False) is None
    assert check_url("http://localhost:5970/events", production=False) is None
    assert check_url("http://127.0.0.1:5970/events", production=True) == "Em produção o destino deve usar HTTPS."
    assert check_url("https://user:pw@erp.example/hooks", production=True) is not None
    assert check_url("ftp://erp.example/hooks", production=False) is not None
