"""Which titles may be negativated, and why not (domain rules 1-8), in Python and in SQL.

One list of rules, checked in one order, expressed twice:
- `check_title` / `evaluate_titles`: per title, eligible or the first failing rule with a pt-BR
  reason that names the figures (days, amounts, missing address fields). The manual form and the
  re-check inside the negativation transaction use it.
- `reason_code_sql` / `eligible_titles_select`: the same checks as one SQL CASE expression over
  titles ⋈ parties ⋈ branches ⟕ bureau_integrations, so the collections routine can select
  the eligible titles of a branch set-based, group the skipped ones by reason, and then re-check
  each chosen title with `evaluate_titles` inside its transaction.
A test asserts that both agree title by title.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import Branch, BureauIntegration, NegativationTitle, Party, Title
from app.models.negativations import (
    NEGATIVATION_STATUS_LABELS,
    REMOVAL_REASON_LABELS,
    Negativation,
    NegativationStatus,
)
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.core.clock import to_br
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.money import brl
from app.services.negativations.policy import NegativationPolicy, policy_for

MANUAL_MIN_DAYS = 1  # rule 2: a manual negativation needs at least one day overdue

# Stable codes, in the order they are checked; the label is the generic pt-BR reason (SQL side).
REASON_LABELS: dict[str, str] = {
    "cancelled": "Título cancelado",
    "paid": "Título pago",
    "renegotiated": "Título renegociado",
    "disputed": "Título em disputa",
    "court_blocked": "Bloqueado por ordem judicial",
    "removed_by_hand": "Negativação baixada à mão: não negativar até uma pessoa liberar",
    "not_overdue": "Título não vencido",
    "too_recent": "Vencido há menos dias que o mínimo exigido",
    "prescribed": "Vencido há 5 anos ou mais (prescrito)",
    "below_minimum": "Valor em aberto abaixo do mínimo da filial",
    "already_negativated": "Já está em uma negativação",
    "address_incomplete": "Endereço do cliente incompleto",
    "invalid_document": "Cliente sem CPF/CNPJ válido",
    "no_integration": "A filial não tem integração com o bureau",
    "no_restriction_code": "A filial não tem código de restrição configurado",
}
_ADDRESS_FIELDS = ("street", "number", "district", "city", "state", "zip")


@dataclass(frozen=True)
class Criteria:
    today: dt.date
    min_days_overdue: int = MANUAL_MIN_DAYS  # rule 2: routine N (>= 60, validated by the routine)
    require_branch_code: bool = False  # the routine sends the integration's PF/PJ code
    # A person who saw the earlier removal by hand and confirmed may send a held title again
    # (rules 10 and 11); the routine never does.
    allow_held: bool = False


@dataclass(frozen=True)
class Verdict:
    title_id: int
    code: str | None = None
    reason: str | None = None

    @property
    def eligible(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class LiveEntry:
    negativation_id: int
    status: str


# --------------------------------------------------------------------------- dates


def add_years(day: dt.date, years: int) -> dt.date:
    """Same day `years` later; 29 February falls back to 28 February (the earlier, safer day)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def prescription_date(due_date: dt.date, years: int) -> dt.date:
    """Rule 3 (CDC art. 43 §1, Súmula 323 STJ): the years count from the day after the due date;
    from this day on the title is never negativated and a live entry is removed ("expired")."""
    return add_years(due_date + dt.timedelta(days=1), years)


def is_prescribed(due_date: dt.date, today: dt.date, years: int) -> bool:
    return today >= prescription_date(due_date, years)


def prescription_cutoff(today: dt.date, years: int) -> dt.date:
    """The earliest due date NOT prescribed on `today`: `due_date >= cutoff` ⇔ not prescribed."""
    cutoff = add_years(today, -years)
    while not is_prescribed(cutoff - dt.timedelta(days=1), today, years):
        cutoff -= dt.timedelta(days=1)
    while is_prescribed(cutoff, today, years):
        cutoff += dt.timedelta(days=1)
    return cutoff


def hold_message(hold_at: dt.datetime, reason: str | None) -> str:
    """Why a held title is not sent: the removal by hand, its day (Brasília) and its reason."""
    label = REMOVAL_REASON_LABELS.get(reason, reason or "") if reason else ""
    return (f"Negativação baixada à mão em {to_br(hold_at):%d/%m/%Y}" + (f" ({label})" if label else "")
            + ": não negativar até uma pessoa liberar")


# --------------------------------------------------------------------------- Python side


