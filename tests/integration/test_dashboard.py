"""Painel de cobrança: every figure computed by hand on a small portfolio, on SQLite and PostgreSQL;
the page (charts, tables, the late removal in red), the JSON API, and the credit-analysis switch.

TODAY is Monday 16/03/2026 (no holiday in SP or RJ between February and April but Carnival).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest

from app.models import Branch, CollectionRun, Negativation, NegativationTitle, Party, Payment
from app.models.negativations import LIVE_STATUSES
from app.services.collections import dashboard as dash
from app.services.collections.dashboard.recovery import recovery
from app.services.collections.dashboard.removals import removals
from app.services.collections.dashboard.runs import runs_per_day
from app.services.collections.dashboard.statuses import negativations_by_status
from app.services.core.audit import Actor
from app.services.core.business_days import removal_deadline
from app.services.core.clock import BR_TZ
from app.services.settings import switches as app_settings
from tests.integration.titles_support import CPF_OK, CPF_OK_2, TODAY, make_branch, make_client, make_title

D = Decimal


def utc(y, m, d, h=12, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=dt.UTC)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def _negativation(s, party, branch, *, status, total, created, sent=None, paid_on=None, removed_at=None,
                  reason=None, titles=()) -> Negativation:
    neg = Negativation(
        party_id=party.id,
        branch_id=branch.id,
        restriction_code="12",
        document=party.document,
        document_type="CPF",
        idempotency_key=uuid.uuid4().hex,
        requested_by="teste",
        payload={},
        total_amount=D(total),
        status=status,
        created_at=created,
        sent_at=sent,
        protocol=f"P-{uuid.uuid4().hex[:8]}" if sent else None,
        paid_on=paid_on,
        removal_deadline=removal_deadline(paid_on, branch.state) if paid_on else None,
        removed_at=removed_at,
        removal_reason=reason,
        removal_requested_at=created if status in ("removal_pending", "removed") else None,
    )
    for title, amount_sent in titles:
        neg.titles.append(NegativationTitle(title_id=title.id, number=title.number, due_date=title.due_date,
                                            amount_sent=D(amount_sent), live=status in LIVE_STATUSES))
    s.add(neg)
    s.flush()
    return neg


def _pay(s, title, amount, paid_on, recorded) -> None:
    s.add(Payment(title_id=title.id, paid_on=paid_on, amount=D(amount), created_at=recorded, created_by="teste"))


def _run(s, branch, started, status, counts, dry_run=False) -> None:
    s.add(CollectionRun(branch_id=branch.id, trigger="scheduled", dry_run=dry_run, requested_by="rotina",
                        started_at=started, status=status, days_to_execute=60, counts=counts))


@pytest.fixture
def portfolio(services):
    """Two branches (SP and RJ), titles in every aging bucket, negativations in every status,
    removals on both sides of their legal deadline, a recovery cohort, runs around the 30 days."""
    ids: dict[str, int] = {}
    with services.session_factory() as s:
        sp = make_branch(s, services.box, name="Matriz SP", state="SP")
        rj = make_branch(s, services.box, name="Filial RJ", cnpj="11444777000161", state="RJ")
        maria = make_client(s, sp, document=CPF_OK)
        joao = make_client(s, rj, document=CPF_OK_2, name="João Souza")
        ids.update(sp=sp.id, rj=rj.id)

        # (1) aging: overdue = open/partial, open amount > 0, due before today.
        make_title(s, maria, number="A-1", due=days_ago(1), amount="100.00")  # 1-30
        make_title(s, maria, number="A-2", due=days_ago(30), amount="250.00", amount_received=D("50.00"),
                   open_amount=D("200.00"), status="partial")  # 1-30, counts the OPEN amount
        make_title(s, maria, number="A-3", due=days_ago(31), amount="300.00")  # 31-60
        make_title(s, maria, number="A-4", due=days_ago(90), amount="400.00")  # 61-90
        a5 = make_title(s, maria, number="A-5", due=days_ago(91), amount="500.00")  # 91-180
        make_title(s, maria, number="A-6", due=days_ago(180), amount="60.00")  # 91-180
        a7 = make_title(s, maria, number="A-7", due=days_ago(181), amount="700.00")  # 180+
        make_title(s, maria, number="A-8", due=TODAY, amount="1000.00")  # due today: not overdue
        make_title(s, maria, number="A-9", due=days_ago(40), amount="90.00", amount_received=D("90.00"),
                   open_amount=D("0.00"), status="paid", paid_on=days_ago(5))
        make_title(s, maria, number="A-10", due=days_ago(40), amount="80.00", status="cancelled")
        make_title(s, maria, number="A-11", due=days_ago(40), amount="70.00", status="renegotiated")
        make_title(s, joao, number="B-1", due=days_ago(45), amount="150.00")  # 31-60
        make_title(s, joao, number="B-2", due=days_ago(200), amount="20.00")  # 180+

        # (4) recovery cohort (accepted on or before 16/12/2025, 90 days before TODAY).
        rt1 = make_title(s, maria, number="RT-1", due=dt.date(2025, 9, 1), amount="400.00",
                         amount_received=D("400.00"), open_amount=D("0.00"), status="paid",
                         paid_on=dt.date(2025, 12, 15))
        rt2 = make_title(s, maria, number="RT-2", due=dt.date(2025, 9, 15), amount="700.00",
                         amount_received=D("300.00"), open_amount=D("400.00"), status="partial")  # 180+
        _pay(s, rt2, "100.00", dt.date(2025, 10, 20), utc(2025, 10, 20))  # before the entry: not in amount_sent
        # Accepted 02/11/2025 01:00 UTC = 01/11/2025 22:00 in Brasília: the windows end 01/12, 31/12, 30/01.
        r1 = _negativation(s, maria, sp, status="active", total="1000.00", created=utc(2025, 11, 2, 0, 50),
                           sent=utc(2025, 11, 2, 1, 0), titles=[(rt1, "400.00"), (rt2, "600.00")])
        _pay(s, rt1, "100.00", dt.date(2025, 12, 2), utc(2025, 12, 2, 15))  # day 31 (Brasília): not in 30
        _pay(s, rt1, "300.00", dt.date(2025, 12, 15), utc(2025, 12, 15, 15))  # day 44
        _pay(s, rt2, "200.00", dt.date(2026, 1, 20), utc(2026, 1, 20, 15))  # day 80

        rt3 = make_title(s, joao, number="RT-3", due=dt.date(2025, 9, 1), amount="500.00",
                         amount_received=D("500.00"), open_amount=D("0.00"), status="paid",
                         paid_on=dt.date(2026, 1, 15))
        rt4 = make_title(s, joao, number="RT-4", due=dt.date(2025, 9, 1), amount="100.00",
                         amount_received=D("100.00"), open_amount=D("0.00"), status="paid",
                         paid_on=dt.date(2026, 2, 10))
        # Accepted 17/12/2025 02:30 UTC = 16/12/2025 23:30 in Brasília: still in the cohort.
        r2 = _negativation(s, joao, rj, status="removed", total="600.00", created=utc(2025, 12, 17, 2, 0),
                           sent=utc(2025, 12, 17, 2, 30), paid_on=dt.date(2026, 2, 10),
                           removed_at=utc(2026, 2, 12), reason="payment", titles=[(rt3, "500.00"), (rt4, "100.00")])
        _pay(s, rt3, "500.00", dt.date(2026, 1, 15), utc(2026, 1, 15, 15))  # day 30: inside the 30-day window
        _pay(s, rt4, "150.00", dt.date(2026, 2, 10), utc(2026, 2, 10, 15))  # with fees: capped at 100.00

        rt5 = make_title(s, maria, number="RT-5", due=dt.date(2025, 8, 1), amount="300.00",
                         amount_received=D("300.00"), open_amount=D("0.00"), status="paid",
                         paid_on=dt.date(2025, 10, 20))
        # Removed by error correction, then negativated again: the payment belongs to the second only.
        r5 = _negativation(s, maria, sp, status="removed", total="300.00", created=utc(2025, 10, 1, 13),
                           sent=utc(2025, 10, 1, 13, 5), removed_at=utc(2025, 10, 5), reason="error_correction",
                           titles=[(rt5, "300.00")])
        r6 = _negativation(s, maria, sp, status="removed", total="300.00", created=utc(2025, 10, 10, 13),
                           sent=utc(2025, 10, 10, 13, 5), paid_on=dt.date(2025, 10, 20),
                           removed_at=utc(2025, 10, 21), reason="payment", titles=[(rt5, "300.00")])
        _pay(s, rt5, "300.00", dt.date(2025, 10, 20), utc(2025, 10, 20, 15))

        # Outside the cohort: accepted 10/01/2026 (too recent), and never accepted (error).
        r3 = _negativation(s, maria, sp, status="notice", total="700.00", created=utc(2026, 1, 10, 13),
                           sent=utc(2026, 1, 10, 13, 5), titles=[(a7, "700.00")])
        r4 = _negativation(s, maria, sp, status="error", total="500.00", created=utc(2025, 10, 1, 13),
                           titles=[(a5, "500.00")])
        p1 = _negativation(s, maria, sp, status="pending", total="75.00", created=utc(2026, 3, 16, 12))

        # (3) removals (legal deadline: 5 business days from the first business day after payment).
        recent = {"created": utc(2026, 1, 20), "sent": utc(2026, 1, 20, 12, 5)}
        m1 = _negativation(s, maria, sp, status="removed", total="110.00", paid_on=dt.date(2026, 3, 2),
                           removed_at=utc(2026, 3, 11, 15), reason="payment", **recent)  # deadline 09/03: late
        m2 = _negativation(s, maria, sp, status="removed", total="120.00", paid_on=dt.date(2026, 3, 2),
                           removed_at=utc(2026, 3, 10, 2), reason="payment", **recent)  # 09/03 23:00 BRT: on time
        m3 = _negativation(s, maria, sp, status="removal_pending", total="130.00", paid_on=dt.date(2026, 3, 5),
                           reason="payment", **recent)  # deadline 12/03, still pending: late
        m4 = _negativation(s, joao, rj, status="removal_pending", total="140.00", paid_on=dt.date(2026, 3, 9),
                           reason="payment", **recent)  # deadline 16/03 = today: near
        m5 = _negativation(s, maria, sp, status="removal_pending", total="150.00", paid_on=dt.date(2026, 3, 10),
                           reason="payment", **recent)  # deadline 17/03 = next business day: near
        m6 = _negativation(s, maria, sp, status="removal_pending", total="160.00", paid_on=dt.date(2026, 3, 12),
                           reason="payment", **recent)  # deadline 19/03: pending, in time
        m7 = _negativation(s, maria, sp, status="removal_pending", total="170.00", reason="error_correction",
                           **recent)  # no payment, no Súmula 548 deadline
        m8 = _negativation(s, maria, sp, status="removed", total="180.00", paid_on=dt.date(2026, 2, 2),
                           removed_at=utc(2026, 2, 15, 2, 30), reason="payment", **recent)  # 14/02 BRT: too old
        m9 = _negativation(s, joao, rj, status="removed", total="190.00", removed_at=utc(2026, 2, 15, 3, 30),
                           reason="manual", **recent)  # 15/02 00:30 BRT: first day of the 30

        # (5) runs: last 30 days are 15/02 .. 16/03 (Brasília days).
        _run(s, sp, utc(2026, 3, 15, 12), "done", {"included": 3, "removed": 1, "skipped": 4})
        _run(s, sp, utc(2026, 3, 15, 14), "done", {"included": 2, "removed": 0})
        _run(s, rj, utc(2026, 3, 15, 15), "failed", {"errors": 1})
        _run(s, sp, utc(2026, 3, 16, 2), "done", {"included": 1, "removed": 2})  # 15/03 23:00 BRT
        _run(s, sp, utc(2026, 3, 14, 12), "done", {"included": 50, "removed": 50}, dry_run=True)  # Simular
        _run(s, rj, utc(2026, 3, 10, 10), "skipped", {})
        _run(s, sp, utc(2026, 2, 14, 12), "done", {"included": 9, "removed": 9})  # 31 days ago
        _run(s, sp, utc(2026, 3, 16, 13), "running", {"included": 0})
        s.commit()
        ids.update({name: n.id for name, n in dict(r1=r1, r2=r2, r3=r3, r4=r4, r5=r5, r6=r6, p1=p1, m1=m1, m2=m2,
                                                   m3=m3, m4=m4, m5=m5, m6=m6, m7=m7, m8=m8, m9=m9).items()})
    return ids


def _aging(d) -> dict[str, tuple[int, Decimal]]:
    return {b.key: (b.count, b.amount) for b in d.aging.buckets}


def test_aging_buckets_all_branches_and_per_branch(services, portfolio):
    with services.session_factory() as s:
        everything = dash.dashboard(s, today=TODAY)
        sp = dash.dashboard(s, branch_id=portfolio["sp"], today=TODAY)
        rj = dash.dashboard(s, branch_id=portfolio["rj"], today=TODAY)
    assert _aging(everything) == {
        "1-30": (2, D("300.00")),
        "31-60": (2, D("450.00")),
        "61-90": (1, D("400.00")),
        "91-180": (2, D("560.00")),
        "180+": (3, D("1120.00")),
    }
    assert (everything.aging.count, everything.aging.amount) == (10, D("2830.00"))
    assert [b.label for b in everything.aging.buckets] == ["1–30 dias", "31–60 dias", "61–90 dias", "91–180 dias",
                                                           "180+ dias"]
    assert _aging(sp) == {"1-30": (2, D("300.00")), "31-60": (1, D("300.00")), "61-90": (1, D("400.00")),
                          "91-180": (2, D("560.00")), "180+": (2, D("1100.00"))}
    assert _aging(rj) == {"1-30": (0, D("0.00")), "31-60": (1, D("150.00")), "61-90": (0, D("0.00")),
                          "91-180": (0, D("0.00")), "180+": (1, D("20.00"))}
    assert all(isinstance(b.amount, Decimal) for b in rj.aging.buckets)


def test_negativations_by_status(services, portfolio):
    with services.session_factory() as s:
        everything = negativations_by_status(s)
        rj = negativations_by_status(s, branch_id=portfolio["rj"])
    assert [(t.status, t.label, t.count, t.amount) for t in everything] == [
        ("pending", "Pendente", 1, D("75.00")),
        ("notice", "Em notificação", 1, D("700.00")),
        ("active", "Ativo", 1, D("1000.00")),
        ("error", "Erro", 1, D("500.00")),
        ("removal_pending", "Baixa pendente", 5, D("750.00")),
        ("removed", "Baixada", 7, D("1800.00")),
    ]
    assert [(t.status, t.count, t.amount) for t in rj] == [
        ("pending", 0, D("0.00")), ("notice", 0, D("0.00")), ("active", 0, D("0.00")), ("error", 0, D("0.00")),
        ("removal_pending", 1, D("140.00")), ("removed", 2, D("790.00")),
    ]


def test_removals_flag_late_and_near_deadline(services, portfolio):
    p = portfolio
    with services.session_factory() as s:
        r = removals(s, today=TODAY)
        rj = removals(s, branch_id=p["rj"], today=TODAY)
        assert s.get(Negativation, p["m1"]).removal_deadline == dt.date(2026, 3, 9)
        assert s.get(Negativation, p["m3"]).removal_deadline == dt.date(2026, 3, 12)
        assert s.get(Negativation, p["m5"]).removal_deadline == dt.date(2026, 3, 17)
    assert r.since == dt.date(2026, 2, 15)
    assert {c.key: (c.count, c.amount) for c in r.categories} == {
        "removed_late": (1, D("110.00")),
        "pending_late": (1, D("130.00")),
        "pending_near": (2, D("290.00")),
        "pending_stuck": (1, D("170.00")),  # m7: error correction asked on 20/01, still pending
        "pending": (1, D("160.00")),
        "removed_on_time": (1, D("120.00")),
        "no_deadline": (1, D("190.00")),
    }
    assert (r.total, r.late_count, r.near_count, r.stuck_count, r.truncated) == (8, 2, 2, 1, False)
    # Alerts first, then by deadline; m8 (confirmed 14/02 in Brasília) and older removals are out.
    assert [row.negativation_id for row in r.rows] == [p["m1"], p["m3"], p["m4"], p["m5"], p["m7"], p["m6"],
                                                        p["m2"], p["m9"]]
    by_id = {row.negativation_id: row for row in r.rows}
    assert [by_id[p[k]].late for k in ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m9")] == [
        True, False, True, False, False, False, False, False]
    assert {k for k in ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m9") if by_id[p[k]].near_deadline} == {"m4", "m5"}
    m1 = by_id[p["m1"]]
    assert (m1.party_name, m1.branch_name, m1.status_label, m1.reason_label, m1.amount, m1.paid_on) == (
        "Maria da Silva", "Matriz SP", "Baixada", "Pagamento", D("110.00"), dt.date(2026, 3, 2))
    assert m1.removed_at == utc(2026, 3, 11, 15)
    assert [row.negativation_id for row in rj.rows] == [p["m4"], p["m9"]]
    with services.session_factory() as s:
        capped = removals(s, today=TODAY, limit=3)
    assert [row.negativation_id for row in capped.rows] == [p["m1"], p["m3"], p["m4"]] and capped.truncated


def test_a_removal_without_deadline_is_an_alert_only_from_the_next_day(services, portfolio):
    """Agreement / error correction / prescription removals have no Súmula 548 deadline but must happen
    at once: asked today (Brasília) it is just pending; asked on an earlier day and still pending, stuck."""
    with services.session_factory() as s:
        sp = s.get(Branch, portfolio["sp"])
        maria = s.get(Party, s.get(Negativation, portfolio["m7"]).party_id)
        # 16/03 00:30 BRT (03:30 UTC) is today; 15/03 23:30 BRT (02:30 UTC on the 16th) is yesterday.
        today_ = _negativation(s, maria, sp, status="removal_pending", total="11.00", reason="agreement",
                               created=utc(2026, 3, 16, 3, 30))
        yesterday = _negativation(s, maria, sp, status="removal_pending", total="13.00", reason="agreement",
                                  created=utc(2026, 3, 16, 2, 30))
        s.commit()
        r = removals(s, today=TODAY)
    by_id = {row.negativation_id: row for row in r.rows}
    assert (by_id[today_.id].category, by_id[today_.id].stuck) == ("no_deadline", False)
    assert (by_id[yesterday.id].category, by_id[yesterday.id].stuck) == ("pending_stuck", True)
    assert r.stuck_count == 2  # with m7
    assert {c.key: c.alert for c in r.categories}["pending_stuck"] is True


def test_recovery_after_negativation(services, portfolio):
    with services.session_factory() as s:
        everything = recovery(s, today=TODAY)
        sp = recovery(s, branch_id=portfolio["sp"], today=TODAY)
        rj = recovery(s, branch_id=portfolio["rj"], today=TODAY)
    # Cohort: r1 (1000), r2 (600), r5 (300), r6 (300); r3 is too recent, r4 was never accepted.
    assert (everything.accepted_until, everything.negativations, everything.amount_sent) == (
        dt.date(2025, 12, 16), 4, D("2200.00"))
    # 30 d: r2 500 (paid on day 30) + r6 300 = 800; r1's first payment is on day 31 in Brasília.
    # 60 d: r1 400 + r2 500 + min(150, 100) + r6 300 = 1300.  90 d: + r1's 200 on day 80 = 1500.
    # r5's payment is r6's (recorded after r6 was created); the payment before r1 is not counted.
    assert [(w.days, w.amount_paid, w.share_percent) for w in everything.windows] == [
        (30, D("800.00"), D("36.4")),
        (60, D("1300.00"), D("59.1")),
        (90, D("1500.00"), D("68.2")),
    ]
    assert (sp.negativations, sp.amount_sent) == (3, D("1600.00"))
    assert [(w.amount_paid, w.share_percent) for w in sp.windows] == [
        (D("300.00"), D("18.8")), (D("700.00"), D("43.8")), (D("900.00"), D("56.3"))]
    assert [(w.amount_paid, w.share_percent) for w in rj.windows] == [
        (D("500.00"), D("83.3")), (D("600.00"), D("100.0")), (D("600.00"), D("100.0"))]
    with services.session_factory() as s:
        nothing = recovery(s, today=dt.date(2025, 9, 1))
    assert (nothing.negativations, nothing.amount_sent) == (0, D("0.00"))
    assert [w.share_percent for w in nothing.windows] == [None, None, None]


def test_runs_per_day(services, portfolio):
    with services.session_factory() as s:
        everything = runs_per_day(s, today=TODAY)
        sp = runs_per_day(s, branch_id=portfolio["sp"], today=TODAY)
    assert len(everything.days) == 30
    assert (everything.days[0].day, everything.days[-1].day) == (dt.date(2026, 2, 15), TODAY)
    busy = {d.day: (d.by_status, d.included, d.removed) for d in everything.days if d.runs}
    assert busy == {
        dt.date(2026, 3, 10): ({"done": 0, "failed": 0, "skipped": 1, "running": 0}, 0, 0),
        dt.date(2026, 3, 15): ({"done": 3, "failed": 1, "skipped": 0, "running": 0}, 6, 3),
        dt.date(2026, 3, 16): ({"done": 0, "failed": 0, "skipped": 0, "running": 1}, 0, 0),
    }
    assert (everything.total_runs, everything.total_included, everything.total_removed) == (6, 6, 3)
    assert {d.day: d.runs for d in sp.days if d.runs} == {dt.date(2026, 3, 15): 3, dt.date(2026, 3, 16): 1}


RED = "#b42318"


def _bar_fill(html: str, title: str) -> str:
    """The fill colour of the bar whose hover title is `title` (charts.bar_chart's markup)."""
    match = re.search(re.escape(f"<title>{title}</title>") + r"<text[^>]*>[^<]*</text><rect [^>]*fill=\"([^\"]+)\"",
                      html)
    assert match, title
    return match.group(1)


@pytest.fixture
def pinned_today(monkeypatch):
    monkeypatch.setattr("app.web.dashboard.today_br", lambda: TODAY)
    monkeypatch.setattr("app.web.dashboard.now_br", lambda: dt.datetime(TODAY.year, TODAY.month, TODAY.day, 9, 30,
                                                                        tzinfo=BR_TZ))
    monkeypatch.setattr("app.api.dashboard_api.today_br", lambda: TODAY)


def test_page_shows_charts_tables_and_late_rows_in_red(services, portfolio, login_as, pinned_today):
    p = portfolio
    client = login_as("viewer")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/cobranca/painel"' in home and "Painel de cobrança" in home
    resp = client.get("/cobranca/painel")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<script" not in html.split("</head>")[1]  # charts are server-side SVG
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 6
    # aging: chart bar with the amount in R$ and the table next to it
    assert "<title>180+ dias: R$ 1.120,00</title>" in html
    assert re.search(r"180\+ dias</a></th>\s*<td class=\"num\">3</td><td class=\"num\">R\$ 1.120,00</td>", html)
    assert "R$ 2.830,00" in html
    # negativations by status
    assert "<title>Baixa pendente: 5</title>" in html and "R$ 1.800,00" in html
    # removals: late rows in red (class="late"), the late bars highlighted in the chart
    for key in ("m1", "m3"):
        assert f'<tr class="late" data-negativation="{p[key]}">' in html
    for key in ("m2", "m4", "m5", "m6", "m7", "m9"):
        assert f'data-negativation="{p[key]}"' in html and f'class="late" data-negativation="{p[key]}"' not in html
    assert _bar_fill(html, "Baixada após o prazo: 1") == RED
    assert _bar_fill(html, "Pendente após o prazo: 1") == RED
    for in_time in ("Vence em até 1 dia útil: 2", "Parada desde outro dia: 1", "Pendente no prazo: 1",
                    "Baixada no prazo: 1", "Sem prazo legal: 1"):
        assert _bar_fill(html, in_time) != RED
    assert "2 baixa(s) fora do prazo legal." in html
    assert "2 baixa(s) pendente(s) com prazo legal em até 1 dia útil." in html
    assert "1 baixa(s) sem prazo legal (acordo, correção, prescrição ou manual) pendente(s) desde outro dia" in html
    m7_row = re.search(rf'data-negativation="{p["m7"]}">(.*?)</tr>', html, re.S).group(1)
    assert '<span class="badge warn">Pendentes sem prazo legal desde um dia anterior</span>' in m7_row
    assert "09/03/2026" in html and "Baixadas após o prazo legal" in html
    # recovery with percentages
    assert "<title>Até 30 dias: 36,4%</title>" in html and "<title>Até 90 dias: 68,2%</title>" in html
    assert re.search(r"Até 60 dias</th><td class=\"num\">R\$ 1.300,00</td><td class=\"num\">59,1%</td>", html)
    # runs per day: stacked columns and the table of busy days
    assert "15/03 — Concluídas: 3, Com falha: 1, Ignoradas: 0, Em execução: 0" in html
    assert "15/03 — Incluídas: 6, Baixadas: 3" in html
    assert re.search(r"15/03/2026</th><td class=\"num\">3</td><td class=\"num\">1</td>", html)


def test_page_branch_filter(services, portfolio, login_as, pinned_today):
    client = login_as("finance")
    html = client.get(f"/cobranca/painel?branch_id={portfolio['rj']}").get_data(as_text=True)
    assert "R$ 170,00" in html and "R$ 2.830,00" not in html
    assert f'<option value="{portfolio["rj"]}" selected>Filial RJ</option>' in html
    assert f'data-negativation="{portfolio["m4"]}"' in html and f'data-negativation="{portfolio["m1"]}"' not in html
    html = client.get("/cobranca/painel?branch_id=999").get_data(as_text=True)
    assert "Filial inexistente; mostrando todas as filiais." in html and "R$ 2.830,00" in html


def test_api_returns_the_same_figures(services, portfolio, api_token, client, pinned_today):
    headers = api_token("crm")
    body = client.get("/api/v1/dashboard", headers=headers).get_json()
    assert body["today"] == "2026-03-16" and body["branch_id"] is None
    assert body["aging"]["amount"] == "2830.00"
    assert [(b["key"], b["count"], b["amount"]) for b in body["aging"]["buckets"]][-1] == ("180+", 3, "1120.00")
    assert {s["status"]: (s["count"], s["amount"]) for s in body["negativations_by_status"]}["removed"] == (
        7, "1800.00")
    assert (body["removals"]["late"], body["removals"]["near_deadline"], body["removals"]["stuck"]) == (2, 2, 1)
    assert [r["negativation_id"] for r in body["removals"]["rows"] if r["stuck"]] == [portfolio["m7"]]
    late_rows = [r["negativation_id"] for r in body["removals"]["rows"] if r["late"]]
    assert late_rows == [portfolio["m1"], portfolio["m3"]]
    assert body["removals"]["rows"][0]["removal_deadline"] == "2026-03-09"
    assert [(w["days"], w["share_percent"]) for w in body["recovery"]["windows"]] == [
        (30, "36.4"), (60, "59.1"), (90, "68.2")]
    assert body["recovery"]["amount_sent"] == "2200.00"
    assert (body["runs"]["total_runs"], body["runs"]["total_included"], body["runs"]["total_removed"]) == (6, 6, 3)
    rj = client.get(f"/api/v1/dashboard?branch_id={portfolio['rj']}", headers=headers).get_json()
    assert rj["branch_id"] == portfolio["rj"] and rj["aging"]["amount"] == "170.00"
    bad = client.get("/api/v1/dashboard?branch_id=x", headers=headers)
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["branch_id"]
    missing = client.get("/api/v1/dashboard?branch_id=999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_switch_off_hides_and_refuses(services, portfolio, login_as, api_token, pinned_today):
    headers = api_token("admin")
    with services.session_factory() as s:
        app_settings.set_credit_analysis(s, Actor.system("test"), False)
        s.commit()
    client = login_as("admin")
    resp = client.get("/cobranca/painel")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "A integração com análise de crédito está desativada." in html
    assert "Painel de cobrança" not in html
    off = client.get("/api/v1/dashboard", headers=headers)
    assert off.status_code == 403 and off.get_json()["error"]["code"] == "credit_analysis_disabled"
