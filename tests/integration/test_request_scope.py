"""The request owns its transaction and its errors: one commit when the view returned, nothing kept
when a DomainError ends it, the pt-BR message and what the user typed on the form again."""

from __future__ import annotations

import pytest
from flask import Blueprint, render_template_string
from sqlalchemy import func, select

from app.models import ApiToken, AuditEvent, Branch, User
from app.request_scope import after_commit, db_session, services
from app.services.core.audit import Actor
from app.services.core.errors import Conflict, ValidationError
from app.services.settings import users as user_service
from app.web.errors import on_error
from tests.conftest import login

# A probe area for the web's request scope: each view writes, then fails or returns.
probe = Blueprint("probe", __name__, url_prefix="/_probe")
FORM = "<p>{{ get_flashed_messages()|join('|') }}</p><input name='name' value='{{ data.get(\"name\", \"\") }}'>" \
       "<span class='err'>{{ errors.get('name', '') }}</span>"


def _form(data, errors):
    return render_template_string(FORM, data=data, errors=errors)


def _write_audit(label: str) -> None:
    session = db_session()
    session.add(AuditEvent(actor="probe", action="probe.write", entity_type="probe", entity_id=label,
                           summary=label))
    session.flush()


@probe.route("/form", methods=["POST"])
@on_error(form=_form, status=422)
def failing_form():
    _write_audit("form")
    after_commit(lambda: _write_audit("after-commit-of-a-failed-request"))
    raise ValidationError("Nome já usado nesta filial.", field_errors={"name": "Escolha outro nome."})


@probe.route("/action", methods=["POST"])
@on_error(redirect=lambda: "/_probe/back")
def failing_action():
    _write_audit("action")
    raise Conflict("Não foi possível concluir a ação.")


@probe.route("/ok", methods=["POST"])
def succeeding():
    _write_audit("ok")
    seen_by_another_session = []

    def check() -> None:
        with services().session_factory() as other:
            seen_by_another_session.append(
                other.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == "ok")))

    after_commit(check)
    return {"seen": seen_by_another_session}  # Flask serialises it after the commit and the callbacks


@pytest.fixture
def probe_client(app, users):
    app.register_blueprint(probe)
    client = app.test_client()
    login(client, "admin")
    return client


def _audits(session, label: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == label))


def test_a_failed_form_post_keeps_what_was_typed_shows_the_message_and_commits_nothing(probe_client, session):
    resp = probe_client.post("/_probe/form", data={"name": "Filial Zeta"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Nome já usado nesta filial." in html
    assert "value='Filial Zeta'" in html and "<span class='err'>Escolha outro nome.</span>" in html
    assert _audits(session, "form") == 0
    assert _audits(session, "after-commit-of-a-failed-request") == 0  # after-commit work never runs


def test_a_failed_action_redirects_with_the_message_and_commits_nothing(probe_client, session):
    resp = probe_client.post("/_probe/action")
    assert resp.status_code == 302 and resp.headers["Location"] == "/_probe/back"
    with probe_client.session_transaction() as cookie:
        assert cookie["_flashes"] == [("danger", "Não foi possível concluir a ação.")]
    assert _audits(session, "action") == 0


def test_a_view_that_returns_is_committed_before_its_after_commit_work(probe_client, session):
    resp = probe_client.post("/_probe/ok")
    assert resp.status_code == 200 and resp.get_json() == {"seen": [1]}
    assert _audits(session, "ok") == 1


def test_users_form_refuses_self_demotion_with_the_typed_values_and_keeps_the_role(client, users, session):
    login(client, "admin")
    admin = users["admin"]
    resp = client.post(f"/configuracoes/usuarios/{admin.id}",
                       data={"name": "Outro Nome", "role": "viewer", "active": "y", "email": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Você não pode remover o seu próprio acesso de administrador." in html
    assert 'value="Outro Nome"' in html
    assert (session.get(User, admin.id).role, session.get(User, admin.id).name) == ("admin", "Admin")


def test_update_user_refuses_an_admin_removing_their_own_admin_access(services, users):
    admin = users["admin"]
    with services.session_factory() as s:
        me = Actor.for_user(admin)
        for role, active in (("finance", True), ("admin", False)):
            with pytest.raises(ValidationError) as refused:
                user_service.update_user(s, me, admin.id, name="Admin", role=role, active=active)
            assert refused.value.message == "Você não pode remover o seu próprio acesso de administrador."
            s.rollback()
        # Renaming oneself is fine; so is another administrator demoting this one.
        assert user_service.update_user(s, me, admin.id, name="Ana Admin", role="admin", active=True).name == \
            "Ana Admin"
        other_admin = Actor(name="outra", user_id=admin.id + 1000, role="admin")
        assert user_service.update_user(s, other_admin, admin.id, name="Ana", role="viewer", active=True).role == \
            "viewer"


def test_an_api_domain_error_is_json_keeps_nothing_and_still_records_the_token_use(
        client, users, api_token, session, monkeypatch):
    from app.services.settings import branches

    def write_then_refuse(s, actor, data, branch_id=None):
        s.add(Branch(name="Meia filial", cnpj="11222333000181"))
        s.flush()
        raise Conflict("Já existe uma filial com este CNPJ.", code="duplicate_cnpj")

    monkeypatch.setattr(branches, "save_branch", write_then_refuse)
    headers = api_token("admin")
    resp = client.post("/api/v1/branches", json={"name": "Meia filial", "cnpj": "11222333000181"}, headers=headers)
    assert resp.status_code == 409
    assert resp.get_json() == {"error": {"code": "duplicate_cnpj", "message": "Já existe uma filial com este CNPJ."}}
    assert session.scalars(select(Branch)).all() == []
    token = session.scalars(select(ApiToken).where(ApiToken.name == "t-admin")).one()
    assert token.last_used_at is not None


def test_api_field_errors_stay_under_fields(client, users, api_token):
    resp = client.post("/api/v1/titles", json={"number": ""}, headers=api_token("finance"))
    body = resp.get_json()["error"]
    assert resp.status_code == 422 and body["code"] == "validation_error"
    # Refused by the request's schema before the service (a missing id), the field named under `fields`.
    assert body["fields"]["party_id"] and "details" not in body
