"""Settings > Filiais."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch, BureauIntegration
from app.services.settings import branches as branch_service

from .common import Capability, actor, checkbox, db_session, form_id, requires
from .errors import on_error

bp = Blueprint("branches", __name__, url_prefix="/configuracoes/filiais")

FIELDS = ("name", "cnpj", "street", "number", "complement", "district", "city", "state", "zip")


def _integrations():
    return db_session().scalars(select(BureauIntegration).order_by(BureauIntegration.name)).all()


def _input() -> branch_service.BranchInput:
    return branch_service.BranchInput(
        **{f: request.form.get(f, "") for f in FIELDS},
        active=checkbox("active"),
        bureau_integration_id=form_id("bureau_integration_id"),
    )


def _form(branch_id: int | None, data, errors: dict[str, str]):
    branch = db_session().get(Branch, branch_id) if branch_id is not None else None
    return render_template("branches/form.html", branch=branch, data=data, errors=errors,
                           integration_options=[(i.id, i.name) for i in _integrations()])


@bp.route("/")
@requires(Capability.VIEW_BRANCHES)
def index():
    return render_template("branches/index.html", branches=branch_service.list_branches(db_session()))


@bp.route("/nova", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _form(None, data, errors))
@requires(Capability.MANAGE_SETTINGS)
def new():
    if request.method == "POST":
        branch = branch_service.save_branch(db_session(), actor(), _input())
        flash(f"Filial {branch.name} criada.", "success")
        return redirect(url_for("branches.index"))
    return _form(None, request.form, {})


@bp.route("/<int:branch_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, branch_id: _form(branch_id, data, errors))
@requires(Capability.MANAGE_SETTINGS)
def edit(branch_id: int):
    branch = db_session().get(Branch, branch_id)
    if branch is None:
        flash("Filial não encontrada.", "warning")
        return redirect(url_for("branches.index"))
    if request.method == "POST":
        branch_service.save_branch(db_session(), actor(), _input(), branch_id=branch_id)
        flash("Filial salva.", "success")
        return redirect(url_for("branches.index"))
    data = {f: getattr(branch, f) or "" for f in FIELDS} | {
        "active": branch.active, "bureau_integration_id": branch.bureau_integration_id}
    return _form(branch_id, data, {})


@bp.route("/<int:branch_id>/excluir", methods=["POST"])
@on_error(redirect="branches.index")
@requires(Capability.MANAGE_SETTINGS)
def delete(branch_id: int):
    branch_service.delete_branch(db_session(), actor(), branch_id)
    flash("Filial excluída.", "success")
    return redirect(url_for("branches.index"))
