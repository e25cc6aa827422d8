"""The negativation outbox against the fake bureau: never sends twice, never loses an answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.models import Negativation, NegativationTitle, Party, Title
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, PermissionDenied, ValidationError
from app.services.negativations.inclusion import negativate_titles, resend
from app.services.negativations.outbox import retry_outbox, sweep_removals, sync_statuses
from app.services.negativations.removal import remove_negativations, send_removals
from app.services.titles import lifecycle as titles
from app.services.titles import payments
from integrations.bureau import BureauRejected, BureauUnavailable

from .titles_support import FINANCE, TODAY, VIEWER, make_branch, make_client, make_title, world

LATER = dt.timedelta(minutes=10)


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in the service may swallow it."""


def _neg(services, neg_id) -> Negativation:
    with services.session_factory() as s:
        neg = s.get(Negativation, neg_id)
        _ = neg.titles, neg.events
        return neg


def _count(services) -> int:
    with services.session_factory() as s:
        return s.scalar(select(func.count(Negativation.id)))


def test_success_goes_to_notice_with_the_bureau_notice_until(services, fake_bureau):
    _, party_id, ids = world(services)
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    neg = _neg(services, out.negativation_id)
    assert (out.ok, neg.status, neg.status_label) == (True, "notice", "Em notificação")
    ((request, key),) = fake_bureau.calls_to("negativate")
    assert key == neg.idempotency_key and neg.protocol == "N-000001"
    assert neg.notice_until == fake_bureau.negativations["N-000001"].notice_until
    assert request.total_amount == Decimal("200.00") == neg.total_amount
    assert neg.debtor_address == {
        "street": "Rua A",
        "number": "10",
        "complement": "",
        "district": "Centro",
        "city": "São Paulo",
        "state": "SP",
        "zip": "01001000",
    }
    assert [nt.live for nt in neg.titles] == [True, True]
    assert [e.kind for e in neg.events] == ["created", "accepted"]
    assert out.message.startswith(f"Negativação nº {neg.id} enviada com sucesso: em notificação até")


def test_amount_sent_is_the_open_amount_rule_1(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("P-1", 30),))
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, ids[0], "30.00", TODAY, today=TODAY)
        s.commit()
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    ((request, _),) = fake_bureau.calls_to("negativate")
    assert [t.amount for t in request.titles] == [Decimal("70.00")]


def test_permanent_error_records_the_bureau_message_and_frees_the_titles(services, fake_bureau):
    _, party_id, ids = world(services)
    fake_bureau.fail_next(BureauRejected("Código de restrição inválido", status=422, code="rejected"))
    out = negativate_titles(services, FINANCE, party_id, ids, "99", today=TODAY)
    neg = _neg(services, out.negativation_id)
    assert (out.ok, neg.status, neg.status_label, neg.error_kind) == (False, "error", "Erro", "permanent")
    assert (
        "Código de restrição inválido" in neg.last_error_message
        and "Código de restrição inválido" in out.message
    )
    assert [nt.live for nt in neg.titles] == [False, False]
    again = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    assert again.status == "notice" and _count(services) == 2


def test_timeout_leaves_it_pending_and_the_retry_resends_the_same_key(services, fake_bureau):
    _, party_id, ids = world(services)
    fake_bureau.fail_next(BureauUnavailable("read timeout", outcome_unknown=True))
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    neg = _neg(services, out.negativation_id)
    assert (out.ok, neg.status, neg.error_kind) == (False, "pending", "transient")
    assert neg.next_attempt_at > now_utc() and "mesma chave" in out.message
    assert retry_outbox(services) == {"sent": 0, "still_pending": 0, "failed": 0}  # not its turn yet
    assert retry_outbox(services, now=now_utc() + LATER)["sent"] == 1
    keys = [key for _, key in fake_bureau.calls_to("negativate")]
    assert keys == [neg.idempotency_key, neg.idempotency_key]
    assert _neg(services, neg.id).status == "notice" and len(fake_bureau.negativations) == 1


