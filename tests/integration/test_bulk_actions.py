"""Bulk actions: overdue titles of several clients negativated after one confirmation page that
says, per title, what will and will not be sent; several negativations removed with one reason,
each through the removal-by-hand rules."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Negativation, Title
from app.services.core.clock import today_br
from tests.integration.collections_support import routine_world, valid_cpf

from .titles_support import make_client, make_title


def _world(services):
    today = today_br()
    branch_id, [first], ids = routine_world(services, today=today, titles=(("A-40", 40), ("A-FUT", -5)))
    with services.session_factory() as s:
        from app.models import Branch

        branch = s.get(Branch, branch_id)
        second = make_client(s, branch, document=valid_cpf(7), name="Bruno Lima")
        ids["B-20"] = make_title(s, second, number="B-20", days_overdue=20, today=today).id
        ids["B-DISP"] = make_title(s, second, number="B-DISP", days_overdue=30, today=today, disputed=True,
                                   dispute_reason="Cliente contesta").id
        s.commit()
    return ids


def test_bulk_negativation_confirms_then_sends_one_per_client(services, login_as, fake_bureau):
    ids = _world(services)
    client = login_as("finance")
    listing = client.get("/titulos/").get_data(as_text=True)
    assert f'name="title_ids" value="{ids["A-40"]}"' in listing
    assert f'name="title_ids" value="{ids["A-FUT"]}"' not in listing  # not overdue: no checkbox
    chosen = [str(ids[n]) for n in ("A-40", "B-20", "B-DISP", "A-FUT")]
    page = client.post("/negativacoes/lote/confirmar", data={"title_ids": chosen}).get_data(as_text=True)
    assert "2 títulos serão enviados" in page and "2 negativações (uma por cliente)" in page
    assert "2 títulos não serão enviados" in page
    held = page[page.index('id="bulk-held"'):]
    assert "B-DISP" in held and "Título em disputa: Cliente contesta" in held
    assert "A-FUT" in held and "Título não vencido" in held
    assert not fake_bureau.calls  # nothing sent before the confirmation
    resp = client.post("/negativacoes/lote/", data={"title_ids": re.findall(
        r'name="title_ids" value="(\d+)"', page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "Cliente 0: Negativação nº" in html and "Bruno Lima: Negativação nº" in html
    with services.session_factory() as s:
        negs = s.scalars(select(Negativation).order_by(Negativation.id)).all()
        assert [sorted(nt.number for nt in n.titles) for n in negs] == [["A-40"], ["B-20"]]
        assert {n.restriction_code for n in negs} == {"12"}


def test_bulk_removal_applies_the_removal_by_hand_rules_to_each(services, login_as, fake_bureau):
    ids = _world(services)
    client = login_as("finance")
    client.post("/negativacoes/lote/", data={"title_ids": [ids["A-40"], ids["B-20"]]})
    listing = client.get("/negativacoes/").get_data(as_text=True)
    assert 'form="bulk-remove"' in listing
    resp = client.post("/negativacoes/lote/remover", data={"ids": ["1", "2"], "reason": "agreement",
                                                           "note": "acordo em lote"}, follow_redirects=True)
    assert resp.status_code == 200
    with services.session_factory() as s:
        assert [n.status for n in s.scalars(select(Negativation).order_by(Negativation.id))] == [
            "removed", "removed"]
        # Rule 10 (agreement): the titles are renegotiated and held from being sent again.
        titles = {t.number: t for t in s.scalars(select(Title).where(Title.number.in_(["A-40", "B-20"])))}
        assert {t.status for t in titles.values()} == {"renegotiated"}
        assert all(t.hold_reason == "agreement" for t in titles.values())
    refused = client.post("/negativacoes/lote/remover", data={"ids": ["1"], "reason": ""}, follow_redirects=True)
    assert "Escolha o motivo da baixa." in refused.get_data(as_text=True)


def test_viewer_cannot_use_bulk_actions(services, login_as):
    ids = _world(services)
    viewer = login_as("viewer")
    assert 'id="bulk-form"' not in viewer.get("/titulos/").get_data(as_text=True)
    assert viewer.post("/negativacoes/lote/confirmar", data={"title_ids": [ids["A-40"]]}).status_code == 403
    assert viewer.post("/negativacoes/lote/remover", data={"ids": ["1"], "reason": "manual"}).status_code == 403
