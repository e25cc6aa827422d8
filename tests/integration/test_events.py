"""Outbound events: each type written in the transaction of its change (nothing when it rolls back),
payloads that match their JSON Schema and hide documents unless allowed, delivery over a socket to
the receiver with retries, never twice to a receiver that answered 2xx, signatures verified."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from app.models import Branch, CollectionPolicy, Negativation, Payment
from app.models.events import EventDelivery, EventDeliveryAttempt, EventEndpoint
from app.services.collections.routine import run_branch as run_collections
from app.services.consultations.consult import consult_credit
from app.services.core.audit import Actor
from app.services.core.errors import Conflict
from app.services.events import delivery
from app.services.events.catalog import EVENT_TYPES
from app.services.events.schemas import WEBHOOKS, event_schema
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.outbox import refresh_status
from app.services.negativations.removal import send_removals
from app.services.reconciliation.runs import run_branch as reconcile
from app.services.settings import switches
from app.services.titles import payments
from integrations.bureau import BureauRejected
from integrations.events_receiver import start_in_thread
from tests.clock import pin_clock
from tests.integration.events_support import SECRET, add_endpoint, check_schema, deliveries
from tests.integration.titles_support import CPF_OK, FINANCE, TODAY, world

SYSTEM = Actor.system("rotina")


@pytest.fixture(autouse=True)
def _clock():
    with pin_clock(TODAY):
        yield


@pytest.fixture
def receiver():
    started = []

    def _start(secrets=(SECRET,), **kw):
        url, app, stop = start_in_thread(list(secrets), **kw)
        started.append(stop)
        return url, app

    yield _start
    for stop in started:
        stop()


def due_later(minutes: int = 120) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_every_event_type_is_written_with_its_change_and_matches_its_schema(services, fake_bureau):
    branch_id, party_id, (t1, t2, t3) = world(services, titles=(("T-1", 40), ("T-2", 50), ("T-3", 70)))
    masked_id = add_endpoint(services, branch_id)
    full_id = add_endpoint(services, branch_id, name="Cobrança", full_documents=True,
                           types=["negativation.accepted", "negativation.removed"])
    out = negativate_titles(services, FINANCE, party_id, [t1], "12", today=TODAY)
    with services.session_factory() as s:
        fake_bureau.activate(s.get(Negativation, out.negativation_id).protocol)
    refresh_status(services, FINANCE, out.negativation_id)
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, t1, "100.00", TODAY, today=TODAY)
        s.commit()
    send_removals(services, result.removal_ids)
    fake_bureau.fail_next(BureauRejected("Dados inválidos", status=422, code="rejected"))
    negativate_titles(services, FINANCE, party_id, [t2], "12", today=TODAY)
    with services.session_factory() as s:
        switches.set_credit_analysis(s, FINANCE, True)
        s.commit()
    consult_credit(services, FINANCE, party_id, today=TODAY)
    with services.session_factory() as s:
        s.add(CollectionPolicy(branch_id=branch_id, enabled=True, rate_limit_per_s=None))
        integ = s.get(Branch, branch_id).integration
        integ.restriction_code_pf = integ.restriction_code_pj = "12"
        integ.auto_include_remove = True
        s.commit()
    assert run_collections(services, SYSTEM, branch_id, today=TODAY).status == "done"
    with services.session_factory() as s:  # the routine negativated T-3; the bureau then forgets it
        fake_bureau.forget(s.scalar(select(Negativation.protocol).where(Negativation.status == "notice")))
    reconcile(services, SYSTEM, branch_id)

    rows = deliveries(services)
    by_type = {}
    for row in rows:
        by_type.setdefault(row.event_type, []).append(row)
    assert set(by_type) == set(EVENT_TYPES), f"missing: {set(EVENT_TYPES) - set(by_type)}"
    for row in rows:
        check_schema(row.payload, event_schema(row.event_type))
        assert row.payload["id"] == row.event_id and row.payload["type"] == row.event_type
    # Both endpoints got the acceptance, with the same event id; only the allowed one sees the CPF.
    accepted = {r.endpoint_id: r for r in by_type["negativation.accepted"] if
                r.payload["data"]["negativation"]["id"] == out.negativation_id}
    assert set(accepted) == {masked_id, full_id}
    assert accepted[masked_id].event_id == accepted[full_id].event_id
    assert accepted[masked_id].payload["data"]["negativation"]["document"] == "***.982.247-**"
    assert accepted[full_id].payload["data"]["negativation"]["document"] == CPF_OK
    assert CPF_OK not in str([r.payload for r in rows if r.endpoint_id == masked_id])
    assert {r.endpoint_id for r in by_type["negativation.active"]} == {masked_id}  # not subscribed by the other
    assert by_type["negativation.error"][0].payload["data"]["error"]["code"] == "rejected"
    assert by_type["title.payment_recorded"][0].payload["data"]["payment"] == {"amount": "100.00",
                                                                              "paid_on": TODAY.isoformat()}
    assert by_type["reconciliation.divergence_opened"][0].payload["data"]["divergence"]["kind"] == "unknown_protocol"
    assert set(WEBHOOKS) == set(EVENT_TYPES)


def test_a_change_rolled_back_leaves_no_event(services):
    branch_id, _, (t1, _) = world(services)
    add_endpoint(services, branch_id)
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t1, "10.00", TODAY, today=TODAY)
        s.flush()
        assert s.scalar(select(EventDelivery.id)) is not None  # written with the change, in its transaction
        s.rollback()
    with services.session_factory() as s:
        assert s.scalar(select(Payment.id)) is None
        assert s.scalar(select(EventDelivery.id)) is None


def test_delivery_is_retried_after_failures_and_signed(services, receiver):
    url, app = receiver(fail_first=2)
    branch_id, _, (t1, _) = world(services)
    endpoint_id = add_endpoint(services, branch_id, url)
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t1, "10.00", TODAY, today=TODAY)
        s.commit()
    first = delivery.deliver_pending(services)
    assert (first.retrying, first.delivered) == (1, 0)
    assert delivery.deliver_pending(services).skipped == 0  # not due yet: backoff
    assert delivery.deliver_pending(services, now=due_later()).retrying == 1
    assert delivery.deliver_pending(services, now=due_later(240)).delivered == 1
    row = deliveries(services)[0]
    assert (row.status, row.attempts, row.last_http_status) == ("delivered", 3, 200)
    with services.session_factory() as s:
        log = s.scalars(select(EventDeliveryAttempt).where(EventDeliveryAttempt.endpoint_id == endpoint_id)
                        .order_by(EventDeliveryAttempt.id)).all()
    assert [(a.attempt, a.http_status, a.ok) for a in log] == [(1, 503, False), (2, 503, False), (3, 200, True)]
    assert [(r.event_id, r.duplicate) for r in app.received] == [(row.event_id, False)]
    assert app.received[0].payload == row.payload
    assert app.refused == 0
    # Delivered: no later pass, "reenviar" included, sends it again.
    assert delivery.deliver_pending(services, now=due_later(10_000)).delivered == 0
    with services.session_factory() as s, pytest.raises(Conflict):
        delivery.redeliver(s, Actor("ana", None, "admin"), row.id)
    assert len(app.received) == 1


def test_never_delivered_twice_to_a_receiver_that_answered_2xx_even_with_two_runners(services, receiver):
    url, app = receiver()
    branch_id, party_id, (t1, t2) = world(services)
    add_endpoint(services, branch_id, url)
    with services.session_factory() as s:
        for i in range(15):
            payments.register_payment(s, FINANCE, t1 if i % 2 else t2, "1.00", TODAY, today=TODAY)
        s.commit()
    barrier = threading.Barrier(3)

    def runner():
        barrier.wait()
        for _ in range(3):
            delivery.deliver_pending(services)

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = deliveries(services)
    assert len(rows) == 15 and {r.status for r in rows} == {"delivered"}
    assert sorted(r.event_id for r in app.received) == sorted(r.event_id for r in rows)
    assert not any(r.duplicate for r in app.received)
    assert {r.attempts for r in rows} == {1}


def test_the_receiver_refuses_a_wrong_signature_and_the_row_fails_for_a_person_to_fix(services, receiver):
    url, app = receiver(secrets=("whsec_the-receivers-own-secret",))
    branch_id, _, (t1, _) = world(services)
    add_endpoint(services, branch_id, url)  # signed with SECRET, which the receiver does not hold
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t1, "10.00", TODAY, today=TODAY)
        s.commit()
    assert delivery.deliver_pending(services).failed == 1  # 401 is not retried blindly
    row = deliveries(services)[0]
    assert (row.status, row.last_http_status) == ("failed", 401)
    assert app.refused == 1 and app.received == []
    admin = Actor("ana", None, "admin")
    with services.session_factory() as s:
        endpoint = s.get(EventEndpoint, row.endpoint_id)
        endpoint.secret_encrypted = services.box.encrypt("whsec_the-receivers-own-secret")
        delivery.redeliver(s, admin, row.id)
        s.commit()
    assert delivery.deliver_pending(services).delivered == 1
    assert [r.event_id for r in app.received] == [row.event_id]


def test_test_delivery_button(services, receiver):
    url, app = receiver()
    branch_id, _, _ = world(services)
    endpoint_id = add_endpoint(services, branch_id, url, types=["negativation.accepted"])
    outcome, row = delivery.send_test(services, Actor("ana", None, "admin"), endpoint_id)
    assert (outcome, row.status, row.event_type) == ("delivered", "delivered", "endpoint.test")
    assert app.received[0].event_type == "endpoint.test"
    check_schema(row.payload, event_schema("endpoint.test"))


def test_http_outside_loopback_is_refused_when_saving(services):
    from app.services.core.errors import ValidationError

    branch_id, _, _ = world(services)
    with pytest.raises(ValidationError) as err:
        add_endpoint(services, branch_id, "http://erp.example.com.br/hooks")
    assert "url" in err.value.field_errors
