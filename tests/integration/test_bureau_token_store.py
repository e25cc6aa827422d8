"""The shared token store: one token request per expiry window, and no database lock held meanwhile."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import responses
from sqlalchemy import text, update

from app.bootstrap import real_bureau_factory
from app.db import make_engine
from app.models import BureauIntegration, JobLock
from app.services.core.crypto import SecretBox
from app.services.core.locks import try_acquire
from app.services.settings.bureau_tokens import DbTokenStore
from integrations.bureau import AccessToken

KEY = "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="
BASE = "https://bureau.test"


def _integration(session):
    box = SecretBox(KEY)
    integration = BureauIntegration(name="tok", base_url=BASE, client_id="c", client_secret_encrypted=box.encrypt("s"))
    session.add(integration)
    session.commit()
    return integration, box


def _short_lock_engine(url: str):
    """A second 'process' that gives up on a lock after 1 s instead of waiting."""
    if url.startswith("sqlite"):
        return make_engine(url, connect_args={"timeout": 1})
    engine = make_engine(url)

    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _timeout(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("SET lock_timeout = '1s'")

    return engine


def test_settings_can_be_saved_while_a_token_request_is_in_flight(db, session):
    """The token request holds a lease, not a transaction: the integration row (and, on SQLite, the
    whole database) stays writable while the bureau takes its time to answer."""
    engine, url = db
    integration, box = _integration(session)
    other = _short_lock_engine(url)
    wrote: list[str] = []

    def slow_token(request):
        # Meanwhile an admin renames the integration from another process.
        with other.begin() as conn:
            conn.execute(update(BureauIntegration.__table__).where(BureauIntegration.id == integration.id)
                         .values(name="renomeada"))
        wrote.append("ok")
        return 200, {}, '{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}'

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, f"{BASE}/oauth/token", callback=slow_token)
        token = real_bureau_factory({}, engine, box)(integration).get_token()
    other.dispose()
    assert wrote == ["ok"] and token.value == "tok-1"
    with engine.connect() as conn:
        assert conn.execute(text("select name from bureau_integrations")).scalar() == "renomeada"
        assert conn.execute(text("select count(*) from job_locks")).scalar() == 0  # lease released
    assert DbTokenStore(engine, box, integration.id).load().value == "tok-1"


def test_a_waiting_process_reads_the_token_the_lease_holder_saved(db, session):
    engine, _ = db
    integration, box = _integration(session)
    store = DbTokenStore(engine, box, integration.id)
    from app.db import make_session_factory

    holder = try_acquire(make_session_factory(engine), f"bureau-token:{integration.id}", dt.timedelta(seconds=30))
    assert holder is not None  # another process is asking the bureau
    entered = threading.Event()

    def waiter():
        with store.refresh_lock():
            entered.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert not entered.wait(0.3)  # waits for the holder
    store.save(AccessToken("tok-other", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    with engine.begin() as conn:
        conn.execute(JobLock.__table__.delete())  # the holder releases
    assert entered.wait(5)
    thread.join(5)
    assert store.load().value == "tok-other"


def test_an_abandoned_lease_expires(db, session):
    engine, _ = db
    integration, box = _integration(session)
    from app.db import make_session_factory

    dead = try_acquire(make_session_factory(engine), f"bureau-token:{integration.id}", dt.timedelta(milliseconds=200))
    assert dead is not None  # a process that died while asking for a token
    store = DbTokenStore(engine, box, integration.id)
    done = threading.Event()

    def refresher():
        with store.refresh_lock():
            done.set()

    threading.Thread(target=refresher, daemon=True).start()
    assert done.wait(5)


@pytest.fixture(autouse=True)
def _clean_locks(db):
    yield
    engine, _ = db
    with engine.begin() as conn:
        conn.execute(JobLock.__table__.delete())
