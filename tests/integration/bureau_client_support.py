"""What the Crédito na Medida client tests share: the mocked bureau's addresses and helpers
(the `rsps` and `sleeps` fixtures are in this folder's conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import responses

from integrations.bureau import Address, Creditor, Debtor, NegativationRequest, TitleLine

BASE = "https://bureau.test"
SECRET = "s3cr3t-Do-Not-Leak"
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TOKEN_URL = f"{BASE}/oauth/token"
REASONS_URL = f"{BASE}/v1/restriction-reasons"
CONSULT_URL = f"{BASE}/v1/consultations"
NEG_URL = f"{BASE}/v1/negativations"
KEY = "5b0f3c1e-0d8c-4d43-9a57-0a1b2c3d4e5f"
RECEIPT = {"protocol": "N-1", "status": "notice", "notice_until": "2026-12-03"}


def add_token(rsps, value="tok-1", expires_in=3600):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={"access_token": value, "token_type": "Bearer", "expires_in": expires_in},
    )


def calls_to(rsps, url):
    return [c for c in rsps.calls if c.request.url.split("?")[0] == url]


def negativation_request():
    return NegativationRequest(
        document="12345678909",
        document_type="CPF",
        restriction_code="12",
        debtor=Debtor(
            "Maria da Silva", Address("Rua A", "10", "Centro", "São Paulo", "SP", "01001000"), "m@example.com"
        ),
        creditor=Creditor("12345678000195", "Provedor Filial Centro"),
        titles=(TitleLine("T-1", date(2026, 8, 10), Decimal("99.90")),),
    )
