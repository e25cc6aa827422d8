"""Títulos and Negativações lists: the search box (client words, CPF/CNPJ, number prefix), the
date ranges and the other filters, and exports that hold exactly the filtered rows."""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.core.clock import today_br
from app.services.negativations import filters as neg_filters
from app.services.negativations import listing
from app.services.negativations.inclusion import negativate_titles
from app.services.titles import csv_export as title_export
from app.services.titles import lifecycle as titles
from app.services.titles import search as title_search

from .titles_support import CPF_OK_2, FINANCE, make_branch, make_client, make_title

CNPJ_OK = "11444777000161"


def _world(services, today):
    with services.session_factory() as s:
        matriz = make_branch(s, services.box)
        rio = make_branch(s, services.box, cnpj="11222333000262", state="RJ", name="Filial Rio")
        joao = make_client(s, matriz, name="João da Conceição Ltda", document=CNPJ_OK, document_kind="CNPJ")
        maria = make_client(s, matriz, document=CPF_OK_2, name="Maria Souza")
        carla = make_client(s, rio, name="Carla Dias")
        make_title(s, joao, number="DEMO-17", days_overdue=40, today=today)
        make_title(s, joao, number="DEMO-170", days_overdue=5, today=today)
        make_title(s, maria, number="T-12", days_overdue=-10, today=today)
        make_title(s, maria, number="t-13", days_overdue=70, today=today)
        make_title(s, carla, number="RJ-1", days_overdue=20, today=today)
        s.commit()
        return matriz.id, rio.id, joao.id, maria.id


def _numbers(services, today, **kw):
    with services.session_factory() as s:
        page = titles.list_titles(s, titles.TitleFilter(**kw), today=today, limit=100)
        return sorted(t.number for t in page.items)


@pytest.mark.parametrize("listed", [True, False], ids=["matches-read-by-index", "list-order-walked"])
def test_title_search_by_name_words_document_and_number_prefix(services, monkeypatch, listed):
    # A search with few matches names its clients by id and reads the number by index; one with
    # many walks the list's order (title_search.search_clause). Both forms find the same titles.
    if not listed:
        monkeypatch.setattr(title_search, "LISTED_CLIENTS", -1)
        monkeypatch.setattr(title_search, "LISTED_NUMBERS", -1)
    today = today_br()
    matriz, rio, *_ = _world(services, today)
    assert _numbers(services, today, q="conceicao joao") == ["DEMO-17", "DEMO-170"]  # any order, no accents
    assert _numbers(services, today, q="JOÃO") == ["DEMO-17", "DEMO-170"]
    assert _numbers(services, today, q="11.444.777") == ["DEMO-17", "DEMO-170"]  # CNPJ prefix, punctuated
    assert _numbers(services, today, q=CPF_OK_2[:5]) == ["T-12", "t-13"]
    assert _numbers(services, today, q="demo-17") == ["DEMO-17", "DEMO-170"]  # number prefix, case ignored
    assert _numbers(services, today, q="T-1") == ["T-12", "t-13"]
    assert _numbers(services, today, number="t-1") == ["T-12", "t-13"]
    assert _numbers(services, today, q="souza", branch_id=rio) == []
    assert _numbers(services, today, q="50%") == []  # LIKE wildcards are text, not patterns


def test_title_due_range_bucket_and_export_match_the_list(services, login_as):
    today = today_br()
    matriz, *_ = _world(services, today)
    assert _numbers(services, today, due_from=today - dt.timedelta(days=45),
                    due_to=today - dt.timedelta(days=5)) == ["DEMO-17", "DEMO-170", "RJ-1"]
    assert _numbers(services, today, aging="31-60", branch_id=matriz) == ["DEMO-17"]
    client = login_as("viewer")
    html = client.get("/titulos/?q=joao&aging=1-30").get_data(as_text=True)
    assert "DEMO-170" in html and "DEMO-17<" not in html and "T-12" not in html
    start = (today - dt.timedelta(days=45)).strftime("%d/%m/%Y")
    csv_text = client.get(f"/titulos/exportar.csv?q=demo&due_from={start}&sort=number").get_data(as_text=True)
    assert [line.split(";")[3] for line in csv_text.strip().splitlines()[1:]] == ["DEMO-17", "DEMO-170"]
    with services.session_factory() as s:  # the service export, same filter
        lines = list(title_export.export_csv(s, titles.TitleFilter(q="maria"), today=today))
    assert len(lines) == 3


def test_negativation_filters_and_export(services, login_as, fake_bureau):
    today = today_br()
    matriz, rio, joao, maria = _world(services, today)
    with services.session_factory() as s:
        from app.models import Title

        ids = {t.number: t.id for t in s.query(Title)}
    negativate_titles(services, FINANCE, joao, [ids["DEMO-17"]], "12", today=today)
    negativate_titles(services, FINANCE, maria, [ids["t-13"]], "12", today=today, origin="routine")

    def names(**kw):
        with services.session_factory() as s:
            page = listing.list_negativations(s, flt=neg_filters.NegativationFilter(**kw))
            return sorted(n.party.name for n in page.items)

    assert names() == ["João da Conceição Ltda", "Maria Souza"]
    assert names(origin="routine") == ["Maria Souza"]
    assert names(client="joao") == ["João da Conceição Ltda"]
    assert names(client="11.444") == ["João da Conceição Ltda"]
    assert names(branch_id=rio) == []
    assert names(created_from=today, created_to=today) == ["João da Conceição Ltda", "Maria Souza"]
    assert names(created_from=today + dt.timedelta(days=1)) == []
    client = login_as("finance")
    html = client.get("/negativacoes/?origin=manual").get_data(as_text=True)
    assert "João da Conceição Ltda" in html and "Maria Souza" not in html
    resp = client.get("/negativacoes/exportar.csv?origin=routine")
    lines = resp.get_data(as_text=True).strip().splitlines()
    assert resp.mimetype == "text/csv" and len(lines) == 2
    cells = lines[1].split(";")
    assert cells[2] == "Maria Souza" and cells[5] == "Rotina" and cells[3] == "111.444.777-35"
    viewer_csv = login_as("viewer").get("/negativacoes/exportar.csv?origin=routine").get_data(as_text=True)
    assert "111.444.777-35" not in viewer_csv  # the privacy rule: masked for the read-only role


def test_export_reads_in_the_lists_order_ties_included(services, login_as):
    import re

    from tests.clock import pin_clock

    with pin_clock(dt.date(2026, 11, 23)):
        _world(services, today_br())  # every title is R$ 100,00: sorting by amount is all ties
        client = login_as("viewer")
        for direction in ("asc", "desc"):
            html = client.get(f"/titulos/?sort=amount&dir={direction}").get_data(as_text=True)
            shown = re.findall(r'<td><a href="/titulos/\d+">([^<]+)</a></td>', html)
            csv_text = client.get(f"/titulos/exportar.csv?sort=amount&dir={direction}").get_data(as_text=True)
            exported = [line.split(";")[3] for line in csv_text.strip().splitlines()[1:]]
            assert len(shown) == 5 and exported == shown, direction
