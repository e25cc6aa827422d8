"""Token reuse for any lifetime, against the simulator over a socket with the shared token store:
renewed when min(60 s, 10% of expires_in) remains, one token request per lifetime for every process."""

from __future__ import annotations

import datetime as dt

import pytest

from app.bootstrap import real_bureau_factory
from app.models import BureauIntegration
from app.services.core.crypto import SecretBox
from tests.clock import pin_clock
from tests.integration.titles_support import TODAY

pytestmark = pytest.mark.simulator
KEY = "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="


@pytest.mark.parametrize(("lifetime_s", "token_requests"), [(20, 14), (120, 3), (3600, 1)])
def test_one_token_per_lifetime_shared_by_three_processes(db, session, bad_sim, lifetime_s, token_requests):
    engine, _ = db
    sim = bad_sim(token_ttl_s=lifetime_s)
    box = SecretBox(KEY)
    integration = BureauIntegration(name="sim", base_url=sim.url, client_id="demo-client",
                                    client_secret_encrypted=box.encrypt("demo-secret"))
    session.add(integration)
    session.commit()
    factory = real_bureau_factory({"BUREAU_MAX_ATTEMPTS": 1}, engine, box)
    # Three clients on one integration row stand for three processes (each keeps its own copy).
    clients = [factory(integration) for _ in range(3)]
    with pin_clock(TODAY) as traveller:
        for call in range(120):  # a call every 2 s for four minutes, round robin
            clients[call % 3].restriction_reasons("PF")
            traveller.shift(dt.timedelta(seconds=2))
    # 20 s: renewed 2 s early (every 18 s); 120 s: 12 s early (every 108 s); 3600 s: 60 s early.
    # Before (a fixed 60 s margin): 120 requests for 20 s (one per call) and 4 for 120 s.
    assert sim.token_requests() == token_requests
    assert sim.stats()["auth_failures"] == 0 and sim.stats()["reasons"] == 120
