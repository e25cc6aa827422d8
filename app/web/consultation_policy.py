"""Configurações › Filiais › <filial> › Política de consultas (admin): reuse window, monthly quota,
cost, retention and the thresholds of the suggested decision."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.models import Branch
from app.services.consultations import policy as policy_service
from app.services.consultations.consult import used_this_month
from app.services.consultations.rules import RISK_CLASSES
from app.services.core.clock import today_br
from app.services.core.errors import DomainError

from .common import actor, db_session, flash_domain_error, roles_required

bp = Blueprint("consultation_policy", __name__, url_prefix="/configuracoes/filiais")


@bp.route("/<int:branch_id>/politica-de-consultas", methods=["GET", "POST"])
@roles_required("admin")
def edit(branch_id: int):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            values = policy_service.parse_policy(request.form)
            policy_service.save_policy(s, actor(), branch.id, values)
            s.commit()
            flash(f"Política de consultas da filial {branch.name} salva.", "success")
            return redirect(url_for("consultation_policy.edit", branch_id=branch.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = request.form
    else:
        data = policy_service.policy_as_form(policy_service.policy_for(s, branch.id))
    return render_template("consultation_policy/form.html", branch=branch, data=data, errors=errors,
                           risk_classes=RISK_CLASSES, used=used_this_month(s, branch.id, today_br()))
