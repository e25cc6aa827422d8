"""Daily reconciliation with the bureau: runs, and the divergences they find.

A run checks, one by one and in id order, every entry of a branch that should be live or pending at
the bureau and every entry removed in the last 30 days. `cursor` is the id of the last entry whose
result was committed, in the same transaction as that result, so a killed run resumes right after
it. A divergence stays open while the checks keep seeing it and closes itself when a later check
agrees; the partial unique index keeps one open divergence per entry and kind.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class DivergenceKind(enum.StrEnum):
    REMOVED_AT_BUREAU = "removed_at_bureau"
    LIVE_AT_BUREAU = "live_at_bureau"
    UNKNOWN_PROTOCOL = "unknown_protocol"
    SETTLED_BUT_LIVE = "settled_but_live"
    NOTICE_OVER = "notice_over"
    AMOUNT_DIFFERS = "amount_differs"


DIVERGENCE_KIND_LABELS = {
    DivergenceKind.REMOVED_AT_BUREAU: "Baixada no bureau, ativa aqui",
    DivergenceKind.LIVE_AT_BUREAU: "Ativa no bureau, baixada aqui",
    DivergenceKind.UNKNOWN_PROTOCOL: "Protocolo desconhecido no bureau",
    DivergenceKind.SETTLED_BUT_LIVE: "Ativa no bureau com os títulos quitados (alerta de prazo legal)",
    DivergenceKind.NOTICE_OVER: "Notificação encerrada no bureau, \"Em notificação\" aqui",
    DivergenceKind.AMOUNT_DIFFERS: "Valor diferente no bureau",
}
KIND_VALUES = tuple(k.value for k in DivergenceKind)
RUN_STATUSES = ("queued", "running", "done", "failed", "skipped")


class ReconciliationRun(Base):
    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        CheckConstraint("status in ('queued','running','done','failed','skipped')", name="status"),
        Index("ix_reconciliation_runs_branch_status", "branch_id", "status"),
        Index("ix_reconciliation_runs_branch_scheduled_for", "branch_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(12))  # scheduled | catch_up | manual | api | cli
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scheduled_for: Mapped[dt.date | None]  # business date of a scheduled run
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    rate_per_s: Mapped[float | None]  # the pace of the bureau calls
    total: Mapped[int] = mapped_column(default=0)  # entries to check, counted when the run started
    checked: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)  # no protocol yet: the outbox is still sending it
    errors: Mapped[int] = mapped_column(default=0)  # the bureau did not answer; the next run checks again
    cursor: Mapped[int] = mapped_column(default=0)  # id of the last entry whose result is committed
    resumed: Mapped[int] = mapped_column(default=0)  # times a killed run was picked up again
    # Divergences seen by this run, per kind ({kind: n}); opened and closed by this run.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(String(500))

    branch = relationship("Branch")

    @property
    def divergent(self) -> int:
        return sum(int(v) for v in (self.counts or {}).values())


class Divergence(Base):
    """One difference between credit-desk and the bureau about one entry, with its evidence."""

    __tablename__ = "divergences"
    __table_args__ = (
        CheckConstraint("status in ('open','closed')", name="status"),
        CheckConstraint("kind in ('" + "','".join(KIND_VALUES) + "')", name="kind"),
        # One open divergence per entry and kind: a check updates it instead of opening another.
        Index("ux_divergences_open_negativation_kind", "negativation_id", "kind", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ix_divergences_status_branch_kind", "status", "branch_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    negativation_id: Mapped[int] = mapped_column(ForeignKey("negativations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(8), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_count: Mapped[int] = mapped_column(default=1)
    opened_run_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliation_runs.id", ondelete="SET NULL"))
    # {"local": {...}, "bureau": {...}, "checked_at": "..."}: both states as last seen
    evidence: Mapped[dict[str, Any]]
    closed_at: Mapped[dt.datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(300))

    negativation = relationship("Negativation")
    branch = relationship("Branch")

    @property
    def kind_label(self) -> str:
        return DIVERGENCE_KIND_LABELS[DivergenceKind(self.kind)]
