"""An open circuit breaker is shown where people look: the home page, the collections dashboard and
the integration's page ("Credenciais recusadas pelo bureau em dd/mm hh:mm")."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from app.services.settings.bureau_breaker import BreakerState, open_breakers

from .common import db_session


def register_bureau_alerts(app: Flask) -> None:
    @app.template_global()
    def bureau_alerts(integration_id: int | None = None) -> list[BreakerState]:
        """Open breakers (of one integration, or all) for templates/_bureau_alerts.html."""
        if not current_user.is_authenticated:
            return []
        return [b for b in open_breakers(db_session()) if integration_id is None or b.integration_id == integration_id]
