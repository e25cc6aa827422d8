"""Configurações › Filiais › <filial> › Política de consultas (admin): reuse window, monthly quota,
cost, retention and the thresholds of the suggested decision."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.models import Branch
from app.services.consultations import policy as policy_service
from app.services.consultations.consult import used_this_month
from app.services.consultations.rules import RISK_CLASSES
from app.services.core.clock import today_br

from .common import Capability, actor, db_session, requires
from .errors import on_error

bp = Blueprint("consultation_policy", __name__, url_prefix="/configuracoes/filiais")


def _form(branch_id: int, data, errors: dict[str, str]):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        abort(404)
    if data is None:
        data = policy_service.policy_as_form(policy_service.policy_for(s, branch.id))
    return render_template("consultation_policy/form.html", branch=branch, data=data, errors=errors,
                           risk_classes=RISK_CLASSES, used=used_this_month(s, branch.id, today_br()))


@bp.route("/<int:branch_id>/politica-de-consultas", methods=["GET", "POST"])
@on_error(form=lambda data, errors, branch_id: _form(branch_id, data, errors))
@requires(Capability.MANAGE_SETTINGS)
def edit(branch_id: int):
    branch = db_session().get(Branch, branch_id)
    if branch is None:
        abort(404)
    if request.method == "POST":
        values = policy_service.parse_policy(request.form)
        policy_service.save_policy(db_session(), actor(), branch.id, values)
        flash(f"Política de consultas da filial {branch.name} salva.", "success")
        return redirect(url_for("consultation_policy.edit", branch_id=branch.id))
    return _form(branch_id, None, {})
