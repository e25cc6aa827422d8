"""Panel figure: the share of the negativated amount paid within 30, 60 and 90 days of acceptance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.models import Negativation, NegativationTitle, Payment
from app.services.collections.dashboard.sql import br_date_plus, money, percent, start_of_br_day
from app.services.core.clock import today_br

RECOVERY_WINDOWS = (30, 60, 90)
RECOVERY_MIN_AGE_DAYS = 90  # N: only entries whose longest window is over are measured


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
        Negativation.sent_at < start_of_br_day(accepted_until + dt.timedelta(days=1)),
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
        func.sum(case((Payment.paid_on <= br_date_plus(session, Negativation.sent_at, days), Payment.amount)))
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
            Payment.paid_on <= br_date_plus(session, Negativation.sent_at, max(windows)),
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
    sent = money(sent)
    return Recovery(
        min_age_days=min_age_days,
        accepted_until=accepted_until,
        negativations=count,
        amount_sent=sent,
        windows=[
            RecoveryWindow(days, money(amount), percent(money(amount), sent))
            for days, amount in zip(windows, paid, strict=True)
        ],
    )