@pytest.mark.parametrize("processed", [False, True], ids=["before-bureau", "answer-lost"])
def test_crash_between_commit_and_call_then_retry_sends_exactly_once(
    services, fake_bureau, monkeypatch, processed
):
    _, party_id, ids = world(services)
    original = fake_bureau.negativate

    def crashing(request, key):
        if processed:
            original(request, key)  # the bureau did the work; the answer never came back
        raise Crash()

    monkeypatch.setattr(fake_bureau, "negativate", crashing)
    with pytest.raises(Crash):
        negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        neg = s.scalars(select(Negativation)).one()
        assert neg.status == "pending" and neg.idempotency_key  # committed BEFORE the call
    monkeypatch.setattr(fake_bureau, "negativate", original)
    retry_outbox(services, now=now_utc() + LATER)
    assert _neg(services, neg.id).status == "notice"
    assert len(fake_bureau.negativations) == 1 and len(fake_bureau.requests) == 1


def test_double_click_makes_exactly_one_negativation(services, fake_bureau):
    _, party_id, ids = world(services)
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with pytest.raises(Conflict) as exc:  # a collision (409), not bad data
        negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    assert exc.value.code == "already_negativated" and "Já está na negativação nº 1" in exc.value.message
    assert _count(services) == 1 and len(fake_bureau.calls_to("negativate")) == 1


def test_unique_index_is_the_final_guard_when_both_checks_passed(services, fake_bureau, monkeypatch):
    _, party_id, ids = world(services)
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    # A second request whose eligibility check ran before the first committed:
    from app.services.negativations import eligibility, inclusion

    monkeypatch.setattr(
        inclusion, "evaluate_titles", lambda s, ts, c: {t.id: eligibility.Verdict(t.id) for t in ts}
    )
    with pytest.raises(Conflict) as exc:
        negativate_titles(services, FINANCE, party_id, ids[:1], "12", today=TODAY)
    assert exc.value.code == "already_negativated" and "já estão em outra negativação" in exc.value.message
    assert _count(services) == 1 and len(fake_bureau.calls_to("negativate")) == 1


def test_database_refuses_a_title_in_two_live_negativations(services):
    _, party_id, ids = world(services, titles=(("U-1", 5),))
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        s.add(
            NegativationTitle(
                negativation_id=1,
                title_id=ids[0],
                number="U-1",
                due_date=TODAY,
                amount_sent=Decimal("1.00"),
                live=True,
            )
        )
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()
        s.add(
            NegativationTitle(
                negativation_id=1,
                title_id=ids[0],
                number="U-1",
                due_date=TODAY,
                amount_sent=Decimal("1.00"),
                live=False,
            )
        )
        s.flush()  # a dead entry (error, removed) does not count


def test_full_payment_moves_to_removal_pending_in_the_same_transaction_then_removed(services, fake_bureau):
    _, party_id, ids = world(services)
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, ids[0], "100.00", TODAY, today=TODAY)
        result = payments.register_payment(s, FINANCE, ids[1], "100.00", TODAY, today=TODAY)
        assert result.removal_ids == [out.negativation_id]
        assert s.get(Negativation, out.negativation_id).status == "removal_pending"  # not committed yet
        s.rollback()
    assert _neg(services, out.negativation_id).status == "notice"  # rolled back together with the payment
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, ids[0], "100.00", TODAY, today=TODAY)
        result = payments.register_payment(s, FINANCE, ids[1], "100.00", TODAY, today=TODAY)
        s.commit()
    neg = _neg(services, out.negativation_id)
    assert neg.status == "removal_pending" and neg.removal_idempotency_key and neg.paid_on == TODAY
    assert fake_bureau.calls_to("remove") == []
    send_removals(services, result.removal_ids)
    neg = _neg(services, out.negativation_id)
    assert (neg.status, neg.status_label, neg.removal_reason) == ("removed", "Baixada", "payment")
    assert fake_bureau.calls_to("remove") == [(neg.protocol, "payment", neg.removal_idempotency_key)]
    assert [nt.live for nt in neg.titles] == [False, False]


