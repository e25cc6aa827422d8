"""Wiring: builds the engine, the session factory and the adapters once per process.

The web app, the CLI and the scheduler each call bootstrap() with the same config and get the
same services; tests pass fakes (bureau_factory, commerce_factory) instead of the real adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.services.crypto import SecretBox

BureauFactory = Callable[[Any], Any]  # BureauIntegration -> CreditBureau


@dataclass
class Services:
    config: dict
    engine: Engine
    session_factory: sessionmaker[Session]
    box: SecretBox
    bureau_factory: BureauFactory
    extras: dict[str, Any] = field(default_factory=dict)

    def bureau_for(self, integration):
        return self.bureau_factory(integration)


def real_bureau_factory(config: dict, engine: Engine, box: SecretBox) -> BureauFactory:
    from app.services.bureau_tokens import DbTokenStore
    from integrations.credito_na_medida import CreditoNaMedidaClient

    def factory(integration):
        return CreditoNaMedidaClient(
            integration.base_url,
            integration.client_id,
            box.decrypt(integration.client_secret_encrypted),
            DbTokenStore(engine, box, integration.id),
            connect_timeout=config.get("BUREAU_CONNECT_TIMEOUT", 3.05),
            read_timeout=config.get("BUREAU_READ_TIMEOUT", 20),
            max_attempts=config.get("BUREAU_MAX_ATTEMPTS", 4),
        )

    return factory


def bootstrap(config: dict, *, engine: Engine | None = None, bureau_factory: BureauFactory | None = None,
              **extras: Any) -> Services:
    engine = engine or make_engine(config["DATABASE_URL"], echo=config.get("SQL_ECHO", False))
    box = SecretBox(config["ENCRYPTION_KEY"])
    factory = bureau_factory or config.get("BUREAU_FACTORY") or real_bureau_factory(config, engine, box)
    return Services(config=config, engine=engine, session_factory=make_session_factory(engine), box=box,
                    bureau_factory=factory, extras=dict(extras))
