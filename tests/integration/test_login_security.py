"""Logins: throttling with growing delay and lockout (shared by workers), the same answer and work for
every failure, and the password policy with the forced change of a weak stored password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from app import create_app
from app.models import AuditEvent, LoginThrottle, User
from app.services.core.audit import Actor
from app.services.settings import login_throttle
from app.services.settings import users as user_service
from tests.conftest import PASSWORD

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def _post_login(client, username, password, address="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_overrides={"REMOTE_ADDR": address})


def _answer(resp, username: str) -> tuple[int, str]:
    """Status and page, with the echoed login field and the print header's clock made neutral."""
    page = resp.get_data(as_text=True).replace(f'value="{username}"', 'value="?"')
    return resp.status_code, re.sub(r"Impresso em [0-9/]+ [0-9:]+", "Impresso em ?", page)


def _fail_until_locked(client, username, *, start=T0, address="10.0.0.1"):
    """Wrong passwords, each after the delay the previous one imposed, until the account locks."""
    at = start
    for _ in range(login_throttle.ACCOUNT.lock_after):
        with time_machine.travel(at, tick=False):
            resp = _post_login(client, username, "errada-errada", address)
        assert resp.status_code == 200, "an attempt made after its delay is answered normally"
        at += login_throttle._delay(login_throttle.ACCOUNT, login_throttle.ACCOUNT.lock_after) + dt.timedelta(
            seconds=1)
    return at


def test_delay_grows_after_the_free_failures(client, users):
    rule = login_throttle.ACCOUNT
    with time_machine.travel(T0, tick=False):
        for _ in range(rule.free_failures):
            assert _post_login(client, "admin", "errada-errada").status_code == 200
        resp = _post_login(client, "admin", PASSWORD)  # even the right password must wait now
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) == 1
    assert "Muitas tentativas de login. Aguarde 1 segundo" in resp.get_data(as_text=True)
    delays = []
    at = T0
    for n in range(rule.free_failures, rule.free_failures + 3):
        at += login_throttle._delay(rule, n)
        with time_machine.travel(at, tick=False):
            assert _post_login(client, "admin", "errada-errada").status_code == 200
            delays.append(int(_post_login(client, "admin", PASSWORD).headers["Retry-After"]))
    assert delays == [2, 4, 8]


def test_lockout_refuses_the_right_password_and_is_audited_once(client, users, session):
    unlock_from = _fail_until_locked(client, "finance")
    with time_machine.travel(unlock_from, tick=False):
        resp = _post_login(client, "finance", PASSWORD)
    assert resp.status_code == 429
    assert "Muitas tentativas de login. Aguarde 14 minutos" in resp.get_data(as_text=True)  # 15 min from the lock
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.lockout")).all()
    assert [(e.entity_type, e.entity_id, e.details["kind"], e.details["failures"]) for e in events] == [
        ("user", str(users["finance"].id), "account", login_throttle.ACCOUNT.lock_after)]
    assert "conta finance" in events[0].summary
    # Attempts while locked are not counted: no second lockout, no longer lock.
    with time_machine.travel(unlock_from + dt.timedelta(minutes=16), tick=False):
        assert _post_login(client, "finance", PASSWORD).status_code == 302
    assert session.scalar(select(LoginThrottle).where(LoginThrottle.kind == "account")) is None


def test_unknown_account_is_throttled_with_the_same_message(client, users, session):
    known_at = _fail_until_locked(client, "admin", address="10.0.0.1")
    unknown_at = _fail_until_locked(client, "ninguem", address="10.0.0.2")
    with time_machine.travel(known_at, tick=False):
        known = _post_login(client, "admin", PASSWORD, "10.0.0.1")
    with time_machine.travel(unknown_at, tick=False):
        unknown = _post_login(client, "ninguem", PASSWORD, "10.0.0.2")
    assert known.status_code == unknown.status_code == 429
    assert _answer(known, "admin") == _answer(unknown, "ninguem")
    summaries = session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "auth.lockout")
                                .order_by(AuditEvent.id)).all()
    assert len(summaries) == 2 and "(login inexistente)" in summaries[1] and "ninguem" not in summaries[1]
    # The throttle keeps hashes of the keys, never the typed text.
    assert all(len(k) == 64 for k in session.scalars(select(LoginThrottle.key_hash)))


def test_one_address_guessing_many_accounts_is_locked(client, users, session):
    rule = login_throttle.ADDRESS
    at = T0
    for n in range(rule.lock_after):
        with time_machine.travel(at, tick=False):
            assert _post_login(client, f"conta{n}", "errada-errada", "10.9.9.9").status_code == 200
        at += rule.max_delay + dt.timedelta(seconds=1)
    with time_machine.travel(at, tick=False):
        assert _post_login(client, "admin", PASSWORD, "10.9.9.9").status_code == 429
        assert _post_login(client, "admin", PASSWORD, "10.1.1.1").status_code == 302  # another address
    kinds = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "auth.lockout")).all()
    assert [k["kind"] for k in kinds] == ["address"] and kinds[0]["key"] == "10.9.9.9"


def test_throttle_is_shared_by_workers(app, test_config, services, users):
    """Two app instances (two gunicorn workers) over the same database count the same failures."""
    other_worker = create_app(test_config, services=services).test_client()
    first_worker = app.test_client()
    with time_machine.travel(T0, tick=False):
        for n in range(login_throttle.ACCOUNT.free_failures):
            worker = first_worker if n % 2 else other_worker
            assert _post_login(worker, "crm", "errada-errada").status_code == 200
        assert _post_login(first_worker, "crm", PASSWORD).status_code == 429
        assert _post_login(other_worker, "crm", PASSWORD).status_code == 429


