"""A small portfolio for the fuzz run: ids 1..n exist, so generated ids sometimes hit real rows."""

from __future__ import annotations

from tests.integration.titles_support import CPF_OK, CPF_OK_2, make_branch, make_client, make_title


def seed_portfolio(services) -> None:
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        other = make_branch(s, services.box, cnpj="11444777000161", name="Filial RJ", state="RJ")
        for n, (branch_, document) in enumerate(((branch, CPF_OK), (other, CPF_OK_2)), start=1):
            party = make_client(s, branch_, document=document, name=f"Cliente {n}")
            for days in (10, 70, 200):
                make_title(s, party, number=f"T-{n}-{days}", days_overdue=days)
        s.commit()
