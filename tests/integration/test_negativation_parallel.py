"""Negativation, removal and dispute of one title under 20 parallel API requests, on both databases:
the title reaches the bureau once, its entry is removed once, and its money never moves."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.models import AuditEvent, Negativation, NegativationTitle, Title

from .test_money_concurrency import PARALLEL, check_invariants, fire
from .titles_support import world


def _negativate_body(party_id, title_id):
    return {"party_id": party_id, "title_ids": [title_id], "restriction_code": "12"}


def test_twenty_parallel_negativations_of_one_title_send_it_once(app, services, api_token, fake_bureau):
    _, party_id, (title_id, _) = world(services)
    statuses = fire(app, api_token("finance"), [("/api/v1/negativations", _negativate_body(party_id, title_id))]
                    * PARALLEL)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409, 422}
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(NegativationTitle)
                        .where(NegativationTitle.title_id == title_id, NegativationTitle.live.is_(True))) == 1
    assert len(fake_bureau.calls_to("negativate")) == 1


def test_twenty_parallel_removals_of_one_entry_remove_it_once(app, services, api_token, fake_bureau, client):
    _, party_id, (title_id, _) = world(services)
    headers = api_token("finance")
    neg_id = client.post("/api/v1/negativations", json=_negativate_body(party_id, title_id),
                         headers=headers).get_json()["negativation_id"]
    statuses = fire(app, headers, [("/api/v1/negativations/removals", {"ids": [neg_id], "reason": "manual"})]
                    * PARALLEL)
    assert set(statuses) <= {200, 409}
    assert len(fake_bureau.calls_to("remove")) == 1
    with services.session_factory() as s:
        assert s.get(Negativation, neg_id).status == "removed"
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "negativation.remove_request")) == 1
    check_invariants(services, title_id)


def test_twenty_parallel_disputes_leave_the_money_alone(app, services, api_token):
    _, _, (title_id, _) = world(services)
    requests = [(f"/api/v1/titles/{title_id}/dispute", {"disputed": i % 2 == 0, "reason": f"contestação {i}"})
                for i in range(PARALLEL)]
    assert fire(app, api_token("finance"), requests) == [200] * PARALLEL
    title = check_invariants(services, title_id)
    assert (title.status, title.open_amount) == ("open", Decimal("100.00"))
    with services.session_factory() as s:
        last = s.scalar(select(AuditEvent).where(AuditEvent.entity_type == "title",
                                                 AuditEvent.entity_id == str(title_id))
                        .order_by(AuditEvent.id.desc()).limit(1))
        assert s.get(Title, title_id).disputed == (last.action == "title.dispute")  # the last writer wins, whole
