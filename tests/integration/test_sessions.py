"""Server-side session revocation: a copied session cookie dies with logout, password change or reset,
role change and deactivation, on every browser of that user at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import User
from tests.conftest import PASSWORD, login

PROTECTED = "/crm/clientes/"
NEW_PASSWORD = "jabuticaba-na-chuva-77"


def _copy_session(app, source):
    """A second browser holding a copy of `source`'s session cookie (the tester's stolen cookie)."""
    other = app.test_client()
    cookie = source.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def _is_logged_in(client) -> bool:
    resp = client.get(PROTECTED)
    if resp.status_code == 200:
        return True
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    return False


@pytest.fixture
def finance_browsers(app, client, users):
    """Two sessions of the finance user: the cookie copied before anything happens, and a fresh login."""
    login(client, "finance")
    copied = _copy_session(app, client)
    other = app.test_client()
    login(other, "finance")
    assert _is_logged_in(copied) and _is_logged_in(other)
    return copied, other


def test_logout_ends_a_copied_cookie_and_every_other_session(app, client, finance_browsers):
    copied, other = finance_browsers
    client.post("/logout")
    assert not _is_logged_in(client)
    assert not _is_logged_in(copied)
    assert not _is_logged_in(other)


def test_admin_password_reset_ends_the_users_sessions(app, finance_browsers, users):
    copied, other = finance_browsers
    admin = app.test_client()
    login(admin, "admin")
    resp = admin.post(f"/configuracoes/usuarios/{users['finance'].id}",
                      data={"name": "Finance", "role": "finance", "active": "y", "password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert not _is_logged_in(copied) and not _is_logged_in(other)
    assert _is_logged_in(admin)  # the admin's own session is untouched
    login(app.test_client(), "finance", NEW_PASSWORD)


def test_role_change_and_deactivation_end_sessions(app, client, users):
    login(client, "crm")
    copied = _copy_session(app, client)
    admin = app.test_client()
    login(admin, "admin")
    crm_id = users["crm"].id
    admin.post(f"/configuracoes/usuarios/{crm_id}", data={"name": "Crm", "role": "viewer", "active": "y"})
    assert not _is_logged_in(copied) and not _is_logged_in(client)

    login(client, "crm")  # now a viewer
    copied = _copy_session(app, client)
    admin.post(f"/configuracoes/usuarios/{crm_id}", data={"name": "Crm", "role": "viewer"})  # inactive
    assert not _is_logged_in(copied) and not _is_logged_in(client)


def test_saving_a_user_without_changes_keeps_the_sessions(app, client, users):
    login(client, "crm")
    admin = app.test_client()
    login(admin, "admin")
    admin.post(f"/configuracoes/usuarios/{users['crm'].id}", data={"name": "Crm", "role": "crm", "active": "y"})
    assert _is_logged_in(client)


def test_own_password_change_ends_the_other_sessions_but_not_this_one(app, client, users, session):
    login(client, "viewer")
    copied = _copy_session(app, client)
    resp = client.post("/conta/senha", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    assert _is_logged_in(client)
    assert not _is_logged_in(copied)
    assert session.scalar(select(User.session_version).where(User.username == "viewer")) == 1


def test_session_cookie_without_version_is_refused(app, client, users):
    """Cookies issued before session versions existed name only the user id: they must log in again."""
    login(client, "admin")
    with client.session_transaction() as sess:
        assert sess["_user_id"] == f"{users['admin'].id}:0"
        sess["_user_id"] = str(users["admin"].id)  # the old shape, everything else left as issued
    assert not _is_logged_in(client)
