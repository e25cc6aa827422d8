"""Inbound customers from the commerce platform: the XML endpoint, its edge cases, the CLI."""

from __future__ import annotations

import gc
import io
import itertools
import time

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import AuditEvent, Party
from app.services.commerce import customer_import
from app.services.commerce.customer_xml import XmlRejected
from integrations.commerce.samples import batch_xml, cnpj_for, customer
from integrations.commerce.signing import inbound_headers

from .credit_support import ADMIN, make_branch, set_policy

URL = "/api/v1/commerce/customers"
HEADERS = {"Content-Type": "application/xml"}
SECRET = "segredo-da-plataforma"


@pytest.fixture
def branch_id(services):
    bid = make_branch(services)
    set_policy(services, bid, platform_secret=SECRET)  # inbound customer posts are signed with it
    return bid


@pytest.fixture
def post(client, api_token, branch_id):
    headers = {**api_token("crm"), **HEADERS}
    # Each post signed at a different second: the same body with the same timestamp is a replay.
    seconds_ago = itertools.count(0)

    def _post(body: bytes | str, *, query: str | None = None, extra: dict | None = None):
        data = body.encode() if isinstance(body, str) else body
        signed = {**headers, **inbound_headers(SECRET, data, now=time.time() - next(seconds_ago)), **(extra or {})}
        return client.post(f"{URL}?{query or f'branch={branch_id}'}", data=data, headers=signed)

    return _post


def parties(services) -> list[Party]:
    with services.session_factory() as s:
        return list(s.scalars(select(Party).order_by(Party.id)))


def one(xml_body: str) -> str:
    return f"<clientes>{xml_body}</clientes>"


def test_new_customers_are_created_pen_and_then_updated(post, services, branch_id):
    resp = post(batch_xml(1, 3))
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["created"], body["updated"], body["refused"]) == (3, 0, 0)
    assert [(i["index"], i["external_id"], i["result"], i["status"]) for i in body["items"]] == [
        (1, "PLT-00000001", "created", "PEN"), (2, "PLT-00000002", "created", "PEN"),
        (3, "PLT-00000003", "created", "PEN")]
    first = parties(services)[0]
    expected = customer(1)
    assert (first.stage, first.status, first.branch_id, first.external_id, first.name, first.document,
            first.document_kind, first.email, first.state_registration, first.phone, first.mobile, first.street,
            first.number, first.city, first.state, first.zip) == (
        "client", "PEN", branch_id, "PLT-00000001", expected["nome"], cnpj_for(1), "CNPJ", expected["email"],
        expected["inscricao_estadual"], expected["telefone"], expected["celular"], expected["logradouro"],
        expected["numero"], expected["cidade"], expected["uf"], expected["cep"])
    assert body["items"][0]["party_id"] == first.id
    body = post(batch_xml(1, 3)).get_json()
    assert (body["created"], body["updated"]) == (0, 3)
    assert len(parties(services)) == 3
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "commerce.customers_import")) == 2


def test_single_customer_root_with_attribute_id_namespace_and_unknown_fields(post, services):
    body = (f'<p:cliente xmlns:p="urn:plataforma" id="X-1"><p:nome> Loja Um </p:nome>'
            f"<p:cnpj>{cnpj_for(5)}</p:cnpj><p:fidelidade>ouro</p:fidelidade>"
            "<p:endereco><p:estado>rj</p:estado><p:cep>20040-002</p:cep><p:latitude>1</p:latitude></p:endereco>"
            "</p:cliente>")
    resp = post(body)
    assert resp.get_json()["created"] == 1
    [party] = parties(services)
    assert (party.external_id, party.name, party.state, party.zip, party.email) == (
        "X-1", "Loja Um", "RJ", "20040002", None)
    assert party.search_name == " loja um"  # the bulk insert folds the name for the word search
    renamed = body.replace(" Loja Um ", "Mercadinho São João")
    assert post(renamed).get_json()["updated"] == 1
    [party] = parties(services)
    assert (party.name, party.search_name) == ("Mercadinho São João", " mercadinho sao joao")


def test_existing_customer_matched_by_document_gets_the_platform_id(post, services, branch_id):
    with transaction(services.session_factory) as s:
        s.add(Party(branch_id=branch_id, stage="prospect", name="Já no ERP", document=cnpj_for(1),
                    document_kind="CNPJ", status="APV", phone="1130000000"))
    items = post(batch_xml(1, 1)).get_json()["items"]
    assert [(i["result"], i["status"]) for i in items] == [("updated", "APV")]
    [party] = parties(services)
    assert (party.external_id, party.stage, party.status, party.name) == (
        "PLT-00000001", "client", "APV", customer(1)["nome"])