def test_partial_payment_is_recorded_and_the_entry_kept(services, fake_bureau):
    _, party_id, ids = world(services)
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, ids[0], "40.00", TODAY, today=TODAY)
        s.commit()
    neg = _neg(services, out.negativation_id)
    assert result.removal_ids == [] and neg.status == "notice" and neg.amount_received == Decimal("40.00")
    assert neg.events[-1].kind == "payment" and "saldo negativado R$ 160,00" in neg.events[-1].message
    assert fake_bureau.calls_to("remove") == []


def test_failed_removal_is_retried_by_the_sweep_with_the_same_key(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("R-1", 20),))
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, ids[0], "100.00", TODAY, today=TODAY)
        s.commit()
    fake_bureau.fail_next(BureauUnavailable("503"))
    (first,) = send_removals(services, result.removal_ids)
    assert first.status == "removal_pending" and not first.ok
    retry_outbox(services, now=now_utc() + LATER)
    neg = _neg(services, out.negativation_id)
    assert neg.status == "removed"
    keys = {key for _, _, key in fake_bureau.calls_to("remove")}
    assert keys == {neg.removal_idempotency_key} and len(fake_bureau.calls_to("remove")) == 2


@pytest.mark.parametrize(
    ("state", "paid_on", "deadline"),
    [
        ("SP", dt.date(2026, 4, 16), dt.date(2026, 4, 24)),  # Tiradentes (Tue 21/04) is not a business day
        ("SP", dt.date(2026, 7, 6), dt.date(2026, 7, 14)),  # 09/07 is a São Paulo state holiday
        ("RJ", dt.date(2026, 7, 6), dt.date(2026, 7, 13)),  # ... but not in Rio de Janeiro
    ],
)
def test_legal_removal_deadline_counts_the_branch_state_holidays(services, state, paid_on, deadline):
    with services.session_factory() as s:
        branch = make_branch(s, services.box, state=state)
        party = make_client(s, branch)
        title = make_title(s, party, number="H-1", due=paid_on - dt.timedelta(days=30), today=paid_on)
        s.commit()
        party_id, title_id = party.id, title.id
    out = negativate_titles(services, FINANCE, party_id, [title_id], "12", today=paid_on)
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, title_id, "100.00", paid_on, today=paid_on)
        s.commit()
        neg = s.get(Negativation, out.negativation_id)
        assert (neg.paid_on, neg.removal_deadline) == (paid_on, deadline)
        neg.removed_at = dt.datetime.combine(deadline, dt.time(15), dt.UTC)
        assert neg.deadline_met() is True
        neg.removed_at = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(15), dt.UTC)
        assert neg.deadline_met() is False


def test_status_sync_moves_notice_to_active(services, fake_bureau):
    _, party_id, ids = world(services)
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    notice_until = _neg(services, out.negativation_id).notice_until
    assert sync_statuses(services, today=notice_until - dt.timedelta(days=1))["checked"] == 0
    assert sync_statuses(services, today=notice_until) == {"checked": 1, "activated": 0, "failed": 0}
    fake_bureau.activate("N-000001")
    assert sync_statuses(services, today=notice_until) == {"checked": 1, "activated": 1, "failed": 0}
    neg = _neg(services, out.negativation_id)
    assert (neg.status, neg.status_label) == ("active", "Ativo") and neg.activated_at is not None


def test_resend_keeps_the_key_when_nothing_changed_and_renews_it_when_data_changed(services, fake_bureau):
    _, party_id, ids = world(services)
    fake_bureau.fail_next(BureauRejected("CEP inexistente", status=422), times=2)
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    first_key = _neg(services, out.negativation_id).idempotency_key
    again = resend(services, FINANCE, out.negativation_id, today=TODAY)
    assert again.status == "error" and _neg(services, out.negativation_id).idempotency_key == first_key
    with services.session_factory() as s:
        s.get(Party, party_id).zip = "01310100"
        s.commit()
    fixed = resend(services, FINANCE, out.negativation_id, today=TODAY)
    neg = _neg(services, out.negativation_id)
    assert fixed.status == "notice" and neg.idempotency_key != first_key
    assert neg.debtor_address["zip"] == "01310100" and [nt.live for nt in neg.titles] == [True, True]
    with pytest.raises(Conflict):
        resend(services, FINANCE, out.negativation_id, today=TODAY)  # only an Erro entry


