"""The allowed-transitions tables of titles and negativations: every allowed move works (and derives
what follows from the status), every other one raises the same Conflict and changes nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from app.models import Negativation, NegativationTitle, Title
from app.models.negativations import LIVE_STATUSES, NEGATIVATION_TRANSITIONS, NegativationStatus
from app.models.titles import TITLE_TRANSITIONS, TitleStatus
from app.models.transitions import sources_of
from app.services.core.clock import BR_TZ
from app.services.core.errors import Conflict
from app.services.negativations.records import REMOVABLE_STATUSES
from tests.clock import pin_clock

TODAY = dt.date(2026, 3, 16)
NEG_STATES = [None, *NegativationStatus]
TITLE_STATES = [None, *TitleStatus]


def _pairs(table, states, allowed: bool):
    return [
        pytest.param(old, new, id=f"{old}->{new}")
        for old, new in itertools.product(states, [s for s in states if s is not None])
        if (new in table[old]) is allowed
    ]


def _negativation(status) -> Negativation:
    neg = Negativation(id=7, status=None if status is None else status.value)
    neg.titles = [NegativationTitle(title_id=1, live=status in LIVE_STATUSES),
                  NegativationTitle(title_id=2, live=status in LIVE_STATUSES)]
    return neg


def _title(status) -> Title:
    return Title(number="T-1", amount=Decimal("100.00"), amount_received=Decimal("0.00"),
                 open_amount=Decimal("100.00"), status=None if status is None else status.value)


# --------------------------------------------------------------------------- negativations


@pytest.mark.parametrize(("old", "new"), _pairs(NEGATIVATION_TRANSITIONS, NEG_STATES, allowed=True))
def test_every_allowed_negativation_move_sets_the_status_and_derives_live(old, new):
    neg = _negativation(old)
    neg.move_to(new)
    assert neg.status == new.value
    # Rule 7 (one active negativation per title per bureau): the unique index reads `live`.
    assert [nt.live for nt in neg.titles] == [new.value in LIVE_STATUSES] * 2


@pytest.mark.parametrize(("old", "new"), _pairs(NEGATIVATION_TRANSITIONS, NEG_STATES, allowed=False))
def test_every_other_negativation_move_is_a_conflict_and_changes_nothing(old, new):
    neg = _negativation(old)
    with pytest.raises(Conflict) as exc:
        neg.move_to(new)
    assert exc.value.code == "status_transition_not_allowed"
    assert neg.status == (None if old is None else old.value)
    assert [nt.live for nt in neg.titles] == [old in LIVE_STATUSES] * 2


def test_negativation_table_says_what_each_status_may_become():
    s = NegativationStatus
    assert NEGATIVATION_TRANSITIONS[None] == {s.PENDING}  # created as an outbox row
    assert NEGATIVATION_TRANSITIONS[s.PENDING] == {s.NOTICE, s.ACTIVE, s.ERROR, s.REMOVAL_PENDING}
    assert NEGATIVATION_TRANSITIONS[s.NOTICE] == {s.ACTIVE, s.REMOVAL_PENDING, s.REMOVED, s.ERROR}
    assert NEGATIVATION_TRANSITIONS[s.ACTIVE] == {s.REMOVAL_PENDING, s.REMOVED, s.ERROR}
    assert NEGATIVATION_TRANSITIONS[s.ERROR] == {s.PENDING}  # resend
    assert NEGATIVATION_TRANSITIONS[s.REMOVAL_PENDING] == {s.REMOVED, s.ERROR}
    assert NEGATIVATION_TRANSITIONS[s.REMOVED] == {s.REMOVAL_PENDING}  # the reconciliation resends a removal
    # The removal candidates are the from-states of removal_pending, read from the same table.
    # A person or a payment removes only a live entry; "removed" goes back only through the reconciliation.
    assert REMOVABLE_STATUSES == ("pending", "notice", "active")
    assert sources_of(NEGATIVATION_TRANSITIONS, s.REMOVAL_PENDING) == ("pending", "notice", "active", "removed")


def test_negativation_conflict_message_names_the_entry_and_both_statuses():
    neg = _negativation(NegativationStatus.REMOVED)
    with pytest.raises(Conflict) as exc:
        neg.move_to(NegativationStatus.PENDING)
    assert exc.value.message == "Negativação nº 7: mudança de situação não permitida (Baixada → Pendente)."
    assert exc.value.http_status == 409
    with pytest.raises(Conflict) as exc:
        Negativation().move_to(NegativationStatus.ACTIVE)
    assert exc.value.message == "Negativação: mudança de situação não permitida (novo → Ativo)."


# --------------------------------------------------------------------------- titles


@pytest.mark.parametrize(("old", "new"), _pairs(TITLE_TRANSITIONS, TITLE_STATES, allowed=True))
def test_every_allowed_title_move_sets_the_status_and_its_stamp(old, new):
    title = _title(old)
    with pin_clock(TODAY):
        title.move_to(new, paid_on=TODAY if new is TitleStatus.PAID else None)
    assert title.status == new.value
    assert title.paid_on == (TODAY if new is TitleStatus.PAID else None)
    if new is TitleStatus.CANCELLED:
        assert title.cancelled_at.astimezone(BR_TZ).date() == TODAY
    else:
        assert title.cancelled_at is None


@pytest.mark.parametrize(("old", "new"), _pairs(TITLE_TRANSITIONS, TITLE_STATES, allowed=False))
def test_every_other_title_move_is_a_conflict_and_changes_nothing(old, new):
    title = _title(old)
    with pytest.raises(Conflict) as exc:
        title.move_to(new, paid_on=TODAY)
    assert exc.value.code == "status_transition_not_allowed"
    assert (title.status, title.paid_on, title.cancelled_at) == (None if old is None else old.value, None, None)


def test_title_table_says_what_each_status_may_become():
    s = TitleStatus
    assert TITLE_TRANSITIONS[None] == {s.OPEN}
    assert TITLE_TRANSITIONS[s.OPEN] == {s.PARTIAL, s.PAID, s.CANCELLED, s.RENEGOTIATED}
    assert TITLE_TRANSITIONS[s.PARTIAL] == {s.PAID, s.CANCELLED, s.RENEGOTIATED}
    # Paid, cancelled and renegotiated are final: never collected again.
    assert TITLE_TRANSITIONS[s.PAID] == TITLE_TRANSITIONS[s.CANCELLED] == TITLE_TRANSITIONS[s.RENEGOTIATED] == set()


def test_title_conflict_message_and_paid_needs_its_day():
    title = _title(TitleStatus.PAID)
    with pytest.raises(Conflict) as exc:
        title.move_to(TitleStatus.CANCELLED)
    assert exc.value.message == "Título T-1: mudança de situação não permitida (Pago → Cancelado)."
    with pytest.raises(ValueError):
        _title(TitleStatus.OPEN).move_to(TitleStatus.PAID)


def test_title_cancelled_at_an_instant_given():
    at = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)
    title = _title(TitleStatus.PARTIAL)
    title.move_to(TitleStatus.CANCELLED, at=at)
    assert (title.status, title.cancelled_at) == ("cancelled", at)


@pytest.mark.parametrize(
    ("status", "received", "open_amount", "expected", "paid_on"),
    [
        (TitleStatus.OPEN, "0.00", "100.00", "open", None),  # nothing changed: stays open
        (TitleStatus.OPEN, "40.00", "60.00", "partial", None),  # a partial payment
        (TitleStatus.PARTIAL, "70.00", "30.00", "partial", None),  # another one: stays partial
        (TitleStatus.OPEN, "100.00", "0.00", "paid", TODAY),  # paid in full at once
        (TitleStatus.PARTIAL, "100.00", "0.00", "paid", TODAY),  # the last payment
    ],
)
def test_settle_follows_the_amounts(status, received, open_amount, expected, paid_on):
    title = _title(status)
    title.amount_received, title.open_amount = Decimal(received), Decimal(open_amount)
    title.settle(paid_on=TODAY)
    assert (title.status, title.paid_on) == (expected, paid_on)
