"""What each event carries, built from the records of the change, and the envelope around it.

Money is a decimal string and dates are ISO 8601, as in the bureau contract; instants are UTC.
Names of people are never sent (LGPD art. 6 III, minimisation): the receiver knows its clients by
their ids (`party.id`, and the commerce platform's `external_id`) and, when the endpoint is allowed
to, by the full document. Otherwise every `document` goes masked (`for_endpoint`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.models import Branch, Consultation, Negativation, Party, Title
from app.services.core.documents import Document

from .catalog import API_VERSION


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.01')):f}"


def day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def instant(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def party_ref(party: Party | None, party_id: int | None) -> dict[str, Any]:
    return {"id": party_id, "external_id": party.external_id if party is not None else None}


def negativation_data(neg: Negativation, *, with_error: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"negativation": {
        "id": neg.id,
        "status": neg.status,
        "protocol": neg.protocol,
        "party": party_ref(neg.party, neg.party_id),
        "document": neg.document,
        "document_type": neg.document_type,
        "restriction_code": neg.restriction_code,
        "origin": neg.origin,
        "total_amount": money(neg.total_amount),
        "notice_until": day(neg.notice_until),
        "activated_at": instant(neg.activated_at),
        "removed_at": instant(neg.removed_at),
        "removal_reason": neg.removal_reason,
        "removal_deadline": day(neg.removal_deadline),
        "titles": [{"title_id": nt.title_id, "number": nt.number, "due_date": day(nt.due_date),
                    "amount": money(nt.amount_sent)} for nt in neg.titles],
    }}
    if with_error:
        data["error"] = {"code": neg.last_error_code, "message": neg.last_error_message}
    return data


def consultation_data(row: Consultation) -> dict[str, Any]:
    return {"consultation": {
        "id": row.id,
        "status": row.status,  # success | reused (a report shown again inside the reuse window)
        "party": party_ref(row.party, row.party_id),
        "document": row.document,
        "document_type": row.document_kind,
        "purpose": row.purpose,
        "reused_from_id": row.reused_from_id,
        "protocol": row.protocol,
        "score": row.score,
        "risk_class": row.risk_class,
        "restrictions_count": row.restrictions_count,
        "restrictions_total": money(row.restrictions_total),
        "suggested_status": row.suggested_status,
        "suggested_limit": money(row.suggested_limit),
        "completed_at": instant(row.completed_at),
    }}


def collections_run_data(run) -> dict[str, Any]:
    return {"run": {
        "id": run.id,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": instant(run.started_at),
        "finished_at": instant(run.finished_at),
        "counts": {k: int(v) for k, v in (run.counts or {}).items()},
        "skip_reasons": {k: int(v) for k, v in (run.skip_reasons or {}).items()},
    }}


def payment_data(title: Title, amount: str, paid_on: str) -> dict[str, Any]:
    return {
        "title": {
            "id": title.id,
            "number": title.number,
            "party": party_ref(title.party, title.party_id),
            "document": title.party.document if title.party is not None else None,
            "status": title.status,
            "due_date": day(title.due_date),
            "amount": money(title.amount),
            "amount_received": money(title.amount_received),
            "open_amount": money(title.open_amount),
        },
        "payment": {"amount": amount, "paid_on": paid_on},
    }


def divergence_data(divergence, neg: Negativation) -> dict[str, Any]:
    return {"divergence": {
        "id": divergence.id,
        "kind": divergence.kind,
        "negativation_id": neg.id,
        "protocol": neg.protocol,
        "document": neg.document,
        "opened_at": instant(divergence.opened_at),
        "local": divergence.evidence.get("local"),
        "bureau": divergence.evidence.get("bureau"),
    }}


def envelope(event_id: str, event_type: str, occurred_at: dt.datetime, branch: Branch | None, branch_id: int,
             data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "api_version": API_VERSION,
        "created_at": instant(occurred_at),
        "branch": {"id": branch_id, "cnpj": branch.cnpj if branch else None, "name": branch.name if branch else None},
        "data": data,
    }


def mask(number: str | None) -> str | None:
    """The masked CPF/CNPJ the read-only roles see; a number that is not a valid document is
    hidden whole rather than shown in part."""
    if not number:
        return number
    kind = "CPF" if len(number) == 11 else "CNPJ"
    try:
        return Document(number, kind).masked
    except ValueError:
        return "*" * len(number)


def for_endpoint(payload: dict[str, Any], full_documents: bool) -> dict[str, Any]:
    """The payload as one endpoint may see it: every `document` (at any depth) masked unless the
    endpoint is allowed full documents, with `document_masked` next to it saying which."""
    def walk(value):
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            if "document" in value:
                out["document"] = value["document"] if full_documents else mask(value["document"])
                out["document_masked"] = not full_documents and bool(value["document"])
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(payload)
