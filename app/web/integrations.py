"""Settings > Integrações > Análise de crédito, and the global switch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch, BureauIntegration
from app.services.core.errors import DomainError
from app.services.settings import bureau_integrations as bureau_settings
from app.services.settings import switches as app_settings

from .common import actor, db_session, flash_domain_error, roles_required, services

bp = Blueprint("integrations", __name__, url_prefix="/configuracoes")


@bp.route("/parametros", methods=["GET", "POST"])
@roles_required("admin")
def parameters():
    s = db_session()
    if request.method == "POST":
        enabled = request.form.get("credit_analysis_enabled") == "sim"
        if app_settings.set_credit_analysis(s, actor(), enabled):
            s.commit()
            flash("Parâmetro salvo: integração com análise de crédito "
                  + ("ativada." if enabled else "desativada. Botões e abas de análise de crédito foram ocultados."),
                  "success")
        return redirect(url_for("integrations.parameters"))
    return render_template("integrations/parameters.html",
                           enabled=app_settings.credit_analysis_enabled(s))


@bp.route("/integracoes")
@roles_required("admin")
def index():
    s = db_session()
    rows = s.scalars(select(BureauIntegration).order_by(BureauIntegration.name)).all()
    return render_template("integrations/index.html", integrations=rows)


def _input() -> bureau_settings.IntegrationInput:
    return bureau_settings.IntegrationInput(
        name=request.form.get("name", ""),
        environment=request.form.get("environment", ""),
        base_url=request.form.get("base_url", ""),
        client_id=request.form.get("client_id", ""),
        client_secret=request.form.get("client_secret") or None,
        auto_include_remove=request.form.get("auto_include_remove") == "sim",
        restriction_code_pf=request.form.get("restriction_code_pf"),
        restriction_code_pj=request.form.get("restriction_code_pj"),
    )


def _options(integration, person_type: str) -> list[tuple[str, str]]:
    if integration is None:
        return []
    codes = bureau_settings.inclusion_codes(integration, person_type)
    return [(code, f"{code} — {desc}") for code, desc in codes.items()]


def _render_form(integration, data, errors):
    s = db_session()
    linked = [] if integration is None else s.scalars(
        select(Branch).where(Branch.bureau_integration_id == integration.id)).all()
    return render_template(
        "integrations/form.html", integration=integration, data=data, errors=errors, linked=linked,
        environments=bureau_settings.ENVIRONMENTS, simulator_url=services().config["SIMULATOR_URL"],
        pf_options=_options(integration, "PF"),
        pj_options=_options(integration, "PJ"),
    )


@bp.route("/integracoes/nova", methods=["GET", "POST"])
@roles_required("admin")
def new():
    errors: dict[str, str] = {}
    data = {"environment": "homologacao", "auto_include_remove": False, "name": "Crédito na Medida"}
    if request.method == "POST":
        s = db_session()
        try:
            integration = bureau_settings.save_integration(
                s, services().box, actor(), _input(), simulator_url=services().config["SIMULATOR_URL"])
            s.commit()
            flash("Integração salva. Agora você pode buscar os códigos de restrição e testar a conexão.", "success")
            return redirect(url_for("integrations.edit", integration_id=integration.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = _form_data()
    return _render_form(None, data, errors)


def _form_data() -> dict:
    data = {k: v for k, v in request.form.items() if k not in {"client_secret", "csrf_token"}}
    data["auto_include_remove"] = request.form.get("auto_include_remove") == "sim"
    return data


@bp.route("/integracoes/<int:integration_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(integration_id: int):
    s = db_session()
    integration = s.get(BureauIntegration, integration_id)
    if integration is None:
        flash("Integração não encontrada.", "warning")
        return redirect(url_for("integrations.index"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            bureau_settings.save_integration(s, services().box, actor(), _input(), integration_id=integration_id,
                                             simulator_url=services().config["SIMULATOR_URL"])
            s.commit()
            flash("Integração salva.", "success")
            return redirect(url_for("integrations.edit", integration_id=integration_id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
            integration = s.get(BureauIntegration, integration_id)
        data = _form_data()
    else:
        data = {
            "name": integration.name, "environment": integration.environment, "base_url": integration.base_url,
            "client_id": integration.client_id, "auto_include_remove": integration.auto_include_remove,
            "restriction_code_pf": integration.restriction_code_pf or "",
            "restriction_code_pj": integration.restriction_code_pj or "",
        }
    return _render_form(integration, data, errors)


@bp.route("/integracoes/<int:integration_id>/buscar-codigos", methods=["POST"])
@roles_required("admin")
def fetch_codes(integration_id: int):
    try:
        fetched = bureau_settings.fetch_reasons(services(), actor(), integration_id)
        counts = {pt: sum(1 for r in fetched[pt] if r["kind"] == "inclusion") for pt in ("PF", "PJ")}
        flash(f"Códigos de restrição recebidos do bureau: {counts['PF']} para CPF e {counts['PJ']} para CNPJ. "
              "Escolha um de cada e salve.", "success")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("integrations.edit", integration_id=integration_id))


@bp.route("/integracoes/<int:integration_id>/testar", methods=["POST"])
@roles_required("admin")
def test(integration_id: int):
    try:
        report = bureau_settings.test_connection(services(), actor(), integration_id)
        flash(report.message, "success" if report.ok else "danger")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("integrations.edit", integration_id=integration_id))


@bp.route("/integracoes/<int:integration_id>/excluir", methods=["POST"])
@roles_required("admin")
def delete(integration_id: int):
    s = db_session()
    try:
        bureau_settings.delete_integration(s, actor(), integration_id)
        s.commit()
        flash("Integração excluída.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("integrations.index"))
