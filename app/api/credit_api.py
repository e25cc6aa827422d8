"""API: purchase authorisation, reservations and settlement, credit accounts (limit, status, CSV).

Amounts are strings ("1234.56"); the schemas in app/api/schemas/credit.py refuse JSON numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from flask import Response, g, jsonify, request

from app.request_scope import db_session, services
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.core.privacy import document_for, sees_full_document
from app.services.credit import account_list as credit_account_list
from app.services.credit import accounts as credit_accounts
from app.services.credit import purchases

from . import Capability, api_actor, bp, require
from .pagination import make_cursor, read_cursor
from .schemas import credit as sch
from .validation import schema

READERS = ("admin", "finance", "crm", "viewer")
OPERATORS = ("admin", "finance", "crm")  # the platform's integration user is usually "crm"
MANAGERS = ("admin", "finance")


def body() -> dict:
    try:
        data = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationError("O corpo da requisição deve ser um objeto JSON.", code="invalid_json")
    return data


def _text(value) -> str:
    return "" if value is None else str(value)


def reservation_json(r) -> dict:
    return {
        "id": r.id, "branch_id": r.branch_id, "party_id": r.party_id, "order_ref": r.order_ref,
        "amount": str(r.amount), "status": r.status, "installment_term": r.installment_term,
        "expires_at": r.expires_at.isoformat(), "invoice_date": r.invoice_date.isoformat() if r.invoice_date else None,
        "titles": [title_json(t) for t in r.titles],
    }


def title_json(t) -> dict:
    return {"id": t.id, "number": t.number, "issue_date": t.issue_date.isoformat(),
            "due_date": t.due_date.isoformat(), "amount": str(t.amount), "open_amount": str(t.open_amount),
            "status": t.status}


def account_json(session, party) -> dict:
    summary = credit_accounts.summary_for(session, party)
    return {"party_id": party.id, "branch_id": party.branch_id,
            "document": document_for(g.api_user.role, party.document, formatted=False), "name": party.name,
            "external_id": party.external_id, "status": party.status, "limit": str(summary.limit),
            "tolerance_pct": str(summary.tolerance_pct), "tolerance_enabled": summary.tolerance_enabled,
            "used": str(summary.used), "reserved": str(summary.reserved), "available": str(summary.available)}


@bp.post("/credit/authorizations")
@require(Capability.AUTHORISE_PURCHASES)
@schema(body=sch.AuthorizeIn, ok=sch.AuthorizeOut, errors=(403, 404, 409))
def authorize():
    data = body()
    s = db_session()
    result = purchases.authorise(
        s, api_actor(), branch_id=_text(data.get("branch_id")), document=_text(data.get("document")),
        amount=data.get("amount"), method=_text(data.get("method")), order_ref=data.get("order_ref"),
        installment_term=data.get("installment_term"))
    out = {"approved": result.approved, "code": result.code, "message": result.message, "method": result.method,
           "amount": str(result.amount), "party_id": result.party_id, "customer_status": result.status,
           "available": None if result.available is None else str(result.available)}
    if result.reservation is not None:
        out["reservation"] = reservation_json(result.reservation)
    return jsonify(out)


@bp.get("/credit/reservations")
@require(Capability.READ)
@schema(query=sch.ReservationsQuery, ok=sch.ReservationList, errors=(403, 404))
def list_reservations():
    s = db_session()
    if request.args.get("order_ref") and as_id(request.args.get("branch_id")):
        return jsonify({"items": [reservation_json(purchases.find_reservation(
            s, int(request.args["branch_id"]), request.args["order_ref"]))], "next_cursor": None})
    branch = request.args.get("branch_id", "")
    limit, offset = request.args.get("limit", 200, type=int), read_cursor(request.args.get("cursor")) or 0
    rows = purchases.list_reservations(s, status=request.args.get("status") or None,
                                       branch_id=as_id(branch), limit=limit + 1,
                                       offset=offset)
    return jsonify({"items": [reservation_json(r) for r in rows[:limit]],
                    "next_cursor": make_cursor(offset + limit) if len(rows) > limit else None})


@bp.get("/credit/reservations/<int:reservation_id>")
@require(Capability.READ)
@schema(ok=sch.ReservationOut, errors=(403, 404))
def get_reservation(reservation_id: int):
    return jsonify(reservation_json(purchases.get_reservation(db_session(), reservation_id)))


@bp.patch("/credit/reservations/<int:reservation_id>")
@require(Capability.AUTHORISE_PURCHASES)
@schema(body=sch.AmountIn, ok=sch.ReservationOut, errors=(403, 404, 409))
def change_reservation(reservation_id: int):
    data = body()
    s = db_session()
    reservation = purchases.change_amount(s, api_actor(), reservation_id, data.get("amount"))
    return jsonify(reservation_json(reservation))


@bp.post("/credit/reservations/<int:reservation_id>/settle")
@require(Capability.AUTHORISE_PURCHASES)
@schema(body=sch.SettleIn, ok=sch.ReservationOut, errors=(403, 404, 409))
def settle_reservation(reservation_id: int):
    data = body()
    invoice_date = None
    if data.get("invoice_date"):
        try:
            invoice_date = dt.date.fromisoformat(str(data["invoice_date"]))
        except ValueError as exc:
            raise ValidationError("Data de faturamento inválida (use AAAA-MM-DD).",
                                  field_errors={"invoice_date": "Use AAAA-MM-DD."}) from exc
    s = db_session()
    purchases.settle(s, api_actor(), reservation_id, installment_term=data.get("installment_term"),
                     invoice_date=invoice_date)
    return jsonify(reservation_json(purchases.get_reservation(s, reservation_id)))


@bp.post("/credit/reservations/<int:reservation_id>/cancel")
@require(Capability.AUTHORISE_PURCHASES)
@schema(body=sch.ReasonIn, ok=sch.ReservationOut, errors=(403, 404, 409))
def cancel_reservation(reservation_id: int):
    data = body()
    s = db_session()
    reservation = purchases.cancel(s, api_actor(), reservation_id, _text(data.get("reason")))
    return jsonify(reservation_json(reservation))


def _party(session, party_id: int):
    from app.models import Party

    party = session.get(Party, party_id)
    if party is None:
        raise NotFound("Cliente não encontrado.")
    return party


@bp.get("/credit/accounts")
@require(Capability.READ)
@schema(query=sch.AccountsQuery, ok=sch.AccountList, errors=(403,))
def list_accounts():
    branch = request.args.get("branch_id", "")
    limit, offset = request.args.get("limit", 200, type=int), read_cursor(request.args.get("cursor")) or 0
    rows = credit_account_list.search_accounts(
        db_session(), q=request.args.get("q", ""), branch_id=as_id(branch),
        status=request.args.get("status") or None, sort=request.args.get("sort", "name"),
        descending=request.args.get("order") == "desc", limit=limit + 1, offset=offset)
    return jsonify({"items": [{"party_id": r.party_id, "name": r.name,
                               "document": document_for(g.api_user.role, r.document, formatted=False),
                               "status": r.status,
                               "branch": r.branch_name, "limit": str(r.limit), "used": str(r.used),
                               "available": str(r.available)} for r in rows[:limit]],
                    "next_cursor": make_cursor(offset + limit) if len(rows) > limit else None})


@bp.get("/credit/accounts/<int:party_id>")
@require(Capability.READ)
@schema(ok=sch.AccountOut, errors=(403, 404))
def get_account(party_id: int):
    s = db_session()
    return jsonify(account_json(s, _party(s, party_id)))


@bp.put("/credit/accounts/<int:party_id>/limit")
@require(Capability.MANAGE_CREDIT)
@schema(body=sch.LimitIn, ok=sch.AccountOut, errors=(403, 404, 409))
def put_limit(party_id: int):
    data = body()
    s = db_session()
    credit_accounts.set_limit(s, api_actor(), party_id, data.get("limit"), _text(data.get("reason")),
                              tolerance_pct=data.get("tolerance_pct"))
    return jsonify(account_json(s, _party(s, party_id)))


@bp.put("/credit/accounts/<int:party_id>/status")
@require(Capability.MANAGE_CREDIT)
@schema(body=sch.StatusIn, ok=sch.AccountOut, errors=(403, 404, 409))
def put_status(party_id: int):
    data = body()
    s = db_session()
    credit_accounts.set_status(s, api_actor(), party_id, _text(data.get("status")).upper(),
                               _text(data.get("reason")))
    return jsonify(account_json(s, _party(s, party_id)))


@bp.post("/credit/accounts/<int:party_id>/resend")
@require(Capability.MANAGE_CREDIT)
@schema(ok=sch.ResendOut, status=202, errors=(403, 404, 409))
def resend(party_id: int):
    s = db_session()
    row = credit_accounts.resend_limit(s, api_actor(), party_id)
    s.flush()  # the queued update's id, before the request commits it
    return jsonify({"update_id": row.id, "status": row.status}), 202


@bp.get("/credit/accounts.csv")
@require(Capability.READ)
@schema(query=sch.ExportQuery, errors=(403,), raw_answer=sch.CSV)
def export_accounts():
    branch = request.args.get("branch_id", "")
    rows = credit_account_list.export_csv_streamed(
        services().session_factory, branch_id=as_id(branch),
        status=request.args.get("status") or None, mask_documents=not sees_full_document(g.api_user.role))
    return Response(rows, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=contas-credito.csv"})


@bp.post("/credit/accounts/import")
@require(Capability.MANAGE_CREDIT)
@schema(query=sch.ImportQuery, ok=sch.ImportCsvOut, errors=(403,), raw_body=sch.CSV)
def import_accounts():
    branch = request.args.get("branch_id", "")
    s = db_session()
    lines = credit_account_list.import_csv(s, api_actor(), request.get_data(as_text=True),
                                           branch_id=as_id(branch),
                                           reason=request.args.get("reason", ""))
    return jsonify({"ok": sum(line.ok for line in lines), "errors": sum(not line.ok for line in lines),
                    "lines": [line.__dict__ for line in lines]})
