"""What credit-desk and the bureau each say about one entry, and the divergences between them.

Pure functions over two snapshots: no database, no bureau, so every kind is tested on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.models.negativations import NEGATIVATION_STATUS_LABELS, NegativationStatus
from app.models.reconciliation import DivergenceKind as K
from app.models.titles import TITLE_STATUS_LABELS, TitleStatus

# Rules 4 and 9-11: nothing is owed on a title paid, cancelled or renegotiated here.
SETTLED_TITLE_STATUSES = ("paid", "cancelled", "renegotiated")
LIVE_HERE = ("notice", "active", "removal_pending")
LIVE_AT_BUREAU = ("notice", "active")
# A removal requested this recently is still on its way through the outbox: not an alert yet.
REMOVAL_GRACE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class LocalView:
    status: str
    total_amount: Decimal
    notice_until: dt.date | None
    removal_requested_at: dt.datetime | None
    removed_at: dt.datetime | None
    removal_deadline: dt.date | None
    titles: tuple[tuple[str, str], ...]  # (number, status)

    @property
    def settled(self) -> bool:
        return bool(self.titles) and all(status in SETTLED_TITLE_STATUSES for _, status in self.titles)

    def as_evidence(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": NEGATIVATION_STATUS_LABELS[NegativationStatus(self.status)],
            "total_amount": f"{self.total_amount:.2f}",
            "notice_until": _iso(self.notice_until),
            "removal_requested_at": _iso(self.removal_requested_at),
            "removed_at": _iso(self.removed_at),
            "removal_deadline": _iso(self.removal_deadline),
            "titles": [{"number": n, "status": s, "status_label": TITLE_STATUS_LABELS[TitleStatus(s)]}
                       for n, s in self.titles],
        }


@dataclass(frozen=True)
class BureauView:
    """The bureau's answer to GET /v1/negativations/{protocol}; `found=False` for a 404."""

    found: bool
    status: str | None = None
    notice_until: dt.date | None = None
    activated_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None
    total_amount: Decimal | None = None  # None when the bureau does not say
    message: str | None = None

    @classmethod
    def of(cls, answer) -> BureauView:
        return cls(True, answer.status, answer.notice_until, answer.activated_at, answer.removed_at,
                   getattr(answer, "total_amount", None), answer.message)

    def as_evidence(self) -> dict[str, Any]:
        if not self.found:
            return {"found": False, "message": self.message or "Protocolo não encontrado (HTTP 404)."}
        return {"found": True, "status": self.status, "notice_until": _iso(self.notice_until),
                "activated_at": _iso(self.activated_at), "removed_at": _iso(self.removed_at),
                "total_amount": None if self.total_amount is None else f"{self.total_amount:.2f}",
                "message": self.message}


def classify(local: LocalView, bureau: BureauView, now: dt.datetime) -> list[str]:
    """The divergence kinds between the two views (empty when they agree)."""
    if not bureau.found:
        # Removed here and forgotten there: nothing is live on either side, nothing to fix.
        return [K.UNKNOWN_PROTOCOL.value] if local.status in LIVE_HERE else []
    kinds: list[str] = []
    live_there = bureau.status in LIVE_AT_BUREAU
    if live_there and local.settled and not _removal_in_flight(local, now):
        # Rule 9 (Súmula 548 STJ): paid in full and still visible at the bureau is a deadline running out.
        # It takes precedence over "live at the bureau, removed here": same fix, and the alert matters more.
        kinds.append(K.SETTLED_BUT_LIVE.value)
    elif live_there and local.status == "removed":
        kinds.append(K.LIVE_AT_BUREAU.value)
    if bureau.status in ("removed", "rejected") and local.status in ("notice", "active"):
        kinds.append(K.REMOVED_AT_BUREAU.value)
    if bureau.status == "active" and local.status == "notice":
        kinds.append(K.NOTICE_OVER.value)  # rule 6: the restriction is visible; here it still says notice
    if live_there and bureau.total_amount is not None and bureau.total_amount != local.total_amount:
        kinds.append(K.AMOUNT_DIFFERS.value)
    return kinds


def _removal_in_flight(local: LocalView, now: dt.datetime) -> bool:
    return (local.status == "removal_pending" and local.removal_requested_at is not None
            and now - local.removal_requested_at < REMOVAL_GRACE)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()
