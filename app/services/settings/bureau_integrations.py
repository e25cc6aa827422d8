"""Per-branch Crédito na Medida integration settings, fetch of codes, connection test."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, BureauIntegration
from app.models.base import utcnow
from app.services.core import audit
from app.services.core.errors import NotFound, ValidationError
from app.services.settings import bureau_breaker as breaker
from app.services.settings.bureau_messages import call_failed, describe, failure_status
from integrations.bureau import BureauError

ENVIRONMENTS = {"producao": "Produção", "homologacao": "Homologação (simulador)"}
PROVIDERS = {"credito_na_medida": "Crédito na Medida"}


@dataclass(frozen=True)
class IntegrationInput:
    name: str
    environment: str
    base_url: str
    client_id: str
    client_secret: str | None  # None or "" on edit keeps the stored one
    auto_include_remove: bool
    restriction_code_pf: str | None = None
    restriction_code_pj: str | None = None
    provider: str = "credito_na_medida"


def _snapshot(i: BureauIntegration) -> dict:
    return {
        "name": i.name, "provider": i.provider, "environment": i.environment, "base_url": i.base_url,
        "client_id": i.client_id, "auto_include_remove": i.auto_include_remove,
        "restriction_code_pf": i.restriction_code_pf, "restriction_code_pj": i.restriction_code_pj,
    }


def inclusion_codes(integration: BureauIntegration, person_type: str) -> dict[str, str]:
    """Fetched inclusion reasons for PF or PJ: {code: description}."""
    items = (integration.reasons_cache or {}).get(person_type, [])
    return {r["code"]: r["description"] for r in items if r.get("kind", "inclusion") == "inclusion"}


def save_integration(
    session: Session, box, actor: audit.Actor, data: IntegrationInput, *, integration_id: int | None = None,
    simulator_url: str | None = None,
) -> BureauIntegration:
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "Informe um nome para a integração."
    if data.provider not in PROVIDERS:
        errors["provider"] = "Provedor não suportado."
    if data.environment not in ENVIRONMENTS:
        errors["environment"] = "Escolha Produção ou Homologação."
    base_url = (data.base_url or "").strip().rstrip("/")
    if not base_url and data.environment == "homologacao" and simulator_url:
        base_url = simulator_url.rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        errors["base_url"] = "Informe a URL base completa, por exemplo https://api.exemplo.com.br."
    elif data.environment == "producao" and parsed.scheme != "https":
        errors["base_url"] = "Em produção a URL do bureau deve usar https."
    client_id = (data.client_id or "").strip()
    if not client_id:
        errors["client_id"] = "Informe o client_id fornecido pelo Crédito na Medida."
    integration = None
    if integration_id is not None:
        integration = session.get(BureauIntegration, integration_id)
        if integration is None:
            raise NotFound("Integração não encontrada.")
    if integration is None and not (data.client_secret or "").strip():
        errors["client_secret"] = "Informe o client_secret fornecido pelo Crédito na Medida."
    pf = (data.restriction_code_pf or "").strip() or None
    pj = (data.restriction_code_pj or "").strip() or None
    if data.auto_include_remove:
        # Codes come from the bureau, so they can be fetched only after the integration is saved (the
        # ISP back-offices this replaces work the same way); then one PF and one PJ code is required.
        if integration is None or not integration.reasons_cache:
            errors["auto_include_remove"] = (
                "Salve a integração com 'Incluir/Remover automaticamente' = Não, clique em "
                "'Buscar códigos' e depois ative a opção escolhendo os códigos."
            )
        else:
            if pf not in inclusion_codes(integration, "PF"):
                errors["restriction_code_pf"] = "Selecione o código de restrição para pessoa física (CPF)."
            if pj not in inclusion_codes(integration, "PJ"):
                errors["restriction_code_pj"] = "Selecione o código de restrição para pessoa jurídica (CNPJ)."
    if errors:
        raise ValidationError("Não foi possível salvar a integração. Corrija os campos indicados.",
                              field_errors=errors)

    created = integration is None
    if created:
        integration = BureauIntegration(client_secret_encrypted="")
        session.add(integration)
        before: dict = {}
    else:
        before = _snapshot(integration)
    credentials_changed = created or (
        integration.base_url != base_url or integration.client_id != client_id or bool(data.client_secret)
    )
    integration.name = name
    integration.provider = data.provider
    integration.environment = data.environment
    integration.base_url = base_url
    integration.client_id = client_id
    if (data.client_secret or "").strip():
        integration.client_secret_encrypted = box.encrypt(data.client_secret.strip())
    integration.auto_include_remove = data.auto_include_remove
    integration.restriction_code_pf = pf
    integration.restriction_code_pj = pj
    reopened = False
    if credentials_changed:
        # A token from other credentials must never be reused.
        integration.access_token_encrypted = None
        integration.token_expires_at = None
        integration.token_issued_at = None
        # New credentials close the breaker: the next call (and the outbox's pending rows) try them.
        reopened = integration.breaker_state is not None
        integration.token_refused_at = integration.token_refusal_message = None
        integration.breaker_state = integration.breaker_opened_at = integration.breaker_retry_at = None
        integration.breaker_message = integration.outage_since = None
        integration.breaker_probes = integration.outage_failures = 0
    session.flush()
    changes = audit.diff(before, _snapshot(integration))
    if data.client_secret:
        changes["client_secret"] = "(alterado)"
    if reopened:
        changes["breaker"] = "chamadas ao bureau retomadas com as novas credenciais"
    audit.record(
        session, actor, "integration.create" if created else "integration.update", "bureau_integration",
        integration.id, summary=f"Integração '{name}' {'criada' if created else 'alterada'}",
        details={"changes": changes},
    )
    return integration


def delete_integration(session: Session, actor: audit.Actor, integration_id: int) -> None:
    integration = session.get(BureauIntegration, integration_id)
    if integration is None:
        raise NotFound("Integração não encontrada.")
    linked = session.scalars(select(Branch.name).where(Branch.bureau_integration_id == integration_id)).all()
    if linked:
        raise ValidationError(f"A integração está vinculada às filiais: {', '.join(linked)}. Desvincule antes.")
    audit.record(session, actor, "integration.delete", "bureau_integration", integration.id,
                 summary=f"Integração '{integration.name}' excluída")
    session.delete(integration)


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    message: str
    token_expires_at: object = None
    reasons_count: int = 0
    error_code: str | None = None  # the stable bureau_* code of the failure (API)


def fetch_reasons(services, actor: audit.Actor, integration_id: int) -> dict[str, list[dict]]:
    """Fetch restriction codes for PF and PJ from the bureau and keep them on the integration.

    No transaction is held open across the bureau calls (docs/developing.md, convention 4).
    """
    with transaction(services.session_factory) as s:
        integration = s.get(BureauIntegration, integration_id)
        if integration is None:
            raise NotFound("Integração não encontrada.")
        bureau = services.bureau_for(integration)
    try:
        fetched = {
            pt: [{"code": r.code, "description": r.description, "kind": r.kind}
                 for r in bureau.restriction_reasons(pt)]
            for pt in ("PF", "PJ")
        }
    except BureauError as exc:
        raise call_failed("Não foi possível buscar os códigos.", exc) from exc
    with transaction(services.session_factory) as s:
        integration = s.get(BureauIntegration, integration_id)
        integration.reasons_cache = fetched
        integration.reasons_fetched_at = utcnow()
        audit.record(s, actor, "integration.fetch_codes", "bureau_integration", integration_id,
                     summary=f"Códigos de restrição buscados ({len(fetched['PF'])} PF, {len(fetched['PJ'])} PJ)")
    return fetched


def test_connection(services, actor: audit.Actor, integration_id: int) -> ConnectionReport:
    """Get a token and the reasons list; say plainly whether it worked and why not.

    The operator's explicit check goes past the circuit breaker (it is how an open one is closed
    after fixing the credentials): a success closes it, a refusal of the credentials opens it."""
    with transaction(services.session_factory) as s:
        integration = s.get(BureauIntegration, integration_id)
        if integration is None:
            raise NotFound("Integração não encontrada.")
        bureau = services.bureau_factory(integration)
    failure: BureauError | None = None
    try:
        # A cached token proves nothing about credentials just edited: always ask for a new one.
        token = bureau.get_token(force_refresh=True)
        reasons = bureau.restriction_reasons("PF")
        report = ConnectionReport(True, f"Conexão bem-sucedida: token obtido e {len(reasons)} códigos de "
                                        "restrição recebidos.", token.expires_at, len(reasons))
    except BureauError as exc:
        failure = exc
        report = ConnectionReport(False, "Falha na conexão. " + describe(exc), error_code=failure_status(exc)[1])
    if failure is not None and breaker.failure_kind(failure) == breaker.CREDENTIALS:
        breaker.record_failure(services, integration_id, breaker.CREDENTIALS, failure)
    with transaction(services.session_factory) as s:
        if report.ok:
            breaker.close_in(s, integration_id, actor, "Testar conexão bem-sucedido")
        integration = s.get(BureauIntegration, integration_id)
        integration.last_test_at = utcnow()
        integration.last_test_ok = report.ok
        integration.last_test_message = report.message[:500]
        audit.record(s, actor, "integration.test", "bureau_integration", integration_id,
                     summary=("Teste de conexão OK" if report.ok else "Teste de conexão falhou"),
                     details={"ok": report.ok, "message": report.message})
    return report
