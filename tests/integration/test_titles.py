"""Titles: create/edit/cancel/dispute, filters, aging buckets, keyset pagination, CSV export, and the
SQL form of the eligibility rules agreeing with the Python one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import NegativationTitle, Title
from app.services.core.clock import today_br
from app.services.core.errors import Conflict, ValidationError
from app.services.negativations import eligibility
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.policy import NegativationPolicy, policy_for, save_policy
from app.services.titles import csv_export as title_export
from app.services.titles import lifecycle as titles

from .titles_support import CPF_OK_2, FINANCE, TODAY, make_branch, make_client, make_title, world


def _input(party_id, **kw):
    values = dict(
        party_id=party_id, number="N-1", issue_date="01/02/2026", due_date="10/03/2026", amount="150,00"
    )
    values.update(kw)
    return titles.TitleInput(**values)


def test_create_edit_validate(services):
    _, party_id, _ = world(services, titles=())
    with services.session_factory() as s:
        title = titles.create_title(s, FINANCE, _input(party_id))
        s.commit()
        assert (title.amount, title.open_amount, title.status, title.due_date) == (
            Decimal("150.00"),
            Decimal("150.00"),
            "open",
            dt.date(2026, 3, 10),
        )
        with pytest.raises(ValidationError) as exc:
            titles.create_title(s, FINANCE, _input(party_id, amount="0", due_date="01/01/2026", number=""))
        assert set(exc.value.field_errors) == {"amount", "due_date", "number"}
        with pytest.raises(ValidationError) as exc:
            titles.create_title(s, FINANCE, _input(party_id))
        assert exc.value.field_errors == {"number": "Já existe um título com este número nesta filial."}
        titles.update_title(s, FINANCE, title.id, _input(party_id, amount="200"))
        assert title.open_amount == Decimal("200.00")


def test_negativated_title_keeps_its_amount_and_dates(services):
    _, party_id, ids = world(services, titles=(("E-1", 10),))
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        title = s.get(Title, ids[0])
        data = _input(
            party_id, number="E-1", issue_date=title.issue_date, due_date=title.due_date, amount="99"
        )
        with pytest.raises(Conflict):
            titles.update_title(s, FINANCE, ids[0], data)
        s.rollback()
        titles.update_title(
            s,
            FINANCE,
            ids[0],
            _input(
                party_id,
                number="E-1",
                issue_date=title.issue_date,
                due_date=title.due_date,
                amount="100",
                description="nova descrição",
            ),
        )
        assert title.description == "nova descrição"


def test_dispute_and_cancel(services):
    _, party_id, (title_id,) = world(services, titles=(("D-1", 10),))
    with services.session_factory() as s:
        with pytest.raises(ValidationError):
            titles.set_dispute(s, FINANCE, title_id, True, "")
        titles.set_dispute(s, FINANCE, title_id, True, "Contestado")
        assert (s.get(Title, title_id).disputed, s.get(Title, title_id).dispute_reason) == (
            True,
            "Contestado",
        )
        assert titles.cancel_title(s, FINANCE, title_id, "erro") is None
        assert s.get(Title, title_id).status == "cancelled"
        with pytest.raises(Conflict):
            titles.cancel_title(s, FINANCE, title_id)


def _aging_world(services, today=TODAY):
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        other = make_branch(s, services.box, cnpj="12ABC34501DE35", name="Rio", state="RJ")
        party = make_client(s, branch)
        party2 = make_client(s, other, document=CPF_OK_2)
        for days in (1, 30, 31, 60, 61, 90, 91, 180, 181, 400, -5):
            make_title(s, party, number=f"A{days}", days_overdue=days, today=today)
        make_title(
            s, party, number="PAID", days_overdue=10, status="paid", open_amount=Decimal("0.00"), today=today
        )
        make_title(s, party2, number="RIO", days_overdue=10, today=today)
        s.commit()
        return branch.id, other.id


@pytest.mark.parametrize(
    ("bucket", "numbers"),
    [
        ("1-30", {"A1", "A30"}),
        ("31-60", {"A31", "A60"}),
        ("61-90", {"A61", "A90"}),
        ("91-180", {"A91", "A180"}),
        ("180+", {"A181", "A400"}),
    ],
)
def test_aging_buckets(services, bucket, numbers):
    branch_id, _ = _aging_world(services)
    with services.session_factory() as s:
        page = titles.list_titles(s, titles.TitleFilter(branch_id=branch_id, aging=bucket), today=TODAY)
        assert {t.number for t in page.items} == numbers


def test_filters_overdue_status_branch_negativated(services):
    branch_id, other_id = _aging_world(services)
    with services.session_factory() as s:

        def numbers(**kw):
            return {
                t.number
                for t in titles.list_titles(s, titles.TitleFilter(**kw), today=TODAY, limit=100).items
            }

        assert numbers(branch_id=other_id) == {"RIO"}
        assert numbers(branch_id=branch_id, overdue=False) == {"A-5", "PAID"}
        assert numbers(status="paid") == {"PAID"}
        assert numbers(negativated=True) == set()
        party_id = s.query(Title).filter_by(number="A30").one().party_id
    ids = [t for t in (_id(services, "A30"), _id(services, "A60"))]
    negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    with services.session_factory() as s:
        page = titles.list_titles(s, titles.TitleFilter(negativated=True), today=TODAY)
        assert {t.number for t in page.items} == {"A30", "A60"} and page.negativated == set(ids)


def test_list_marks_only_live_entries_once_per_title(services):
    """The list's "Negativado" comes from an outer join on live entries: a title whose earlier entry
    was removed (not live) and then negativated again appears once, marked; a removed-only one is not
    marked; the table's light loading gives the same page as the full one."""
    _aging_world(services)
    a30, a60 = _id(services, "A30"), _id(services, "A60")
    with services.session_factory() as s:
        party_id = s.get(Title, a30).party_id
    negativate_titles(services, FINANCE, party_id, [a30, a60], "12", today=TODAY)
    with services.session_factory() as s:
        # A60's entry ends (a removal); A30 keeps a live one beside an old removed one.
        for entry in s.scalars(select(NegativationTitle).where(NegativationTitle.title_id == a60)):
            entry.live = False
        live_a30 = s.scalars(select(NegativationTitle).where(NegativationTitle.title_id == a30)).one()
        s.add(NegativationTitle(negativation_id=live_a30.negativation_id, title_id=a30, live=False,
                                number=live_a30.number, due_date=live_a30.due_date, amount_sent=live_a30.amount_sent))
        s.commit()
    for table_only in (True, False):
        with services.session_factory() as s:
            page = titles.list_titles(s, titles.TitleFilter(), today=TODAY, limit=100, table_only=table_only)
            ids = [t.id for t in page.items]
            assert len(ids) == len(set(ids)) and {a30, a60} <= set(ids)
            assert page.negativated == {a30}
            shown = {t.number: (t.party.name, t.branch.name, t.open_amount) for t in page.items}
            assert all(name and branch and amount is not None for name, branch, amount in shown.values())


