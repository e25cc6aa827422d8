"""SQLite: a request session that read before another connection committed can still write.

Web request sessions start deferred (plain BEGIN) so that a view can call services that write in
their own short transactions. In WAL mode such a transaction, once it has read, can never become a
writer after another connection committed: SQLite answers "database is locked" at once, without
waiting. PostgreSQL's READ COMMITTED has no such failure, so SQLite's request sessions behave the
same way: their first write ends the read-only transaction and starts BEGIN IMMEDIATE.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.db import make_engine, make_session_factory, transaction
from app.models import AppSetting, Base


def _factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'upgrade.sqlite3'}")
    Base.metadata.create_all(engine)
    return engine, make_session_factory(engine)


def test_read_then_write_after_another_commit(tmp_path):
    engine, sessions = _factory(tmp_path)
    with transaction(sessions) as s:
        s.add(AppSetting(key="a", value="1"))
    request = sessions()
    assert request.scalar(select(AppSetting.value).where(AppSetting.key == "a")) == "1"  # snapshot taken
    with transaction(sessions) as other:  # a scheduler job commits meanwhile
        other.add(AppSetting(key="b", value="2"))
    request.add(AppSetting(key="c", value="3"))
    request.commit()  # was: sqlite3.OperationalError: database is locked
    request.close()
    with sessions() as s:
        assert dict(s.execute(select(AppSetting.key, AppSetting.value)).all()) == {"a": "1", "b": "2", "c": "3"}
    engine.dispose()


def test_the_write_waits_for_a_writer_still_running(tmp_path):
    engine, sessions = _factory(tmp_path)
    request = sessions()
    request.scalar(select(AppSetting.value))
    holding, release = threading.Event(), threading.Event()

    def writer():
        with transaction(sessions) as other:
            other.add(AppSetting(key="w", value="writer"))
            other.flush()
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(5)
    threading.Timer(0.3, release.set).start()
    request.add(AppSetting(key="r", value="request"))
    request.commit()  # blocked on the writer's lock, then proceeds
    request.close()
    thread.join(5)
    with sessions() as s:
        assert sorted(s.scalars(select(AppSetting.key))) == ["r", "w"]
    engine.dispose()


def test_a_rolled_back_request_writes_nothing(tmp_path):
    engine, sessions = _factory(tmp_path)
    request = sessions()
    request.scalar(select(AppSetting.value))
    request.add(AppSetting(key="x", value="1"))
    request.flush()
    request.rollback()
    request.close()
    with sessions() as s:
        assert s.scalar(select(AppSetting.key)) is None
    engine.dispose()
