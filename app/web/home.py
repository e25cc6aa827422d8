"""The landing page after login."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select

from app.models import Branch, BureauIntegration, Party
from app.services.reconciliation.queries import attention_items

from .common import db_session

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    s = db_session()
    counts = {
        "branches": s.scalar(select(func.count(Branch.id))),
        "integrations": s.scalar(select(func.count(BureauIntegration.id))),
        "parties": s.scalar(select(func.count(Party.id))),
    }
    return render_template("home/index.html", counts=counts, attention=attention_items(s))


@bp.route("/healthz")
def healthz():
    db_session().execute(select(1))
    return {"status": "ok"}
