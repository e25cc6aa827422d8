"""Demo events: the Matriz sends every event type to the demo receiver, which
`creditdesk demo` starts (`receiver_command`) and which prints each event with its signature checked."""

from __future__ import annotations

import os
import sys

from sqlalchemy import select

from app.db import transaction
from app.models import Branch
from app.models.events import EventEndpoint
from app.services.core.audit import Actor
from app.services.events import endpoints
from app.services.events.catalog import EVENT_TYPES

from .core import DEMO_BRANCHES

RECEIVER_NAME = "Receptor de demonstração"
RECEIVER_SECRET = "whsec_demo-receptor-de-eventos-0001"  # demo only: the receiver is started with it


def receiver_port() -> int:
    # Beside the web port by default, so two demos on one machine do not collide.
    return int(os.environ.get("EVENTS_RECEIVER_PORT") or int(os.environ.get("PORT", "5000")) + 70)


def receiver_url() -> str:
    return f"http://127.0.0.1:{receiver_port()}/events"


def receiver_command() -> list[str]:
    return [sys.executable, "-m", "integrations.events_receiver", "--host", "127.0.0.1", "--port",
            str(receiver_port()), "--secret", RECEIVER_SECRET]


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    cnpj = "".join(c for c in DEMO_BRANCHES[0].cnpj if c.isalnum()).upper()
    with transaction(services.session_factory) as s:
        branch = s.scalar(select(Branch).where(Branch.cnpj == cnpj))
        if branch is None:
            return
        existing = s.scalar(select(EventEndpoint).where(EventEndpoint.branch_id == branch.id,
                                                        EventEndpoint.name == RECEIVER_NAME))
        if existing is None:
            endpoints.save_endpoint(s, services.box, actor, branch.id, endpoints.EndpointInput(
                name=RECEIVER_NAME, url=receiver_url(), event_types=list(EVENT_TYPES), full_documents=False,
                secret=RECEIVER_SECRET))
        elif existing.url != receiver_url():  # the port may change between runs
            existing.url = receiver_url()
    echo(f"Eventos: a filial {branch.name} envia todos os tipos a {receiver_url()} (o receptor imprime cada um).")
