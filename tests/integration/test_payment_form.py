"""The payment form on a title: a refused payment shows its pt-BR message next to the field and keeps
every field as typed, never the full balance and today again (a quick retry would pay it all)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import Payment, Title
from tests.clock import pin_clock

from .titles_support import TODAY, world

TYPED = {"method": "pix", "reference": "comprovante 123"}


@pytest.fixture(autouse=True)
def _today():
    with pin_clock(TODAY):
        yield


def _payment_form(html: str, title_id: int) -> str:
    start = html.index(f'action="/titulos/{title_id}/pagamentos"')
    return html[start:html.index("</form>", start)]


def _field(form: str, name: str) -> tuple[str, str | None]:
    """(value shown in the input, error shown next to it)."""
    block = re.search(rf'<div class="field[^"]*">\s*<label for="f-{name}".*?</div>', form, re.S).group(0)
    value = re.search(r'value="([^"]*)"', block).group(1)
    error = re.search(r'<small class="error">([^<]*)</small>', block)
    return value, error.group(1) if error else None


# Issue date of the title is 04/02/2026 (due 06/03/2026), open balance R$ 100,00, today 16/03/2026.
@pytest.mark.parametrize(("amount", "paid_on", "field", "message"), [
    ("abc", "10/03/2026", "amount", "Informe um valor maior que zero, com até duas casas decimais."),
    ("-10", "10/03/2026", "amount", "Informe um valor maior que zero, com até duas casas decimais."),
    ("0", "10/03/2026", "amount", "Informe um valor maior que zero, com até duas casas decimais."),
    ("", "10/03/2026", "amount", "Informe um valor maior que zero, com até duas casas decimais."),
    ("150,00", "10/03/2026", "amount", "Acima do saldo em aberto: o máximo é R$ 100,00."),
    ("40,00", "31/02/2026", "paid_on", "Data de pagamento inválida (use dd/mm/aaaa)."),
    ("40,00", "17/03/2026", "paid_on", "A data do pagamento não pode ser futura."),
    ("40,00", "03/02/2026", "paid_on", "A data do pagamento não pode ser anterior à emissão do título (04/02/2026)."),
    ("40,00", "", "paid_on", "Informe a data do crédito (dd/mm/aaaa)."),
    ("40,00", "²/03/2026", "paid_on", "Data de pagamento inválida (use dd/mm/aaaa)."),
])
def test_a_refused_payment_keeps_what_was_typed(services, login_as, amount, paid_on, field, message):
    _, _, (title_id,) = world(services, titles=(("P-1", 10),))
    client = login_as("finance")
    resp = client.post(f"/titulos/{title_id}/pagamentos", data={"amount": amount, "paid_on": paid_on, **TYPED})
    assert resp.status_code == 422
    form = _payment_form(resp.get_data(as_text=True), title_id)
    assert _field(form, field) == ({"amount": amount, "paid_on": paid_on}[field], message)
    other = "paid_on" if field == "amount" else "amount"
    assert _field(form, other) == ({"amount": amount, "paid_on": paid_on}[other], None)
    assert _field(form, "method") == ("pix", None) and _field(form, "reference") == ("comprovante 123", None)
    with services.session_factory() as s:
        assert s.scalars(select(Payment)).all() == []
        assert s.get(Title, title_id).open_amount == Decimal("100.00")


def test_both_fields_wrong_show_both_messages(services, login_as):
    _, _, (title_id,) = world(services, titles=(("P-2", 10),))
    client = login_as("finance")
    resp = client.post(f"/titulos/{title_id}/pagamentos", data={"amount": "abc", "paid_on": "", **TYPED})
    form = _payment_form(resp.get_data(as_text=True), title_id)
    assert _field(form, "amount")[1] and _field(form, "paid_on") == ("", "Informe a data do crédito (dd/mm/aaaa).")


def test_first_visit_offers_the_balance_and_today_and_a_good_payment_is_recorded(services, login_as):
    _, _, (title_id,) = world(services, titles=(("P-3", 10),))
    client = login_as("finance")
    form = _payment_form(client.get(f"/titulos/{title_id}").get_data(as_text=True), title_id)
    assert _field(form, "amount") == ("100,00", None) and _field(form, "paid_on") == ("16/03/2026", None)
    resp = client.post(f"/titulos/{title_id}/pagamentos", data={"amount": "40,00", "paid_on": "10/03/2026", **TYPED})
    assert resp.status_code == 302
    with services.session_factory() as s:
        (payment,) = s.scalars(select(Payment)).all()
        assert (payment.amount, payment.paid_on.isoformat(), payment.method, payment.reference) == (
            Decimal("40.00"), "2026-03-10", "pix", "comprovante 123")


def test_the_api_still_reads_a_missing_date_as_today(services):
    from app.services.titles import payments

    from .titles_support import FINANCE

    _, _, (title_id,) = world(services, titles=(("P-4", 10),))
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, title_id, "10,00", None, today=TODAY)
        assert result.payment.paid_on == TODAY
