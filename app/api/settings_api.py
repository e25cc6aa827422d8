"""API: who am I, branches, the global switch (the integrations are in integrations_api)."""

from __future__ import annotations

from flask import g, jsonify

from app.credit_switch import forget_credit_switch
from app.request_scope import after_commit, db_session
from app.services.core.errors import ValidationError
from app.services.settings import branches
from app.services.settings import switches as app_settings

from . import Capability, api_actor, bp, json_body, require
from .schemas import settings as sch
from .validation import schema


def branch_json(b) -> dict:
    return {"id": b.id, "name": b.name, "cnpj": b.cnpj, "state": b.state, "city": b.city, "active": b.active,
            "bureau_integration_id": b.bureau_integration_id}


@bp.get("/me")
@schema(ok=sch.MeOut)
def me():
    u = g.api_user
    token = g.api_token
    return jsonify({"id": u.id, "username": u.username, "name": u.name, "role": u.role,
                    "scopes": list(token.scopes or []),
                    "token_expires_at": token.expires_at.isoformat() if token.expires_at else None,
                    "credit_analysis_enabled": app_settings.credit_analysis_enabled(db_session())})


@bp.get("/branches")
@schema(ok=sch.BranchList)
def list_branches():
    return jsonify({"items": [branch_json(b) for b in branches.list_branches(db_session())], "next_cursor": None})


def _branch_input(data: dict) -> branches.BranchInput:
    fields = ("name", "cnpj", "street", "number", "complement", "district", "city", "state", "zip")
    integ = data.get("bureau_integration_id")
    return branches.BranchInput(**{f: str(data.get(f) or "") for f in fields}, active=bool(data.get("active", True)),
                                bureau_integration_id=int(integ) if integ not in (None, "") else None)


@bp.post("/branches")
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.BranchIn, ok=sch.BranchOut, status=201, errors=(403, 404, 409))
def create_branch():
    s = db_session()
    b = branches.save_branch(s, api_actor(), _branch_input(json_body()))
    return jsonify(branch_json(b)), 201


@bp.put("/branches/<int:branch_id>")
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.BranchIn, ok=sch.BranchOut, errors=(403, 404, 409))
def update_branch(branch_id: int):
    s = db_session()
    b = branches.save_branch(s, api_actor(), _branch_input(json_body()), branch_id=branch_id)
    return jsonify(branch_json(b))


@bp.get("/settings/credit-analysis")
@schema(ok=sch.SwitchOut)
def get_credit_analysis():
    return jsonify({"enabled": app_settings.credit_analysis_enabled(db_session())})


@bp.put("/settings/credit-analysis")
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.SwitchIn, ok=sch.SwitchOut, errors=(403,))
def put_credit_analysis():
    data = json_body()
    if not isinstance(data.get("enabled"), bool):
        raise ValidationError("Informe 'enabled' como true ou false.", field_errors={"enabled": "booleano"})
    s = db_session()
    app_settings.set_credit_analysis(s, api_actor(), data["enabled"])
    after_commit(forget_credit_switch)  # this process's pages show the change at once
    return jsonify({"enabled": data["enabled"]})

