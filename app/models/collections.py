"""The collections routine ("Atualizar Cobranças"): per-branch parameters and run history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow

MIN_DAYS_TO_EXECUTE = 60  # rule 2 (minimum days overdue): the bureau integration requires 60


class CollectionPolicy(Base, TimestampMixin):
    """Parameters of the automatic routine for one branch (Parâmetros de Cobrança)."""

    __tablename__ = "collection_policies"
    __table_args__ = (
        CheckConstraint(f"days_to_execute >= {MIN_DAYS_TO_EXECUTE}", name="days_min_60"),
        CheckConstraint("grouping in ('title','client')", name="grouping"),
        CheckConstraint("max_concurrency between 1 and 32", name="concurrency_range"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    # "Trata cobrança por título" must be Sim for automatic inclusion (the integration requires it).
    handle_by_title: Mapped[bool] = mapped_column(default=True)
    days_to_execute: Mapped[int] = mapped_column(default=MIN_DAYS_TO_EXECUTE)
    grouping: Mapped[str] = mapped_column(String(10), default="client")  # one negativation per title|client
    run_time: Mapped[str] = mapped_column(String(5), default="06:00")  # HH:MM, America/Sao_Paulo
    max_concurrency: Mapped[int] = mapped_column(default=4)
    rate_limit_per_s: Mapped[int | None] = mapped_column(default=None)  # bureau's limit, if known

    branch = relationship("Branch")


class CollectionRun(Base):
    __tablename__ = "collection_runs"
    __table_args__ = (
        Index("ix_collection_runs_branch_started", "branch_id", "started_at"),
        Index("ix_collection_runs_scheduled_for", "branch_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(12))  # scheduled | catch_up | manual | api | cli
    dry_run: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scheduled_for: Mapped[dt.date | None]  # business date a scheduled/catch-up run stands for
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="running")  # running|done|failed|skipped
    days_to_execute: Mapped[int]
    # {"included": n, "removed": n, "skipped": n, "errors": n, "pending": n, "titles_included": n}
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    skip_reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason code -> count
    errors: Mapped[list[Any]] = mapped_column(default=list)
    message: Mapped[str | None] = mapped_column(String(500))

    branch = relationship("Branch")
    items: Mapped[list[CollectionRunItem]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                          order_by="CollectionRunItem.id")


class CollectionRunItem(Base):
    """One title touched (or skipped) by a run, with the outcome and the reason."""

    __tablename__ = "collection_run_items"
    __table_args__ = (Index("ix_collection_run_items_run_action", "run_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("collection_runs.id", ondelete="CASCADE"))
    title_id: Mapped[int | None] = mapped_column(ForeignKey("titles.id", ondelete="SET NULL"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    negativation_id: Mapped[int | None] = mapped_column(ForeignKey("negativations.id", ondelete="SET NULL"))
    # include | remove | skip | error (would_include / would_remove in a dry run)
    action: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(String(500))

    run: Mapped[CollectionRun] = relationship(back_populates="items")
