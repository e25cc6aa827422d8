"""Bulk negativation from the Títulos list: overdue titles of several clients, one confirmation.

`plan` answers the confirmation page: for each chosen title, whether it will be sent and, when
not, why (the same checks as the manual form, `eligibility.check_title`: rule 1 (overdue),
rule 2 (days overdue), rule 3 (five years), rule 5 (address for the notice), rule 7 (one live
negativation per title), rule 8 (minimum amount, creditor's integration), rules 10 and 11
(removed by hand)). Each client's sendable titles become one negativation with the branch
integration's restriction code for CPF or CNPJ. `negativate` plans again at the moment of sending
(the list may have changed since the page was shown) and hands the groups to
`inclusion.negativate_groups`, where one client's failure never stops another's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Title
from app.services.core import audit
from app.services.core.errors import DomainError, ValidationError
from app.services.core.ids import as_id
from app.services.negativations.eligibility import REASON_LABELS, Criteria, evaluate_titles
from app.services.negativations.inclusion import negativate_groups

MAX_TITLES = 500  # one confirmation page a person can still read


@dataclass(frozen=True)
class PlannedTitle:
    title: Title
    restriction_code: str | None
    reason: str | None  # None: it will be sent

    @property
    def sendable(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class BulkResult:
    party_name: str
    ok: bool
    message: str


def _ids(title_ids: Iterable[object]) -> list[int]:
    ids = sorted({i for i in map(as_id, title_ids) if i is not None})  # "abc", "²", past 64 bits: not ids
    if not ids:
        raise ValidationError("Selecione ao menos um título.", code="no_titles")
    if len(ids) > MAX_TITLES:
        raise ValidationError(f"Selecione no máximo {MAX_TITLES} títulos por vez.", code="too_many_titles")
    return ids


def plan(session: Session, title_ids: Iterable[object], today: dt.date) -> list[PlannedTitle]:
    """Every chosen title, by client then due date, with its code or the reason it stays out."""
    titles = list(session.scalars(
        select(Title).where(Title.id.in_(_ids(title_ids)))
        .options(selectinload(Title.party), selectinload(Title.branch))
        .order_by(Title.party_id, Title.due_date, Title.id)))
    verdicts = evaluate_titles(session, titles, Criteria(today, require_branch_code=True))
    out = []
    for title in titles:
        verdict = verdicts[title.id]
        code = None
        if verdict.eligible:
            integration = title.branch.integration
            is_pf = title.party.document_kind == "CPF"
            code = integration.restriction_code_pf if is_pf else integration.restriction_code_pj
        reason = None if verdict.eligible else (verdict.reason or REASON_LABELS.get(verdict.code, verdict.code))
        out.append(PlannedTitle(title, code, reason))
    return out


def negativate(services, actor: audit.Actor, title_ids: Iterable[object], today: dt.date) -> list[BulkResult]:
    """Send every client's sendable titles as one negativation each; one result per client."""
    with services.session_factory() as s:
        planned = plan(s, title_ids, today)
        groups: dict[int, tuple[str, list[int], str]] = {}
        for p in planned:
            if p.sendable:
                name, ids, code = groups.setdefault(p.title.party_id, (p.title.party.name, [], p.restriction_code))
                ids.append(p.title.id)
    if not groups:
        raise ValidationError("Nenhum dos títulos selecionados pode ser negativado agora.", code="not_eligible")
    party_ids = list(groups)
    outcomes = negativate_groups(services, actor, [(pid, groups[pid][1], groups[pid][2]) for pid in party_ids],
                                 today=today)
    results = []
    for party_id, result in zip(party_ids, outcomes, strict=True):
        name = groups[party_id][0]
        if isinstance(result, DomainError):
            results.append(BulkResult(name, False, result.message))
        elif isinstance(result, Exception):
            raise result  # not a rule's refusal: a bug or the database, the request's error page says so
        else:
            results.append(BulkResult(name, result.ok, result.message))
    return results
