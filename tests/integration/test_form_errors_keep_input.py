"""Every main form, given a wrong value: a pt-BR message next to the field, every value as typed,
and nothing written (no audit event, no row)."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Party, Title, User
from tests.clock import pin_clock

from .titles_support import TODAY, make_branch, make_client, make_title


@pytest.fixture(autouse=True)
def _today():
    with pin_clock(TODAY):
        yield


@pytest.fixture
def ids(services, users):
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        party = make_client(s, branch)
        title = make_title(s, party, number="F-1", days_overdue=80)
        s.commit()
        return {"branch": branch.id, "party": party.id, "title": title.id, "admin": users["admin"].id}


# (url, posted fields, the fields whose value must come back as typed, the field with the error)
CASES = [
    ("/configuracoes/filiais/nova",
     {"name": "Filial Typed", "cnpj": "123", "street": "Rua Typed", "city": "Cidade Typed", "state": "SP"},
     ["name", "street", "city"], "cnpj"),
    ("/configuracoes/filiais/{branch}",
     {"name": "Filial Typed", "cnpj": "11.222.333/0001-00", "city": "Cidade Typed", "state": "SP"},
     ["name", "city"], "cnpj"),
    ("/configuracoes/integracoes/nova",
     {"name": "Integração Typed", "environment": "producao", "base_url": "não é url", "client_id": "cid-typed"},
     ["name", "client_id"], "base_url"),
    ("/credito/clientes/{party}/limite", {"limit": "abc", "tolerance_pct": "5", "reason": "motivo typed"},
     ["reason"], "limit"),
    ("/credito/simular",
     {"branch_id": "{branch}", "document": "123", "amount": "10,00", "method": "boleto_faturado",
      "order_ref": "PED-TYPED"}, ["order_ref", "amount"], "document"),
    ("/crm/leads/novo", {"branch_id": "{branch}", "name": "Lead Typed", "document": "123", "city": "Cidade Typed"},
     ["name", "city"], "document"),
    ("/crm/cadastros/{party}/editar",
     {"branch_id": "{branch}", "name": "Nome Typed", "document": "52998224725", "email": "não-é-email",
      "city": "Cidade Typed"}, ["name", "city"], "email"),
    ("/crm/cadastros/{party}/contatos", {"name": "Contato Typed", "email": "não-é-email", "phone": "11 5555-0000"},
     ["name"], "email"),
    ("/configuracoes/usuarios/novo",
     {"username": "novo.typed", "name": "Nome Typed", "email": "e@x.com", "role": "finance", "password": "1"},
     ["username", "name"], "password"),
    ("/configuracoes/usuarios/{admin}/tokens", {"scopes_shown": "1", "name": "Token Typed", "scopes": "titles:read",
                                                "expires_days": "²"}, ["name", "expires_days"], "expires_days"),
    ("/conta/tokens", {"scopes_shown": "1", "name": "Token Typed", "scopes": "titles:read", "expires_days": "99999"},
     ["name", "expires_days"], "expires_days"),
    ("/cobranca/parametros/{branch}",
     {"enabled": "y", "handle_by_title": "sim", "grouping": "client", "run_time": "25:61",
      "days_to_execute": "90", "max_concurrency": "4", "rate_limit_per_s": ""}, ["run_time", "days_to_execute"],
     "run_time"),
    ("/configuracoes/filiais/{branch}/politica-de-consultas",
     {"reuse_days": "abc", "monthly_quota": "10", "cost_per_consultation": "1,50", "retention_days": "365"},
     ["reuse_days", "cost_per_consultation"], "reuse_days"),
    ("/negativacoes/politicas/{branch}", {"min_amount": "abc", "prescription_years": "5", "notice_days": "10"},
     ["min_amount", "notice_days"], "min_amount"),
    ("/credito/politicas/{branch}",
     {"restore_mode": "on_payment", "installment_terms": "abc", "reservation_business_days": "5",
      "platform_url": "https://erp.example/x"}, ["installment_terms", "platform_url"], "installment_terms"),
    ("/eventos/novo", {"branch_id": "{branch}", "name": "Destino Typed", "url": "ftp://x.example/", "active": "y",
                       "event_types": "negativation.included"}, ["name", "url"], "url"),
    ("/titulos/novo",
     {"cliente_documento": "52998224725", "branch_id": "{branch}", "number": "N-TYPED", "issue_date": "31/02/2026",
      "due_date": "31/03/2026", "amount": "10,00", "description": "Descrição typed"},
     ["number", "issue_date", "amount", "description"], "issue_date"),
    ("/titulos/{title}",
     {"branch_id": "{branch}", "number": "F-1", "issue_date": "01/02/2026", "due_date": "xx/03/2026",
      "amount": "10,00", "description": "Descrição typed"}, ["due_date", "description"], "due_date"),
    ("/clientes/{party}/negativacoes/remover", {"reason": "", "note": "nota typed"}, ["note"], "reason"),
]


def _input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html_lib.unescape(value.group(1)) if value else None


def _error_next_to(page: str, name: str) -> str | None:
    """The pt-BR message in the field block holding `name`."""
    for block in re.findall(r'<(?:div|fieldset) class="field[^"]*has-error[^"]*">.*?</(?:div|fieldset)>', page, re.S):
        if f'name="{name}"' in block:
            found = re.search(r'<small class="error">([^<]+)</small>', block)
            return html_lib.unescape(found.group(1)) if found else None
    return None


def _counts(services) -> tuple:
    with services.session_factory() as s:
        return tuple(s.scalar(select(func.count(m.id))) for m in (AuditEvent, Party, Title, User))


@pytest.mark.parametrize(("url", "data", "kept", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_a_wrong_field_is_shown_next_to_it_with_everything_as_typed(client, login_as, services, ids, url, data,
                                                                       kept, wrong):
    login_as("admin")
    data = {k: v.format(**ids) for k, v in data.items()}
    before = _counts(services)
    resp = client.post(url.format(**ids), data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code in (200, 422), (resp.status_code, resp.headers.get("Location"))
    message = _error_next_to(page, wrong)
    assert message and re.search(r"[a-zà-ú]{3}", message), f"no pt-BR message next to {wrong}"
    for name in kept:
        assert _input_value(page, name) == data[name], name
    assert _counts(services) == before  # nothing written


def test_a_refused_reservation_action_keeps_the_rows_typed_values(client, login_as, services):
    from app.db import transaction
    from app.services.credit import purchases

    from .credit_support import CPF, FINANCE, set_policy
    from .credit_support import make_branch as credit_branch
    from .credit_support import make_client as credit_client

    branch_id = credit_branch(services)
    set_policy(services, branch_id)
    credit_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        rid = purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount="100.00",
                                  method="boleto_faturado", order_ref="PED-1").reservation.id
    login_as("finance")
    before = _counts(services)
    back = "/credito/reservas?status=active"
    resp = client.post(f"/credito/reservas/{rid}/faturar", data={"next": back, "invoice_date": "31/02/2026"})
    page = resp.get_data(as_text=True)
    # Before: a redirect, and the date field back at today: a second click invoiced on the wrong day.
    assert resp.status_code == 422 and _input_value(page, "invoice_date") == "31/02/2026"
    assert '<small class="error">Use dd/mm/aaaa.</small>' in page and f'name="next" value="{back}"' in page
    resp = client.post(f"/credito/reservas/{rid}/alterar", data={"next": back, "amount": "abc,5"})
    assert resp.status_code == 422 and _input_value(resp.get_data(as_text=True), "amount") == "abc,5"
    assert _counts(services) == before


def test_a_refused_title_action_keeps_the_typed_reason(client, login_as, services, ids):
    login_as("finance")
    before = _counts(services)
    resp = client.post(f"/titulos/{ids['title']}/disputa", data={"disputed": "1", "reason": "   "})
    assert resp.status_code == 422
    assert _error_next_to_inline(resp.get_data(as_text=True), "disputa") == "Informe o motivo da disputa."
    assert client.post(f"/titulos/{ids['title']}/cancelar", data={"reason": "pedido devolvido"}).status_code == 302
    # Cancelled: a second cancel is refused, and what was typed is still there (the page shows the
    # actions only for open titles, so the message is the flash).
    resp = client.post(f"/titulos/{ids['title']}/cancelar", data={"reason": "de novo"})
    assert resp.status_code == 422 and "Cancelado" in resp.get_data(as_text=True)
    assert _counts(services)[0] == before[0] + 1  # the one cancellation's audit event only


def _error_next_to_inline(page: str, action: str) -> str | None:
    form = re.search(rf'action="/titulos/\d+/{action}".*?</form>', page, re.S).group(0)
    found = re.search(r'<small class="error">([^<]+)</small>', form)
    return html_lib.unescape(found.group(1)) if found else None


def test_the_inclusion_by_hand_keeps_the_chosen_titles_and_says_what_is_missing(client, login_as, services, ids):
    login_as("finance")
    before = _counts(services)
    resp = client.post(f"/clientes/{ids['party']}/negativacoes/incluir",
                       data={"restriction_code": "", "title_ids": [str(ids["title"])]})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _error_next_to(page, "restriction_code") == "Escolha o motivo da restrição."
    assert re.search(rf'name="title_ids" value="{ids["title"]}"\s*checked', page)
    assert _counts(services) == before
