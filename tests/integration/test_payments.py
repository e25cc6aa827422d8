"""Payments: full, partial, overpayment refused, closed titles refused, over HTTP too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.models import Payment, Title
from app.services.core.errors import Conflict, ValidationError
from app.services.titles import payments

from .titles_support import FINANCE, TODAY, world


def _title(services, title_id) -> Title:
    with services.session_factory() as s:
        title = s.get(Title, title_id)
        _ = title.payments
        return title


def test_partial_then_full_payment(services):
    _, _, (title_id,) = world(services, titles=(("P-1", 10),))
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, title_id, "30,50", "10/03/2026", today=TODAY)
        s.commit()
    title = _title(services, title_id)
    assert (title.status, title.amount_received, title.open_amount, title.paid_on) == (
        "partial",
        Decimal("30.50"),
        Decimal("69.50"),
        None,
    )
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, title_id, Decimal("69.50"), TODAY, method="pix", today=TODAY)
        s.commit()
    title = _title(services, title_id)
    assert (title.status, title.open_amount, title.paid_on) == ("paid", Decimal("0.00"), TODAY)
    assert [(p.paid_on, p.amount, p.method) for p in title.payments] == [
        (dt.date(2026, 3, 10), Decimal("30.50"), None),
        (TODAY, Decimal("69.50"), "pix"),
    ]


def test_overpayment_is_refused_and_nothing_is_written(services):
    _, _, (title_id,) = world(services, titles=(("P-2", 10),))
    with services.session_factory() as s:
        with pytest.raises(ValidationError) as exc:
            payments.register_payment(s, FINANCE, title_id, "100.01", TODAY, today=TODAY)
        s.rollback()
    assert exc.value.code == "overpayment"
    assert exc.value.message == "Pagamento de R$ 100,01 maior que o saldo em aberto (R$ 100,00): recusado."
    assert _title(services, title_id).payments == []


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        ("0", TODAY, "amount"),
        ("-5", TODAY, "amount"),
        ("1.234", TODAY, "amount"),
        ("abc", TODAY, "amount"),
        ("10", TODAY + dt.timedelta(days=1), "paid_on"),
        ("10", "31/02/2026", "paid_on"),
    ],
)
def test_invalid_payment_fields(services, amount, paid_on, field):
    _, _, (title_id,) = world(services, titles=(("P-3", 10),))
    with services.session_factory() as s, pytest.raises(ValidationError) as exc:
        payments.register_payment(s, FINANCE, title_id, amount, paid_on, today=TODAY)
    assert field in exc.value.field_errors


@pytest.mark.parametrize("status", ["cancelled", "renegotiated", "paid"])
def test_closed_titles_take_no_payment(services, status):
    _, _, (title_id,) = world(services, titles=(("P-4", 10),))
    with services.session_factory() as s:
        s.get(Title, title_id).status = status
        s.commit()
        with pytest.raises(Conflict):
            payments.register_payment(s, FINANCE, title_id, "1.00", TODAY, today=TODAY)


def test_payment_over_http_and_roles(services, login_as):
    _, _, (title_id,) = world(services, titles=(("P-5", 10),))
    client = login_as("viewer")
    assert (
        client.post(
            f"/titulos/{title_id}/pagamentos", data={"amount": "10,00", "paid_on": "01/03/2026"}
        ).status_code
        == 403
    )
    client = login_as("finance")
    resp = client.post(
        f"/titulos/{title_id}/pagamentos",
        data={"amount": "10,00", "paid_on": "01/03/2026"},
        follow_redirects=True,
    )
    assert "Pagamento registrado. Saldo em aberto: R$ 90,00." in resp.get_data(as_text=True)
    resp = client.post(
        f"/titulos/{title_id}/pagamentos",
        data={"amount": "500,00", "paid_on": "01/03/2026"},
        follow_redirects=True,
    )
    assert "maior que o saldo em aberto (R$ 90,00): recusado" in resp.get_data(as_text=True)
    with services.session_factory() as s:
        assert [p.amount for p in s.query(Payment).all()] == [Decimal("10.00")]
