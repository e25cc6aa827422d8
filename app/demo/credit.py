"""Demo credit: a credit policy per demo branch (terms 7, 28, 45, 30/60, 30/60/90, tolerance on,
the commerce platform simulator as the platform), and the platform's integration user and token.

The platform simulator (`python -m integrations.commerce`, started by `creditdesk demo` through
`platform_command`) posts a batch of new customers to the Matriz branch once the web app answers.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import select

from app.db import transaction
from app.models import Branch, CreditPolicy, User
from app.models.credit import DEFAULT_TERMS
from app.services.core.audit import Actor
from app.services.core.scopes import COMMERCE_SCOPES
from app.services.credit import policy as credit_policies
from app.services.settings import api_tokens, users
from integrations.commerce.simulator import DEMO_SECRET

from .core import DEMO_BRANCHES

PLATFORM_USER = "plataforma"
TOKEN_FILE = "commerce-token.txt"
DEMO_CUSTOMERS = 20


def commerce_port() -> int:
    return int(os.environ.get("COMMERCE_PORT", "5060"))


def platform_base_url() -> str:
    return f"http://127.0.0.1:{commerce_port()}"


def _cnpj(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).upper()


def platform_command(web_port: int, instance_dir: str) -> list[str]:
    """The demo's platform process: serves /updates and posts the demo customers to the Matriz."""
    import sys

    inbound = (f"http://127.0.0.1:{web_port}/api/v1/commerce/customers"
               f"?branch_cnpj={_cnpj(DEMO_BRANCHES[0].cnpj)}")
    return [sys.executable, "-m", "integrations.commerce", "--host", "127.0.0.1", "--port", str(commerce_port()),
            "--secret", DEMO_SECRET, "--push-to", inbound, "--token-file", str(Path(instance_dir) / TOKEN_FILE),
            "--push-count", str(DEMO_CUSTOMERS)]


def _write_private(path: Path, text: str) -> None:
    """Created 0600 from the start: never readable by others, not even for an instant."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)  # an older file may have been created with other permissions


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    base = (services.config.get("COMMERCE_SIMULATOR_URL") or platform_base_url()).rstrip("/")
    url = f"{base}/updates"
    token_path = Path(services.config["INSTANCE_DIR"]) / TOKEN_FILE
    with transaction(services.session_factory) as s:
        for data in DEMO_BRANCHES:
            branch = s.scalar(select(Branch).where(Branch.cnpj == _cnpj(data.cnpj)))
            if branch is None:
                continue
            policy = s.get(CreditPolicy, branch.id)
            if policy is None:
                credit_policies.save_policy(s, services.box, actor, branch.id, credit_policies.CreditPolicyInput(
                    pen_can_buy_upfront=True, tolerance_enabled=True, restore_mode="payment",
                    installment_terms=list(DEFAULT_TERMS), reservation_business_days=5, platform_url=url,
                    platform_secret=DEMO_SECRET, protected_fields=["phone", "address"]))
            elif policy.platform_url != url:  # the simulator's port may change between runs
                policy.platform_url = url
        user = s.scalar(select(User).where(User.username == PLATFORM_USER))
        if user is None:
            user = users.create_user(s, actor, username=PLATFORM_USER, name="Plataforma B2B (integração)",
                                     password=secrets.token_urlsafe(24), role="crm")
        current = token_path.read_text().strip() if token_path.exists() else ""
        token = api_tokens.token_for(s, current) if current else None
        if token is not None and list(token.scopes or []) != list(COMMERCE_SCOPES):
            # A token from before scopes existed can do everything the crm role can: replace it.
            api_tokens.revoke_api_token(s, actor, token.id)
            token = None
        if token is None:
            # The platform's own credential: only the commerce scopes (no personal data, no charged
            # consultations), whatever its user's role allows.
            _, clear = api_tokens.create_api_token(s, actor, user, "plataforma B2B (demo)", scopes=COMMERCE_SCOPES)
            token_path.parent.mkdir(parents=True, exist_ok=True)
            _write_private(token_path, clear + "\n")
    echo("")
    echo(f"Plataforma B2B (simulador): {base} — atualizações recebidas em {base}/received")
    echo(f"  token de integração em {token_path}")