def test_do_not_overwrite_fields_are_kept_silently(post, services, branch_id):
    set_policy(services, branch_id, protected_fields=["phone", "address", "name"])
    post(batch_xml(1, 1))
    with transaction(services.session_factory) as s:
        party = s.scalar(select(Party))
        party.phone, party.street, party.number, party.name = "1144445555", "Rua do ERP", "10", "Nome no ERP"
        party.mobile = None
    changed = batch_xml(1, 1).decode().replace(customer(1)["email"], "novo@cliente.com.br")
    changed = changed.replace(f"<celular>{customer(1)['celular']}</celular>", "<celular>11911112222</celular>")
    body = post(changed).get_json()
    assert (body["updated"], body["refused"]) == (1, 0)
    assert "reason" not in body["items"][0]
    [party] = parties(services)
    assert (party.phone, party.street, party.number, party.name) == ("1144445555", "Rua do ERP", "10", "Nome no ERP")
    assert (party.email, party.mobile) == ("novo@cliente.com.br", "11911112222")  # not protected: updated


def test_wrong_documents_and_fields_are_refused_with_reasons_others_go_through(post, services):
    body = one(
        f"<cliente><id>A</id><nome>Boa</nome><cnpj>{cnpj_for(1)}</cnpj></cliente>"
        "<cliente><id>B</id><nome>Dígito errado</nome><cnpj>11.222.333/0001-82</cnpj></cliente>"
        "<cliente><id>C</id><nome>Sem documento</nome></cliente>"
        f"<cliente><nome>Sem id</nome><cnpj>{cnpj_for(2)}</cnpj></cliente>"
        f"<cliente><id>E</id><nome>Email</nome><cnpj>{cnpj_for(3)}</cnpj><email>x@</email>"
        "<endereco><uf>ZZ</uf><cep>123</cep></endereco></cliente>")
    data = post(body).get_json()
    assert (data["created"], data["refused"]) == (1, 4)
    refused = {i["index"]: (i["code"], i["reason"]) for i in data["items"] if i["result"] == "refused"}
    assert refused[2][0] == "invalid_document" and "CNPJ inválido" in refused[2][1]
    assert refused[3][0] == "invalid_document"
    assert refused[4] == ("missing_id", "id da plataforma ausente")
    assert refused[5] == ("invalid_field", "email: e-mail inválido; uf: UF inválida; cep: o CEP deve ter 8 dígitos")
    assert [p.external_id for p in parties(services)] == ["A"]


def test_document_of_another_customer_is_refused(post, services):
    post(batch_xml(1, 2))
    body = batch_xml(1, 1).decode().replace(cnpj_for(1), cnpj_for(2))
    item = post(body).get_json()["items"][0]
    assert (item["result"], item["code"]) == ("refused", "document_in_use")


def test_same_customer_twice_in_one_batch(post, services):
    xml = batch_xml(1, 1).decode()
    twice = xml.replace("</clientes>", xml.split("<clientes>\n")[1].replace("</clientes>\n", "")
                        .replace(customer(1)["email"], "segunda@vez.com.br") + "</clientes>")
    data = post(twice).get_json()
    assert [i["result"] for i in data["items"]] == ["created", "updated"]
    assert [p.email for p in parties(services)] == ["segunda@vez.com.br"]


def test_empty_batch(post):
    data = post('<?xml version="1.0"?><clientes/>').get_json()
    assert data == {"created": 0, "updated": 0, "refused": 0, "items": []}


@pytest.mark.parametrize(("body", "code"), [
    ("<clientes><cliente><id>1</id>", "malformed_xml"),
    ("not xml at all", "malformed_xml"),
    ("", "malformed_xml"),
    ("<pedidos><pedido/></pedidos>", "unexpected_root"),
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
     '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><clientes><cliente><nome>&lol3;</nome></cliente></clientes>',
     "forbidden_xml"),
    ('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     "<clientes><cliente><nome>&xxe;</nome></cliente></clientes>", "forbidden_xml"),
    ('<?xml version="1.0"?><!DOCTYPE clientes SYSTEM "http://127.0.0.1:9/evil.dtd"><clientes/>', "forbidden_xml"),
])
def test_malformed_and_hostile_documents_are_refused_whole(post, services, body, code):
    resp = post(body)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == code
    assert parties(services) == []


def test_a_bad_document_after_good_customers_writes_nothing(post, services):
    body = batch_xml(1, 2).decode().replace("</clientes>", "<cliente><id>x</id>")
    assert post(body).status_code == 422
    assert parties(services) == []


def test_oversized_body_content_type_auth_and_branch(post, app, client, api_token, services):
    app.config["COMMERCE_XML_MAX_BYTES"] = 2000
    resp = post(batch_xml(1, 10))
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "body_too_large"
    app.config["COMMERCE_XML_MAX_BYTES"] = 10 * 1024 * 1024
    assert post(batch_xml(1, 1), extra={"Content-Type": "application/json"}).status_code == 415
    assert post(batch_xml(1, 1), query="branch_cnpj=").get_json()["error"]["code"] == "branch_required"
    assert post(batch_xml(1, 1), query="branch=999").status_code == 404
    assert post(batch_xml(1, 1), query="branch_cnpj=11.222.333/0001-81").get_json()["created"] == 1
    assert client.post(URL + "?branch=1", data=batch_xml(1, 1), headers=HEADERS).status_code == 401
    resp = client.post(URL + "?branch=1", data=batch_xml(1, 1), headers={**api_token("viewer"), **HEADERS})
    assert resp.status_code == 403
    assert parties(services)[0].external_id == "PLT-00000001"


