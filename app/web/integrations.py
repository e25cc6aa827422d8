"""Settings > Integrações > Análise de crédito, and the global credit-analysis switch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.credit_switch import forget_credit_switch
from app.models import Branch, BureauIntegration
from app.services.settings import bureau_integrations as bureau_settings
from app.services.settings import switches as app_settings

from .common import Capability, actor, after_commit, db_session, requires, services
from .errors import on_error

bp = Blueprint("integrations", __name__, url_prefix="/configuracoes")


@bp.route("/parametros", methods=["GET", "POST"])
@requires(Capability.MANAGE_SETTINGS)
def parameters():
    s = db_session()
    if request.method == "POST":
        enabled = request.form.get("credit_analysis_enabled") == "sim"
        changed = app_settings.set_credit_analysis(s, actor(), enabled)
        after_commit(forget_credit_switch)  # this process's pages show the change at once
        if changed:
            flash("Parâmetro salvo: integração com análise de crédito "
                  + ("ativada." if enabled else "desativada. Botões e abas de análise de crédito foram ocultados."),
                  "success")
        return redirect(url_for("integrations.parameters"))
    return render_template("integrations/parameters.html",
                           enabled=app_settings.credit_analysis_enabled(s))


@bp.route("/integracoes")
@requires(Capability.MANAGE_SETTINGS)
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
    if isinstance(integration, int):
        integration = s.get(BureauIntegration, integration)
    linked = [] if integration is None else s.scalars(
        select(Branch).where(Branch.bureau_integration_id == integration.id)).all()
    return render_template(
        "integrations/form.html", integration=integration, data=data, errors=errors, linked=linked,
        environments=bureau_settings.ENVIRONMENTS, simulator_url=services().config["SIMULATOR_URL"],
        pf_options=_options(integration, "PF"),
        pj_options=_options(integration, "PJ"),
    )


def _form_data() -> dict:
    data = {k: v for k, v in request.form.items() if k not in {"client_secret", "csrf_token"}}
    data["auto_include_remove"] = request.form.get("auto_include_remove") == "sim"
    return data


@bp.route("/integracoes/nova", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _render_form(None, data, errors), posted=_form_data)
@requires(Capability.MANAGE_SETTINGS)
def new():
    if request.method == "POST":
        integration = bureau_settings.save_integration(
            db_session(), services().box, actor(), _input(), simulator_url=services().config["SIMULATOR_URL"])
        flash("Integração salva. Agora você pode buscar os códigos de restrição e testar a conexão.", "success")
        return redirect(url_for("integrations.edit", integration_id=integration.id))
    data = {"environment": "homologacao", "auto_include_remove": False, "name": "Crédito na Medida"}
    return _render_form(None, data, {})


@bp.route("/integracoes/<int:integration_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, integration_id: _render_form(integration_id, data, errors), posted=_form_data)
@requires(Capability.MANAGE_SETTINGS)
def edit(integration_id: int):
    integration = db_session().get(BureauIntegration, integration_id)
    if integration is None:
        flash("Integração não encontrada.", "warning")
        return redirect(url_for("integrations.index"))
    if request.method == "POST":
        bureau_settings.save_integration(db_session(), services().box, actor(), _input(),
                                         integration_id=integration_id,
                                         simulator_url=services().config["SIMULATOR_URL"])
        flash("Integração salva.", "success")
        return redirect(url_for("integrations.edit", integration_id=integration_id))
    data = {
        "name": integration.name, "environment": integration.environment, "base_url": integration.base_url,
        "client_id": integration.client_id, "auto_include_remove": integration.auto_include_remove,
        "restriction_code_pf": integration.restriction_code_pf or "",
        "restriction_code_pj": integration.restriction_code_pj or "",
    }
    return _render_form(integration, data, {})


@bp.route("/integracoes/<int:integration_id>/buscar-codigos", methods=["POST"])
@on_error(redirect="integrations.edit")
@requires(Capability.MANAGE_SETTINGS)
def fetch_codes(integration_id: int):
    fetched = bureau_settings.fetch_reasons(services(), actor(), integration_id)
    counts = {pt: sum(1 for r in fetched[pt] if r["kind"] == "inclusion") for pt in ("PF", "PJ")}
    flash(f"Códigos de restrição recebidos do bureau: {counts['PF']} para CPF e {counts['PJ']} para CNPJ. "
          "Escolha um de cada e salve.", "success")
    return redirect(url_for("integrations.edit", integration_id=integration_id))


@bp.route("/integracoes/<int:integration_id>/testar", methods=["POST"])
@on_error(redirect="integrations.edit")
@requires(Capability.MANAGE_SETTINGS)
def test(integration_id: int):
    report = bureau_settings.test_connection(services(), actor(), integration_id)
    flash(report.message, "success" if report.ok else "danger")
    return redirect(url_for("integrations.edit", integration_id=integration_id))


@bp.route("/integracoes/<int:integration_id>/excluir", methods=["POST"])
@on_error(redirect="integrations.index")
@requires(Capability.MANAGE_SETTINGS)
def delete(integration_id: int):
    bureau_settings.delete_integration(db_session(), actor(), integration_id)
    flash("Integração excluída.", "success")
    return redirect(url_for("integrations.index"))