def _id(services, number):
    with services.session_factory() as s:
        return s.query(Title.id).filter_by(number=number).scalar()


@pytest.mark.parametrize(("sort", "desc"), [("due_date", False), ("amount", True), ("number", False)])
def test_keyset_pagination_visits_every_title_once_in_order(services, sort, desc):
    _aging_world(services)
    with services.session_factory() as s:
        expected = [
            t.id
            for t in titles.list_titles(
                s, titles.TitleFilter(), today=TODAY, sort=sort, desc=desc, limit=1000
            ).items
        ]
        seen, cursor = [], None
        while True:
            page = titles.list_titles(
                s, titles.TitleFilter(), today=TODAY, sort=sort, desc=desc, cursor=cursor, limit=3
            )
            seen += [t.id for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected and len(seen) == 13
        with pytest.raises(ValidationError):
            titles.list_titles(s, titles.TitleFilter(), today=TODAY, cursor="!!garbage!!")


def test_csv_export(services):
    branch_id, _ = _aging_world(services)
    with services.session_factory() as s:
        lines = list(
            title_export.export_csv(s, titles.TitleFilter(branch_id=branch_id, aging="1-30"), today=TODAY)
        )
    assert lines[0] == "\ufeff" + ";".join(title_export.EXPORT_HEADER) + "\r\n"  # BOM: spreadsheets read UTF-8
    assert lines[1].strip() == (
        "11222333000181;Maria da Silva;***.982.247-**;A30;15/01/2026;14/02/2026;100,00;0,00;"
        "100,00;Aberto;30;Não;Não"
    )
    assert [line.split(";")[3] for line in lines[1:]] == ["A30", "A1"]


def test_titles_list_page_and_export_over_http(services, login_as):
    _aging_world(services, today=today_br())
    client = login_as("viewer")
    html = client.get("/titulos/?aging=91-180").get_data(as_text=True)
    assert "A91" in html and "A180" in html and "A30" not in html
    resp = client.get("/titulos/exportar.csv?status=paid")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).count("\n") == 2
    assert client.post("/titulos/novo", data={}).status_code == 403


def test_branch_policy_minimum_and_prescription(services):
    branch_id, _, _ = world(services, titles=())
    with services.session_factory() as s:
        with pytest.raises(ValidationError) as exc:
            save_policy(s, FINANCE, branch_id, min_amount="-1", prescription_years="6", notice_days="0")
        assert set(exc.value.field_errors) == {"min_amount", "prescription_years", "notice_days"}
        save_policy(s, FINANCE, branch_id, min_amount="50,00", prescription_years="3", notice_days="15")
        s.commit()


