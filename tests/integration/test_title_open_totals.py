"""The ledger of open totals (the panel's aging) equals a recount of the titles after every kind of
change: issue, edit, partial and full payment, cancellation, renegotiation, negativation and its
removal, deletion; compaction and rebuild keep it equal; the panel reads it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import Negativation, Title, TitleOpenTotal
from app.services.collections.dashboard.aging import overdue_aging
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.outbox import refresh_status
from app.services.titles import lifecycle as titles
from app.services.titles import open_totals, payments
from tests.clock import pin_clock

from .titles_support import FINANCE, TODAY, world


@pytest.fixture(autouse=True)
def _clock():
    with pin_clock(TODAY):
        yield


def _check(services) -> dict:
    with services.session_factory() as s:
        recounted = open_totals.recount(s)
        assert open_totals.ledger(s) == recounted
        return recounted


def test_ledger_equals_a_recount_after_every_kind_of_change(services, fake_bureau):
    branch_id, party_id, ids = world(services, titles=(("T-1", 40), ("T-2", 70), ("T-3", 70), ("T-4", 100),
                                                       ("T-5", 5), ("T-6", -10)))
    t1, t2, t3, t4, t5, t6 = ids
    d40, d70 = TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=70)
    assert _check(services)[(branch_id, d70)] == (2, Decimal("200.00"))

    with services.session_factory() as s:  # a partial payment, then the rest
        payments.register_payment(s, FINANCE, t2, "30,00", TODAY, today=TODAY)
        s.commit()
    assert _check(services)[(branch_id, d70)] == (2, Decimal("170.00"))
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t2, "70,00", TODAY, today=TODAY)
        s.commit()
    assert _check(services)[(branch_id, d70)] == (1, Decimal("100.00"))

    with services.session_factory() as s:  # cancelled and renegotiated titles owe nothing
        titles.cancel_title(s, FINANCE, t3, "erro de faturamento")
        titles.renegotiate_title(s, FINANCE, t4, "acordo")
        s.commit()
    totals = _check(services)
    assert (branch_id, d70) not in totals and (branch_id, TODAY - dt.timedelta(days=100)) not in totals

    with services.session_factory() as s:  # an edit moves the amount and the due date
        title = s.get(Title, t5)
        titles.update_title(s, FINANCE, t5, titles.TitleInput(
            party_id=party_id, number=title.number, issue_date=(d40 - dt.timedelta(days=30)).strftime("%d/%m/%Y"),
            due_date=d40.strftime("%d/%m/%Y"), amount="250,00"))
        s.commit()
    assert _check(services)[(branch_id, d40)] == (2, Decimal("350.00"))

    # Negativated, then paid: the negativation goes to removal in the same transaction (rule 9).
    out = negativate_titles(services, FINANCE, party_id, [t1], "12", today=TODAY)
    with services.session_factory() as s:
        fake_bureau.activate(s.get(Negativation, out.negativation_id).protocol)
    refresh_status(services, FINANCE, out.negativation_id)
    assert _check(services)[(branch_id, d40)] == (2, Decimal("350.00"))
    with services.session_factory() as s:
        result = payments.register_payment(s, FINANCE, t1, "100,00", TODAY, today=TODAY)
        s.commit()
    assert result.removal_ids == [out.negativation_id]
    assert _check(services)[(branch_id, d40)] == (1, Decimal("250.00"))

    with services.session_factory() as s:  # a title deleted outright takes its amount with it
        s.delete(s.get(Title, t6))
        s.commit()
    totals = _check(services)
    assert totals == {(branch_id, d40): (1, Decimal("250.00"))}

    with services.session_factory() as s:
        rows_before = s.scalar(select(func.count()).select_from(TitleOpenTotal))
        assert open_totals.compact(s) == (rows_before, 1)
        s.commit()
    assert _check(services) == totals
    with services.session_factory() as s:
        s.execute(TitleOpenTotal.__table__.delete())  # lost (a restore without it): the rebuild recounts
        assert open_totals.rebuild(s) == 1
        s.commit()
    assert _check(services) == totals


def test_panel_aging_reads_the_ledger(services):
    branch_id, _, (t1, t2, t3) = world(services, titles=(("T-1", 10), ("T-2", 45), ("T-3", 200)))
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t2, "40,00", TODAY, today=TODAY)
        s.commit()
        aging = overdue_aging(s, branch_id=branch_id, today=TODAY)
        assert {b.key: (b.count, b.amount) for b in aging.buckets} == {
            "1-30": (1, Decimal("100.00")), "31-60": (1, Decimal("60.00")), "61-90": (0, Decimal("0.00")),
            "91-180": (0, Decimal("0.00")), "180+": (1, Decimal("100.00"))}
        # The panel sums the ledger, not the titles: a ledger row is what it shows.
        s.add(TitleOpenTotal(branch_id=branch_id, due_date=TODAY - dt.timedelta(days=100), open_count=1,
                             open_amount=Decimal("5.00")))
        s.flush()
        assert overdue_aging(s, branch_id=branch_id, today=TODAY).buckets[3].amount == Decimal("5.00")
        s.rollback()


def test_cli_rebuilds_and_the_job_compacts(app, services):
    branch_id, _, (t1, t2) = world(services, titles=(("T-1", 10), ("T-2", 10)))
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t1, "10,00", TODAY, today=TODAY)
        s.execute(TitleOpenTotal.__table__.delete().where(TitleOpenTotal.id == 1))  # damaged on purpose
        s.commit()
    with services.session_factory() as s:
        assert open_totals.ledger(s) != open_totals.recount(s)
    result = app.test_cli_runner().invoke(args=["title-totals", "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "Totais em aberto recontados: 1 linha(s)." in result.output
    _check(services)

    from scheduler.registry import JOBS, run_job
    from scheduler.runner import load_jobs

    load_jobs()
    with services.session_factory() as s:
        payments.register_payment(s, FINANCE, t2, "10,00", TODAY, today=TODAY)
        s.commit()
    assert run_job(JOBS["title_totals_compact"], services) == "linhas=2->1"
    assert _check(services) == {(branch_id, TODAY - dt.timedelta(days=10)): (2, Decimal("180.00"))}
