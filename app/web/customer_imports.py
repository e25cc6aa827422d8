"""Clientes da plataforma: upload a customer XML file (the CLI's streaming import, run in the
background with its progress on the page), each customer's result, and the imports history."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch
from app.services.commerce import import_jobs
from app.services.core.ids import as_id

from .common import Capability, actor, after_commit, db_session, requires, services
from .errors import on_error

bp = Blueprint("customer_imports", __name__, url_prefix="/credito/importacoes-de-clientes")


def _branches():
    return db_session().scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)).all()


def _page(data=None, errors=None):
    return render_template("credit/customer_imports.html", section="customer_imports", branches=_branches(),
                           rows=import_jobs.history(db_session()), form=data or {}, errors=errors or {})


@bp.route("/", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _page(dict(data), errors))
@requires(Capability.IMPORT_CUSTOMERS)
def index():
    if request.method == "GET":
        # "Enviar o arquivo de novo" on an interrupted import comes back with its branch chosen.
        return _page({"branch_id": request.args.get("branch_id", "")})
    upload = request.files.get("file")
    raw = request.form.get("branch_id", "")
    folder = Path(current_app.config["INSTANCE_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    # Streamed to disk, never held in memory: a platform export may be hundreds of megabytes.
    fd, path = tempfile.mkstemp(suffix=".xml", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        if upload is not None:
            upload.save(fh)
    size = os.path.getsize(path)
    try:
        row = import_jobs.start(db_session(), actor(), as_id(raw),
                                upload.filename if upload is not None else "", size)
    except Exception:
        Path(path).unlink(missing_ok=True)
        raise
    svc, who, import_id = services(), actor(), row.id
    # Kept under the row's own name until the import ends, so the scheduler can run it again if
    # this process dies mid-file (import_jobs.resume_stalled).
    import_jobs.keep_upload(current_app.config, import_id, path)
    # The row is committed first, so the page it redirects to (and the thread) find it.
    after_commit(lambda: import_jobs.run_in_background(svc, who, import_id))
    return redirect(url_for("customer_imports.detail", import_id=import_id))


@bp.route("/<int:import_id>/executar-de-novo", methods=["POST"])
@on_error(redirect="customer_imports.index")
@requires(Capability.IMPORT_CUSTOMERS)
def run_again(import_id: int):
    import_jobs.run_again(db_session(), current_app.config, import_id)
    svc, who = services(), actor()
    after_commit(lambda: import_jobs.run_in_background(svc, who, import_id))
    flash("Importação executada de novo com o arquivo guardado.", "success")
    return redirect(url_for("customer_imports.detail", import_id=import_id))


@bp.route("/<int:import_id>")
@on_error(redirect="customer_imports.index")
@requires(Capability.IMPORT_CUSTOMERS)
def detail(import_id: int):
    row = import_jobs.get(db_session(), import_id)
    return render_template("credit/customer_import.html", section="customer_imports", row=row,
                           labels=import_jobs.RESULT_LABELS,
                           can_run_again=import_jobs.can_run_again(current_app.config, row))


@bp.route("/<int:import_id>/progresso.json")
@on_error(redirect="customer_imports.index")
@requires(Capability.IMPORT_CUSTOMERS)
def progress(import_id: int):
    row = import_jobs.get(db_session(), import_id)
    return jsonify(status=row.status, percent=row.percent, created=row.created, updated=row.updated,
                   refused=row.refused)
