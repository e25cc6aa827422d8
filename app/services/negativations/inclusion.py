"""Negativation by hand or by the routine, and the bureau call of an inclusion (domain rules 1-8).

No database transaction is ever held open across a bureau call: write the intent with its
Idempotency-Key and COMMIT, call the bureau, record the outcome in a new transaction.
- A definitive refusal (4xx) moves an inclusion to `error` (titles freed) with the bureau's message.
- A timeout, 5xx, 429, malformed body or any unexpected failure leaves the row as it is (`pending`
  or `removal_pending`) with `next_attempt_at`; the outbox job (`outbox.retry_outbox`) resends with
  the SAME key, so the bureau replays its first answer instead of negativating twice.
- The unique partial index on live negativation titles (rule 7) is the final guard against a
  double click or two concurrent requests: the loser's INSERT fails and gets a plain message.
- An entry paid while its inclusion was in flight is already `removal_pending` when the answer is
  recorded: its removal leaves at once (`removal.send_removal`).

Resend of an `error` entry: the key is kept when the rebuilt payload is identical (the
Idempotency-Key contract makes a same-key, same-payload resend always safe: if the earlier
refusal was in fact processed, the bureau replays instead of creating a second entry) and a new
key is generated when data changed (the old key with another payload would get 409
idempotency_conflict). An `error` is only recorded on a definitive refusal, so nothing exists at
the bureau under the old key and a new one can never duplicate an entry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import is_postgres, transaction
from app.models import BureauIntegration, Negativation, NegativationTitle, Party, Title
from app.models.negativations import NegativationStatus
from app.services.core import audit
from app.services.core.clock import now_utc, today_br
from app.services.core.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.core.ids import ids_or_error
from app.services.core.money import brl
from app.services.negativations import records as rec
from app.services.negativations.eligibility import MANUAL_MIN_DAYS, Criteria, evaluate_titles
from app.services.negativations.outcomes import CLAIM, Outcome
from app.services.negativations.payload import build_payload, request_from_payload, same_request
from app.services.negativations.sending import Created, call_bureau, record_answers, send_inclusion

log = logging.getLogger("creditdesk.negativations")

Group = tuple[int, Iterable[int], str]  # (party_id, title_ids, restriction_code)


def negativate_titles(
    services,
    actor: audit.Actor,
    party_id: int,
    title_ids: Iterable[int],
    restriction_code: str,
    *,
    origin: str = "manual",
    today: dt.date | None = None,
    min_days_overdue: int = MANUAL_MIN_DAYS,
    confirm_after_manual_removal: bool = False,
) -> Outcome:
    """Negativate some overdue titles of one client; returns the outcome in plain pt-BR.

    A batch of one through `negativate_groups` (the routine's path): one code path for both."""
    (result,) = negativate_groups(
        services,
        actor,
        [(party_id, title_ids, restriction_code)],
        origin=origin,
        today=today,
        min_days_overdue=min_days_overdue,
        confirm_after_manual_removal=confirm_after_manual_removal,
    )
    if isinstance(result, Exception):
        raise result
    return result


def negativate_groups(
    services,
    actor: audit.Actor,
    groups: Sequence[Group],
    *,
    origin: str = "manual",
    today: dt.date | None = None,
    min_days_overdue: int = MANUAL_MIN_DAYS,
    confirm_after_manual_removal: bool = False,
) -> list[Outcome | Exception]:
    """Negativate several groups (one client's titles each); one result per group, in order.

    The result is the Outcome, or the exception that group alone raised (ValidationError
    not_eligible, Conflict already_negativated, NotFound...): a group never affects another.
    1. ONE transaction creates every group's `pending` row, already claimed (next_attempt_at =
       now + CLAIM), each group in its own SAVEPOINT (an ineligible group or a live-title unique
       index conflict drops only that group); it COMMITS before any bureau call.
    2. The bureau is called for each created row with the data already in hand, no transaction open
       (the row was just created and claimed by this call: no claim transaction is needed).
    3. ONE transaction records the answers (a timeout, 5xx or malformed answer leaves the row
       `pending` for the outbox, which resends with the SAME Idempotency-Key; a refusal -> `error`).
    """
    rec.require_writer(actor)
    today = today or today_br()
    results: list[Outcome | Exception | None] = [None] * len(groups)
    wanted: list[list[int]] = []
    for index, (_, title_ids, _) in enumerate(groups):
        try:
            wanted.append(ids_or_error(title_ids, field="title_ids", message="Seleção de títulos inválida."))
        except ValidationError as exc:  # "abc", "²" or an id past 64 bits: this group only
            wanted.append([])
            results[index] = exc
    created: list[Created] = []
    with transaction(services.session_factory) as s:
        # The chunk's clients and titles in two queries (PostgreSQL: its titles locked FOR UPDATE, in id
        # order, which serialises two requests for the same titles); each group is then checked again.
        parties = {p.id: p for p in s.scalars(select(Party).where(Party.id.in_({g[0] for g in groups})))}
        stmt = select(Title).where(Title.id.in_(sorted({i for ids in wanted for i in ids}))).order_by(Title.id)
        if is_postgres(s):
            stmt = stmt.with_for_update()
        titles = {t.id: t for t in s.scalars(stmt)}
        integrations: dict[int, BureauIntegration | None] = {}
        # Only a person who saw an earlier removal by hand may confirm sending its titles again.
        criteria = Criteria(today, min_days_overdue,
                            allow_held=confirm_after_manual_removal and origin == "manual")
        args = (s, actor, parties, titles, wanted, groups, origin, criteria, integrations)
        batch = _create_batch(*args, results)
        if batch is None:  # a title was taken meanwhile (rule 7's index): one SAVEPOINT per group instead
            batch = _create_each(*args, results)
        created = batch
        for row in created:  # written with the rows, in one flush at commit (not one per SAVEPOINT)
            audit.record(s, actor, "negativation.create", "negativation", row.negativation_id, **row.audit)
    answers = call_bureau(services, created, results)
    record_answers(services, answers, results)
    return results  # type: ignore[return-value]


def _create_batch(s, actor, parties, titles, wanted, groups, origin, criteria, integrations, results
                  ) -> list[Created] | None:
    """Every group of the chunk in ONE SAVEPOINT and one flush (a batched INSERT per table instead of
    a SAVEPOINT, three INSERTs and two eligibility queries per group). Rules 1-8 are checked for all the
    chunk's titles at once, inside this transaction, with the titles locked. A group that fails a rule
    gets its error and writes nothing; the others go on.

    None when the flush hits rule 7's unique index (a title negativated meanwhile, or named by two
    groups): the SAVEPOINT is rolled back, nothing of the batch remains, and the caller goes group by
    group so that only the colliding group loses."""
    errors: dict[int, Exception] = {}
    created: list[Created] = []
    try:
        with s.begin_nested():
            verdicts = evaluate_titles(s, titles.values(), criteria)
            for index, (party_id, _, restriction_code) in enumerate(groups):
                if results[index] is not None:
                    continue
                try:
                    created.append(_create(s, actor, index, parties.get(party_id), titles, wanted[index],
                                           restriction_code, origin, criteria, integrations, verdicts=verdicts))
                except DomainError as exc:  # raised before the group added anything to the session
                    errors[index] = exc
            s.flush()
    except IntegrityError:
        return None
    for index, exc in errors.items():
        results[index] = exc
    for row in created:
        row.negativation_id = row.negativation.id
    return created


def _create_each(s, actor, parties, titles, wanted, groups, origin, criteria, integrations, results
                 ) -> list[Created]:
    created: list[Created] = []
    for index, (party_id, _, restriction_code) in enumerate(groups):
        if results[index] is not None:
            continue
        try:
            with s.begin_nested():
                row = _create(s, actor, index, parties.get(party_id), titles, wanted[index], restriction_code,
                              origin, criteria, integrations)
                s.flush()  # the live-title unique index fires here (inside this group's SAVEPOINT)
                row.negativation_id = row.negativation.id
                created.append(row)
        except IntegrityError as exc:
            results[index] = Conflict(
                "Um ou mais títulos já estão em outra negativação (pedido repetido ou simultâneo). "
                "Atualize a página para ver a situação atual.",
                code="already_negativated",
            )
            results[index].__cause__ = exc
        except DomainError as exc:
            results[index] = exc
    return created


def _create(s, actor, index, party, loaded, ids, restriction_code, origin, criteria, integrations, *,
            verdicts=None) -> Created:
    """Check one group and add its `pending` row to the session (the caller flushes). Every check comes
    before the first change, so a group refused here leaves nothing behind."""
    code = (restriction_code or "").strip()
    if not ids:
        message = "Selecione ao menos um título."
        raise ValidationError(message, field_errors={"title_ids": message})
    if not code:
        raise ValidationError(
            "Escolha o motivo da restrição (Buscar motivos restrição).",
            field_errors={"restriction_code": "Escolha o motivo da restrição."},
        )
    if party is None or party.stage != "client":
        raise NotFound("Cliente não encontrado.")
    titles = [loaded[i] for i in ids if i in loaded and loaded[i].party_id == party.id]
    if len(titles) != len(ids):
        raise ValidationError("Um ou mais títulos não pertencem a este cliente.")
    if len({t.branch_id for t in titles}) != 1:
        raise ValidationError("Selecione títulos de uma mesma filial (a filial é o credor).")
    # Rules 1-8, re-checked inside the transaction that writes the negativation.
    if verdicts is None:
        verdicts = evaluate_titles(s, titles, criteria)
    refused = [f"{t.number}: {verdicts[t.id].reason}" for t in titles if not verdicts[t.id].eligible]
    held = [t for t in titles if verdicts[t.id].code == "removed_by_hand"]
    if held and len(held) == len(refused):
        # Rules 10 and 11: the earlier removal by hand is shown, and a person confirms or gives up.
        raise Conflict("; ".join(f"{t.number}: {verdicts[t.id].reason}" for t in held)
                       + ". Confirme para negativar de novo.", code="confirmation_required")
    if any(verdicts[t.id].code == "already_negativated" for t in titles):
        # Rule 7: a title already in a live negativation (e.g. the routine sending it right now) is a
        # collision, not bad data: 409, like the unique-index guard below.
        raise Conflict("Títulos já em outra negativação (a rotina ou outro pedido os enviou): " + "; ".join(refused)
                       + ". Atualize a página para ver a situação atual.", code="already_negativated")
    if refused:
        raise ValidationError(
            "Títulos não elegíveis para negativação: " + "; ".join(refused) + ".", code="not_eligible"
        )
    for t in titles:
        if t.hold_at is not None:  # confirmed by the person: the hold ends, in the history
            audit.record(s, actor, "title.hold_cleared", "title", t.id, branch_id=t.branch_id,
                         summary=f"Título {t.number} negativado de novo à mão, com confirmação",
                         details={"hold_at": t.hold_at.isoformat(), "hold_reason": t.hold_reason})
            t.hold_at = t.hold_reason = t.hold_negativation_id = None
    branch = titles[0].branch
    integration_id = branch.bureau_integration_id
    if integration_id not in integrations:
        integrations[integration_id] = s.get(BureauIntegration, integration_id) if integration_id else None
    integration = integrations[integration_id]
    payload = build_payload(party, branch, titles, code)
    neg = Negativation(
        party_id=party.id,
        branch_id=branch.id,
        integration_id=integration_id,
        restriction_code=code,
        document=party.document,
        document_type=party.document_kind,
        idempotency_key=rec.new_key(),
        requested_by=actor.name,
        requested_by_id=actor.user_id,
        origin=origin,
        payload=payload,
        total_amount=sum((t.open_amount for t in titles), start=Decimal("0.00")),
        next_attempt_at=now_utc() + CLAIM,  # claimed by this call: the outbox leaves it alone meanwhile
        attempts=1 if integration is not None else 0,  # the first send starts right after the commit
    )
    neg.titles = [
        NegativationTitle(title_id=t.id, number=t.number, due_date=t.due_date, amount_sent=t.open_amount)
        for t in titles
    ]
    neg.move_to(NegativationStatus.PENDING)  # its titles become live: rule 7's unique index guards them
    s.add(neg)
    rec.add_event(
        s,
        neg,
        "created",
        f"Negativação registrada com {len(titles)} título(s), total {brl(neg.total_amount)}; enviando ao bureau.",
        actor.name,
        {"idempotency_key": neg.idempotency_key},
    )
    audit_entry = {
        "branch_id": branch.id,
        "document": party.document,
        "summary": f"Negativação de {len(titles)} título(s)",
        "details": {"title_ids": ids, "restriction_code": code, "origin": origin},
    }
    return Created(index, neg, integration, request_from_payload(payload), neg.idempotency_key, audit_entry)


def resend(
    services,
    actor: audit.Actor,
    negativation_id: int,
    *,
    restriction_code: str | None = None,
    today: dt.date | None = None,
) -> Outcome:
    """Send an `error` entry again after the data was fixed (see the module docstring on the key)."""
    rec.require_writer(actor)
    today = today or today_br()
    try:
        with transaction(services.session_factory) as s:
            neg = rec.lock_negativation(s, negativation_id)
            if neg is None:
                raise NotFound("Negativação não encontrada.")
            if neg.status != NegativationStatus.ERROR.value:
                raise Conflict("Só é possível reenviar uma negativação com status Erro.")
            titles = [nt.title for nt in neg.titles]
            verdicts = evaluate_titles(s, titles, Criteria(today, MANUAL_MIN_DAYS))
            refused = [f"{t.number}: {verdicts[t.id].reason}" for t in titles if not verdicts[t.id].eligible]
            if refused:
                raise ValidationError(
                    "Corrija os dados antes de reenviar: " + "; ".join(refused) + ".", code="not_eligible"
                )
            payload = build_payload(neg.party, neg.branch, titles, (restriction_code or neg.restriction_code))
            changed = not same_request(payload, neg.payload)
            if changed:
                neg.idempotency_key = rec.new_key()
            neg.payload, neg.restriction_code = payload, payload["restriction_code"]
            neg.integration_id = neg.branch.bureau_integration_id
            for nt in neg.titles:
                nt.amount_sent = nt.title.open_amount
            neg.total_amount = sum((nt.amount_sent for nt in neg.titles), start=Decimal("0.00"))
            neg.move_to(NegativationStatus.PENDING)  # live again: the unique index checks its titles at flush
            neg.attempts = 0
            neg.next_attempt_at = now_utc() + CLAIM
            neg.last_error_code = neg.last_error_message = neg.error_kind = None
            s.flush()
            how = ("com dados alterados (nova chave de idempotência)." if changed
                   else "com os mesmos dados (mesma chave de idempotência).")
            rec.add_event(s, neg, "resend", "Reenvio solicitado " + how, actor.name,
                          {"idempotency_key": neg.idempotency_key})
            audit.record(s, actor, "negativation.resend", "negativation", neg.id, branch_id=neg.branch_id,
                         document=neg.document, summary="Reenvio de negativação com erro")
    except IntegrityError as exc:
        raise Conflict(
            "Um dos títulos já está em outra negativação; não é possível reenviar esta.",
            code="already_negativated",
        ) from exc
    return send_inclusion(services, negativation_id, force=True)

