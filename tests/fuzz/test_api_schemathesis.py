"""Schemathesis against the served contract: every /api/v1 operation, valid and invalid inputs.

The app runs in-process (WSGI) on a seeded SQLite database with the fake bureau; the token is an
admin's, so every operation is reachable. Checks: no 5xx, only documented statuses, answers that
match their schemas, and invalid input refused with a 4xx. Bounded by FUZZ_EXAMPLES per operation
and generation mode (CREDITDESK_FUZZ_EXAMPLES raises it for a longer local run).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine

from app import create_app
from app.bootstrap import bootstrap
from app.models import Base
from app.services.core.audit import Actor
from app.services.settings import users as user_service
from integrations.fake_bureau import FakeBureau
from tests.clock import pin_clock

from .seed import seed_portfolio

FUZZ_EXAMPLES = int(os.environ.get("CREDITDESK_FUZZ_EXAMPLES", "12"))
CHECKS = (not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection)

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "fuzz",
              "INSTANCE_DIR": str(tmp_path_factory.mktemp("i")), "WTF_CSRF_ENABLED": False,
              "ENCRYPTION_KEY": "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="}
    bureau = FakeBureau()
    services = bootstrap(config, engine=engine, bureau_factory=lambda integration: bureau)
    with services.session_factory() as s:
        admin = user_service.create_user(s, Actor.system("fuzz"), username="admin", name="Admin",
                                         password="senha-de-fuzz-123", role="admin")
        _, token = user_service.create_api_token(s, Actor.system("fuzz"), admin, "fuzz")
        s.commit()
    seed_portfolio(services)
    app = create_app(config, services=services)
    yield app, {"Authorization": f"Bearer {token}"}
    engine.dispose()


def _fuzz_operation(operation, mode, headers, counter) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_api_contract_holds_under_fuzzing(fuzz_app):
    """Every operation, positive and negative data: 0 failures (each one is listed if any)."""
    app, headers = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The token is ours (an admin's, sent with every case); a case "without Authorization" would be
    # a 401 test, not a schema one.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    counter, failures = [0], []
    with pin_clock(dt.date(2026, 3, 16)):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz_operation(operation, mode, headers, counter)
                except Unsatisfiable:  # nothing to make invalid: no parameter and no body (GET /me)
                    continue
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all, then report
                    failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
    print(f"fuzz: {len(operations)} operations, {counter[0]} cases, {len(failures)} failures")
    assert len(operations) >= 60
    assert not failures, "\n\n".join(failures)
