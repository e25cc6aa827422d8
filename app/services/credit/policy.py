"""Per-branch credit policy: PEN buying, tolerance, restore mode, installment terms, reservation
expiry, and the commerce platform (URL, HMAC secret, fields never overwritten)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from sqlalchemy.orm import Session

from app.models import Branch, CreditPolicy
from app.models.credit import (
    DEFAULT_RESERVATION_DAYS,
    DEFAULT_TERMS,
    PROTECTED_FIELD_LABELS,
    RestoreMode,
)
from app.services.core import audit
from app.services.core.crypto import SecretBox
from app.services.core.errors import NotFound, ValidationError
from app.services.credit.installments import normalize_term


def policy_for(session: Session, branch_id: int) -> CreditPolicy:
    """The branch's policy; a transient row with the defaults when it never saved one."""
    row = session.get(CreditPolicy, branch_id)
    if row is not None:
        return row
    return CreditPolicy(branch_id=branch_id, pen_can_buy_upfront=True, tolerance_enabled=False,
                        restore_mode=RestoreMode.PAYMENT.value, installment_terms=list(DEFAULT_TERMS),
                        reservation_business_days=DEFAULT_RESERVATION_DAYS, platform_url=None,
                        platform_secret_encrypted=None, protected_fields=[])


@dataclass(frozen=True)
class CreditPolicyInput:
    pen_can_buy_upfront: bool = True
    tolerance_enabled: bool = False
    restore_mode: str = RestoreMode.PAYMENT.value
    installment_terms: list[str] = field(default_factory=lambda: list(DEFAULT_TERMS))
    reservation_business_days: int | str = DEFAULT_RESERVATION_DAYS
    platform_url: str = ""
    platform_secret: str | None = None  # None or "" keeps the stored one
    clear_platform_secret: bool = False
    protected_fields: list[str] = field(default_factory=list)


def _snapshot(p: CreditPolicy) -> dict:
    return {
        "pen_can_buy_upfront": p.pen_can_buy_upfront, "tolerance_enabled": p.tolerance_enabled,
        "restore_mode": p.restore_mode, "installment_terms": ", ".join(p.installment_terms or []),
        "reservation_business_days": p.reservation_business_days, "platform_url": p.platform_url,
        "protected_fields": ", ".join(p.protected_fields or []),
    }


def save_policy(session: Session, box: SecretBox, actor: audit.Actor, branch_id: int, data: CreditPolicyInput
                ) -> CreditPolicy:
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    errors: dict[str, str] = {}
    if data.restore_mode not in {m.value for m in RestoreMode}:
        errors["restore_mode"] = "Escolha quando o limite é restaurado."
    terms: list[str] = []
    for raw in data.installment_terms:
        if not str(raw).strip():
            continue
        try:
            term = normalize_term(raw)
        except ValidationError as exc:
            errors["installment_terms"] = exc.message
            break
        if term not in terms:
            terms.append(term)
    if not terms and "installment_terms" not in errors:
        errors["installment_terms"] = "Informe ao menos um prazo (por exemplo 28 ou 30/60/90)."
    try:
        days = int(str(data.reservation_business_days).strip())
        if not 1 <= days <= 30:
            raise ValueError
    except ValueError:
        errors["reservation_business_days"] = "A validade da reserva deve ficar entre 1 e 30 dias úteis."
        days = DEFAULT_RESERVATION_DAYS
    url = (data.platform_url or "").strip()
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            errors["platform_url"] = "Informe a URL completa, por exemplo https://plataforma.exemplo.com.br/erp."
    unknown = [f for f in data.protected_fields if f not in PROTECTED_FIELD_LABELS]
    if unknown:
        errors["protected_fields"] = "Campo desconhecido: " + ", ".join(unknown)
    policy = session.get(CreditPolicy, branch_id)
    has_secret = bool(policy and policy.platform_secret_encrypted and not data.clear_platform_secret)
    if url and not (data.platform_secret or "").strip() and not has_secret:
        errors["platform_secret"] = "Informe o segredo HMAC combinado com a plataforma."
    if errors:
        raise ValidationError("Não foi possível salvar a política de crédito. Corrija os campos indicados.",
                              field_errors=errors)
    created = policy is None
    before = {} if created else _snapshot(policy)
    if created:
        policy = CreditPolicy(branch_id=branch_id)
        session.add(policy)
    policy.pen_can_buy_upfront = bool(data.pen_can_buy_upfront)
    policy.tolerance_enabled = bool(data.tolerance_enabled)
    policy.restore_mode = data.restore_mode
    policy.installment_terms = terms
    policy.reservation_business_days = days
    policy.platform_url = url or None
    secret_changed = False
    if (data.platform_secret or "").strip():
        policy.platform_secret_encrypted = box.encrypt(data.platform_secret.strip())
        secret_changed = True
    elif data.clear_platform_secret:
        policy.platform_secret_encrypted = None
        secret_changed = True
    policy.protected_fields = [f for f in PROTECTED_FIELD_LABELS if f in data.protected_fields]
    session.flush()
    changes = audit.diff(before, _snapshot(policy))
    if secret_changed:
        changes["platform_secret"] = "(alterado)"
    audit.record(session, actor, "settings.credit_policy", "credit_policy", branch_id, branch_id=branch_id,
                 summary=f"Política de crédito da filial '{branch.name}' {'criada' if created else 'alterada'}",
                 details={"changes": changes})
    return policy


def platform_secret(policy: CreditPolicy, box: SecretBox) -> str | None:
    return box.decrypt(policy.platform_secret_encrypted) if policy.platform_secret_encrypted else None
