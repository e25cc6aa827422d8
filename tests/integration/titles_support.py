"""Builders for the titles/negativations tests: a branch with an integration, clients, titles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.models import Branch, BureauIntegration, Party, Title
from app.services.core.audit import Actor

TODAY = dt.date(2026, 3, 16)  # a Monday
FINANCE = Actor(name="fabio", user_id=None, role="finance")
VIEWER = Actor(name="lia", user_id=None, role="viewer")
CPF_OK = "52998224725"
CPF_OK_2 = "11144477735"


def make_branch(s, box, *, cnpj="11222333000181", state="SP", integration=True, name="Matriz") -> Branch:
    integ = None
    if integration:
        integ = BureauIntegration(
            name=f"CnM {name}",
            base_url="http://127.0.0.1:9",
            client_id="demo-client",
            client_secret_encrypted=box.encrypt("demo-secret"),
        )
        s.add(integ)
    branch = Branch(
        name=name,
        cnpj=cnpj,
        street="Av. Paulista",
        number="1000",
        district="Bela Vista",
        city="São Paulo",
        state=state,
        zip="01310100",
        integration=integ,
    )
    s.add(branch)
    s.flush()
    return branch


def make_client(s, branch, *, document=CPF_OK, name="Maria da Silva", **overrides) -> Party:
    values = dict(
        branch_id=branch.id,
        stage="client",
        name=name,
        document=document,
        document_kind="CPF" if len(document or "") == 11 else "CNPJ",
        email="maria@example.com",
        street="Rua A",
        number="10",
        district="Centro",
        city="São Paulo",
        state="SP",
        zip="01001000",
    )
    values.update(overrides)
    party = Party(**values)
    s.add(party)
    s.flush()
    return party


def make_title(s, party, *, number, days_overdue=None, due=None, amount="100.00", today=TODAY, **kw) -> Title:
    due = due or (today - dt.timedelta(days=days_overdue if days_overdue is not None else -10))
    amount = Decimal(amount)
    values = dict(
        branch_id=party.branch_id,
        party_id=party.id,
        number=number,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=amount,
        amount_received=Decimal("0.00"),
        open_amount=amount,
        status="open",
    )
    values.update(kw)
    title = Title(**values)
    s.add(title)
    s.flush()
    return title


def world(services, *, titles=(("T-1", 10), ("T-2", 40)), **client_kw):
    """(branch_id, party_id, [title ids]) committed: one SP branch with integration, one client."""
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        party = make_client(s, branch, **client_kw)
        ids = [make_title(s, party, number=n, days_overdue=d).id for n, d in titles]
        s.commit()
        return branch.id, party.id, ids
