"""API: the bureau integrations, provisioned like the web form does (Configurações › Integrações).

Admin only, the same services and rules as the form (app/services/settings/bureau_integrations.py):
the client_secret is write-only (never returned, kept when omitted on edit); restriction codes can be
fetched only after the integration is saved, and automatic inclusion/removal needs one PF and one PJ
code among them; Produção needs an https URL. A failed bureau call answers 503 bureau_unavailable or
424 with a stable bureau_* code.
"""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.models import Branch, BureauIntegration
from app.request_scope import db_session, end_snapshot, services
from app.services.core.errors import NotFound
from app.services.settings import branches as branch_service
from app.services.settings import bureau_breaker as breaker
from app.services.settings import bureau_integrations as bureau_settings

from . import Capability, api_actor, bp, json_body, require
from .schemas import integrations as sch
from .validation import schema


def _iso(value):
    return value.isoformat() if value is not None else None


def integration_json(i: BureauIntegration) -> dict:
    """Never the secret nor the token: only whether a token is cached and until when."""
    state = breaker.read(db_session(), i.id)
    return {
        "id": i.id, "name": i.name, "provider": i.provider, "environment": i.environment, "base_url": i.base_url,
        "client_id": i.client_id, "auto_include_remove": i.auto_include_remove,
        "restriction_code_pf": i.restriction_code_pf, "restriction_code_pj": i.restriction_code_pj,
        "token_expires_at": _iso(i.token_expires_at),
        "codes_fetched_at": _iso(i.reasons_fetched_at),
        "last_test": {"at": _iso(i.last_test_at), "ok": i.last_test_ok, "message": i.last_test_message}
        if i.last_test_at else None,
        "branch_ids": sorted(b.id for b in i.branches),
        "breaker": {"state": state.state, "headline": state.headline, "opened_at": _iso(state.opened_at),
                    "next_probe_at": _iso(state.retry_at), "message": state.message}
        if state is not None and state.is_open else None,
    }


def _integration(integration_id: int) -> BureauIntegration:
    row = db_session().get(BureauIntegration, integration_id)
    if row is None:
        raise NotFound("Integração não encontrada.")
    return row


# What a create starts from; an edit starts from the stored row (fields left out keep their value).
_DEFAULTS = {"name": "", "provider": "credito_na_medida", "environment": "homologacao", "base_url": "",
             "client_id": "", "auto_include_remove": False, "restriction_code_pf": None, "restriction_code_pj": None}


def _input(data: dict, current: BureauIntegration | None) -> bureau_settings.IntegrationInput:
    """The body (already checked by its schema) over the current values; the rules are the service's."""
    values = {k: data.get(k, default if current is None else getattr(current, k)) for k, default in _DEFAULTS.items()}
    return bureau_settings.IntegrationInput(**values, client_secret=data.get("client_secret"))


def _fresh(integration_id: int) -> BureauIntegration:
    end_snapshot()  # the service committed in transactions of its own: read after them
    return _integration(integration_id)


@bp.get("/integrations")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.IntegrationList, errors=(403,))
def list_integrations():
    """List the bureau integrations (without secrets), each with its breaker state when open."""
    rows = db_session().scalars(select(BureauIntegration).order_by(BureauIntegration.id)).all()
    return jsonify({"items": [integration_json(i) for i in rows], "next_cursor": None})


@bp.post("/integrations")
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.IntegrationCreate, ok=sch.IntegrationOut, status=201, errors=(403,))
def create_integration():
    """Create an integration: name, environment (producao|homologacao), base_url (https in producao;
    blank in homologacao = the simulator), client_id, client_secret (required, write-only).
    auto_include_remove must be false until the codes are fetched. 201 with the integration."""
    s = db_session()
    row = bureau_settings.save_integration(s, services().box, api_actor(), _input(json_body(), None),
                                           simulator_url=services().config.get("SIMULATOR_URL"))
    return jsonify(integration_json(row)), 201


@bp.get("/integrations/<int:integration_id>")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.IntegrationOut, errors=(403, 404))
def get_integration(integration_id: int):
    """One integration (without its secret)."""
    return jsonify(integration_json(_integration(integration_id)))


