"""Wiring: builds the engine, the session factory and the adapters once per process.

The web app, the CLI and the scheduler each call bootstrap() with the same config and get the
same services; tests pass fakes (bureau_factory, commerce_factory) instead of the real adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.services.core.crypto import SecretBox

if TYPE_CHECKING:
    from app.models import BureauIntegration
    from integrations.bureau import CreditBureau
    from integrations.commerce import CommercePlatform

BureauFactory = Callable[["BureauIntegration"], "CreditBureau"]
CommerceFactory = Callable[[], "CommercePlatform"]


@dataclass
class Services:
    config: dict
    engine: Engine
    session_factory: sessionmaker[Session]
    box: SecretBox
    bureau_factory: BureauFactory
    commerce_factory: CommerceFactory
    extras: dict[str, Any] = field(default_factory=dict)
    _platform: CommercePlatform | None = field(default=None, repr=False)

    def bureau_for(self, integration: BureauIntegration) -> CreditBureau:
        """The integration's bureau behind its circuit breaker: while the breaker is open (credentials
        refused, or a long outage) every call is refused before it leaves."""
        from app.services.settings.bureau_breaker import guarded

        return guarded(self, integration, self.bureau_factory(integration))

    def commerce_platform(self) -> CommercePlatform:
        """The commerce platform adapter, built once per process (it keeps an HTTP session)."""
        if self._platform is None:
            self._platform = self.commerce_factory()
        return self._platform

    def events_sender(self):
        """The outbound events adapter, built once per process; tests put a fake in
        extras["events_sender"]."""
        if "events_sender" not in self.extras:
            from integrations.events.http_sender import HttpEventSender

            self.extras["events_sender"] = HttpEventSender(
                connect_timeout=float(self.config.get("EVENTS_CONNECT_TIMEOUT", 3.05)),
                read_timeout=float(self.config.get("EVENTS_READ_TIMEOUT", 10)))
        return self.extras["events_sender"]


def real_bureau_factory(config: dict, engine: Engine, box: SecretBox) -> BureauFactory:
    from app.services.settings.bureau_tokens import DbTokenStore
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


def real_commerce_factory(config: dict) -> CommerceFactory:
    def factory() -> CommercePlatform:
        from integrations.commerce.http_platform import HttpCommercePlatform

        return HttpCommercePlatform(connect_timeout=float(config.get("COMMERCE_CONNECT_TIMEOUT", 3.05)),
                                    read_timeout=float(config.get("COMMERCE_READ_TIMEOUT", 10)))

    return factory


def bootstrap(config: dict, *, engine: Engine | None = None, bureau_factory: BureauFactory | None = None,
              commerce_factory: CommerceFactory | None = None, **extras: Any) -> Services:
    engine = engine or make_engine(config["DATABASE_URL"], echo=config.get("SQL_ECHO", False),
                                   pool_size=config.get("DATABASE_POOL_SIZE", 10),
                                   max_overflow=config.get("DATABASE_MAX_OVERFLOW", 20))
    box = SecretBox(config["ENCRYPTION_KEY"])
    factory = bureau_factory or config.get("BUREAU_FACTORY") or real_bureau_factory(config, engine, box)
    commerce = commerce_factory or config.get("COMMERCE_FACTORY") or real_commerce_factory(config)
    session_factory = make_session_factory(engine)
    # The changes that owe an outbound event write it in their own transaction.
    from app.services.events.emit import install as install_events

    install_events(session_factory)
    return Services(config=config, engine=engine, session_factory=session_factory, box=box,
                    bureau_factory=factory, commerce_factory=commerce, extras=dict(extras))
