"""A removal by hand decides what happens to the titles (rules 4, 9, 10, 11), and the routine never
sends such a title again unless a person cleared it; a person may re-negativate with a confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, CollectionRunItem, Negativation, Title
from app.services.collections.routine import run_branch
from app.services.core.audit import Actor
from app.services.core.errors import Conflict, ValidationError
from app.services.negativations.inclusion import negativate_titles
from app.services.titles.manual_removal import clear_hold, remove_by_hand
from tests.clock import pin_clock
from tests.integration.collections_support import TODAY, routine_world

ROUTINE = Actor.system("rotina")
FINANCE = Actor(name="financeiro", user_id=None, role="finance")
DAY = TODAY.strftime("%d/%m/%Y")


@pytest.fixture(autouse=True)
def _clock():
    with pin_clock(TODAY):  # the removal's day, shown in messages, is TODAY
        yield


@pytest.fixture
def negativated(services, fake_bureau):
    """A client with T-120 negativated by hand (and T-60/T-59 left open)."""
    branch_id, (party_id,), ids = routine_world(services)
    out = negativate_titles(services, FINANCE, party_id, [ids["T-120"]], "12", today=TODAY)
    return branch_id, party_id, ids, out.negativation_id


def _title(services, title_id) -> Title:
    with services.session_factory() as s:
        return s.get(Title, title_id)


def _skips(services, run_id) -> dict[int, tuple[str, str]]:
    with services.session_factory() as s:
        rows = s.execute(select(CollectionRunItem.title_id, CollectionRunItem.reason_code, CollectionRunItem.message)
                         .where(CollectionRunItem.run_id == run_id, CollectionRunItem.action == "skip")).all()
    return {t: (code, message) for t, code, message in rows}


def test_agreement_renegotiates_the_titles_and_simular_shows_them_skipped_with_the_day(services, negativated):
    branch_id, _, ids, neg_id = negativated
    [out] = remove_by_hand(services, FINANCE, [neg_id], "agreement", note="acordo em 3x")
    assert out.ok
    title = _title(services, ids["T-120"])
    assert (title.status, str(title.open_amount), title.hold_reason, title.hold_negativation_id) == (
        "renegotiated", "0.00", "agreement", neg_id)
    dry = run_branch(services, ROUTINE, branch_id, today=TODAY, dry_run=True)
    code, message = _skips(services, dry.run_id)[ids["T-120"]]
    assert code == "renegotiated"
    assert message == f"Título renegociado — Negativação baixada à mão em {DAY} (Acordo / renegociação): " \
                      "não negativar até uma pessoa liberar"


def test_payment_is_refused_while_a_title_still_has_an_open_amount(services, negativated):
    _, _, _, neg_id = negativated
    with pytest.raises(ValidationError) as exc:
        remove_by_hand(services, FINANCE, [neg_id], "payment")
    assert exc.value.code == "titles_not_paid"
    assert "título T-120: R$ 100,00 em aberto" in exc.value.message
    with services.session_factory() as s:
        assert s.get(Negativation, neg_id).status == "notice"  # nothing removed


@pytest.mark.parametrize("reason", ["error_correction", "manual"])
def test_error_or_manual_removal_holds_the_titles_until_a_person_clears_them(services, negativated, reason):
    branch_id, party_id, ids, neg_id = negativated
    remove_by_hand(services, FINANCE, [neg_id], reason)
    title = _title(services, ids["T-120"])
    assert (title.status, title.held, title.hold_reason) == ("open", True, reason)
    dry = run_branch(services, ROUTINE, branch_id, today=TODAY, dry_run=True)
    code, message = _skips(services, dry.run_id)[ids["T-120"]]
    assert code == "removed_by_hand" and f"baixada à mão em {DAY}" in message
    real = run_branch(services, ROUTINE, branch_id, today=TODAY)
    with services.session_factory() as s:
        live = s.scalars(select(Negativation.id).where(Negativation.status.in_(("pending", "notice", "active")))
                         ).all()
        assert live and neg_id not in live  # the routine sent T-60 only
        assert real.counts["titles_included"] == 1
    with services.session_factory() as s, pytest.raises(ValidationError):
        clear_hold(s, FINANCE, ids["T-120"], "")  # a reason is required
    with services.session_factory() as s:
        clear_hold(s, FINANCE, ids["T-120"], "cliente confirmou a dívida")
        s.commit()
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "title.hold_cleared"))
        assert event.actor == "financeiro" and event.details["reason"] == "cliente confirmou a dívida"
    assert not _title(services, ids["T-120"]).held


def test_a_person_re_negativates_a_held_title_only_with_confirmation(services, negativated):
    _, party_id, ids, neg_id = negativated
    remove_by_hand(services, FINANCE, [neg_id], "error_correction")
    with pytest.raises(Conflict) as exc:
        negativate_titles(services, FINANCE, party_id, [ids["T-120"]], "12", today=TODAY)
    assert exc.value.code == "confirmation_required"
    assert f"T-120: Negativação baixada à mão em {DAY} (Correção de erro)" in exc.value.message
    out = negativate_titles(services, FINANCE, party_id, [ids["T-120"]], "12", today=TODAY,
                            confirm_after_manual_removal=True)
    assert out.ok and not _title(services, ids["T-120"]).held


def test_the_api_refuses_payment_removal_and_releases_a_hold(services, negativated, client, api_token):
    _, _, ids, neg_id = negativated
    headers = api_token("finance")
    resp = client.post("/api/v1/negativations/removals", json={"ids": [neg_id], "reason": "payment"},
                       headers=headers)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "titles_not_paid"
    resp = client.post("/api/v1/negativations/removals", json={"ids": [neg_id], "reason": "manual"},
                       headers=headers)
    assert resp.status_code == 200
    held = client.get(f"/api/v1/titles/{ids['T-120']}", headers=headers).get_json()
    assert held["hold"]["reason"] == "manual" and held["hold"]["negativation_id"] == neg_id
    url = f"/api/v1/titles/{ids['T-120']}/release-hold"
    for body, fields in (({}, {"reason": "Campo obrigatório."}), ({"reason": ["x"]}, {"reason": "Informe um texto."}),
                         ({"reason": "ok"}, {"reason": "Informe o motivo (pelo menos 5 caracteres)."}),  # the service's
                         ({"reason": "revisado", "force": True}, {"force": "Campo desconhecido."})):
        resp = client.post(url, json=body, headers=headers)
        assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == fields, body
    assert client.get(f"/api/v1/titles/{ids['T-120']}", headers=headers).get_json()["hold"] is not None
    resp = client.post(url, json={"reason": "revisado com o cliente"}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["hold"] is None


def test_the_pages_show_the_hold_and_ask_for_confirmation(services, negativated, login_as):
    _, party_id, ids, neg_id = negativated
    client = login_as("finance")
    resp = client.post(f"/clientes/{party_id}/negativacoes/remover",
                       data={"ids": [str(neg_id)], "reason": "error_correction"})
    assert resp.status_code == 302
    page = client.get(f"/titulos/{ids['T-120']}").get_data(as_text=True)
    assert f"foi baixada à mão em {DAY} 12:00 (Correção de erro)" in page and "Liberar para negativação" in page
    form = client.get(f"/clientes/{party_id}/negativacoes/incluir").get_data(as_text=True)
    assert "Baixada à mão" in form and 'name="confirm_after_manual_removal"' in form
    client.post(f"/titulos/{ids['T-120']}/liberar", data={"reason": "dívida confirmada"})
    assert not _title(services, ids["T-120"]).held
