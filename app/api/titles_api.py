"""API: titles (list, get, create, update, cancel, renegotiate, dispute, release a hold) and payments."""

from __future__ import annotations

from flask import jsonify, request

from app.models import Title
from app.request_scope import after_commit, db_session, services
from app.services.core.clock import today_br
from app.services.core.errors import ValidationError
from app.services.core.ids import as_id
from app.services.negativations import removal as neg_removal
from app.services.negativations.records import live_negativation_of
from app.services.titles import lifecycle as title_service
from app.services.titles import manual_removal
from app.services.titles import payments as payment_service

from . import Capability, api_actor, bp, json_body, require
from .schemas import titles as sch
from .validation import schema

WRITERS = ("admin", "finance")


def title_json(t: Title, today=None, negativation_id: int | None = None) -> dict:
    today = today or today_br()
    return {
        "id": t.id,
        "branch_id": t.branch_id,
        "party_id": t.party_id,
        "number": t.number,
        "description": t.description,
        "issue_date": t.issue_date.isoformat(),
        "due_date": t.due_date.isoformat(),
        "amount": str(t.amount),
        "amount_received": str(t.amount_received),
        "open_amount": str(t.open_amount),
        "status": t.status,
        "overdue": t.is_overdue(today),
        "days_overdue": t.days_overdue(today),
        "disputed": t.disputed,
        "dispute_reason": t.dispute_reason,
        "court_blocked": t.court_blocked,
        "payment_link": t.payment_link,
        "origin": t.origin,
        "paid_on": t.paid_on.isoformat() if t.paid_on else None,
        "negativation_id": negativation_id,
        "hold": None if t.hold_at is None else {"since": t.hold_at.isoformat(), "reason": t.hold_reason,
                                                 "negativation_id": t.hold_negativation_id},
    }


def payment_json(p) -> dict:
    return {
        "id": p.id,
        "title_id": p.title_id,
        "paid_on": p.paid_on.isoformat(),
        "amount": str(p.amount),
        "method": p.method,
        "reference": p.reference,
        "created_by": p.created_by,
    }


def _bool_arg(name: str) -> bool | None:
    return {"true": True, "false": False}.get(request.args.get(name, "").lower())


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    value = as_id(raw)
    if raw and value is None:
        raise ValidationError(f"'{name}' deve ser um número inteiro positivo.", field_errors={name: "inteiro"})
    return value


@bp.get("/titles")
@schema(query=sch.TitlesQuery, ok=sch.TitleList)
def list_titles():
    flt = title_service.TitleFilter(
        branch_id=_int_arg("branch_id"),
        party_id=_int_arg("party_id"),
        status=request.args.get("status") or None,
        overdue=_bool_arg("overdue"),
        aging=request.args.get("aging") or None,
        negativated=_bool_arg("negativated"),
        number=request.args.get("number") or None,
    )
    limit = min(500, _int_arg("limit") or 100)
    page = title_service.list_titles(
        db_session(),
        flt,
        today=today_br(),
        sort=request.args.get("sort", "due_date"),
        desc=request.args.get("order") == "desc",
        cursor=request.args.get("cursor"),
        limit=limit,
    )
    return jsonify(
        {
            "items": [title_json(t) | {"negativated": t.id in page.negativated} for t in page.items],
            "next_cursor": page.next_cursor,
        }
    )


def _get(title_id: int) -> Title:
    return title_service.get_title(db_session(), title_id)


@bp.get("/titles/<int:title_id>")
@schema(ok=sch.TitleDetail, errors=(404,))
def get_title(title_id: int):
    s = db_session()
    title = _get(title_id)
    live = live_negativation_of(s, title.id, for_update=False)
    return jsonify(
        title_json(title, negativation_id=live.id if live else None)
        | {"payments": [payment_json(p) for p in title.payments]}
    )


def _input(data: dict, origin: str = "api") -> title_service.TitleInput:
    party_id = data.get("party_id")
    branch_id = data.get("branch_id")
    return title_service.TitleInput(
        party_id=party_id if isinstance(party_id, int) else None,
        branch_id=branch_id if isinstance(branch_id, int) else None,
        number=str(data.get("number") or ""),
        issue_date=data.get("issue_date"),
        due_date=data.get("due_date"),
        amount=str(data.get("amount") if data.get("amount") is not None else ""),
        description=str(data.get("description") or ""),
        payment_link=str(data.get("payment_link") or ""),
        court_blocked=bool(data.get("court_blocked", False)),
        origin=origin,
    )