@bp.route("/integrations/<int:integration_id>", methods=["PATCH", "PUT"])
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.IntegrationUpdate, ok=sch.IntegrationOut, errors=(403, 404))
def update_integration(integration_id: int):
    """Edit an integration; fields left out keep their value (client_secret too). Here automatic
    inclusion/removal is switched on with the PF and PJ codes ({"auto_include_remove": true,
    "restriction_code_pf": "12", "restriction_code_pj": "22"}), only among the fetched codes.
    New credentials close an open circuit breaker."""
    s = db_session()
    current = _integration(integration_id)
    row = bureau_settings.save_integration(s, services().box, api_actor(), _input(json_body(), current),
                                           integration_id=integration_id,
                                           simulator_url=services().config.get("SIMULATOR_URL"))
    return jsonify(integration_json(row))


@bp.delete("/integrations/<int:integration_id>")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=None, status=204, errors=(403, 404))
def delete_integration(integration_id: int):
    """Delete an integration that no branch uses (422 otherwise)."""
    s = db_session()
    bureau_settings.delete_integration(s, api_actor(), integration_id)
    return "", 204


@bp.get("/integrations/<int:integration_id>/restriction-codes")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.RestrictionCodesOut, errors=(403, 404))
def integration_codes(integration_id: int):
    """The restriction codes last fetched from the bureau, by person type (no bureau call)."""
    row = _integration(integration_id)
    return jsonify({"fetched_at": _iso(row.reasons_fetched_at), "codes": row.reasons_cache or {"PF": [], "PJ": []}})


@bp.post("/integrations/<int:integration_id>/restriction-codes")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.RestrictionCodesOut, errors=(403, 404, 424, 503))
def fetch_integration_codes(integration_id: int):
    """"Buscar códigos": fetch the PF and PJ restriction codes from the bureau and keep them on the
    integration. 503 bureau_unavailable / 424 bureau_* when the bureau call fails."""
    _integration(integration_id)
    codes = bureau_settings.fetch_reasons(services(), api_actor(), integration_id)
    return jsonify({"fetched_at": _iso(_fresh(integration_id).reasons_fetched_at), "codes": codes})


@bp.post("/integrations/<int:integration_id>/test")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.ConnectionTestOut, errors=(403, 404))
def test_integration(integration_id: int):
    """"Testar conexão": a new token and the PF codes. 200 with {"ok", "message", "error_code"}: a
    failed test is an answer, not an error. A success closes an open circuit breaker."""
    _integration(integration_id)
    report = bureau_settings.test_connection(services(), api_actor(), integration_id)
    return jsonify({"ok": report.ok, "message": report.message, "error_code": report.error_code,
                    "token_expires_at": _iso(report.token_expires_at), "reasons_count": report.reasons_count,
                    "integration": integration_json(_fresh(integration_id))})


def _branch_input(branch: Branch, integration_id: int | None) -> branch_service.BranchInput:
    fields = ("name", "cnpj", "street", "number", "complement", "district", "city", "state", "zip")
    return branch_service.BranchInput(**{f: getattr(branch, f) or "" for f in fields}, active=branch.active,
                                      bureau_integration_id=integration_id)


@bp.put("/integrations/<int:integration_id>/branches/<int:branch_id>")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.IntegrationOut, errors=(403, 404))
def link_branch(integration_id: int, branch_id: int):
    """Link a branch to this integration (the branch's negativations and consultations use it)."""
    s = db_session()
    _integration(integration_id)
    branch = s.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    branch_service.save_branch(s, api_actor(), _branch_input(branch, integration_id), branch_id=branch_id)
    s.flush()  # the answer shows the link; the request commits it
    return jsonify(integration_json(_integration(integration_id)))


@bp.delete("/integrations/<int:integration_id>/branches/<int:branch_id>")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.IntegrationOut, errors=(403, 404))
def unlink_branch(integration_id: int, branch_id: int):
    """Unlink a branch from this integration (it then has none)."""
    s = db_session()
    _integration(integration_id)
    branch = s.get(Branch, branch_id)
    if branch is None or branch.bureau_integration_id != integration_id:
        raise NotFound("Filial não vinculada a esta integração.")
    branch_service.save_branch(s, api_actor(), _branch_input(branch, None), branch_id=branch_id)
    s.flush()  # the answer shows the unlink; the request commits it
    return jsonify(integration_json(_integration(integration_id)))
