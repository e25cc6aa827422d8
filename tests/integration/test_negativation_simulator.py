"""The whole manual flow against the built-in simulator over a real socket, with the real client:
negativate → Em notificação → status sync → Ativo → payment → Baixada within the legal deadline."""

from __future__ import annotations

import time

import pytest

from app.bootstrap import bootstrap, real_bureau_factory
from app.models import Negativation
from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.outbox import sync_statuses
from app.services.negativations.removal import send_removals
from app.services.settings import restriction_reasons
from app.services.titles import payments
from integrations.simulator import SimulatorConfig, start_in_thread

from .titles_support import FINANCE, make_branch, make_client, make_title

pytestmark = pytest.mark.simulator


@pytest.fixture
def simulator():
    base_url, stop = start_in_thread(SimulatorConfig(notice_seconds=1.0, request_log=False))
    yield base_url
    stop()


def test_negativate_activate_pay_and_remove_against_the_simulator(db, test_config, simulator):
    engine, _ = db
    config = dict(test_config, BUREAU_READ_TIMEOUT=5, BUREAU_MAX_ATTEMPTS=2)
    services = bootstrap(config, engine=engine, bureau_factory=None)
    services.bureau_factory = real_bureau_factory(config, engine, services.box)
    today = today_br()
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        branch.integration.base_url = simulator
        party = make_client(s, branch)
        titles = [make_title(s, party, number=f"S-{d}", days_overdue=d, today=today) for d in (15, 70)]
        s.commit()
        party_id, ids = party.id, [t.id for t in titles]

    restriction_reasons.clear_cache()
    reasons = restriction_reasons.reasons_for_party(services, party_id, refresh=True)
    assert reasons.person_type == "PF" and reasons.items
    code = reasons.items[0]["code"]

    out = negativate_titles(services, FINANCE, party_id, ids, code)
    assert (out.ok, out.status) == (True, "notice"), out.message
    time.sleep(1.2)  # the simulator's notice period
    assert sync_statuses(services)["activated"] == 1
    with services.session_factory() as s:
        neg = s.get(Negativation, out.negativation_id)
        assert (neg.status_label, neg.protocol.startswith("N-")) == ("Ativo", True)

    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, ids[0], "100.00", today, today=today)
        result = payments.register_payment(s, FINANCE, ids[1], "100.00", today, today=today)
        s.commit()
    (removal,) = send_removals(services, result.removal_ids)
    assert removal.status == "removed", removal.message
    with services.session_factory() as s:
        neg = s.get(Negativation, out.negativation_id)
        assert (neg.status_label, neg.removal_reason, neg.deadline_met()) == ("Baixada", "payment", True)
        assert [e.kind for e in neg.events] == [
            "created",
            "accepted",
            "activated",
            "payment",
            "payment",
            "removal_requested",
            "removed",
        ]
    engine.pool.dispose()
