"""Demo core: two branches, an integration per branch pointing at the simulator, four users."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import select

from app.db import transaction
from app.models import Branch, BureauIntegration, User
from app.services.core.audit import Actor
from app.services.settings import branches, users
from app.services.settings import bureau_integrations as bureau_settings
from app.services.settings import switches as app_settings

DEMO_USERS = [
    ("admin", "Ana Administradora", "admin"),
    ("financeiro", "Fábio Financeiro", "finance"),
    ("crm", "Carla CRM", "crm"),
    ("leitura", "Lia Leitura", "viewer"),
]
DEMO_BRANCHES = [
    branches.BranchInput(name="Provedor Demo — Matriz", cnpj="11.222.333/0001-81", street="Av. Paulista",
                         number="1000", district="Bela Vista", city="São Paulo", state="SP", zip="01310-100"),
    branches.BranchInput(name="Provedor Demo — Filial Rio", cnpj="12.ABC.345/01DE-35", street="Rua da Assembleia",
                         number="10", district="Centro", city="Rio de Janeiro", state="RJ", zip="20011-000"),
]
SIM_CLIENT_ID, SIM_CLIENT_SECRET = "demo-client", "demo-secret"


def _credentials_file(services) -> Path:
    return Path(services.config["INSTANCE_DIR"]) / "demo-credentials.txt"


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    path = _credentials_file(services)
    with transaction(services.session_factory) as s:
        created_users = []
        for username, name, role in DEMO_USERS:
            if s.scalar(select(User.id).where(User.username == username)) is None:
                # 16 random characters (96 bits): well above the password policy's strength estimate.
                password = secrets.token_urlsafe(12)
                users.create_user(s, actor, username=username, name=name, password=password, role=role)
                created_users.append((username, role, password))
        if created_users:
            path.parent.mkdir(parents=True, exist_ok=True)
            # 0600 from creation: the file holds clear passwords.
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a") as fh:
                for username, role, password in created_users:
                    fh.write(f"{username}\t{role}\t{password}\n")
            path.chmod(0o600)
        for data in DEMO_BRANCHES:
            digits = "".join(c for c in data.cnpj if c.isalnum()).upper()
            if s.scalar(select(Branch.id).where(Branch.cnpj == digits)) is not None:
                continue
            integration = bureau_settings.save_integration(
                s, services.box, actor,
                bureau_settings.IntegrationInput(
                    name=f"Crédito na Medida — {data.name.split('—')[-1].strip()}", environment="homologacao",
                    base_url=services.config["SIMULATOR_URL"], client_id=SIM_CLIENT_ID,
                    client_secret=SIM_CLIENT_SECRET, auto_include_remove=False),
            )
            branches.save_branch(s, actor, branches.BranchInput(**{**data.__dict__,
                                                                   "bureau_integration_id": integration.id}))
        # The simulator's URL follows SIMULATOR_URL (PORT/SIMULATOR_PORT may change between runs).
        for integration in s.scalars(select(BureauIntegration).where(
                BureauIntegration.client_id == SIM_CLIENT_ID, BureauIntegration.environment == "homologacao")):
            if integration.base_url != services.config["SIMULATOR_URL"]:
                integration.base_url = services.config["SIMULATOR_URL"]
                integration.access_token_encrypted = None
                integration.token_expires_at = None
        if s.get(app_settings.AppSetting, app_settings.CREDIT_ANALYSIS) is None:
            app_settings.set_credit_analysis(s, actor, True)
    echo("")
    echo("Usuários de demonstração (login / perfil / senha):")
    for line in path.read_text().splitlines():
        echo("  " + "  ".join(line.split("\t")))
    echo(f"(guardados em {path})")