def test_manual_removal_of_several_with_error_correction(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("M-1", 10), ("M-2", 20)))
    a = negativate_titles(services, FINANCE, party_id, ids[:1], "12", today=TODAY)
    b = negativate_titles(services, FINANCE, party_id, ids[1:], "12", today=TODAY)
    outs = remove_negativations(
        services, FINANCE, [a.negativation_id, b.negativation_id], "error_correction"
    )
    assert [o.status for o in outs] == ["removed", "removed"]
    assert [reason for _, reason, _ in fake_bureau.calls_to("remove")] == [
        "manual",
        "manual",
    ]  # no removal code
    again = remove_negativations(services, FINANCE, [a.negativation_id], "manual")
    assert [o.ok for o in again] == [False] and "não pode ser baixada" in again[0].message
    with pytest.raises(ValidationError):
        remove_negativations(services, FINANCE, [a.negativation_id], "")


def test_sweep_removes_renegotiated_cancelled_and_prescribed(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("S-1", 10), ("S-2", 20), ("S-3", 30)))
    outs = [negativate_titles(services, FINANCE, party_id, [i], "12", today=TODAY) for i in ids]
    with services.session_factory() as s:
        s.get(Title, ids[0]).status = "renegotiated"  # changed outside the service (e.g. a bulk update)
        s.get(Title, ids[1]).due_date = TODAY - dt.timedelta(days=5 * 366)
        s.commit()
    counts = sweep_removals(services, today=TODAY)
    assert counts == {"marked": 2, "removed": 2, "failed": 0}
    reasons = [_neg(services, o.negativation_id).removal_reason for o in outs]
    assert reasons == ["agreement", "expired", None]
    with services.session_factory() as s:
        removal_id = titles.cancel_title(s, FINANCE, ids[2], "lançado em dobro")
        s.commit()
    assert _neg(services, removal_id).status == "removal_pending"
    sweep_removals(services, today=TODAY)
    neg = _neg(services, removal_id)
    assert (neg.status, neg.removal_reason) == ("removed", "error_correction")


def test_payment_while_the_inclusion_is_unconfirmed_replays_it_then_removes(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("Q-1", 15),))
    fake_bureau.fail_next(BureauUnavailable("timeout", outcome_unknown=True))
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, ids[0], "100.00", TODAY, today=TODAY)
        s.commit()
    assert result.removal_ids == [out.negativation_id]
    send_removals(services, result.removal_ids)
    neg = _neg(services, out.negativation_id)
    assert neg.status == "removed" and neg.protocol == "N-000001"
    assert [key for _, key in fake_bureau.calls_to("negativate")] == [neg.idempotency_key] * 2
    assert len(fake_bureau.negativations) == 1


def test_only_finance_and_admin_negativate_remove_or_pay(services, fake_bureau):
    _, party_id, ids = world(services)
    with pytest.raises(PermissionDenied):
        negativate_titles(services, VIEWER, party_id, ids, "12", today=TODAY)
    with pytest.raises(PermissionDenied):
        remove_negativations(services, VIEWER, [1], "manual")
    with services.session_factory() as s, pytest.raises(PermissionDenied):
        payments.register_payment(s, VIEWER, ids[0], "1.00", TODAY, today=TODAY)
    assert fake_bureau.calls == [] and _count(services) == 0


def test_roles_over_http(services, login_as, fake_bureau):
    _, party_id, ids = world(services)
    for role in ("crm", "viewer"):
        client = login_as(role)
        resp = client.post(
            f"/clientes/{party_id}/negativacoes/incluir",
            data={"restriction_code": "12", "title_ids": [str(i) for i in ids]},
        )
        assert resp.status_code == 403
        assert client.get(f"/clientes/{party_id}/negativacoes").status_code == 200
    client = login_as("finance")
    resp = client.post(
        f"/clientes/{party_id}/negativacoes/incluir",
        data={"restriction_code": "12", "title_ids": [str(i) for i in ids]},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "enviada com sucesso" in html and "Em notificação" in html and "Rua A, 10" in html
