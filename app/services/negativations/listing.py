"""Reading negativations for the screens and the API: a party's entries, the ones a person may
remove, and the global list (newest first, keyset pages by id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from app.models import Branch, Negativation, NegativationTitle, Party
from app.models.negativations import REMOVABLE_STATUSES
from app.services.core.pagination import keyset_page
from app.services.negativations.filters import NegativationFilter
from app.services.negativations.filters import apply as apply_filter


@dataclass(frozen=True)
class NegativationPage:
    items: list[Negativation]
    has_more: bool

    @property
    def next_before_id(self) -> int | None:
        """What to pass as `before_id` for the next page."""
        return self.items[-1].id if self.has_more else None


# What the negativations table (negativations/index.html) reads. An entry carries 33 columns, its
# sent payload (JSON) among them, and its client 27: the driver converted all of them for each row.
_TABLE_COLUMNS = (
    load_only(Negativation.id, Negativation.party_id, Negativation.branch_id, Negativation.status,
              Negativation.origin, Negativation.protocol, Negativation.total_amount, Negativation.requested_by,
              Negativation.removal_deadline, Negativation.paid_on, Negativation.removed_at,
              Negativation.created_at),
    joinedload(Negativation.party).load_only(Party.id, Party.name),
    joinedload(Negativation.branch).load_only(Branch.id, Branch.name),
)


def list_negativations(session: Session, *, status: str | None = None, party_id: int | None = None,
                       branch_id: int | None = None, before_id: int | None = None,
                       limit: int = 50, flt: NegativationFilter | None = None,
                       table_only: bool = False) -> NegativationPage:
    """A page of entries, newest first. `table_only` loads just what the list page shows; the API
    serialises whole entries."""
    # The list shows each entry's client and branch: loaded with the page, not one query per row.
    options = _TABLE_COLUMNS if table_only else (joinedload(Negativation.party), joinedload(Negativation.branch))
    stmt = select(Negativation).options(*options)
    if flt is not None:  # the list page's filters (filters.py)
        stmt = apply_filter(stmt, flt)
    if status:
        stmt = stmt.where(Negativation.status == status)
    if party_id:
        stmt = stmt.where(Negativation.party_id == party_id)
    if branch_id:
        stmt = stmt.where(Negativation.branch_id == branch_id)
    items, more = keyset_page(session, stmt, (Negativation.id,), descending=True, limit=limit,
                              position=None if before_id is None else (before_id,))
    return NegativationPage(items, more)


def of_party(session: Session, party_id: int) -> list[Negativation]:
    # The client's tab lists each entry's title numbers: one query for all of them, not one per entry.
    return list(session.scalars(
        select(Negativation).options(selectinload(Negativation.titles))
        .where(Negativation.party_id == party_id).order_by(Negativation.id.desc())))


def of_title(session: Session, title_id: int) -> list[Negativation]:
    """Every negativation the title was sent in, newest first (the title page's history)."""
    return list(session.scalars(
        select(Negativation).join(NegativationTitle, NegativationTitle.negativation_id == Negativation.id)
        .where(NegativationTitle.title_id == title_id).order_by(Negativation.id.desc())))


def of_title_with_live(session: Session, title_id: int) -> tuple[list[Negativation], Negativation | None]:
    """`of_title` and the title's live entry (`records.live_negativation_of`) in one query, read
    without a lock: what the title page shows."""
    rows = session.execute(
        select(Negativation, NegativationTitle.live)
        .join(NegativationTitle, NegativationTitle.negativation_id == Negativation.id)
        .where(NegativationTitle.title_id == title_id).order_by(Negativation.id.desc())).all()
    return [neg for neg, _ in rows], next((neg for neg, live in rows if live), None)


def removable_of_party(session: Session, party_id: int) -> list[Negativation]:
    """The entries a removal may be asked for (`REMOVABLE_STATUSES`), newest first."""
    return list(session.scalars(
        select(Negativation).where(Negativation.party_id == party_id,
                                   Negativation.status.in_(REMOVABLE_STATUSES))
        .order_by(Negativation.id.desc())))


def policy_branch_id(session: Session, shown: list[Negativation]) -> int | None:
    """The branch whose policy the list's "Políticas por filial" link opens: the first entry's,
    else the first branch by name; None when there is no branch at all (no link)."""
    if shown:
        return shown[0].branch_id
    return session.scalar(select(Branch.id).order_by(Branch.name, Branch.id).limit(1))
