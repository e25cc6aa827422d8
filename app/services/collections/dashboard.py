"""Painel de cobrança: the collections dashboard's figures, each one set-based SQL.

Nothing here loops over titles, payments or negativations in Python: every figure is one
aggregate query (GROUP BY / CASE / SUM) that the database answers from its indexes, so the panel
costs the same few queries with 1,000 titles or 1,000,000. Python only fills the fixed axes (the
five aging buckets, the six statuses, the 30 days) and turns sums into percentages. The one list
of rows (removals) is bounded by `removal_rows_limit`, alerts first.

Every function takes a `branch_id` (None = all branches) and a pinned `today` (business date,
America/Sao_Paulo; defaults to `clock.today_br()`), so the figures are reproducible in tests.

Business dates of stored instants ("the day the bureau accepted", "the day the removal was
confirmed", "the day a run started") are taken in America/Sao_Paulo: on PostgreSQL with
`timezone('America/Sao_Paulo', instant)`; SQLite has no time-zone database, so there the fixed
offset UTC−03:00 is used, which is Brasília time since daylight saving was abolished in 2019
(Decreto 9.772/2019).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Date, and_, case, cast, exists, func, literal, null, or_, select
from sqlalchemy.orm import Session, aliased

from app.db import is_postgres
from app.models import Branch, CollectionRun, Negativation, NegativationTitle, Party, Payment, Title
from app.models.negativations import (
    NEGATIVATION_STATUS_LABELS,
    REMOVAL_REASON_LABELS,
    NegativationStatus,
    RemovalReason,
)
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.core.business_days import next_business_day
from app.services.core.clock import BR_TZ, today_br
from app.services.titles.lifecycle import AGING_BUCKETS

ZERO = Decimal("0.00")
PERCENT = Decimal("0.1")
RECENT_DAYS = 30  # removals and runs: the last 30 days, today included
RECOVERY_WINDOWS = (30, 60, 90)
RECOVERY_MIN_AGE_DAYS = 90  # N: only entries whose longest window is over are measured
REMOVAL_ROWS_LIMIT = 100

RUN_STATUS_LABELS = {"done": "Concluídas", "failed": "Com falha", "skipped": "Ignoradas", "running": "Em execução"}

# Removal categories, in display order; `alert` ones are shown in red / as warnings.
REMOVAL_CATEGORY_LABELS = {
    "removed_late": "Baixadas após o prazo legal",
    "pending_late": "Pendentes com prazo vencido",
    "pending_near": "Pendentes, prazo em até 1 dia útil",
    "pending_stuck": "Pendentes sem prazo legal desde um dia anterior",
    "pending": "Pendentes no prazo",
    "removed_on_time": "Baixadas no prazo",
    "no_deadline": "Sem prazo legal (baixa por outro motivo)",
}
# Short forms for chart axes (the chart's label column fits about 22 characters).
REMOVAL_CATEGORY_SHORT = {
    "removed_late": "Baixada após o prazo",
    "pending_late": "Pendente após o prazo",
    "pending_near": "Vence em até 1 dia útil",
    "pending_stuck": "Parada desde outro dia",
    "pending": "Pendente no prazo",
    "removed_on_time": "Baixada no prazo",
    "no_deadline": "Sem prazo legal",
}
LATE_CATEGORIES = ("removed_late", "pending_late")
# pending_stuck: a removal without a Súmula 548 deadline (agreement, error correction, prescription,
# by hand) must still happen at once (rules 3, 10, 11); one pending since an earlier day is stuck.
ALERT_CATEGORIES = ("removed_late", "pending_late", "pending_near", "pending_stuck")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AgingBucket:
    key: str  # one of titles.AGING_BUCKETS: "1-30", "31-60", "61-90", "91-180", "180+"
    label: str  # "1–30 dias"
    count: int
    amount: Decimal  # sum of open amounts


@dataclass(frozen=True)
class Aging:
    buckets: list[AgingBucket]
    count: int
    amount: Decimal


@dataclass(frozen=True)
class StatusTotal:
    status: str
    label: str
    count: int
    amount: Decimal  # sum of the amounts sent (Negativation.total_amount)


@dataclass(frozen=True)
class RemovalRow:
    negativation_id: int
    party_name: str
    branch_name: str
    status: str
    status_label: str
    reason_label: str | None
    amount: Decimal
    paid_on: dt.date | None
    removal_deadline: dt.date | None
    removed_at: dt.datetime | None  # removal confirmed by the bureau (UTC instant)
    category: str

    @property
    def late(self) -> bool:
        return self.category in LATE_CATEGORIES

    @property
    def near_deadline(self) -> bool:
        return self.category == "pending_near"

    @property
    def stuck(self) -> bool:
        return self.category == "pending_stuck"

    @property
    def category_label(self) -> str:
        return REMOVAL_CATEGORY_LABELS[self.category]


@dataclass(frozen=True)
class RemovalCategory:
    key: str
    label: str
    count: int
    amount: Decimal

    @property
    def short_label(self) -> str:
        return REMOVAL_CATEGORY_SHORT[self.key]

    @property
    def late(self) -> bool:
        return self.key in LATE_CATEGORIES

    @property
    def alert(self) -> bool:
        return self.key in ALERT_CATEGORIES


@dataclass(frozen=True)
class Removals:
    since: dt.date  # removed entries: confirmed on or after this day; pending ones: all
    categories: list[RemovalCategory]
    rows: list[RemovalRow]  # alerts first, at most `limit`
    total: int
    limit: int

    @property
    def late_count(self) -> int:
        return sum(c.count for c in self.categories if c.late)

    @property
    def near_count(self) -> int:
        return sum(c.count for c in self.categories if c.key == "pending_near")

    @property
    def stuck_count(self) -> int:
        return sum(c.count for c in self.categories if c.key == "pending_stuck")

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class RecoveryWindow:
    days: int
    amount_paid: Decimal
    share_percent: Decimal | None  # amount_paid / amount_sent × 100, one decimal; None with nothing sent


@dataclass(frozen=True)
class Recovery:
    min_age_days: int
    accepted_until: dt.date  # cohort: entries accepted by the bureau on or before this day
    negativations: int
    amount_sent: Decimal
    windows: list[RecoveryWindow]


@dataclass(frozen=True)
class RunDay:
    day: dt.date
    by_status: dict[str, int]  # done / failed / skipped / running -> runs started that day
    included: int  # negativations included (counts["included"])
    removed: int  # negativations removed (counts["removed"])

    @property
    def runs(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Runs:
    since: dt.date
    days: list[RunDay]  # one per day, oldest first, days without runs included

    @property
    def total_runs(self) -> int:
        return sum(d.runs for d in self.days)

    @property
    def total_included(self) -> int:
        return sum(d.included for d in self.days)

    @property
    def total_removed(self) -> int:
        return sum(d.removed for d in self.days)


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    branch_id: int | None
    aging: Aging
    negativations: list[StatusTotal]
    removals: Removals
    recovery: Recovery
    runs: Runs


# --------------------------------------------------------------------------- SQL helpers


def _br_date(session: Session, instant: ColumnElement) -> ColumnElement[dt.date]:
    """The America/Sao_Paulo business date of a stored UTC instant (see the module docstring)."""
    if is_postgres(session):
        return cast(func.timezone(BR_TZ.key, instant), Date)
    return func.date(instant, "-3 hours", type_=Date)


def _br_date_plus(session: Session, instant: ColumnElement, days: int) -> ColumnElement[dt.date]:
    """`_br_date(instant)` + `days` calendar days."""
    if is_postgres(session):
        return cast(func.timezone(BR_TZ.key, instant), Date) + days
    return func.date(instant, "-3 hours", f"+{int(days)} days", type_=Date)


def _start_of_br_day(day: dt.date) -> dt.datetime:
    """The UTC instant at which `day` starts in America/Sao_Paulo (exact, from the tz database)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BR_TZ).astimezone(dt.UTC)


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole <= 0:
        return None
    return (part * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP)


