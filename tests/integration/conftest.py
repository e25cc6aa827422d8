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
