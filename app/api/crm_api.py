"""API: leads, prospects and clients (CRUD, convert, contacts) and their credit consultations.

Roles: every role reads (a viewer sees masked documents); admin, finance and crm write and consult;
admin and finance apply decisions. Consultation routes answer 403 `credit_analysis_disabled` with the
global switch off.
"""

from __future__ import annotations

from flask import g, jsonify, request

from app.models import Consultation, Contact, Party
from app.request_scope import db_session, end_snapshot, services
from app.services.consultations.consult import consult_credit, history, retry_consultation
from app.services.consultations.decisions import apply_decision
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.core.permissions import sees_full_document
from app.services.crm import parties as party_service
from app.services.crm.search import PartyFilter, list_parties

from . import Capability, api_actor, bp, json_body, require, require_credit
from .schemas import crm as sch
from .validation import schema

KINDS = {"leads": "lead", "prospects": "prospect", "clients": "client"}
KIND_PATH = "<any(leads,prospects,clients):kind>"
PARTY_TEXT_FIELDS = tuple(f for f in party_service.party_input_fields() if f != "branch_id")


def _doc(value: str | None) -> str | None:
    """The whole number for roles that work with it; masked for read-only roles (LGPD)."""
    if not value or sees_full_document(g.api_user.role):
        return value
    try:
        return normalize_document(value).masked
    except InvalidDocument:
        return "***"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value) -> str | None:
    return None if value is None else str(value)


def party_json(p: Party) -> dict:
    return {
        "id": p.id, "stage": p.stage, "branch_id": p.branch_id, "name": p.name, "email": p.email,
        "document": _doc(p.document), "document_kind": p.document_kind,
        "state_registration": p.state_registration, "phone": p.phone, "mobile": p.mobile,
        "address": {f: getattr(p, f) for f in ("street", "number", "complement", "district", "city", "state",
                                                "zip")},
        "notes": p.notes, "status": p.status, "created_at": _iso(p.created_at),
        "became_prospect_at": _iso(p.became_prospect_at), "became_client_at": _iso(p.became_client_at),
    }


def contact_json(c: Contact) -> dict:
    return {"id": c.id, "party_id": c.party_id, "name": c.name, "role": c.role, "email": c.email,
            "phone": c.phone, "document": _doc(c.document), "document_kind": c.document_kind}


def consultation_json(c: Consultation) -> dict:
    report = None
    if c.has_report:
        report = {"name": c.subject_name, "register_name": c.register_name,
                  "name_differs_from_register": c.bureau_name_differs, "score": c.score, "risk_class": c.risk_class,
                  "restrictions": c.restrictions or [], "restrictions_total": _money(c.restrictions_total)}
    decision = None
    if c.decision_status:
        decision = {"status": c.decision_status, "credit_limit": _money(c.decision_limit),
                    "reason": c.decision_reason, "overrode_suggestion": c.decision_overrode,
                    "decided_by": c.decided_by, "decided_at": _iso(c.decided_at)}
    return {
        "id": c.id, "party_id": c.party_id, "contact_id": c.contact_id, "branch_id": c.branch_id,
        "status": c.status,
        "reused": c.status == "reused", "reused_from_id": c.reused_from_id, "retry_of_id": c.retry_of_id,
        "force_new": c.force_new, "purpose": c.purpose, "stage": c.stage, "origin": c.origin,
        "requested_by": c.actor, "requested_at": _iso(c.requested_at), "completed_at": _iso(c.completed_at),
        "document": _doc(c.document), "document_kind": c.document_kind, "protocol": c.protocol,
        "queried_at": _iso(c.queried_at), "report": report, "cost": _money(c.cost), "charged": c.charged,
        "error": {"code": c.error_code, "message": c.error_message} if c.status in ("failed", "uncertain") else None,
        "possibly_charged": c.status == "uncertain",
        "suggestion": {"status": c.suggested_status, "credit_limit": _money(c.suggested_limit),
                       "reasons": c.suggestion_reasons or []} if c.suggested_status else None,
        "decision": decision, "anonymised_at": _iso(c.anonymised_at),
    }


