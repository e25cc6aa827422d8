"""Eventos: where each branch's events go (several endpoints per branch, each with its types), the
delivery log per endpoint, "reenviar" and "Enviar teste". Admin only."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch
from app.models.events import DELIVERY_STATUS_LABELS
from app.services.core.ids import as_id
from app.services.events import delivery as delivery_service
from app.services.events import endpoints as endpoint_service
from app.services.events.catalog import EVENT_TYPES

from .common import Capability, actor, checkbox, db_session, page_args, requires, services

bp = Blueprint("events", __name__, url_prefix="/eventos")


def _production() -> bool:
    return current_app.config.get("ENV_NAME") == "production"


@bp.route("/")
@requires(Capability.MANAGE_SETTINGS)
def index():
    s = db_session()
    rows = endpoint_service.list_endpoints(s)
    counts = delivery_service.status_counts(s, [e.id for e in rows])
    return render_template("events/index.html", endpoints=rows, counts=counts, event_types=EVENT_TYPES,
                           status_labels=DELIVERY_STATUS_LABELS)


def _form_input() -> endpoint_service.EndpointInput:
    return endpoint_service.EndpointInput(
        name=request.form.get("name", ""), url=request.form.get("url", ""),
        event_types=request.form.getlist("event_types"), full_documents=checkbox("full_documents"),
        active=checkbox("active"), secret=request.form.get("secret") or None)


@bp.route("/novo", methods=["GET", "POST"])
@bp.route("/<int:endpoint_id>/editar", methods=["GET", "POST"])
@requires(Capability.MANAGE_SETTINGS)
def edit(endpoint_id: int | None = None):
    s = db_session()
    endpoint = endpoint_service.get_endpoint(s, endpoint_id) if endpoint_id else None
    branches = s.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)).all()
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = _form_input()
        branch_id = as_id(request.form.get("branch_id"))  # none or not an id: "Escolha a filial."
        errors = endpoint_service.validate(data, production=_production())
        if branch_id is None:
            errors["branch_id"] = "Escolha a filial."
        if not errors:
            saved, secret = endpoint_service.save_endpoint(s, services().box, actor(), branch_id, data,
                                                           endpoint_id=endpoint_id, production=_production())
            if secret:
                flash(f"Destino salvo. Segredo HMAC (mostrado só agora, guarde-o no sistema receptor): {secret}",
                      "success")
            else:
                flash("Destino salvo.", "success")
            return redirect(url_for("events.endpoint", endpoint_id=saved.id))
        form = dict(request.form, event_types=data.event_types, full_documents=data.full_documents,
                    active=data.active, secret="")
    elif endpoint is not None:
        form = {"branch_id": endpoint.branch_id, "name": endpoint.name, "url": endpoint.url,
                "event_types": endpoint.event_types, "full_documents": endpoint.full_documents,
                "active": endpoint.active}
    else:
        form = {"event_types": list(EVENT_TYPES), "active": True, "branch_id": request.args.get("branch_id", "")}
    return render_template("events/form.html", endpoint=endpoint, data=form, errors=errors, branches=branches,
                           event_types=EVENT_TYPES, production=_production())


@bp.route("/<int:endpoint_id>")
@requires(Capability.MANAGE_SETTINGS)
def endpoint(endpoint_id: int):
    s = db_session()
    row = endpoint_service.get_endpoint(s, endpoint_id)
    page, size = page_args(50)
    status = request.args.get("status") if request.args.get("status") in DELIVERY_STATUS_LABELS else None
    rows = delivery_service.deliveries(s, endpoint_id, status=status, limit=size + 1, offset=(page - 1) * size)
    attempts = delivery_service.attempts_of(s, [d.id for d in rows[:size]])
    return render_template("events/endpoint.html", endpoint=row, deliveries=rows[:size], attempts=attempts,
                           has_next=len(rows) > size, page=page, args=request.args, status=status,
                           status_labels=DELIVERY_STATUS_LABELS, event_types=EVENT_TYPES,
                           counts=delivery_service.status_counts(s, [endpoint_id]).get(endpoint_id, {}))


@bp.route("/<int:endpoint_id>/testar", methods=["POST"])
@requires(Capability.MANAGE_SETTINGS)
def test(endpoint_id: int):
    outcome, row = delivery_service.send_test(services(), actor(), endpoint_id)
    if outcome == "delivered":
        flash(f"Entrega de teste recebida: HTTP {row.last_http_status}.", "success")
    else:
        flash(f"Entrega de teste falhou: {row.last_error}", "danger")
    return redirect(url_for("events.endpoint", endpoint_id=endpoint_id))


@bp.route("/<int:endpoint_id>/segredo", methods=["POST"])
@requires(Capability.MANAGE_SETTINGS)
def rotate(endpoint_id: int):
    s = db_session()
    secret = endpoint_service.rotate_secret(s, services().box, actor(), endpoint_id)
    flash(f"Novo segredo HMAC (mostrado só agora; as próximas entregas já o usam): {secret}", "success")
    return redirect(url_for("events.endpoint", endpoint_id=endpoint_id))


@bp.route("/entregas/<int:delivery_id>/reenviar", methods=["POST"])
@requires(Capability.MANAGE_SETTINGS)
def redeliver(delivery_id: int):
    s = db_session()
    row = delivery_service.redeliver(s, actor(), delivery_id)
    flash(f"Evento {row.event_id} recolocado na fila: o agendador o envia em alguns segundos.", "success")
    return redirect(url_for("events.endpoint", endpoint_id=row.endpoint_id))
