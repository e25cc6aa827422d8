"""CSV imports of titles and payments: a file with any bad line changes nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.models import Negativation, Payment, Title
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.removal import send_removals
from app.services.titles import csv_import as title_import

from .titles_support import CPF_OK, FINANCE, TODAY, world

HEADER = "filial_cnpj;cliente_documento;numero;emissao;vencimento;valor;descricao;link_pagamento\n"
GOOD = (
    "11.222.333/0001-81;529.982.247-25;I-1;01/01/2026;10/02/2026;1.234,56;Mensalidade;\n"
    "11222333000181;52998224725;I-2;2026-01-01;2026-03-10;99.90;;https://pag.example.com/2\n"
)


def _count(services, model) -> int:
    with services.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def _import(services, kind, content, **kw):
    with services.session_factory() as s:
        fn = title_import.import_titles if kind == "titles" else title_import.import_payments
        report = fn(s, FINANCE, content, **kw)
        if report.ok:
            s.commit()
        return report


def test_good_title_file_is_written(services):
    world(services, titles=())
    report = _import(services, "titles", (HEADER + GOOD).encode())
    assert (report.ok, report.lines, report.written) == (True, 2, 2)
    with services.session_factory() as s:
        rows = s.scalars(select(Title).order_by(Title.number)).all()
        assert [(t.number, t.amount, t.origin) for t in rows] == [
            ("I-1", Decimal("1234.56"), "import"),
            ("I-2", Decimal("99.90"), "import"),
        ]


def test_one_bad_line_changes_nothing_and_every_error_is_reported(services):
    world(services, titles=(("EXIST", 10),))
    bad = (
        HEADER
        + GOOD
        + "11222333000181;52998224725;I-1;01/01/2026;10/02/2026;10,00;;\n"  # repeated in the file
        + "11222333000181;52998224725;EXIST;01/01/2026;10/02/2026;10,00;;\n"  # exists in the database
        + "99999999999999;52998224725;I-5;01/01/2026;10/02/2026;10,00;;\n"  # bad CNPJ
        + "11222333000181;11111111111;I-6;31/02/2026;01/01/2025;-3;;ftp://x\n"  # many problems
        + "11222333000181;11144477735;I-7;01/01/2026;10/02/2026;10,00;;\n"  # no such client
        + "11222333000181;52998224725;I-8\n"
    )  # short line
    report = _import(services, "titles", bad)
    assert not report.ok and _count(services, Title) == 1
    by_line = {}
    for e in report.errors:
        by_line.setdefault(e.line, []).append(e.message)
    assert by_line[4] == ["numero: repetido no arquivo (linha 2)"]
    assert by_line[5] == ["numero: o título EXIST já existe nesta filial"]
    assert by_line[6] == ["filial_cnpj: CNPJ inválido: todos os caracteres são iguais"]
    assert by_line[7] == [
        "cliente_documento: CPF inválido: todos os dígitos são iguais",
        "emissao: data inválida (use dd/mm/aaaa)",
        "valor: informe um valor maior que zero, com até duas casas decimais",
        "link_pagamento: deve começar com https://",
    ]
    assert by_line[8] == ["cliente_documento: nenhum cliente com este documento nesta filial"]
    assert by_line[9] == ["A linha tem 3 colunas; o cabeçalho tem 8."]
    assert 2 not in by_line and 3 not in by_line


def test_bad_header(services):
    report = _import(services, "titles", "numero,valor,extra\n1,2,3\n")
    assert [e.line for e in report.errors] == [1]
    assert "faltam as colunas filial_cnpj, cliente_documento, emissao, vencimento" in report.errors[0].message
    assert "colunas desconhecidas extra" in report.errors[0].message


def test_payments_file_with_cumulative_overpayment_changes_nothing(services):
    world(services, titles=(("T-1", 10), ("T-2", 20)))
    content = (
        "filial_cnpj,numero,data,valor,forma\n"
        "11222333000181,T-1,01/03/2026,60.00,pix\n"
        "11222333000181,T-1,02/03/2026,50.00,pix\n"  # 60 + 50 > 100
        "11222333000181,T-9,02/03/2026,5.00,pix\n"
        "11222333000181,T-2,31/12/2030,5.00,pix\n"
    )
    report = _import(services, "payments", content, today=TODAY)
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "valor: R$ 50,00 maior que o saldo em aberto (R$ 40,00)"),
        (4, "numero: título T-9 não encontrado nesta filial"),
        (5, "data: não pode ser futura"),
    ]
    assert _count(services, Payment) == 0


def test_payments_file_pays_and_sends_the_removal_after_commit(services, fake_bureau):
    _, party_id, ids = world(services, titles=(("T-1", 10), ("T-2", 20)))
    out = negativate_titles(services, FINANCE, party_id, ids, "12", today=TODAY)
    content = (
        "filial_cnpj;numero;data;valor\n11222333000181;T-1;01/03/2026;100,00\n"
        "11222333000181;T-2;02/03/2026;40,00\n11222333000181;T-2;03/03/2026;60,00\n"
    )
    report = _import(services, "payments", content, today=TODAY)
    assert (report.ok, report.written, report.removal_ids) == (True, 3, [out.negativation_id])
    send_removals(services, report.removal_ids)
    with services.session_factory() as s:
        neg = s.get(Negativation, out.negativation_id)
        assert (neg.status, neg.paid_on) == ("removed", TODAY.replace(day=3))


def test_import_page_shows_the_line_report(services, login_as):
    world(services, titles=())
    client = login_as("finance")
    data = {
        "kind": "titulos",
        "file": (
            __import__("io").BytesIO(
                (HEADER + f"11222333000181;{CPF_OK};X-1;01/01/2026;10/02/2026;abc;;\n").encode()
            ),
            "t.csv",
        ),
    }
    html = client.post("/titulos/importar", data=data, content_type="multipart/form-data").get_data(
        as_text=True
    )
    assert "Nada foi gravado: 1 erro(s)" in html and "valor: informe um valor maior que zero" in html
    assert _count(services, Title) == 0
    assert login_as("crm").get("/titulos/importar").status_code == 403