def _bucket_label(key: str) -> str:
    return key.replace("-", "–") + " dias"


# --------------------------------------------------------------------------- (1) aging


def _aging_bucket(today: dt.date) -> ColumnElement[str | None]:
    """CASE giving the AGING_BUCKETS key of a title's due date on `today`, NULL when not yet due.

    The buckets are contiguous (1-30, 31-60, ... 180+), so one lower bound per bucket, newest
    first, is enough: each row is compared at most six times (this runs for every open title)."""
    ordered = sorted(AGING_BUCKETS.items(), key=lambda item: item[1][0])
    for (_, (_, high)), (_, (low, _)) in zip(ordered, ordered[1:], strict=False):
        if high is None or low != high + 1:
            raise RuntimeError("titles.AGING_BUCKETS must be contiguous with only the last one open-ended")
    first_low = ordered[0][1][0]
    whens = [(Title.due_date > today - dt.timedelta(days=first_low), null())]
    whens += [
        (Title.due_date >= today - dt.timedelta(days=high), literal(key))
        for key, (_, high) in ordered
        if high is not None
    ]
    last_key, (_, last_high) = ordered[-1]
    return case(*whens, else_=literal(last_key) if last_high is None else null())


def overdue_aging(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Aging:
    """Overdue open amount and count by aging bucket (titles.AGING_BUCKETS).

    Overdue (domain rules, "Titles"): status open or partial, open amount > 0, due date before
    today. Days overdue = today − due date, so "1-30" is due 1 to 30 days ago. The buckets are
    due-date bounds computed here (bound parameters); a title not yet due falls in no bucket.

    The due date is deliberately not a WHERE range: "due before today" covers nearly every title
    ever issued, paid ones included, and SQLite (without statistics) would walk ix_titles_due_date
    and fetch each row (4 s for 1M titles, against 0.7 s for a plain scan). The selective terms
    are the status and the branch: with a branch, the (branch_id, status, due_date) index finds
    only its open and partial titles.
    """
    today = today or today_br()
    collectible = select(_aging_bucket(today).label("bucket"), Title.open_amount).where(
        Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > ZERO
    )
    if branch_id is not None:
        collectible = collectible.where(Title.branch_id == branch_id)
    sub = collectible.subquery()
    # GROUP BY the subquery's column: with server-side binding (psycopg 3) the same CASE written
    # twice would carry different bind parameters ($1, $2…), and PostgreSQL would not see them as equal.
    stmt = (
        select(sub.c.bucket, func.count(), func.sum(sub.c.open_amount))
        .where(sub.c.bucket.is_not(None))
        .group_by(sub.c.bucket)
    )
    found = {key: (count, _money(amount)) for key, count, amount in session.execute(stmt)}
    buckets = [
        AgingBucket(key, _bucket_label(key), found.get(key, (0, ZERO))[0], found.get(key, (0, ZERO))[1])
        for key in AGING_BUCKETS
    ]
    return Aging(buckets, sum(b.count for b in buckets), sum((b.amount for b in buckets), ZERO))


# --------------------------------------------------------------------------- (2) statuses


def negativations_by_status(session: Session, *, branch_id: int | None = None) -> list[StatusTotal]:
    """Every negativation by status: count and the amount sent (`total_amount`), all six statuses."""
    stmt = select(Negativation.status, func.count(Negativation.id), func.sum(Negativation.total_amount)).group_by(
        Negativation.status
    )
    if branch_id is not None:
        stmt = stmt.where(Negativation.branch_id == branch_id)
    found = {status: (count, _money(amount)) for status, count, amount in session.execute(stmt)}
    return [
        StatusTotal(s.value, NEGATIVATION_STATUS_LABELS[s], *found.get(s.value, (0, ZERO)))
        for s in NegativationStatus
    ]


# --------------------------------------------------------------------------- (3) removals


def _near_deadline_limit(session: Session, branch_id: int | None, today: dt.date) -> ColumnElement[dt.date]:
    """Per branch, the last deadline that is "within 1 business day" of today: the next business
    day of the branch's state (rule 9 counts business days by the branch's state). Branches are
    few; the mapping becomes one CASE."""
    stmt = select(Branch.id, Branch.state)
    if branch_id is not None:
        stmt = stmt.where(Branch.id == branch_id)
    by_state: dict[str | None, dt.date] = {}
    mapping: dict[int, dt.date] = {}
    for bid, state in session.execute(stmt):
        if state not in by_state:
            by_state[state] = next_business_day(today, state)
        mapping[bid] = by_state[state]
    national = next_business_day(today, None)
    if not mapping:
        return literal(national, Date)
    return case(
        *[(Negativation.branch_id == bid, literal(day, Date)) for bid, day in mapping.items()],
        else_=literal(national, Date),
    )


def removals(
    session: Session,
    *,
    branch_id: int | None = None,
    today: dt.date | None = None,
    limit: int = REMOVAL_ROWS_LIMIT,
) -> Removals:
    """Removals and their legal deadline (domain rule 9, Súmula 548 STJ / REsp 1.424.792).

    Entries shown: every entry still `removal_pending` (however old: a stuck one is the worst
    case), and every `removed` entry whose removal the bureau confirmed in the last 30 days
    (today and the 29 days before, Brasília time). Each one falls in one category:
    - removed_late: removed, and the day the removal was confirmed is after `removal_deadline`;
    - pending_late: still pending and today is after `removal_deadline`;
    - pending_near: still pending and the deadline is today or the branch's next business day
      (the alert of rule 9: near the deadline and not yet removed);
    - pending / removed_on_time: within the deadline;
    - pending_stuck: a removal with no Súmula 548 deadline (not after a payment: agreement, error
      correction, manual, prescription), still pending since an earlier day (Brasília): these must
      happen at once (rules 3, 10, 11), so one left from another day is an alert too;
    - no_deadline: the other removals with no `paid_on` and so no Súmula 548 deadline.
    The categories are counted in SQL; the rows (alerts first, then by deadline) are capped at
    `limit`.
    """
    today = today or today_br()
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    pending = Negativation.status == NegativationStatus.REMOVAL_PENDING.value
    deadline = Negativation.removal_deadline
    category = case(
        (and_(deadline.is_(None), pending, _br_date(session, Negativation.removal_requested_at) < today),
         literal("pending_stuck")),
        (deadline.is_(None), literal("no_deadline")),
        (and_(~pending, _br_date(session, Negativation.removed_at) > deadline), literal("removed_late")),
        (~pending, literal("removed_on_time")),
        (deadline < today, literal("pending_late")),
        (deadline <= _near_deadline_limit(session, branch_id, today), literal("pending_near")),
        else_=literal("pending"),
    )
    scope = or_(
        pending,
        and_(
            Negativation.status == NegativationStatus.REMOVED.value,
            Negativation.removed_at >= _start_of_br_day(since),
        ),
    )
    if branch_id is not None:
        scope = and_(scope, Negativation.branch_id == branch_id)
    entries = (
        select(
            Negativation.id.label("negativation_id"),
            Party.name.label("party_name"),
            Branch.name.label("branch_name"),
            Negativation.status,
            Negativation.removal_reason,
            Negativation.total_amount,
            Negativation.paid_on,
            deadline.label("removal_deadline"),
            Negativation.removed_at,
            category.label("category"),
        )
        .join(Party, Party.id == Negativation.party_id)
        .join(Branch, Branch.id == Negativation.branch_id)
        .where(scope)
        .subquery()
    )

    totals = select(entries.c.category, func.count(), func.sum(entries.c.total_amount)).group_by(entries.c.category)
    found = {key: (count, _money(amount)) for key, count, amount in session.execute(totals)}
    categories = [
        RemovalCategory(key, label, *found.get(key, (0, ZERO))) for key, label in REMOVAL_CATEGORY_LABELS.items()
    ]

    priority = case(
        *[(entries.c.category == key, literal(i)) for i, key in enumerate(REMOVAL_CATEGORY_LABELS)],
        else_=literal(len(REMOVAL_CATEGORY_LABELS)),
    )
    rows_stmt = select(entries).order_by(priority, entries.c.removal_deadline, entries.c.negativation_id).limit(limit)
    rows = [
        RemovalRow(
            negativation_id=r.negativation_id,
            party_name=r.party_name,
            branch_name=r.branch_name,
            status=r.status,
            status_label=NEGATIVATION_STATUS_LABELS[NegativationStatus(r.status)],
            reason_label=REMOVAL_REASON_LABELS[RemovalReason(r.removal_reason)] if r.removal_reason else None,
            amount=_money(r.total_amount),
            paid_on=r.paid_on,
            removal_deadline=r.removal_deadline,
            removed_at=r.removed_at,
            category=r.category,
        )
        for r in session.execute(rows_stmt)
    ]
    return Removals(since, categories, rows, sum(c.count for c in categories), limit)


# --------------------------------------------------------------------------- (4) recovery


def recovery(
    session: Session,
    *,
    branch_id: int | None = None,
    today: dt.date | None = None,
    min_age_days: int = RECOVERY_MIN_AGE_DAYS,
    windows: tuple[int, ...] = RECOVERY_WINDOWS,
) -> Recovery:
    """Recovery after negativation: the share of the negativated amount paid within 30/60/90 days.

    Cohort: negativations the bureau ACCEPTED (`sent_at` set: something was really negativated;
    entries never accepted, pending or in error, are left out) on a Brasília day at least
    `min_age_days` (N, default 90) before `today`, so every window of every entry in the cohort
    is complete and the three shares measure the same entries (they can only grow 30 → 60 → 90).
    The status today does not matter: an entry removed since then still counts.

    Denominator: the sum of `NegativationTitle.amount_sent` of those entries (rule 1: the OPEN
    amount of each title when the entry was created).

    Numerator for a window of W days, per negativated title: the payments of that title
      - recorded after the negativation was created (`Payment.created_at > Negativation.created_at`):
        `amount_sent` was the open amount at creation, so earlier payments are already outside
        it and counting them would recover money that was never negativated;
      - with `paid_on` (the day the money came in) on or before the acceptance day + W;
      - attributed to the latest negativation of that title created before the payment was
        recorded, so a title negativated again (after a removal for another reason) never has
        the same payment counted twice;
    summed and capped at that title's `amount_sent` (interest or fees paid with the title are
    not recovery of the negativated amount). Renegotiation or cancellation is not cash and does
    not count as paid. Share = numerator / denominator × 100, rounded to one decimal.
    """
    if min_age_days < max(windows):
        raise ValueError("min_age_days must cover the longest window, or recent entries dilute it")
    today = today or today_br()
    accepted_until = today - dt.timedelta(days=min_age_days)
    cohort = and_(
        Negativation.sent_at.is_not(None),
        Negativation.sent_at < _start_of_br_day(accepted_until + dt.timedelta(days=1)),
    )
    if branch_id is not None:
        cohort = and_(cohort, Negativation.branch_id == branch_id)

    later = aliased(Negativation)
    later_title = aliased(NegativationTitle)
    superseded = (
        exists()
        .where(
            later_title.title_id == NegativationTitle.title_id,
            later.id == later_title.negativation_id,
            later.created_at > Negativation.created_at,
            later.created_at < Payment.created_at,
        )
        .correlate(NegativationTitle, Negativation, Payment)
    )
    paid_sums = [
        func.sum(case((Payment.paid_on <= _br_date_plus(session, Negativation.sent_at, days), Payment.amount)))
        .label(f"paid_{days}")
        for days in windows
    ]
    # Only titles with payments in play: an inner join, and the "superseded" test in WHERE, where
    # PostgreSQL runs it as an anti-join (in an outer join's ON it became a per-row subplan).
    paid_per_title = (
        select(NegativationTitle.id, NegativationTitle.amount_sent, *paid_sums)
        .join(Negativation, Negativation.id == NegativationTitle.negativation_id)
        .join(
            Payment,
            and_(Payment.title_id == NegativationTitle.title_id, Payment.created_at > Negativation.created_at),
        )
        .where(
            cohort,
            Payment.paid_on <= _br_date_plus(session, Negativation.sent_at, max(windows)),
            ~superseded,
        )
        .group_by(NegativationTitle.id, NegativationTitle.amount_sent)
        .subquery()
    )
    capped = [
        func.sum(
            case(
                (paid_per_title.c[f"paid_{days}"].is_(None), 0),
                (paid_per_title.c[f"paid_{days}"] < paid_per_title.c.amount_sent, paid_per_title.c[f"paid_{days}"]),
                else_=paid_per_title.c.amount_sent,
            )
        )
        for days in windows
    ]
    paid = session.execute(select(*capped)).one()
    count, sent = session.execute(
        select(func.count(func.distinct(Negativation.id)), func.sum(NegativationTitle.amount_sent))
        .select_from(NegativationTitle)
        .join(Negativation, Negativation.id == NegativationTitle.negativation_id)
        .where(cohort)
    ).one()
    sent = _money(sent)
    return Recovery(
        min_age_days=min_age_days,
        accepted_until=accepted_until,
        negativations=count,
        amount_sent=sent,
        windows=[
            RecoveryWindow(days, _money(amount), _percent(_money(amount), sent))
            for days, amount in zip(windows, paid, strict=True)
        ],
    )


# --------------------------------------------------------------------------- (5) runs


def runs_per_day(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Runs:
    """Collection runs started in the last 30 days (Brasília days), dry runs ("Simular") left
    out: per day, the number of runs by status and the totals of `counts["included"]` and
    `counts["removed"]` (negativations included and removed)."""
    today = today or today_br()
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    runs = select(
        _br_date(session, CollectionRun.started_at).label("day"),
        CollectionRun.status,
        CollectionRun.counts["included"].as_integer().label("included"),
        CollectionRun.counts["removed"].as_integer().label("removed"),
    ).where(
        CollectionRun.dry_run.is_(False),
        CollectionRun.started_at >= _start_of_br_day(since),
        CollectionRun.started_at < _start_of_br_day(today + dt.timedelta(days=1)),
    )
    if branch_id is not None:
        runs = runs.where(CollectionRun.branch_id == branch_id)
    sub = runs.subquery()
    stmt = select(
        sub.c.day, sub.c.status, func.count(), func.sum(sub.c.included), func.sum(sub.c.removed)
    ).group_by(sub.c.day, sub.c.status)
    acc: dict[dt.date, dict] = {}
    for run_day, status, count, included, removed in session.execute(stmt):
        if isinstance(run_day, str):  # defensive: a driver that hands dates back as text
            run_day = dt.date.fromisoformat(run_day)
        slot = acc.setdefault(run_day, {"by_status": {}, "included": 0, "removed": 0})
        slot["by_status"][status] = slot["by_status"].get(status, 0) + count
        slot["included"] += int(included or 0)
        slot["removed"] += int(removed or 0)
    days = []
    for offset in range(RECENT_DAYS):
        current = since + dt.timedelta(days=offset)
        slot = acc.get(current, {"by_status": {}, "included": 0, "removed": 0})
        by_status = {status: slot["by_status"].get(status, 0) for status in RUN_STATUS_LABELS}
        for status, count in slot["by_status"].items():  # a status the routine may add later
            by_status.setdefault(status, count)
        days.append(RunDay(current, by_status, slot["included"], slot["removed"]))
    return Runs(since, days)


# --------------------------------------------------------------------------- all together


def dashboard(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Dashboard:
    """Every figure of the panel for one branch (None = all), as of `today`."""
    today = today or today_br()
    return Dashboard(
        today=today,
        branch_id=branch_id,
        aging=overdue_aging(session, branch_id=branch_id, today=today),
        negativations=negativations_by_status(session, branch_id=branch_id),
        removals=removals(session, branch_id=branch_id, today=today),
        recovery=recovery(session, branch_id=branch_id, today=today),
        runs=runs_per_day(session, branch_id=branch_id, today=today),
    )