def test_a_quiet_window_forgets_old_failures(client, users):
    with time_machine.travel(T0, tick=False):
        for _ in range(login_throttle.ACCOUNT.free_failures):
            _post_login(client, "viewer", "errada-errada")
    with time_machine.travel(T0 + login_throttle.ACCOUNT.window, tick=False):
        assert _post_login(client, "viewer", "errada-errada").status_code == 200
        assert _post_login(client, "viewer", "errada-errada").status_code == 200  # counting from 1 again


def test_old_rows_are_pruned_so_invented_names_do_not_pile_up(client, users, session):
    with time_machine.travel(T0, tick=False):
        for n in range(5):
            _post_login(client, f"inventado{n}", "errada-errada", f"10.2.0.{n}")
    assert session.query(LoginThrottle).count() == 10  # an account row and an address row each
    with time_machine.travel(T0 + login_throttle.KEEP_ROWS_FOR + dt.timedelta(seconds=1), tick=False):
        _post_login(client, "outro", "errada-errada", "10.3.0.1")
    assert session.query(LoginThrottle).count() == 2


# --- the same answer and the same work for every failure ---------------------------------------
def test_unknown_inactive_and_wrong_password_take_the_same_path(client, users, session, monkeypatch):
    session.execute(update(User).where(User.username == "viewer").values(active=False))
    session.commit()
    verified: list[str] = []
    real_check = user_service.check_password_hash

    def counting_check(pwhash, password):
        verified.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(user_service, "check_password_hash", counting_check)
    answers = []
    for n, (username, password) in enumerate([("ninguem", PASSWORD), ("viewer", PASSWORD), ("admin", "errada")]):
        with time_machine.travel(T0 + dt.timedelta(hours=n), tick=False):
            resp = _post_login(client, username, password, f"10.0.1.{n}")
        answers.append(_answer(resp, username))
    assert len(set(answers)) == 1 and answers[0][0] == 200
    assert "Usuário ou senha incorretos." in answers[0][1]
    # One hash verified per attempt, of the same kind (the dummy one for the unknown user).
    method = users["admin"].password_hash.split("$", 1)[0]
    assert verified == [method, method, method]


# --- password policy ---------------------------------------------------------------------------
@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "123456789012", "password1234", "financeiro123", "Financeiro2024!",
                                  "senha12345678", "curta"])
def test_weak_passwords_are_refused(services, weak):
    from app.services.core.errors import ValidationError

    with pytest.raises(ValidationError) as exc, services.session_factory() as s:
        user_service.create_user(s, Actor.system("test"), username="financeiro", name="Fábio Financeiro",
                                 password=weak, role="finance")
    assert "password" in exc.value.field_errors


def test_admin_form_refuses_a_password_built_on_the_login(client, login_as, session):
    login_as("admin")
    resp = client.post("/configuracoes/usuarios/novo", data={"username": "mariana", "name": "Mariana Souza",
                                                             "role": "crm", "password": "mariana2024!"})
    assert "Senha fraca" in resp.get_data(as_text=True)
    assert session.scalar(select(User).where(User.username == "mariana")) is None


def test_demo_passwords_meet_the_policy(services, tmp_path):
    from app.demo import core as demo_core
    from app.services.settings.passwords import meets_policy

    demo_core.seed(services, echo=lambda *_: None)
    lines = (tmp_path / "instance" / "demo-credentials.txt").read_text().splitlines()
    assert len(lines) == len(demo_core.DEMO_USERS)
    names = {u: n for u, n, _ in demo_core.DEMO_USERS}
    for line in lines:
        username, _, password = line.split("\t")
        assert meets_policy(password, username=username, name=names[username])


def test_weak_stored_password_must_change_at_next_login(client, users, session):
    session.execute(update(User).where(User.username == "crm")
                    .values(password_hash=generate_password_hash("crm12345678")))
    session.commit()
    resp = client.post("/login", data={"username": "crm", "password": "crm12345678"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/conta/senha"
    assert session.scalar(select(User.must_change_password).where(User.username == "crm")) is True
    # Every other page sends the user back to the change form until it is done.
    assert client.get("/crm/clientes/").headers["Location"] == "/conta/senha"
    page = client.post("/conta/senha", data={"current": "crm12345678", "password": "crm12345678!",
                                             "confirm": "crm12345678!"})
    assert page.status_code == 422 and "Senha fraca" in page.get_data(as_text=True)
    resp = client.post("/conta/senha", data={"current": "crm12345678", "password": "cavalo correto bateria grampo",
                                             "confirm": "cavalo correto bateria grampo"})
    assert resp.status_code == 302
    assert client.get("/crm/clientes/").status_code == 200
    assert session.scalar(select(User.must_change_password).where(User.username == "crm")) is False


def test_own_password_change_needs_the_current_one(client, login_as):
    login_as("viewer")
    resp = client.post("/conta/senha", data={"current": "errada", "password": "cavalo correto bateria grampo",
                                             "confirm": "cavalo correto bateria grampo"})
    assert resp.status_code == 422 and "Senha atual incorreta." in resp.get_data(as_text=True)