def check_title(
    title: Title,
    party: Party,
    branch: Branch,
    policy: NegativationPolicy,
    criteria: Criteria,
    live: LiveEntry | None = None,
) -> Verdict:
    """The first rule `title` breaks, or eligible. Pure: every input is given."""

    def no(code: str, reason: str | None = None) -> Verdict:
        return Verdict(title.id, code, reason or REASON_LABELS[code])

    today = criteria.today
    # Rule 4: never a cancelled, paid or renegotiated title.
    if title.status not in COLLECTIBLE_STATUSES:
        return no(title.status)
    # Rule 4: a disputed title needs a person's decision; a court order forbids it outright.
    if title.disputed:
        return no("disputed", f"Título em disputa: {title.dispute_reason}" if title.dispute_reason else None)
    if title.court_blocked:
        return no("court_blocked")
    # Rules 10 and 11: a negativation removed by hand (agreement, error, a person's decision) is not
    # sent again unless a person cleared the hold or confirms it here.
    if title.hold_at is not None and not criteria.allow_held:
        return no("removed_by_hand", hold_message(title.hold_at, title.hold_reason))
    # Rule 1: líquida, certa e exigível: open amount > 0 and today after the due date.
    if title.open_amount <= 0:
        return no("not_overdue", "Sem saldo em aberto")
    if today <= title.due_date:
        return no("not_overdue", f"Título não vencido (vence em {title.due_date:%d/%m/%Y})")
    days = (today - title.due_date).days
    # Rule 2: manual needs 1 day overdue; the routine its "dias para executar" (>= 60).
    if days < criteria.min_days_overdue:
        return no("too_recent", f"Vencido há {days} dia(s); o mínimo é {criteria.min_days_overdue} dia(s)")
    # Rule 3: 5 years (or the branch's shorter prescription) from the day after the due date.
    if is_prescribed(title.due_date, today, policy.prescription_years):
        return no(
            "prescribed",
            f"Vencido há {policy.prescription_years} anos ou mais (prescrito; conta-se "
            "do dia seguinte ao vencimento)",
        )
    # Rule 8: the creditor's minimum amount.
    if title.open_amount < policy.min_amount:
        return no(
            "below_minimum",
            f"Valor em aberto {brl(title.open_amount)} abaixo do mínimo da filial ({brl(policy.min_amount)})",
        )
    # Rule 7: one live negativation per title.
    if live is not None:
        label = NEGATIVATION_STATUS_LABELS[NegativationStatus(live.status)]
        return no("already_negativated", f"Já está na negativação nº {live.negativation_id} ({label})")
    # Rule 5: the bureau posts a letter before the restriction shows (CDC art. 43 §2, Súmula 359).
    missing = party.missing_address_fields()
    if missing:
        return no("address_incomplete", "Endereço do cliente incompleto (falta: " + ", ".join(missing) + ")")
    if not _valid_document(party):
        return no("invalid_document")
    # Rule 8: the creditor is the branch, through its bureau integration.
    integration = branch.integration
    if integration is None:
        return no("no_integration")
    if criteria.require_branch_code:
        is_pf = party.document_kind == "CPF"
        if not (integration.restriction_code_pf if is_pf else integration.restriction_code_pj):
            person = "pessoa física" if is_pf else "pessoa jurídica"
            return no(
                "no_restriction_code", f"A integração da filial não tem código de restrição para {person}"
            )
    return Verdict(title.id)


def live_entries(session: Session, title_ids: Iterable[int]) -> dict[int, LiveEntry]:
    """title_id -> the live negativation holding it (rule 7)."""
    ids = list(title_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(NegativationTitle.title_id, Negativation.id, Negativation.status)
        .join(Negativation, Negativation.id == NegativationTitle.negativation_id)
        .where(NegativationTitle.live, NegativationTitle.title_id.in_(ids))
    )
    return {title_id: LiveEntry(neg_id, status) for title_id, neg_id, status in rows}


def evaluate_titles(session: Session, titles: Iterable[Title], criteria: Criteria) -> dict[int, Verdict]:
    """Verdicts for titles already loaded (their party and branch are loaded as needed)."""
    titles = list(titles)
    live = live_entries(session, [t.id for t in titles])
    policies: dict[int, NegativationPolicy] = {}
    out: dict[int, Verdict] = {}
    for t in titles:
        if t.branch_id not in policies:
            policies[t.branch_id] = policy_for(session, t.branch_id)
        out[t.id] = check_title(t, t.party, t.branch, policies[t.branch_id], criteria, live.get(t.id))
    return out


