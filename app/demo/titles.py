"""Demo titles: two clients of the first demo branch with full addresses and valid CPFs, and titles
overdue by 10, 59, 60 and 120 days, one paid, one cancelled, one disputed and one over five years,
relative to the day the demo is first seeded. Idempotent: clients are found by document, titles by
number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.db import transaction
from app.models import Branch, Party, Title
from app.services.core.audit import Actor
from app.services.core.clock import now_utc, today_br
from app.services.titles import lifecycle as titles
from app.services.titles import payments

CLIENTS = [
    (
        "52998224725",
        "Roberta Demo Negativação",
        "roberta.demo@example.com",
        ("Rua Augusta", "1500", "Apto 31", "Consolação", "São Paulo", "SP", "01304001"),
    ),
    (
        "11144477735",
        "Paulo Demo Cobrança",
        "paulo.demo@example.com",
        ("Rua Vergueiro", "800", "", "Liberdade", "São Paulo", "SP", "01504000"),
    ),
]
# (client index, number suffix, days overdue, amount, what happens to it)
TITLES = [
    (0, "010", 10, "89.90", None),
    (0, "059", 59, "89.90", None),
    (0, "060", 60, "99.90", None),
    (0, "120", 120, "129.90", None),
    (0, "PAGO", 40, "89.90", "paid"),
    (0, "CANC", 30, "89.90", "cancelled"),
    (0, "DISP", 75, "99.90", "disputed"),
    (0, "5ANOS", 5 * 365 + 10, "150.00", None),
    (1, "045", 45, "79.90", None),
    (1, "090", 90, "79.90", None),
]


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    today = today_br()
    created = 0
    with transaction(services.session_factory) as s:
        branch = s.scalars(select(Branch).order_by(Branch.id)).first()
        if branch is None:
            return
        clients = [_client(s, branch, *data) for data in CLIENTS]
        for index, suffix, days, amount, fate in TITLES:
            number = f"DEMO-{clients[index].id}-{suffix}"
            if s.scalar(select(Title.id).where(Title.branch_id == branch.id, Title.number == number)):
                continue
            due = today - dt.timedelta(days=days)
            title = titles.create_title(
                s,
                actor,
                titles.TitleInput(
                    party_id=clients[index].id,
                    number=number,
                    issue_date=due - dt.timedelta(days=30),
                    due_date=due,
                    amount=Decimal(amount),
                    description="Mensalidade internet (demo)",
                    origin="import",
                ),
            )
            created += 1
            if fate == "paid":
                payments.register_payment(
                    s, actor, title.id, title.amount, due + dt.timedelta(days=5), today=today
                )
            elif fate == "cancelled":
                titles.cancel_title(s, actor, title.id, "Cobrança indevida (demo)")
            elif fate == "disputed":
                titles.set_dispute(
                    s, actor, title.id, True, "Cliente contesta a velocidade contratada (demo)"
                )
    if created:
        echo(f"Títulos de demonstração: {created} criados para {', '.join(c[1] for c in CLIENTS)}.")


def _client(s, branch: Branch, document, name, email, address) -> Party:
    party = s.scalar(select(Party).where(Party.branch_id == branch.id, Party.document == document))
    if party is not None:
        return party
    street, number, complement, district, city, state, zip_code = address
    party = Party(
        branch_id=branch.id,
        stage="client",
        name=name,
        email=email,
        document=document,
        document_kind="CPF",
        mobile="11987654321",
        street=street,
        number=number,
        complement=complement,
        district=district,
        city=city,
        state=state,
        zip=zip_code,
        became_prospect_at=now_utc(),
        became_client_at=now_utc(),
    )
    s.add(party)
    s.flush()
    return party