def test_sql_selection_agrees_with_the_python_rules(services):
    """reason_code_sql is the set-based form of check_title: same code for every title."""
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        ok = make_client(s, branch)
        no_zip = make_client(s, branch, document=CPF_OK_2, name="Sem CEP", zip="")
        no_doc = make_client(s, branch, document=None, name="Sem documento")
        specs = [
            (ok, dict(days_overdue=10)),
            (ok, dict(days_overdue=59)),
            (ok, dict(days_overdue=-3)),
            (ok, dict(days_overdue=0)),
            (ok, dict(days_overdue=30, disputed=True)),
            (ok, dict(days_overdue=30, court_blocked=True)),
            (ok, dict(days_overdue=30, amount="10.00")),
            (ok, dict(due=dt.date(2021, 3, 15))),
            (ok, dict(due=dt.date(2021, 3, 16))),
            (
                ok,
                dict(
                    days_overdue=61,
                    status="partial",
                    amount_received=Decimal("40.00"),
                    open_amount=Decimal("60.00"),
                ),
            ),
            (no_zip, dict(days_overdue=70)),
            (no_doc, dict(days_overdue=70)),
        ]
        for i, (party, kw) in enumerate(specs):
            make_title(s, party, number=f"Q{i}", **kw)
        s.commit()
        branch_id = branch.id
    negativate_titles(services, FINANCE, ok.id, [_id(services, "Q0")], "12", today=TODAY)
    policy = NegativationPolicy(branch_id, min_amount=Decimal("20.00"))
    codes = set()
    for criteria in (eligibility.Criteria(TODAY), eligibility.Criteria(TODAY, 60, require_branch_code=True)):
        with services.session_factory() as s:
            sql = {
                row.title_id: row.reason_code
                for row in s.execute(eligibility.candidates_select(branch_id, criteria, policy))
            }
            all_titles = s.query(Title).filter(Title.status.in_(("open", "partial"))).all()
            live = eligibility.live_entries(s, [t.id for t in all_titles])
            py = {
                t.id: eligibility.check_title(t, t.party, t.branch, policy, criteria, live.get(t.id)).code
                for t in all_titles
            }
            assert sql == py
            codes |= set(py.values())
            eligible = [
                row.title_id
                for row in s.execute(eligibility.eligible_titles_select(branch_id, criteria, policy))
            ]
            assert eligible == sorted(
                (i for i, code in py.items() if code is None),
                key=lambda i: next(t.due_date for t in all_titles if t.id == i),
            )
    assert codes >= {
        None,
        "already_negativated",
        "not_overdue",
        "too_recent",
        "disputed",
        "court_blocked",
        "below_minimum",
        "prescribed",
        "address_incomplete",
        "invalid_document",
        "no_restriction_code",
    }


def test_title_pages_create_detail_dispute_and_renegotiate(services, login_as, fake_bureau):
    _, party_id, _ = world(services, titles=())
    client = login_as("finance")
    assert "Novo título de Maria da Silva" in client.get(f"/titulos/novo?party_id={party_id}").get_data(
        as_text=True
    )
    resp = client.post(
        "/titulos/novo",
        data={
            "cliente_documento": "529.982.247-25",
            "number": "W-1",
            "issue_date": "01/01/2026",
            "due_date": "10/01/2026",
            "amount": "1.000,00",
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "Título W-1 criado." in html and "R$ 1.000,00" in html
    title_id = _id(services, "W-1")
    resp = client.post(
        f"/titulos/{title_id}/disputa", data={"disputed": "1", "reason": "Contesta"}, follow_redirects=True
    )
    assert "Em disputa: Contesta" in resp.get_data(as_text=True)
    resp = client.post(f"/titulos/{title_id}/renegociar", data={"reason": "acordo"}, follow_redirects=True)
    assert "Título marcado como renegociado." in resp.get_data(as_text=True)
    assert login_as("crm").get(f"/titulos/{title_id}").status_code == 200


@pytest.mark.parametrize(("typed", "saved"), [("1.000", "1000.00"), ("1.000,00", "1000.00"), ("1000,5", "1000.50")])
def test_branch_minimum_amount_typed_the_brazilian_way(services, typed, saved):
    branch_id, _ = _aging_world(services)
    with services.session_factory() as s:
        save_policy(s, FINANCE, branch_id, min_amount=typed, prescription_years=5, notice_days=10)
        s.commit()
        assert policy_for(s, branch_id).min_amount == Decimal(saved)


def test_branch_minimum_amount_that_is_ambiguous_is_refused(services):
    branch_id, _ = _aging_world(services)
    with services.session_factory() as s, pytest.raises(ValidationError) as exc:
        save_policy(s, FINANCE, branch_id, min_amount="12,345", prescription_years=5, notice_days=10)
    assert exc.value.field_errors["min_amount"].startswith("Valor ambíguo")
