"""The collections routine: the 60-day boundary, parameters, skip reasons, dry run, schedule, removals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import CollectionPolicy, CollectionRun, CollectionRunItem, Negativation, NegativationTitle, Title
from app.services.collections import policy as cp
from app.services.collections.routine import run_branch, run_collections, run_queued
from app.services.collections.run_records import queue_run
from app.services.collections.schedule import due_runs
from app.services.core.audit import Actor
from app.services.core.clock import BR_TZ
from app.services.core.errors import Conflict, ValidationError
from app.services.negativations.outbox import sweep_removals
from app.services.titles.payments import register_payment
from tests.integration.collections_support import TODAY, routine_world
from tests.integration.titles_support import make_client, make_title

ROUTINE = Actor.system("rotina")
ADMIN = Actor(name="ana", user_id=None, role="admin")


def live_titles(session) -> dict[int, int]:
    rows = session.execute(select(NegativationTitle.title_id, func.count())
                           .where(NegativationTitle.live.is_(True)).group_by(NegativationTitle.title_id)).all()
    return dict(rows)


def test_sixty_days_boundary(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services)
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert summary.status == "done"
    assert set(live_titles(session)) == {ids["T-60"], ids["T-120"]}
    assert summary.counts["included"] == 1 and summary.counts["titles_included"] == 2  # grouped per client
    assert summary.skip_reasons == {"too_recent": 1}
    neg = session.scalars(select(Negativation)).one()
    assert (neg.origin, neg.restriction_code, neg.status) == ("routine", "12", "notice")
    assert neg.total_amount == Decimal("200.00")
    # one bureau call for the one client, with the PF code
    calls = fake_bureau.calls_to("negativate")
    assert len(calls) == 1 and calls[0][0].restriction_code == "12"


def test_title_grouping_sends_one_negativation_per_title(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services, grouping="title")
    run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert session.scalar(select(func.count(Negativation.id))) == 2
    assert len(fake_bureau.calls_to("negativate")) == 2


def test_running_twice_never_sends_a_title_twice(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services)
    run_branch(services, ROUTINE, branch_id, today=TODAY)
    second = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert second.counts["included"] == 0
    assert second.skip_reasons == {"too_recent": 1, "already_negativated": 2}
    assert len(fake_bureau.calls_to("negativate")) == 1
    assert all(n == 1 for n in live_titles(session).values())


@pytest.mark.parametrize("days, message", [(59, "no mínimo 60"), (0, "no mínimo 60"), ("abc", "número inteiro")])
def test_days_to_execute_below_60_is_refused(services, session, days, message):
    branch_id, _, _ = routine_world(services, days=60)
    with pytest.raises(ValidationError) as exc:
        cp.save_collection_policy(session, ADMIN, branch_id, cp.CollectionPolicyInput(
            enabled=True, handle_by_title=True, days_to_execute=days, grouping="client", run_time="06:00"))
    assert message in exc.value.field_errors["days_to_execute"]
    session.rollback()
    session.expire_all()
    assert session.get(CollectionPolicy, branch_id).days_to_execute == 60


def test_policy_validation_of_other_fields(services, session):
    branch_id, _, _ = routine_world(services)
    with pytest.raises(ValidationError) as exc:
        cp.save_collection_policy(session, ADMIN, branch_id, cp.CollectionPolicyInput(
            enabled=True, handle_by_title=False, days_to_execute=90, grouping="x", run_time="25:00",
            max_concurrency=0))
    assert set(exc.value.field_errors) == {"handle_by_title", "grouping", "run_time", "max_concurrency"}
    saved = cp.save_collection_policy(session, ADMIN, branch_id, cp.CollectionPolicyInput(
        enabled=True, handle_by_title=True, days_to_execute="90", grouping="title", run_time="07:30",
        rate_limit_per_s="50"))
    assert (saved.days_to_execute, saved.grouping, saved.run_time, saved.rate_limit_per_s) == (90, "title", "07:30", 50)


def test_a_database_constraint_backs_the_60_day_minimum(services, session):
    from sqlalchemy.exc import IntegrityError

    branch_id, _, _ = routine_world(services)
    session.execute(select(1))
    with pytest.raises(IntegrityError):
        session.execute(CollectionPolicy.__table__.update().where(CollectionPolicy.branch_id == branch_id)
                        .values(days_to_execute=30))


def test_every_skip_reason_is_counted_and_listed(services, session, fake_bureau):
    branch_id, (party_id,), ids = routine_world(services, titles=(("OK", 90),))
    with services.session_factory() as s:
        from app.models import Party
        party = s.get(Party, party_id)
        make_title(s, party, number="CANC", days_overdue=90, status="cancelled")
        make_title(s, party, number="PAID", days_overdue=90, status="paid", open_amount=Decimal("0.00"),
                   amount_received=Decimal("100.00"))
        make_title(s, party, number="RENEG", days_overdue=90, status="renegotiated")
        make_title(s, party, number="DISP", days_overdue=90, disputed=True, dispute_reason="contestado")
        make_title(s, party, number="COURT", days_overdue=90, court_blocked=True)
        make_title(s, party, number="NEW", days_overdue=-5)
        make_title(s, party, number="RECENT", days_overdue=30)
        make_title(s, party, number="OLD", due=TODAY.replace(year=TODAY.year - 5) - dt.timedelta(days=1))
        make_title(s, party, number="SMALL", days_overdue=90, amount="5.00")
        branch = party.branch
        from app.models import BranchPolicy
        s.add(BranchPolicy(branch_id=branch.id, min_amount=Decimal("10.00")))
        no_addr = make_client(s, branch, document="11144477735", name="Sem endereço", street="")
        make_title(s, no_addr, number="NOADDR", days_overdue=90)
        s.commit()
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    # Closed titles (cancelled, paid, renegotiated) are not collectible at all: never selected, never sent.
    assert summary.skip_reasons == {
        "disputed": 1, "court_blocked": 1, "too_recent": 1, "prescribed": 1, "below_minimum": 1,
        "address_incomplete": 1,
    }
    assert set(live_titles(session)) == {ids["OK"]}
    skipped = session.execute(select(CollectionRunItem.reason_code, func.count())
                              .where(CollectionRunItem.run_id == summary.run_id, CollectionRunItem.action == "skip")
                              .group_by(CollectionRunItem.reason_code)).all()
    assert dict(skipped) == summary.skip_reasons  # not-yet-due titles are counted nowhere: not skipped


def test_dry_run_writes_no_negativation_and_calls_no_bureau(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services)
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY, dry_run=True)
    assert summary.dry_run and summary.status == "done"
    assert summary.counts["included"] == 1 and summary.counts["titles_included"] == 2
    assert fake_bureau.calls == []
    assert session.scalar(select(func.count(Negativation.id))) == 0
    would = session.scalars(select(CollectionRunItem.title_id).where(
        CollectionRunItem.run_id == summary.run_id, CollectionRunItem.action == "would_include")).all()
    assert set(would) == {ids["T-60"], ids["T-120"]}
    assert "incluiria" in "\n".join(summary.lines())


def test_dry_run_lists_removals_it_would_make(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services)
    run_branch(services, ROUTINE, branch_id, today=TODAY)
    with services.session_factory() as s:
        s.execute(Title.__table__.update().where(Title.id.in_([ids["T-60"], ids["T-120"]]))
                  .values(status="renegotiated"))
        s.commit()
    dry = run_branch(services, ROUTINE, branch_id, today=TODAY, dry_run=True)
    assert dry.counts["removed"] == 1
    assert session.scalar(select(Negativation.status)) == "notice"  # nothing changed


def test_blocked_branch_records_why_and_does_nothing(services, session, fake_bureau):
    branch_id, _, _ = routine_world(services, enabled=False)
    # The daily schedule is off: a scheduled run does nothing and says why...
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY, trigger="scheduled")
    assert summary.status == "skipped" and "execução diária" in summary.message and "desligada" in summary.message
    assert fake_bureau.calls == []
    # ...while the integration's automatic flag is required for any run, even one asked for by a person.
    with services.session_factory() as s:
        s.get(CollectionPolicy, branch_id).branch.integration.auto_include_remove = False
        s.commit()
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY, trigger="manual")
    assert summary.status == "skipped" and "Incluir/Remover automaticamente" in summary.message
    with pytest.raises(ValidationError):
        queue_run(session, ADMIN, branch_id)
    assert session.scalar(select(func.count(Negativation.id))) == 0
    with services.session_factory() as s:
        s.get(CollectionPolicy, branch_id).branch.integration.auto_include_remove = True
        s.commit()
    assert run_branch(services, ROUTINE, branch_id, today=TODAY, trigger="manual").status == "done"
    assert session.scalar(select(func.count(Negativation.id))) == 1


def test_one_failure_does_not_stop_the_run(services, session, fake_bureau):
    from integrations.bureau import BureauRejected

    branch_id, parties, ids = routine_world(services, clients=3, titles=(("T", 90),), concurrency=1)
    fake_bureau.fail_next(BureauRejected("CEP inexistente", status=422, code="rejected"), method="negativate")
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert summary.counts["errors"] == 1 and summary.counts["included"] == 2
    statuses = sorted(session.scalars(select(Negativation.status)).all())
    assert statuses == ["error", "notice", "notice"]


def test_removal_after_payment_through_the_sweep(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services, titles=(("T", 90),))
    run_branch(services, ROUTINE, branch_id, today=TODAY)
    neg = session.scalars(select(Negativation)).one()
    with services.session_factory() as s:
        # the payment flow marks removal_pending in its transaction; here the send "fails" so the sweep must do it
        result = register_payment(s, Actor(name="fabio", user_id=None, role="finance"), ids["T"],
                                  Decimal("100.00"), TODAY)
        s.commit()
    assert result.removal_ids == [neg.id]
    session.expire_all()
    assert session.get(Negativation, neg.id).status == "removal_pending"
    counts = sweep_removals(services, today=TODAY)
    assert counts["removed"] == 1
    session.expire_all()
    assert session.get(Negativation, neg.id).status == "removed"
    assert len(fake_bureau.calls_to("remove")) == 1


def test_routine_removes_entries_whose_titles_were_paid(services, session, fake_bureau):
    branch_id, _, ids = routine_world(services, titles=(("T", 90),))
    run_branch(services, ROUTINE, branch_id, today=TODAY)
    with services.session_factory() as s:
        s.execute(Title.__table__.update().where(Title.id == ids["T"]).values(
            status="paid", open_amount=Decimal("0.00"), amount_received=Decimal("100.00"), paid_on=TODAY))
        s.commit()
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert summary.counts["removed"] == 1
    assert session.scalar(select(Negativation.status)) == "removed"
    assert fake_bureau.calls_to("remove")[0][1] == "payment"


def test_due_runs_catch_up_a_missed_run_once(services, session):
    branch_id, _, _ = routine_world(services)
    morning = dt.datetime(2026, 3, 16, 5, 59, tzinfo=BR_TZ)
    assert due_runs(session, morning) == []
    on_time = dt.datetime(2026, 3, 16, 6, 2, tzinfo=BR_TZ)
    assert due_runs(session, on_time) == [(branch_id, dt.date(2026, 3, 16), "scheduled")]
    # the scheduler was down at 06:00 and comes back at 14:00: a catch-up
    late = dt.datetime(2026, 3, 16, 14, 0, tzinfo=BR_TZ)
    assert due_runs(session, late) == [(branch_id, dt.date(2026, 3, 16), "catch_up")]
    session.add(CollectionRun(branch_id=branch_id, trigger="catch_up", requested_by="rotina", status="done",
                              scheduled_for=dt.date(2026, 3, 16), days_to_execute=60))
    session.commit()
    assert due_runs(session, late) == []
    assert due_runs(session, late + dt.timedelta(days=1)) == [(branch_id, dt.date(2026, 3, 17), "catch_up")]


def test_changing_the_run_time_applies_at_the_next_tick(services, session):
    branch_id, _, _ = routine_world(services)
    at_7 = dt.datetime(2026, 3, 16, 7, 0, tzinfo=BR_TZ)
    assert due_runs(session, at_7)
    cp.save_collection_policy(session, ADMIN, branch_id, cp.CollectionPolicyInput(
        enabled=True, handle_by_title=True, days_to_execute=60, grouping="client", run_time="08:00"))
    session.commit()
    assert due_runs(session, at_7) == []
    assert due_runs(session, at_7 + dt.timedelta(hours=1)) == [(branch_id, dt.date(2026, 3, 16), "scheduled")]


def test_scheduler_tick_runs_due_branch_once(services, session, fake_bureau):
    from app.services.collections.schedule import tick

    branch_id, _, ids = routine_world(services)
    now = dt.datetime.combine(dt.date.today(), dt.time(23, 59), BR_TZ)
    first = tick(services, now)
    assert [s.status for s in first] == ["done"]
    assert tick(services, now) == []
    run = session.scalars(select(CollectionRun)).one()
    assert run.trigger == "catch_up" and run.scheduled_for == dt.date.today()


def test_manual_run_is_queued_then_run_by_the_scheduler(services, session, fake_bureau):
    branch_id, _, _ = routine_world(services)
    run = queue_run(session, ADMIN, branch_id)
    session.commit()
    with pytest.raises(Conflict):
        queue_run(session, ADMIN, branch_id)
    session.rollback()
    summaries = run_queued(services, today=TODAY)
    assert [(s.run_id, s.status) for s in summaries] == [(run.id, "done")]
    assert summaries[0].counts["titles_included"] == 2, summaries[0].lines()
    session.expire_all()
    assert session.get(CollectionRun, run.id).requested_by == "ana"


def test_run_collections_without_branch_runs_every_enabled_branch(services, session, fake_bureau):
    branch_id, _, _ = routine_world(services)
    summaries = run_collections(services, ROUTINE, today=TODAY)
    assert [s.branch_id for s in summaries] == [branch_id]
    with services.session_factory() as s:
        s.get(CollectionPolicy, branch_id).enabled = False
        s.commit()
    with pytest.raises(ValidationError):
        run_collections(services, ROUTINE, today=TODAY)


def test_a_busy_branch_is_not_run_twice(services, session, fake_bureau):
    from app.services.core.locks import held

    branch_id, _, _ = routine_world(services)
    with held(services.session_factory, f"collections:branch:{branch_id}"):
        summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert summary.status == "busy"
    assert fake_bureau.calls_to("negativate") == []


def test_client_with_document_but_no_kind_is_not_eligible(services, session, fake_bureau):
    """SQL and Python must agree: a NULL document kind once made the SQL check NULL, i.e. eligible."""
    branch_id, _, _ = routine_world(services, titles=())
    with services.session_factory() as s:
        from app.models import Branch

        odd = make_client(s, s.get(Branch, branch_id), document="11144477735", name="Sem tipo",
                          document_kind=None)
        make_title(s, odd, number="X", days_overdue=90)
        s.commit()
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert summary.skip_reasons == {"invalid_document": 1}
    assert fake_bureau.calls_to("negativate") == []
