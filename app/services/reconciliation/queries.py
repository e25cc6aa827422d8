"""Read-only figures of the reconciliation: open divergences by kind and branch, runs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.models import Branch
from app.models.reconciliation import DIVERGENCE_KIND_LABELS, Divergence, DivergenceKind, ReconciliationRun

ALERT_KINDS = (DivergenceKind.SETTLED_BUT_LIVE.value, DivergenceKind.LIVE_AT_BUREAU.value)


def open_counts(session: Session, branch_id: int | None = None) -> dict[str, int]:
    """{kind: open divergences}, every kind present (0 when none), in the catalogue's order."""
    stmt = select(Divergence.kind, func.count()).where(Divergence.status == "open").group_by(Divergence.kind)
    if branch_id is not None:
        stmt = stmt.where(Divergence.branch_id == branch_id)
    found = dict(session.execute(stmt).all())
    return {k.value: int(found.get(k.value, 0)) for k in DivergenceKind}


def open_by_branch(session: Session) -> list[tuple[int, str, dict[str, int]]]:
    """(branch id, name, {kind: n}) for the branches with open divergences."""
    rows = session.execute(select(Divergence.branch_id, Branch.name, Divergence.kind, func.count())
                           .join(Branch, Branch.id == Divergence.branch_id).where(Divergence.status == "open")
                           .group_by(Divergence.branch_id, Branch.name, Divergence.kind)
                           .order_by(Branch.name)).all()
    out: dict[int, tuple[str, dict[str, int]]] = {}
    for branch_id, name, kind, n in rows:
        out.setdefault(branch_id, (name, {}))[1][kind] = int(n)
    return [(b, name, counts) for b, (name, counts) in out.items()]


def list_divergences(session: Session, *, status: str | None = "open", kind: str | None = None,
                     branch_id: int | None = None, negativation_id: int | None = None, limit: int = 50,
                     offset: int = 0) -> list[Divergence]:
    # The page shows each divergence's protocol and branch: loaded with the page, not once per row.
    stmt = select(Divergence).options(joinedload(Divergence.negativation), joinedload(Divergence.branch))
    if status:
        stmt = stmt.where(Divergence.status == status)
    if kind:
        stmt = stmt.where(Divergence.kind == kind)
    if branch_id:
        stmt = stmt.where(Divergence.branch_id == branch_id)
    if negativation_id:
        stmt = stmt.where(Divergence.negativation_id == negativation_id)
    stmt = stmt.order_by(Divergence.status.desc(), Divergence.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(stmt))


def attention_items(session: Session) -> list[dict]:
    """The home page's attention list: open divergences per kind, alerts first."""
    counts = open_counts(session)
    items = [{"kind": k, "label": DIVERGENCE_KIND_LABELS[DivergenceKind(k)], "count": n, "alert": k in ALERT_KINDS}
             for k, n in counts.items() if n]
    return sorted(items, key=lambda i: (not i["alert"], -i["count"]))


def list_runs(session: Session, *, branch_id: int | None = None, limit: int = 30,
              offset: int = 0, before_id: int | None = None) -> list[ReconciliationRun]:
    """Newest first; `before_id` continues a page (the API's cursor), `offset` a numbered page (the web)."""
    # Each run shows its branch's name: loaded with the page, not once per row.
    stmt = select(ReconciliationRun).options(joinedload(ReconciliationRun.branch)).order_by(ReconciliationRun.id.desc())
    if branch_id:
        stmt = stmt.where(ReconciliationRun.branch_id == branch_id)
    if before_id is not None:
        stmt = stmt.where(ReconciliationRun.id < before_id)
    return list(session.scalars(stmt.offset(offset).limit(limit)))


def active_runs(session: Session) -> list[ReconciliationRun]:
    return list(session.scalars(select(ReconciliationRun).where(
        ReconciliationRun.status.in_(("queued", "running"))).order_by(ReconciliationRun.id)))
