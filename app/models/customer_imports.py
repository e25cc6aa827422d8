"""Customer XML files uploaded on the web screen: one row per file, with its progress while it
runs and the per-customer results when it ends (the imports history).

A row in `running` is being imported by whoever holds its lease (`customer_import:<id>` in
`job_locks`, renewed by a heartbeat); a row whose lease lapsed is picked up again by the scheduler
(`app/services/commerce/import_jobs.resume_stalled`), or ends `interrupted` when it cannot be."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

IMPORT_STATUS_LABELS = {"running": "Em andamento", "done": "Concluída", "failed": "Falhou",
                        "interrupted": "Interrompida"}


class CustomerImport(Base):
    __tablename__ = "customer_imports"
    __table_args__ = (
        CheckConstraint("status in ('running','done','failed','interrupted')", name="status"),
        Index("ix_customer_imports_branch_id", "branch_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(default=0)
    read_bytes: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="running")
    # How many times a process started importing this file (1 for a file that ran through).
    attempts: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    # Per-customer results (index, platform id, result, reason), up to ITEMS_KEPT of them.
    items: Mapped[list[Any]] = mapped_column(default=list)
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    branch = relationship("Branch")

    @property
    def status_label(self) -> str:
        return IMPORT_STATUS_LABELS.get(self.status, self.status)

    @property
    def percent(self) -> int:
        if self.status != "running":
            return 100
        return min(99, int(self.read_bytes * 100 / self.size_bytes)) if self.size_bytes else 0
