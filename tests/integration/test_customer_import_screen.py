"""The customer XML upload screen: the CLI's streaming import run in the background with its
progress, a per-customer result list, the imports history, and a Histórico entry per field the
platform changed (before → after, by "plataforma")."""

from __future__ import annotations

import io
import re
import time

from sqlalchemy import select

from app.models import AuditEvent, CustomerImport, Party
from integrations.commerce.samples import batch_xml, customer

from .credit_support import make_branch


def _wait(services, import_id: int, timeout: float = 20.0) -> CustomerImport:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.session_factory() as s:
            row = s.get(CustomerImport, import_id)
            if row.status != "running":
                s.expunge(row)
                return row
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def _upload(client, branch_id, body: bytes, name="clientes.xml"):
    resp = client.post("/credito/importacoes-de-clientes/", data={
        "branch_id": str(branch_id), "file": (io.BytesIO(body), name)}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(re.search(r"/(\d+)$", resp.headers["Location"]).group(1))


def test_upload_shows_progress_results_history_and_field_history(services, login_as):
    branch_id = make_branch(services)
    client = login_as("crm")
    first = _wait(services, _upload(client, branch_id, batch_xml(1, 3)))
    assert (first.status, first.created, first.updated, first.refused, first.percent) == ("done", 3, 0, 0, 100)
    bad = batch_xml(4, 1).replace(b"<cnpj>", b"<cnpj>0").replace(b"</clientes>", b"") + (
        b"</clientes>")
    renamed = batch_xml(1, 1, variant=1)  # same id and CNPJ, other name, phone, address
    second = _wait(services, _upload(client, branch_id, renamed, "atualizacao.xml"))
    assert (second.created, second.updated, second.refused) == (0, 1, 0)
    page = client.get(f"/credito/importacoes-de-clientes/{second.id}").get_data(as_text=True)
    assert "Concluída" in page and "0 criados, 1 atualizado, 0 recusados" in page and "Atualizado" in page
    with services.session_factory() as s:
        party = s.scalar(select(Party).where(Party.external_id == "PLT-00000001"))
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "party",
                                                     AuditEvent.entity_id == str(party.id),
                                                     AuditEvent.action == "commerce.customer_update")).all()
    old, new = customer(1), customer(1, 1)
    assert event.actor == "plataforma"
    assert event.details["changes"]["name"] == [old["nome"], new["nome"]]
    assert event.details["changes"]["phone"] == [old["telefone"], new["telefone"]]
    assert "document" not in event.details["changes"]  # same CNPJ: not a change
    data_page = client.get(f"/crm/cadastros/{party.id}/dados").get_data(as_text=True)
    # One Histórico line per changed field, before → after, by "plataforma".
    assert f"<td>plataforma</td><td>Nome: {old['nome']} → {new['nome']}</td>" in data_page
    assert f"<td>plataforma</td><td>Telefone: {old['telefone']} → {new['telefone']}</td>" in data_page
    history = client.get("/credito/importacoes-de-clientes/").get_data(as_text=True)
    assert "clientes.xml" in history and "atualizacao.xml" in history
    third = _wait(services, _upload(client, branch_id, bad, "ruim.xml"))
    assert third.refused == 1
    page = client.get(f"/credito/importacoes-de-clientes/{third.id}").get_data(as_text=True)
    assert "Recusado" in page
    progress = client.get(f"/credito/importacoes-de-clientes/{third.id}/progresso.json").get_json()
    assert progress == {"status": "done", "percent": 100, "created": 0, "updated": 0, "refused": 1}


def test_upload_needs_branch_and_file_and_the_permission(services, login_as):
    branch_id = make_branch(services)
    client = login_as("crm")
    resp = client.post("/credito/importacoes-de-clientes/", data={"branch_id": ""},
                       content_type="multipart/form-data")
    assert "Escolha a filial que recebe os clientes." in resp.get_data(as_text=True)
    viewer = login_as("viewer")
    assert viewer.get("/credito/importacoes-de-clientes/").status_code == 403
    assert branch_id