def test_per_customer_size_limit_without_a_body_limit(services, branch_id):
    huge = one(f"<cliente><id>1</id><nome>{'x' * (2 * 1024 * 1024)}</nome><cnpj>{cnpj_for(1)}</cnpj></cliente>")
    with pytest.raises(XmlRejected) as exc, services.session_factory() as s:
        customer_import.import_customers(s, ADMIN, io.BytesIO(huge.encode()), branch_id)
    assert exc.value.code == "customer_too_large"


def test_service_streams_in_batches_and_reports_progress(services, branch_id):
    data = batch_xml(1, 2500)
    seen = []
    with services.session_factory() as s:
        summary = customer_import.import_customers(
            s, ADMIN, io.BytesIO(data), branch_id, batch_size=1000, collect_items=False, commit_each_batch=True,
            on_progress=seen.append, on_item=lambda item: None)
    assert (summary.created, summary.items) == (2500, [])
    assert sum(seen) == len(data) and len(seen) > 1
    assert len(parties(services)) == 2500


def test_cli_import_customers(app, services, branch_id, tmp_path):
    path = tmp_path / "clientes.xml"
    path.write_bytes(batch_xml(1, 30).replace(cnpj_for(7).encode(), b"00000000000000"))
    result = app.test_cli_runner().invoke(args=["import-customers", str(path), "--branch", str(branch_id)])
    assert result.exit_code == 0, result.output
    assert "29 criados, 0 atualizados, 1 recusados." in result.output
    assert "cliente #7 (PLT-00000007)" in result.output
    result = app.test_cli_runner().invoke(args=["import-customers", str(path), "--branch", str(branch_id)])
    assert "0 criados, 29 atualizados, 1 recusados." in result.output


def test_the_collector_is_paused_while_importing_and_resumed_after(services, branch_id):
    seen = []
    with services.session_factory() as s:
        customer_import.import_customers(s, ADMIN, io.BytesIO(batch_xml(1, 3)), branch_id,
                                         on_item=lambda item: seen.append(gc.isenabled()))
    assert seen == [False, False, False] and gc.isenabled()


@pytest.mark.parametrize("parallel", [False, True])
def test_file_import_in_one_or_two_processes(services, branch_id, tmp_path, parallel):
    from app.services.commerce.import_file import import_customer_file

    path = tmp_path / "lote.xml"
    path.write_bytes(batch_xml(1, 1500).replace(cnpj_for(3).encode(), b"11.111.111/1111-11"))
    read = []
    with services.session_factory() as s:
        summary = import_customer_file(s, ADMIN, path, branch_id, batch_size=500, parallel=parallel,
                                       on_progress=read.append)
    assert (summary.created, summary.refused) == (1499, 1)
    assert sum(read) == path.stat().st_size
    broken = tmp_path / "quebrado.xml"
    broken.write_bytes(batch_xml(2000, 1200).replace(b"</clientes>", b"<cliente>"))
    with pytest.raises(XmlRejected) as exc, services.session_factory() as s:
        import_customer_file(s, ADMIN, broken, branch_id, batch_size=500, parallel=parallel)
    assert exc.value.code == "malformed_xml"
    assert len(parties(services)) == 1499 + 1000  # the batches before the error were committed


def test_a_large_import_keeps_postgresql_statistics_of_the_growing_table(services, branch_id, backend):
    """PostgreSQL plans each batch's lookups from the table's statistics: an import into a nearly
    empty table analyses it again each time it has doubled, so a go-live file is not planned as an
    empty table to its end (sequential scans); a few times per file, not once per batch."""
    if backend != "postgresql":
        pytest.skip("SQLite plans these lookups by the unique indexes, without statistics")
    from sqlalchemy import event, text

    with services.session_factory() as s:
        s.execute(text("ANALYZE parties"))  # the table as it is now (empty): earlier tests' rows are gone
        s.commit()
    analyses = []
    listener = lambda conn, cursor, statement, *a: analyses.append(1) if statement.startswith("ANALYZE") else None  # noqa: E731
    event.listen(services.engine, "before_cursor_execute", listener)
    try:
        with services.session_factory() as s:
            summary = customer_import.import_customers(
                s, ADMIN, io.BytesIO(batch_xml(1, 800)), branch_id, batch_size=50, collect_items=False,
                commit_each_batch=True)
    finally:
        event.remove(services.engine, "before_cursor_execute", listener)
    assert summary.created == 800
    assert 3 <= len(analyses) <= 6  # at 50, 100, 200, 400 and 800 rows: not at each of the 16 batches
    with services.session_factory() as s:
        known = s.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'parties'::regclass"))
    assert known >= 400  # the planner knows the table holds hundreds of rows, not none
