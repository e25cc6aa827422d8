"""The outbound events' flush listener is installed on every session factory exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from app.services.events import emit


def _listens(factory) -> bool:
    # Read on the factory's own Session class, where the listener really is: `event.contains` asks
    # the registry keyed by id(factory), which is what could be mistaken.
    return emit._before_flush in factory.class_.dispatch.before_flush._clslevel[factory.class_]


def test_install_is_idempotent():
    factory = sessionmaker()
    emit.install(factory)
    emit.install(factory)
    assert _listens(factory)


def test_a_new_factory_where_a_dead_one_was_still_gets_its_listener():
    # A factory's generated Session class is freed only by the cyclic collector, so it can outlive
    # the factory; a new factory may then be allocated at the dead one's address (same id()).
    first = sessionmaker()
    emit.install(first)
    kept, address = first.class_, id(first)  # noqa: F841 - the class outlives its factory
    del first
    for _ in range(10_000):
        candidate = sessionmaker()
        if id(candidate) == address:
            break
    else:
        pytest.skip("the allocator did not reuse the address")
    emit.install(candidate)
    assert _listens(candidate)
