"""The landing page after login."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import login_required
from sqlalchemy import func, select

from app.models import Branch, BureauIntegration, Party
from app.services.collections.attention import attention_today
from app.services.core.clock import today_br
from app.services.reconciliation.queries import attention_items

from .common import Capability, can, credit_enabled, db_session

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
    return render_template("home/index.html", counts=counts, attention=_attention(),
                           divergences=attention_items(s))


def _attention():
    """Per branch, what needs a person today, each line with the link to its filtered list."""
    if not can(Capability.READ) or not credit_enabled():
        return []
    groups = attention_today(db_session(), today_br())
    for group in groups:
        for line in group.lines:
            line.filters["branch_id"] = group.branch_id
    return groups


ATTENTION_LINKS = {
    "removals_late": "negativations.index", "removals_near": "negativations.index",
    "pending": "negativations.index", "error": "negativations.index", "runs": "collections.runs",
    "deliveries": "credit_admin.deliveries",
}


@bp.app_template_global()
def attention_url(line, branch_id: int) -> str:
    if line.kind == "quota":
        return url_for("consultation_policy.edit", branch_id=branch_id)
    return url_for(ATTENTION_LINKS[line.kind], **line.filters)


@bp.route("/healthz")
def healthz():
    db_session().execute(select(1))
    return {"status": "ok"}
