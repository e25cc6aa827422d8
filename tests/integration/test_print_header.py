"""Every page a finance user prints carries the print header: the branch of what is shown (or, on
a list, the branch it is filtered by, else the first branch), its formatted CNPJ, and the date and
time of printing in Brasília, dd/mm/aaaa hh:mm."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from app.services.negativations.inclusion import negativate_titles
from tests.clock import pin_clock
from tests.integration.collections_support import routine_world

from .titles_support import FINANCE
from .titles_support import make_branch as make_titles_branch

DAY = dt.date(2026, 11, 23)
# 22:00 in Brasília is 01:00 of the next day in UTC: the header must say the Brasília date and time.
PRINTED = "Impresso em 23/11/2026 22:00 (horário de Brasília)"


@pytest.fixture(autouse=True)
def _pinned():
    with pin_clock(DAY, hour=22):
        yield


def _header(html: str) -> str:
    match = re.search(r'<div class="print-only print-header">(.*?)</div>', html, re.S)
    assert match, "no print header on the page"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def test_every_printed_page_says_whose_it_is_and_when(services, login_as, fake_bureau):
    with services.session_factory() as s:
        # Registered first, so it is the lists' default branch: the detail pages must not use it.
        other = make_titles_branch(s, services.box, cnpj="11444777000161", name="Filial Campinas", integration=False)
        s.commit()
        other_id = other.id
    branch_id, [party_id], ids = routine_world(services, today=DAY)
    neg = negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=DAY)
    client = login_as("finance")
    own = f"Filial Matriz · CNPJ 11.222.333/0001-81 {PRINTED} por"
    campinas = f"Filial Filial Campinas · CNPJ 11.444.777/0001-61 {PRINTED} por"
    pages = {
        f"/titulos/{ids['T-60']}": own,
        f"/crm/cadastros/{party_id}/dados": own,
        f"/credito/clientes/{party_id}": own,
        f"/negativacoes/{neg.negativation_id}": own,
        f"/titulos/?branch_id={branch_id}": own,
        f"/negativacoes/?branch_id={branch_id}": own,
        f"/cobranca/painel?branch_id={branch_id}": own,
        "/titulos/": campinas,
        "/negativacoes/": campinas,
        "/cobranca/painel": campinas,
        "/": campinas,
    }
    for url, expected in pages.items():
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert _header(resp.get_data(as_text=True)).startswith(expected), (url, _header(resp.get_data(as_text=True)))
    assert other_id != branch_id


def test_the_print_header_is_hidden_on_screen_and_shown_on_paper(app):
    css = Path(app.static_folder, "app.css").read_text()
    printed = Path(app.static_folder, "print.css").read_text()
    assert ".print-only { display:none; }" in css
    assert ".print-only { display:block !important; }" in printed and ".print-header { display:flex" in printed
