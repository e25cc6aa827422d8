"""The event payloads as JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses them).

`WEBHOOKS` is ready for the OpenAPI document's `webhooks` section: one POST per event type, with the
signature headers and the payload schema. `event_schema(type)` is the schema of one event's body;
the tests check every emitted payload against it. Prose in docs/events.md.
"""

from __future__ import annotations

from typing import Any

from .catalog import EVENT_TYPES, TEST_EVENT

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "Decimal string, 2 places"}
NMONEY = {"type": ["string", "null"], "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
DATE = {"type": ["string", "null"], "format": "date"}
INSTANT = {"type": ["string", "null"], "format": "date-time", "description": "UTC, ISO 8601"}
DOCUMENT = {"type": ["string", "null"],
            "description": "CPF/CNPJ; masked (e.g. ***.456.789-**) unless the endpoint may see full documents"}
DOCUMENT_MASKED = {"type": "boolean", "description": "true when `document` was masked for this endpoint"}
PARTY = {"type": "object", "required": ["id", "external_id"],
         "properties": {"id": NINT, "external_id": {**NSTR, "description": "the commerce platform's id"}}}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": required if required is not None else list(properties)}


NEGATIVATION = obj({
    "id": INT, "status": {"enum": ["pending", "notice", "active", "error", "removal_pending", "removed"]},
    "protocol": NSTR, "party": PARTY, "document": DOCUMENT, "document_masked": DOCUMENT_MASKED,
    "document_type": {"enum": ["CPF", "CNPJ"]}, "restriction_code": STR, "origin": {"enum": ["manual", "routine"]},
    "total_amount": MONEY, "notice_until": DATE, "activated_at": INSTANT, "removed_at": INSTANT,
    "removal_reason": {"enum": [None, "payment", "agreement", "error_correction", "manual", "expired"]},
    "removal_deadline": DATE,
    "titles": {"type": "array", "items": obj({"title_id": INT, "number": STR, "due_date": DATE, "amount": MONEY})},
})
EVIDENCE = {"type": ["object", "null"], "description": "the state as seen (docs/events.md, reconciliation)"}

DATA: dict[str, dict[str, Any]] = {
    "negativation.accepted": obj({"negativation": NEGATIVATION}),
    "negativation.active": obj({"negativation": NEGATIVATION}),
    "negativation.removed": obj({"negativation": NEGATIVATION}),
    "negativation.error": obj({"negativation": NEGATIVATION,
                               "error": obj({"code": NSTR, "message": NSTR})}),
    "consultation.completed": obj({"consultation": obj({
        "id": INT, "status": {"enum": ["success", "reused"]}, "party": PARTY, "document": DOCUMENT,
        "document_masked": DOCUMENT_MASKED, "document_type": {"enum": ["CPF", "CNPJ"]}, "purpose": STR,
        "reused_from_id": NINT, "protocol": NSTR, "score": NINT, "risk_class": NSTR, "restrictions_count": NINT,
        "restrictions_total": NMONEY, "suggested_status": NSTR, "suggested_limit": NMONEY, "completed_at": INSTANT,
    })}),
    "collections_run.finished": obj({"run": obj({
        "id": INT, "status": {"enum": ["done", "failed"]}, "trigger": STR, "started_at": INSTANT,
        "finished_at": INSTANT,
        "counts": {"type": "object", "additionalProperties": INT,
                   "description": "included, titles_included, removed, pending, errors, changed, skipped"},
        "skip_reasons": {"type": "object", "additionalProperties": INT},
    })}),
    "reconciliation.divergence_opened": obj({"divergence": obj({
        "id": INT, "negativation_id": INT, "protocol": NSTR, "document": DOCUMENT, "document_masked": DOCUMENT_MASKED,
        "kind": {"enum": ["removed_at_bureau", "live_at_bureau", "unknown_protocol", "settled_but_live",
                          "notice_over", "amount_differs"]},
        "opened_at": INSTANT, "local": EVIDENCE, "bureau": EVIDENCE,
    })}),
    "title.payment_recorded": obj({
        "title": obj({"id": INT, "number": STR, "party": PARTY, "document": DOCUMENT,
                      "document_masked": DOCUMENT_MASKED,
                      "status": {"enum": ["open", "partial", "paid", "cancelled", "renegotiated"]},
                      "due_date": DATE, "amount": MONEY, "amount_received": MONEY, "open_amount": MONEY}),
        "payment": obj({"amount": MONEY, "paid_on": DATE}),
    }),
    TEST_EVENT: obj({"message": STR, "endpoint": obj({"id": INT, "name": STR})}),
}


def event_schema(event_type: str) -> dict[str, Any]:
    """The whole body of one event: the envelope with this type's `data`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": event_type,
        "description": EVENT_TYPES.get(event_type, "Entrega de teste"),
        **obj({
            "id": {"type": "string", "pattern": "^evt_[0-9a-f]{32}$",
                   "description": "the same on every attempt: deduplicate on it"},
            "type": {"const": event_type},
            "api_version": STR,
            "created_at": {**INSTANT, "type": "string", "description": "when the change happened (UTC)"},
            "branch": obj({"id": INT, "cnpj": NSTR, "name": NSTR}),
            "data": DATA[event_type],
        }),
    }


SIGNATURE_HEADERS = [
    {"name": "X-CreditDesk-Event-Id", "in": "header", "required": True, "schema": STR},
    {"name": "X-CreditDesk-Event-Type", "in": "header", "required": True, "schema": STR},
    {"name": "X-CreditDesk-Timestamp", "in": "header", "required": True, "schema": STR,
     "description": "Unix seconds of this attempt; refuse requests outside ±300 s"},
    {"name": "X-CreditDesk-Signature", "in": "header", "required": True, "schema": STR,
     "description": 'v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>'},
]

WEBHOOKS: dict[str, Any] = {
    event_type: {"post": {
        "summary": label,
        "parameters": SIGNATURE_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": event_schema(event_type)}}},
        "responses": {"2XX": {"description": "Received (also for an event id already received)."},
                      "default": {"description": "Anything else is retried with backoff."}},
    }}
    for event_type, label in EVENT_TYPES.items()
}
