"""Global settings, starting with the credit-analysis switch (off: every credit-analysis screen goes)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import AppSetting
from app.services.core import audit
from app.services.core.errors import CreditAnalysisDisabled

CREDIT_ANALYSIS = "credit_analysis_enabled"


def credit_analysis_enabled(session: Session) -> bool:
    row = session.get(AppSetting, CREDIT_ANALYSIS)
    # On by default: a new install that configured an integration expects the buttons.
    return True if row is None else bool(row.value.get("enabled", True))


def require_credit_analysis(session: Session) -> None:
    if not credit_analysis_enabled(session):
        raise CreditAnalysisDisabled()


def set_credit_analysis(session: Session, actor: audit.Actor, enabled: bool) -> bool:
    """Turn the global switch on/off; returns True when it changed."""
    before = credit_analysis_enabled(session)
    row = session.get(AppSetting, CREDIT_ANALYSIS)
    if row is None:
        row = AppSetting(key=CREDIT_ANALYSIS, value={"enabled": enabled})
        session.add(row)
    else:
        row.value = {"enabled": enabled}
    if before != enabled:
        audit.record(
            session, actor, "settings.credit_analysis", "app_setting", CREDIT_ANALYSIS,
            summary=f"Integração com análise de crédito {'ativada' if enabled else 'desativada'}",
            details={"enabled": [before, enabled]},
        )
    return before != enabled
