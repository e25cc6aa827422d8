"""Settings > Filiais."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch, BureauIntegration
from app.services.core.errors import DomainError
from app.services.settings import branches as branch_service

from .common import actor, checkbox, db_session, flash_domain_error, roles_required

bp = Blueprint("branches", __name__, url_prefix="/configuracoes/filiais")

FIELDS = ("name", "cnpj", "street", "number", "complement", "district", "city", "state", "zip")


def _integrations():
    return db_session().scalars(select(BureauIntegration).order_by(BureauIntegration.name)).all()


def _input() -> branch_service.BranchInput:
    raw = request.form.get("bureau_integration_id") or ""
    return branch_service.BranchInput(
        **{f: request.form.get(f, "") for f in FIELDS},
        active=checkbox("active"),
        bureau_integration_id=int(raw) if raw.isdigit() else None,
    )


@bp.route("/")
@roles_required("admin", "finance")
def index():
    return render_template("branches/index.html", branches=branch_service.list_branches(db_session()))


@bp.route("/nova", methods=["GET", "POST"])
@roles_required("admin")
def new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        s = db_session()
        try:
            branch = branch_service.save_branch(s, actor(), _input())
            s.commit()
            flash(f"Filial {branch.name} criada.", "success")
            return redirect(url_for("branches.index"))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
    return render_template("branches/form.html", branch=None, data=request.form, errors=errors,
                           integration_options=[(i.id, i.name) for i in _integrations()])


@bp.route("/<int:branch_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(branch_id: int):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        flash("Filial não encontrada.", "warning")
        return redirect(url_for("branches.index"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            branch_service.save_branch(s, actor(), _input(), branch_id=branch_id)
            s.commit()
            flash("Filial salva.", "success")
            return redirect(url_for("branches.index"))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = request.form
    else:
        data = {f: getattr(branch, f) or "" for f in FIELDS} | {
            "active": branch.active, "bureau_integration_id": branch.bureau_integration_id}
    return render_template("branches/form.html", branch=branch, data=data, errors=errors,
                           integration_options=[(i.id, i.name) for i in _integrations()])


@bp.route("/<int:branch_id>/excluir", methods=["POST"])
@roles_required("admin")
def delete(branch_id: int):
    s = db_session()
    try:
        branch_service.delete_branch(s, actor(), branch_id)
        s.commit()
        flash("Filial excluída.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("branches.index"))