def evaluate_party(session: Session, party_id: int, criteria: Criteria) -> list[tuple[Title, Verdict]]:
    """The client's open and partial titles, oldest due first, each with its verdict (manual form)."""
    titles = session.scalars(
        select(Title)
        .where(Title.party_id == party_id, Title.status.in_(COLLECTIBLE_STATUSES))
        .order_by(Title.due_date, Title.id)
    ).all()
    verdicts = evaluate_titles(session, titles, criteria)
    return [(t, verdicts[t.id]) for t in titles]


def _valid_document(party: Party) -> bool:
    if not party.document:
        return False
    try:
        return normalize_document(party.document).kind == party.document_kind
    except InvalidDocument:
        return False


# --------------------------------------------------------------------------- SQL side


def reason_code_sql(criteria: Criteria, policy: NegativationPolicy) -> ColumnElement[str | None]:
    """The same checks as `check_title`, in the same order, as a CASE over titles ⋈ parties ⋈
    branches ⟕ bureau_integrations; NULL means eligible. Dates are bound parameters computed here,
    so the expression is index-friendly on both databases. Documents are validated when stored
    (documents.normalize_document), so SQL checks presence and kind only."""
    today = criteria.today
    live = exists().where(NegativationTitle.title_id == Title.id, NegativationTitle.live)
    blank = [func.coalesce(func.trim(getattr(Party, f)), "") == "" for f in _ADDRESS_FIELDS]
    doc_ok = and_(
        Party.document.is_not(None),
        Party.document_kind.is_not(None),  # without it a NULL kind made the whole test NULL, i.e. "eligible"
        or_(
            and_(Party.document_kind == "CPF", func.length(Party.document) == 11),
            and_(Party.document_kind == "CNPJ", func.length(Party.document) == 14),
        ),
    )
    whens = [
        (~Title.status.in_(COLLECTIBLE_STATUSES), Title.status),
        (Title.disputed.is_(True), literal("disputed")),
        (Title.court_blocked.is_(True), literal("court_blocked")),
        (Title.hold_at.is_not(None) if not criteria.allow_held else literal(False), literal("removed_by_hand")),
        (or_(Title.open_amount <= Decimal("0"), Title.due_date >= today), literal("not_overdue")),
        (Title.due_date > today - dt.timedelta(days=criteria.min_days_overdue), literal("too_recent")),
        (Title.due_date < prescription_cutoff(today, policy.prescription_years), literal("prescribed")),
        (Title.open_amount < policy.min_amount, literal("below_minimum")),
        (live, literal("already_negativated")),
        (or_(*blank), literal("address_incomplete")),
        (~doc_ok, literal("invalid_document")),
        (BureauIntegration.id.is_(None), literal("no_integration")),
    ]
    if criteria.require_branch_code:
        code = case(
            (Party.document_kind == "CPF", BureauIntegration.restriction_code_pf),
            else_=BureauIntegration.restriction_code_pj,
        )
        whens.append((func.coalesce(code, "") == "", literal("no_restriction_code")))
    return case(*whens, else_=None)


def candidates_select(branch_id: int, criteria: Criteria, policy: NegativationPolicy) -> Select:
    """(title_id, party_id, reason_code) for every collectible title of a branch."""
    reason = reason_code_sql(criteria, policy).label("reason_code")
    return (
        select(Title.id.label("title_id"), Title.party_id, reason)
        .join(Party, Party.id == Title.party_id)
        .join(Branch, Branch.id == Title.branch_id)
        .outerjoin(BureauIntegration, BureauIntegration.id == Branch.bureau_integration_id)
        .where(Title.branch_id == branch_id, Title.status.in_(COLLECTIBLE_STATUSES))
    )


def eligible_titles_select(branch_id: int, criteria: Criteria, policy: NegativationPolicy) -> Select:
    """(title_id, party_id) of the branch's eligible titles, ordered by client then due date.

    The plain conditions the rules imply (due-date window, not disputed/blocked, amount) are repeated
    outside the CASE so that the (branch, status, due_date) index reads only the window, not every
    open title of the branch."""
    last_due = criteria.today - dt.timedelta(days=max(criteria.min_days_overdue, 1))
    cutoff = prescription_cutoff(criteria.today, policy.prescription_years)
    sub = (
        candidates_select(branch_id, criteria, policy)
        .add_columns(Title.due_date)
        .where(
            Title.due_date.between(cutoff, last_due),
            Title.disputed.is_(False),
            Title.court_blocked.is_(False),
            Title.hold_at.is_(None),
            Title.open_amount > Decimal("0"),
            Title.open_amount >= policy.min_amount,
        )
        .subquery()
    )
    return (
        select(sub.c.title_id, sub.c.party_id)
        .where(sub.c.reason_code.is_(None))
        .order_by(sub.c.party_id, sub.c.due_date, sub.c.title_id)
    )
