"""Shared fixtures: databases (SQLite and PostgreSQL), the app with a fake bureau, users, HTTP guard."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests.adapters
import time_machine
from sqlalchemy import text

from app import create_app
from app.bootstrap import bootstrap
from app.db import make_engine
from app.models import Base
from app.services.core.audit import Actor
from app.services.core.clock import BR_TZ
from app.services.settings import users as user_service
from integrations.fake_bureau import FakeBureau

PG_BASE_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = bool(os.environ.get("REQUIRE_POSTGRES"))
PASSWORD = "senha-de-teste-123"
ROLES = ("admin", "finance", "crm", "viewer")


# --- the suite's clock ------------------------------------------------------------------------
def _suite_instant(raw: str) -> dt.datetime:
    """CREDITDESK_TEST_NOW: an ISO date (noon in Brasília) or datetime (Brasília when it has no zone)."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise pytest.UsageError(f"CREDITDESK_TEST_NOW={raw!r} is not an ISO date or datetime") from exc
    if len(raw.strip()) == 10:
        value = value.replace(hour=12)
    return value if value.tzinfo else value.replace(tzinfo=BR_TZ)


_SUITE_NOW = os.environ.get("CREDITDESK_TEST_NOW", "").strip()
_TRAVEL = None


def pytest_configure(config):
    """Run the whole session (and every child process it starts) at CREDITDESK_TEST_NOW, ticking."""
    global _TRAVEL
    if not _SUITE_NOW or _TRAVEL is not None:
        return
    instant = _suite_instant(_SUITE_NOW)
    os.environ["CREDITDESK_TEST_CLOCK_OFFSET"] = repr(instant.timestamp() - time.time())
    warp = str(Path(__file__).resolve().parent / "timewarp")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (warp, os.environ.get("PYTHONPATH")) if p)
    _TRAVEL = time_machine.travel(instant, tick=True)
    _TRAVEL.start()


def pytest_unconfigure(config):
    global _TRAVEL
    if _TRAVEL is not None:
        _TRAVEL.stop()
        _TRAVEL = None


def pytest_report_header(config):
    now = dt.datetime.now(BR_TZ)
    source = f"CREDITDESK_TEST_NOW={_SUITE_NOW}" if _SUITE_NOW else "real clock"
    return f"suite clock: {now.isoformat(timespec='seconds')} ({source})"


# --- no real network -------------------------------------------------------------------------
_real_send = requests.adapters.HTTPAdapter.send


def _guarded_send(self, request, *args, **kwargs):
    host = urlparse(request.url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise AssertionError(f"unmocked HTTP call to {request.url}")
    return _real_send(self, request, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_external_http(monkeypatch):
    """Fail any HTTP call nobody mocked (loopback stays open for the simulator over a socket)."""
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", _guarded_send)


# --- databases -------------------------------------------------------------------------------
def _postgres_available() -> str | None:
    try:
        engine = make_engine(PG_BASE_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_schema_url():
    """A private schema per test session, so parallel runs never see each other's rows."""
    problem = _postgres_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    schema = f"cdtest_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_BASE_URL else "?"
    yield f"{PG_BASE_URL}{sep}options=-csearch_path%3D{schema}", schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


_ENGINES: dict[str, object] = {}


def _engine_for(backend: str, request, tmp_path_factory):
    if backend not in _ENGINES:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        else:
            url, _ = request.getfixturevalue("pg_schema_url")
        # Tests fire 20 requests at once, and a request may hold two connections (its own session and
        # a service's short transaction): the pool must not be the bottleneck they measure.
        engine = make_engine(url, pool_size=20, max_overflow=30)
        Base.metadata.create_all(engine)
        _ENGINES[backend] = (engine, url)
    return _ENGINES[backend]


def _truncate(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db(backend, request, tmp_path_factory):
    """(engine, url) of a clean database of the current backend."""
    engine, url = _engine_for(backend, request, tmp_path_factory)
    _truncate(engine)
    yield engine, url
    engine.pool.dispose()  # connections opened in threads do not outlive the test


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines():
    yield
    for engine, _ in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


# --- application -----------------------------------------------------------------------------
@pytest.fixture
def fake_bureau() -> FakeBureau:
    return FakeBureau()


@pytest.fixture
def test_config(db, tmp_path) -> dict:
    _, url = db
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEY": "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o=",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "SIMULATOR_URL": "http://127.0.0.1:5999",
        # Tests change titles and read the panel again at once; test_dashboard_cache.py covers the cache.
        "DASHBOARD_CACHE_SECONDS": 0,
    }


@pytest.fixture
def services(test_config, db, fake_bureau):
    engine, _ = db
    return bootstrap(test_config, engine=engine, bureau_factory=lambda integration: fake_bureau)


@pytest.fixture
def app(test_config, services):
    return create_app(test_config, services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(services):
    """A session for assertions and set-up that sees every commit of the app at once.

    Autocommit: on SQLite (WAL) an open read transaction would keep an old snapshot, unlike
    PostgreSQL's READ COMMITTED; with it both behave alike. Call session.commit() after changes.
    """
    from sqlalchemy.orm import Session

    with Session(bind=services.engine.execution_options(isolation_level="AUTOCOMMIT"),
                 expire_on_commit=False, autoflush=True) as s:
        yield s


@pytest.fixture
def users(services) -> dict:
    """One user per role, password PASSWORD."""
    created = {}
    with services.session_factory() as s:
        for role in ROLES:
            created[role] = user_service.create_user(
                s, Actor.system("test"), username=role, name=role.title(), password=PASSWORD, role=role)
        s.commit()
    return created


def login(client, username: str, password: str = PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login failed for {username}"
    return resp


@pytest.fixture
def login_as(client, users):
    def _login(role: str):
        client.post("/logout")
        login(client, role)
        return client

    return _login


@pytest.fixture
def api_token(services, users):
    """api_token(role) -> headers with a fresh bearer token for that role's user."""

    def _make(role: str) -> dict:
        with services.session_factory() as s:
            user = s.get(type(users[role]), users[role].id)
            _, clear = user_service.create_api_token(s, Actor.system("test"), user, f"t-{role}")
            s.commit()
        return {"Authorization": f"Bearer {clear}"}

    return _make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)