def _party_input(data: dict, current: Party | None = None) -> party_service.PartyInput:
    """JSON -> PartyInput; on update, fields left out keep their current value."""
    def value(name: str) -> str:
        if name in data:
            return "" if data[name] is None else str(data[name])
        address = data.get("address") if isinstance(data.get("address"), dict) else {}
        if name in address:
            return "" if address[name] is None else str(address[name])
        return (getattr(current, name) or "") if current is not None else ""

    branch = data.get("branch_id", current.branch_id if current is not None else None)
    if branch is not None and not isinstance(branch, int):
        raise ValidationError("Informe branch_id como número.", field_errors={"branch_id": "inteiro"})
    return party_service.PartyInput(branch_id=branch, **{f: value(f) for f in PARTY_TEXT_FIELDS})


def _int_arg(name: str) -> int | None:
    return as_id(request.args.get(name))


@bp.get(f"/{KIND_PATH}")
@schema(query=sch.PartiesQuery, ok=sch.PartyList)
def list_kind(kind: str):
    flt = PartyFilter(stage=KINDS[kind], q=request.args.get("q", ""), branch_id=_int_arg("branch_id"),
                      status=request.args.get("status") or None, sort=request.args.get("sort", "recent"))
    limit = min(200, max(1, _int_arg("limit") or 50))
    cursor = request.args.get("cursor") or request.args.get("after")  # after: the deprecated name
    page = list_parties(db_session(), flt, cursor=cursor, limit=limit)
    return jsonify({"items": [party_json(p) for p in page.items], "next_cursor": page.next_cursor})


@bp.post(f"/{KIND_PATH}")
@require(Capability.EDIT_PARTIES)
@schema(body=sch.PartyCreate, ok=sch.PartyOut, status=201, errors=(403, 404, 409))
def create_kind(kind: str):
    s = db_session()
    party = party_service.create_party(s, api_actor(), _party_input(json_body()), stage=KINDS[kind])
    return jsonify(party_json(party)), 201


@bp.get(f"/{KIND_PATH}/<int:party_id>")
@schema(ok=sch.PartyOut, errors=(404,))
def get_kind(kind: str, party_id: int):
    return jsonify(party_json(party_service.get_party(db_session(), party_id, stage=KINDS[kind])))


@bp.route(f"/{KIND_PATH}/<int:party_id>", methods=["PUT", "PATCH"])
@require(Capability.EDIT_PARTIES)
@schema(body=sch.PartyUpdate, ok=sch.PartyOut, errors=(403, 404, 409))
def update_kind(kind: str, party_id: int):
    s = db_session()
    current = party_service.get_party(s, party_id, stage=KINDS[kind])
    party = party_service.update_party(s, api_actor(), party_id, _party_input(json_body(), current))
    return jsonify(party_json(party))


@bp.delete(f"/{KIND_PATH}/<int:party_id>")
@require(Capability.EDIT_PARTIES)
@schema(ok=None, status=204, errors=(403, 404, 409))
def delete_kind(kind: str, party_id: int):
    s = db_session()
    party_service.get_party(s, party_id, stage=KINDS[kind])
    party_service.delete_party(s, api_actor(), party_id)
    return "", 204


@bp.post("/<any(leads,prospects):kind>/<int:party_id>/convert")
@require(Capability.EDIT_PARTIES)
@schema(ok=sch.PartyOut, errors=(403, 404, 409))
def convert_kind(kind: str, party_id: int):
    s = db_session()
    party_service.get_party(s, party_id, stage=KINDS[kind])
    party = party_service.convert(s, api_actor(), party_id)
    return jsonify(party_json(party))


def _contact_input(data: dict, current: Contact | None = None) -> party_service.ContactInput:
    fields = party_service.contact_input_fields()
    return party_service.ContactInput(**{
        f: ("" if data.get(f) is None else str(data[f])) if f in data
        else ((getattr(current, f) or "") if current is not None else "") for f in fields})


@bp.get("/parties/<int:party_id>/contacts")
@schema(ok=sch.ContactList, errors=(404,))
def list_contacts(party_id: int):
    party = party_service.get_party(db_session(), party_id)
    return jsonify({"items": [contact_json(c) for c in party.contacts], "next_cursor": None})


@bp.post("/parties/<int:party_id>/contacts")
@require(Capability.EDIT_PARTIES)
@schema(body=sch.ContactCreate, ok=sch.ContactOut, status=201, errors=(403, 404, 409))
def create_contact(party_id: int):
    s = db_session()
    contact = party_service.add_contact(s, api_actor(), party_id, _contact_input(json_body()))
    return jsonify(contact_json(contact)), 201


