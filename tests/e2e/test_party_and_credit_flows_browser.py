"""Daily flows in Chromium: consult a lead, convert it and see the consultation on the prospect;
consult a client; authorise, reserve and settle a purchase; upload a customer XML file to its
per-customer results. Each flow is walked by clicks from the page a person lands on after login."""

from __future__ import annotations

import pytest

from integrations.commerce.samples import batch_xml
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_login
from tests.e2e.flows_support import accept_confirmations, finance_world, sqlite_only
from tests.integration.credit_support import CPF, make_client, set_policy
from tests.integration.credit_support import make_branch as make_credit_branch
from tests.integration.crm_helpers import make_branch, make_party

pytestmark = pytest.mark.browser


def _consult(page) -> None:
    page.click("summary:has-text('Análise de crédito')")
    page.click("button:has-text('Consulta de crédito')")
    page.wait_for_url("**/crm/consultas/*")


def test_consult_a_lead_convert_and_see_it_on_the_prospect(page, live_server, users, services, backend,
                                                           fake_bureau):
    sqlite_only(backend)
    confirmations = accept_confirmations(page)
    make_party(services, make_branch(services), name="Lead da Web", seed=40)
    browser_login(page, live_server, "finance", PASSWORD)
    page.click("text=Leads")
    page.click("text=Lead da Web")
    _consult(page)
    assert "Consulta realizada" in page.inner_text("main")
    page.click("dl.facts >> text=Lead da Web")  # the report links back to the register
    page.click("button:has-text('Converter em Prospect')")
    assert len(confirmations) == 1
    assert "Prospect" in page.inner_text("main")
    page.click("summary:has-text('Análise de crédito')")
    page.click("text=Consultas de análise de crédito")
    assert "Lead" in page.inner_text("table.grid tbody")  # made when it was still a lead, kept on the prospect


def test_consult_a_client(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    _, [party_id], _ = finance_world(services, page, live_server)
    page.click("#main-menu >> text=Clientes")
    page.click("text=Cliente 0")
    _consult(page)
    assert "Consulta realizada" in page.inner_text("main")
    assert len(fake_bureau.calls_to("consult")) == 1


def test_authorise_reserve_and_settle_a_purchase(page, live_server, users, services, backend):
    sqlite_only(backend)
    branch_id = make_credit_branch(services, name="Matriz")
    set_policy(services, branch_id)
    make_client(services, branch_id, limit="5000.00", name="Distribuidora Bela Vista")
    browser_login(page, live_server, "finance", PASSWORD)
    page.click("text=Crédito")
    page.click("text=Simular compra")
    page.fill("#f-document", CPF)
    page.fill("#f-amount", "1.200,00")
    page.select_option("#f-installment_term", "30/60")
    page.click("button:has-text('Autorizar')")
    result = page.inner_text("main")
    assert "Aprovada, valor reservado no limite" in result and "R$ 3.800,00" in result
    page.click("text=faturar ou cancelar")
    page.click("button:has-text('Faturar')")
    assert "2 título(s) emitido(s)." in page.inner_text("main")
    titles = page.inner_text("table.grid tbody")
    assert titles.count("R$ 600,00 · Aberto") == 2  # 30/60: two titles of half the order


def test_upload_a_customer_xml(page, live_server, users, services, backend, tmp_path):
    sqlite_only(backend)
    make_credit_branch(services, name="Matriz")
    path = tmp_path / "clientes.xml"
    path.write_bytes(batch_xml(1, 5))
    browser_login(page, live_server, "finance", PASSWORD)
    page.click("text=Crédito")
    page.click("text=Importar clientes (XML)")
    page.select_option("#f-branch_id", label="Matriz")
    page.set_input_files("#f-file", str(path))
    page.click("button:has-text('Importar')")
    page.wait_for_selector("#import-items")  # the page follows the progress, then shows the results
    assert "5 criados, 0 atualizados, 0 recusados" in page.inner_text("#import-counts")
    assert page.inner_text("#import-status") == "Concluída"
    rows = page.locator("#import-items tbody tr")
    assert rows.count() == 5
    assert rows.nth(0).inner_text().split("\t")[:3] == ["1", "PLT-00000001", "Criado (PEN)"]
    page.click("#import-items tbody a >> nth=0")  # each result opens the customer it wrote
    page.wait_for_url("**/crm/cadastros/*/dados")
    assert "PEN" in page.inner_text(".page-head")


def test_an_import_whose_web_process_died_is_finished_by_the_scheduler_while_the_page_watches(
        page, live_server, users, services, backend):
    import datetime as dt

    from app.db import transaction
    from app.models import CustomerImport
    from app.services.commerce import import_jobs
    from app.services.core.clock import now_utc

    sqlite_only(backend)
    branch_id = make_credit_branch(services, name="Matriz")
    body = batch_xml(1, 3)
    # What a web process leaves when it is restarted mid-file: the row "Em andamento", no live
    # lease, the uploaded file kept in the instance folder.
    with transaction(services.session_factory) as s:
        row = CustomerImport(branch_id=branch_id, filename="clientes.xml", size_bytes=len(body),
                             read_bytes=len(body) // 2, requested_by="finance", items=[], attempts=1,
                             started_at=now_utc() - dt.timedelta(minutes=10))
        s.add(row)
        s.flush()
        import_id = row.id
    path = import_jobs.upload_path(services.config, import_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    browser_login(page, live_server, "finance", PASSWORD)
    page.click("text=Crédito")
    page.click("text=Importar clientes (XML)")
    page.click(f"table.grid >> text={import_id}")
    assert page.inner_text("#import-status") == "Em andamento"
    assert import_jobs.resume_stalled(services) == [f"importação {import_id}: done"]  # the scheduler's sweep
    page.wait_for_selector("#import-items")  # the page was following the progress: it reloads by itself
    assert page.inner_text("#import-status") == "Concluída"
    assert "3 criados, 0 atualizados, 0 recusados" in page.inner_text("#import-counts")
    assert "Retomada automaticamente" in page.inner_text("#import-message")