@bp.post("/titles")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.TitleCreate, ok=sch.TitleOut, status=201, errors=(403, 404, 409))
def create_title():
    s = db_session()
    title = title_service.create_title(s, api_actor(), _input(json_body()))
    return jsonify(title_json(title)), 201


@bp.put("/titles/<int:title_id>")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.TitleUpdate, ok=sch.TitleOut, errors=(403, 404, 409))
def update_title(title_id: int):
    s = db_session()
    title = _get(title_id)
    data = {
        "party_id": title.party_id,
        "branch_id": title.branch_id,
        "number": title.number,
        "issue_date": title.issue_date.isoformat(),
        "due_date": title.due_date.isoformat(),
        "amount": str(title.amount),
        "description": title.description,
        "payment_link": title.payment_link,
        "court_blocked": title.court_blocked,
    } | json_body()
    title = title_service.update_title(s, api_actor(), title_id, _input(data))
    return jsonify(title_json(title))


def _removals_after_commit(removal_ids: list[int]) -> list[dict]:
    """The outcomes of sending these removals right after the request commits (rule 9 (removal
    after full payment)): the list is filled then. Views return it inside a dict, which Flask
    serialises after the request scope committed, so the answer carries the outcomes."""
    sent: list[dict] = []
    if removal_ids:
        after_commit(lambda: sent.extend(
            {"negativation_id": o.negativation_id, "status": o.status, "message": o.message}
            for o in neg_removal.send_removals(services(), removal_ids)
        ))
    return sent


@bp.post("/titles/<int:title_id>/cancel")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.CancelIn, ok=sch.TitleWithRemovals, errors=(403, 404, 409), optional_body=True)
def cancel_title(title_id: int):
    s = db_session()
    removal = title_service.cancel_title(s, api_actor(), title_id, str(_optional_body().get("reason") or ""))
    return title_json(_get(title_id)) | {"removals": _removals_after_commit([removal] if removal else [])}


@bp.post("/titles/<int:title_id>/renegotiate")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.RenegotiateIn, ok=sch.TitleWithRemovals, errors=(403, 404, 409), optional_body=True)
def renegotiate_title(title_id: int):
    s = db_session()
    removal = title_service.renegotiate_title(
        s, api_actor(), title_id, str(_optional_body().get("note") or "")
    )
    return title_json(_get(title_id)) | {"removals": _removals_after_commit([removal] if removal else [])}


@bp.post("/titles/<int:title_id>/dispute")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.DisputeIn, ok=sch.TitleOut, errors=(403, 404, 409))
def dispute_title(title_id: int):
    data = json_body()
    s = db_session()
    title = title_service.set_dispute(
        s, api_actor(), title_id, bool(data.get("disputed", True)), str(data.get("reason") or "")
    )
    return jsonify(title_json(title))


@bp.post("/titles/<int:title_id>/release-hold")
@require(Capability.NEGATIVATE)
@schema(body=sch.ReleaseHoldIn, ok=sch.TitleOut, errors=(403, 404))
def release_hold(title_id: int):
    """Clear the "não negativar" hold a removal by hand left (rules 10 and 11); `reason` is required."""
    s = db_session()
    title = manual_removal.clear_hold(s, api_actor(), title_id, json_body()["reason"])
    return jsonify(title_json(title))


@bp.get("/titles/<int:title_id>/payments")
@schema(ok=sch.PaymentList, errors=(404,))
def list_payments(title_id: int):
    return jsonify({"items": [payment_json(p) for p in _get(title_id).payments], "next_cursor": None})


@bp.post("/titles/<int:title_id>/payments")
@require(Capability.MANAGE_TITLES)
@schema(body=sch.PaymentIn, ok=sch.PaymentResult, status=201, errors=(403, 404, 409))
def create_payment(title_id: int):
    data = json_body()
    s = db_session()
    result = payment_service.register_payment(
        s,
        api_actor(),
        title_id,
        str(data.get("amount") if data.get("amount") is not None else ""),
        data.get("paid_on"),
        method=data.get("method"),
        reference=data.get("reference"),
    )
    return {
        "payment": payment_json(result.payment),
        "title": title_json(result.title),
        "removals": _removals_after_commit(result.removal_ids),
    }, 201


def _optional_body() -> dict:
    data = request.get_json(silent=True) if request.data else None
    return data if isinstance(data, dict) else {}
