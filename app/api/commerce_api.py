"""API: inbound customers from the commerce platform (XML) and the outbound queue.

POST /api/v1/commerce/customers?branch=<id> (or ?branch_cnpj=<cnpj>), body XML as described in
docs/commerce-xml.md, signed with the branch's platform secret (X-Timestamp, X-Signature), bearer
token with the commerce:inbound scope of a user with role admin, finance or crm. Answer: JSON with
the counts and, per customer, created / updated / refused with the reason.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from app.models import Branch
from app.request_scope import db_session, services
from app.services.commerce import customer_import, inbound_signature
from app.services.commerce import outbox as commerce_outbox
from app.services.commerce.customer_xml import BodyTooLarge
from app.services.core.documents import InvalidDocument, normalize_cnpj
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.core.privacy import document_for
from integrations.commerce.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

from . import Capability, api_actor, bp, error, require
from .pagination import make_cursor, read_cursor
from .schemas import commerce as sch
from .validation import schema

XML_TYPES = {"application/xml", "text/xml"}
DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024


def branch_from_request(session) -> int:
    """The branch is `?branch=<id>` or `?branch_cnpj=<cnpj>` (documented in docs/commerce-xml.md)."""
    raw_id = (request.args.get("branch") or "").strip()
    raw_cnpj = (request.args.get("branch_cnpj") or "").strip()
    if raw_id:
        branch_id = as_id(raw_id)
        if branch_id is None or session.get(Branch, branch_id) is None:
            raise NotFound("Filial não encontrada.")
        return branch_id
    if raw_cnpj:
        try:
            cnpj = normalize_cnpj(raw_cnpj).number
        except InvalidDocument as exc:
            raise ValidationError(exc.message, field_errors={"branch_cnpj": exc.message}) from exc
        branch_id = session.scalar(select(Branch.id).where(Branch.cnpj == cnpj))
        if branch_id is None:
            raise NotFound("Filial não encontrada.")
        return branch_id
    raise ValidationError("Informe a filial: ?branch=<id> ou ?branch_cnpj=<cnpj>.", code="branch_required")


@bp.post("/commerce/customers")
@require(Capability.IMPORT_CUSTOMERS)
@schema(query=sch.CustomersQuery, ok=sch.ImportOut, errors=(403, 404), raw_body=sch.XML_BODY)
def receive_customers():
    if request.mimetype not in XML_TYPES:
        return error(415, "unsupported_media_type", "Envie o XML com Content-Type application/xml.")
    max_bytes = int(current_app.config.get("COMMERCE_XML_MAX_BYTES", DEFAULT_MAX_XML_BYTES))
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(f"O XML excede o tamanho máximo de {max_bytes // (1024 * 1024)} MB por requisição; "
                           "divida o lote.")
    s = db_session()
    branch_id = branch_from_request(s)
    # Nothing is parsed before the signature over timestamp + body is proven (and not a replay).
    body = inbound_signature.verified_body(
        s, services().box, branch_id, request.stream, timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature=request.headers.get(SIGNATURE_HEADER), max_bytes=max_bytes,
        max_skew_s=int(current_app.config.get("COMMERCE_SIGNATURE_MAX_SKEW_S", 300)))
    # The signature is spent with the request's commit; the import writes in a transaction of its own
    # (on SQLite taking the lock first), so the request's read snapshot ends here.
    s.commit()
    with body:
        summary = customer_import.import_customers(s, api_actor(), body, branch_id, max_bytes=max_bytes)
    return jsonify({"created": summary.created, "updated": summary.updated, "refused": summary.refused,
                    "items": [item.as_dict() for item in summary.items]})


def update_json(u) -> dict:
    # The payload as sent carries the whole document; shown to a user it passes the privacy rule.
    payload = dict(u.payload or {})
    if "document" in payload:
        payload["document"] = document_for(g.api_user.role, payload["document"], formatted=False)
    return {"id": u.id, "party_id": u.party_id, "kind": u.kind, "status": u.status, "attempts": u.attempts,
            "next_attempt_at": u.next_attempt_at.isoformat(), "last_error": u.last_error,
            "sent_at": u.sent_at.isoformat() if u.sent_at else None, "payload": payload}


@bp.get("/commerce/updates")
@require(Capability.VIEW_CREDIT)
@schema(query=sch.UpdatesQuery, ok=sch.UpdateList, errors=(403,))
def list_updates():
    status = request.args.get("status") or None
    party = request.args.get("party_id", "")
    limit, offset = request.args.get("limit", 200, type=int), read_cursor(request.args.get("cursor")) or 0
    rows = commerce_outbox.list_updates(db_session(), status=status,
                                        party_id=as_id(party), limit=limit + 1,
                                        offset=offset)
    return jsonify({"items": [update_json(u) for u in rows[:limit]],
                    "next_cursor": make_cursor(offset + limit) if len(rows) > limit else None})


@bp.post("/commerce/updates/<int:update_id>/retry")
@require(Capability.MANAGE_CREDIT)
@schema(ok=sch.UpdateOut, errors=(403, 404, 409))
def retry_update(update_id: int):
    s = db_session()
    row = commerce_outbox.retry_update(s, api_actor(), update_id)
    return jsonify(update_json(row))
