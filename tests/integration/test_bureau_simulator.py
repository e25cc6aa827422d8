"""The real Crédito na Medida client against the built-in simulator over a real socket."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.bootstrap import real_bureau_factory
from app.models import BureauIntegration
from app.services.core.crypto import SecretBox
from app.services.settings.bureau_tokens import DbTokenStore
from integrations.bureau import (
    Address,
    AuthenticationError,
    Creditor,
    Debtor,
    NegativationRequest,
    TitleLine,
)
from integrations.simulator import SimulatorConfig
from integrations.simulator.server import start_in_thread

pytestmark = pytest.mark.simulator
KEY = "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="


@pytest.fixture
def simulator():
    base_url, stop = start_in_thread(SimulatorConfig(notice_seconds=1, request_log=False))
    yield base_url
    stop()


def _integration(session, base_url, secret="demo-secret"):
    box = SecretBox(KEY)
    integration = BureauIntegration(name="sim", base_url=base_url, client_id="demo-client",
                                    client_secret_encrypted=box.encrypt(secret))
    session.add(integration)
    session.commit()
    return integration, box


def _stats(base_url):
    import requests

    return requests.get(f"{base_url}/_sim/stats", timeout=5).json()


def test_full_contract_through_the_real_client(db, session, simulator):
    engine, _ = db
    integration, box = _integration(session, simulator)
    bureau = real_bureau_factory({}, engine, box)(integration)

    reasons = bureau.restriction_reasons("PF")
    assert any(r.kind == "inclusion" for r in reasons)
    result = bureau.consult("529.982.247-25".replace(".", "").replace("-", ""), "CPF")
    again = bureau.consult("52998224725", "CPF")
    assert (result.score, result.risk_class, result.restrictions_total) == (
        again.score, again.risk_class, again.restrictions_total)
    assert isinstance(result.restrictions_total, Decimal)

    due = dt.date.today() - dt.timedelta(days=70)
    request = NegativationRequest(
        document="52998224725", document_type="CPF", restriction_code="12",
        debtor=Debtor(name="Fulano", address=Address(street="Rua A", number="1", district="Centro",
                                                      city="São Paulo", state="SP", zip="01001000")),
        creditor=Creditor(cnpj="11222333000181", name="Provedor"),
        titles=(TitleLine(number="T-1", due_date=due, amount=Decimal("99.90")),),
    )
    first = bureau.negativate(request, "key-0001-abcdef")
    replay = bureau.negativate(request, "key-0001-abcdef")
    assert first.status == "notice" and replay.protocol == first.protocol
    import time

    time.sleep(1.2)
    assert bureau.negativation_status(first.protocol).status == "active"
    removed = bureau.remove(first.protocol, "payment", "rem-0001-abcdef")
    assert removed.status == "removed"
    stats = _stats(simulator)
    assert stats["negativations_created"] == 1 and stats["negativations_replayed"] == 1
    assert stats["duplicate_titles"] == 0
    # one token for the whole sequence, cached in the integration row, encrypted
    assert stats["tokens"] == 1
    session.expire_all()
    row = session.scalars(select(BureauIntegration)).one()
    assert row.access_token_encrypted and row.token_expires_at > dt.datetime.now(dt.UTC)


def test_wrong_secret_is_an_authentication_error(db, session, simulator):
    engine, _ = db
    integration, box = _integration(session, simulator, secret="wrong")
    bureau = real_bureau_factory({}, engine, box)(integration)
    with pytest.raises(AuthenticationError):
        bureau.get_token()


def test_token_is_requested_once_by_many_concurrent_clients(db, session, simulator):
    """One token request per expiry window, even with several clients (processes) at once."""
    engine, _ = db
    integration, box = _integration(session, simulator)
    factory = real_bureau_factory({}, engine, box)
    errors: list[BaseException] = []

    def work():
        try:
            factory(integration).restriction_reasons("PJ")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _stats(simulator)["tokens"] == 1


def test_token_store_roundtrip_is_encrypted(db, session):
    engine, _ = db
    integration, box = _integration(session, "http://127.0.0.1:1")
    from integrations.bureau import AccessToken

    store = DbTokenStore(engine, box, integration.id)
    assert store.load() is None
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with store.refresh_lock():
        store.save(AccessToken("tok-123", expires))
    loaded = store.load()
    assert (loaded.value, loaded.expires_at) == ("tok-123", expires)
    session.expire_all()
    assert "tok-123" not in session.get(BureauIntegration, integration.id).access_token_encrypted