@bp.route("/parties/<int:party_id>/contacts/<int:contact_id>", methods=["PUT", "PATCH"])
@require(Capability.EDIT_PARTIES)
@schema(body=sch.ContactUpdate, ok=sch.ContactOut, errors=(403, 404, 409))
def update_contact(party_id: int, contact_id: int):
    s = db_session()
    current = party_service.get_contact(s, party_id, contact_id)
    contact = party_service.update_contact(s, api_actor(), party_id, contact_id,
                                           _contact_input(json_body(), current))
    return jsonify(contact_json(contact))


@bp.delete("/parties/<int:party_id>/contacts/<int:contact_id>")
@require(Capability.EDIT_PARTIES)
@schema(ok=None, status=204, errors=(403, 404, 409))
def delete_contact(party_id: int, contact_id: int):
    s = db_session()
    party_service.delete_contact(s, api_actor(), party_id, contact_id)
    return "", 204


def _fresh(consultation_id: int) -> Consultation:
    """Read after the service's own transactions: end this request's snapshot first (SQLite)."""
    end_snapshot()
    row = db_session().get(Consultation, consultation_id)
    if row is None:
        raise NotFound("Consulta não encontrada.")
    return row


@bp.get("/parties/<int:party_id>/consultations")
@require_credit
@schema(ok=sch.ConsultationList, errors=(403, 404))
def list_consultations(party_id: int):
    s = db_session()
    party_service.get_party(s, party_id)
    return jsonify({"items": [consultation_json(c) for c in history(s, party_id)], "next_cursor": None})


@bp.post("/parties/<int:party_id>/consultations")
@require_credit
@require(Capability.CONSULT)
@schema(body=sch.ConsultIn, ok=sch.ConsultationOut, status=201, more={200: sch.ConsultationOut},
        errors=(403, 404, 409, 424, 503), optional_body=True)
def create_consultation(party_id: int):
    data = json_body()
    contact_id = data.get("contact_id")
    if contact_id is not None and not isinstance(contact_id, int):
        raise ValidationError("Informe contact_id como número.", field_errors={"contact_id": "inteiro"})
    # A failed consultation (ConsultationFailed) answers 503/424 with its consultation_id (the error's details).
    outcome = consult_credit(services(), api_actor(), party_id, contact_id=contact_id,
                             purpose=str(data.get("purpose") or "cadastro"),
                             force_new=data.get("force_new") is True, origin="api",
                             confirm_possible_charge=data.get("confirm_possible_charge") is True)
    body = consultation_json(_fresh(outcome.consultation_id))
    body["message"] = outcome.message
    return jsonify(body), 200 if outcome.reused else 201


@bp.get("/consultations/<int:consultation_id>")
@require_credit
@schema(ok=sch.ConsultationOut, errors=(403, 404))
def get_consultation(consultation_id: int):
    return jsonify(consultation_json(_fresh(consultation_id)))


@bp.post("/consultations/<int:consultation_id>/retry")
@require_credit
@require(Capability.CONSULT)
@schema(ok=sch.ConsultationOut, status=201, more={200: sch.ConsultationOut}, errors=(403, 404, 409, 424, 503))
def retry(consultation_id: int):
    """Repeat a failed, uncertain or interrupted consultation. An uncertain one inside the reuse
    window needs `{"confirm_possible_charge": true}` (else 409 consultation_possible_charge)."""
    data = request.get_json(silent=True) or {}
    outcome = retry_consultation(services(), api_actor(), consultation_id,
                                 confirm_possible_charge=isinstance(data, dict)
                                 and data.get("confirm_possible_charge") is True)
    body = consultation_json(_fresh(outcome.consultation_id))
    body["message"] = outcome.message
    return jsonify(body), 200 if outcome.reused else 201


@bp.post("/consultations/<int:consultation_id>/decision")
@require_credit
@require(Capability.DECIDE_CREDIT)
@schema(body=sch.DecisionIn, ok=sch.ConsultationOut, errors=(403, 404, 409))
def decide(consultation_id: int):
    data = json_body()
    limit = data.get("credit_limit")
    s = db_session()
    row = apply_decision(s, api_actor(), consultation_id, status=str(data.get("status") or ""),
                         reason=str(data.get("reason") or ""),
                         credit_limit=None if limit is None else str(limit))
    return jsonify(consultation_json(row))
