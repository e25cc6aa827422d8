"""Fixtures of the bureau client tests (HTTP mocked with `responses`, sleeping recorded, not done)."""

import pytest
import responses


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def bad_sim():
    """bad_sim(**SimulatorConfig) -> a started simulator with its bad-day controls (bad_days_support.Sim)."""
    from integrations.simulator import SimulatorConfig
    from integrations.simulator.server import start_in_thread
    from tests.integration.bad_days_support import Sim

    started = []

    def _start(**kw):
        kw.setdefault("request_log", False)
        url, stop = start_in_thread(SimulatorConfig(**kw))
        started.append(stop)
        return Sim(url)

    yield _start
    for stop in started:
        stop()
