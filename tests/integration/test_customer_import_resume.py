"""A customer XML import survives its web process: the file is kept until the import ends, an
import whose importer stopped renewing its lease is run again by the scheduler (the writes are by
the platform's customer id, so nothing is duplicated), and one that cannot be resumed ends
"Interrompida" with its reason and a way to run it again; a row never stays "Em andamento"."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import CustomerImport, JobLock, Party
from app.services.commerce import import_jobs
from app.services.commerce.customer_import import import_customers
from app.services.core.clock import now_utc
from integrations.commerce.samples import batch_xml
from scheduler.registry import JOBS, run_job
from scheduler.runner import load_jobs
from tests.clock import pin_clock

from .credit_support import CRM, make_branch

DAY = dt.date(2026, 11, 23)

@pytest.fixture(autouse=True)
def _pinned():
    with pin_clock(DAY, hour=10):
        yield

def _crashed_import(services, branch_id: int, body: bytes, *, attempts: int = 1, keep_file: bool = True,
                    lease_expires_in: dt.timedelta | None = dt.timedelta(minutes=-5)) -> int:
    """A row as a web process leaves it when it dies mid-file: "running", started a while ago, its
    lease (if any) no longer renewed, and the file in the instance folder."""
    now = now_utc()
    with transaction(services.session_factory) as s:
        row = CustomerImport(branch_id=branch_id, filename="clientes.xml", size_bytes=len(body),
                             read_bytes=len(body) // 2, requested_by="crm", items=[], attempts=attempts,
                             started_at=now - dt.timedelta(minutes=10), created=2)
        s.add(row)
        s.flush()
        import_id = row.id
        if lease_expires_in is not None:
            s.add(JobLock(name=import_jobs.lease_name(import_id), holder="web-1:4242:dead", acquired_at=now
                          - dt.timedelta(minutes=10), expires_at=now + lease_expires_in))
    if keep_file:
        path = import_jobs.upload_path(services.config, import_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return import_id

def _row(services, import_id: int) -> CustomerImport:
    with services.session_factory() as s:
        row = s.get(CustomerImport, import_id)
        s.expunge(row)
        return row

def _resume_job():
    load_jobs()
    return JOBS["customer_imports_resume"]

def test_a_stalled_import_is_picked_up_by_the_scheduler_and_finishes_without_duplicates(services, login_as):
    branch_id = make_branch(services)
    body = batch_xml(1, 3)
    # The first two customers were committed in a batch before the process died.
    with services.session_factory() as s:
        import_customers(s, CRM, io.BytesIO(batch_xml(1, 2)), branch_id, commit_each_batch=True)
    import_id = _crashed_import(services, branch_id, body)
    assert _row(services, import_id).status == "running"

    result = run_job(_resume_job(), services)

    assert result == [f"importação {import_id}: done"]
    row = _row(services, import_id)
    assert (row.status, row.attempts, row.created, row.updated, row.refused, row.percent) == ("done", 2, 1, 2, 0, 100)
    assert [(i["index"], i["result"]) for i in row.items] == [(1, "updated"), (2, "updated"), (3, "created")]
    assert row.message.startswith("Retomada automaticamente após uma interrupção (tentativa 2)")
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Party).where(Party.branch_id == branch_id)) == 3
        # Every kept result opens the customer it wrote, the created one too.
        ids = dict(s.execute(select(Party.external_id, Party.id).where(Party.branch_id == branch_id)).all())
        assert [i["party_id"] for i in row.items] == [ids[i["external_id"]] for i in row.items]
        assert s.get(JobLock, import_jobs.lease_name(import_id)) is None  # released
    assert not import_jobs.upload_path(services.config, import_id).exists()  # kept only until the end
    page = login_as("crm").get(f"/credito/importacoes-de-clientes/{import_id}").get_data(as_text=True)
    assert "Concluída" in page and "1 criado, 2 atualizados, 0 recusados" in page and "Retomada" in page

def test_an_import_whose_lease_is_alive_is_left_to_its_importer(services):
    branch_id = make_branch(services)
    import_id = _crashed_import(services, branch_id, batch_xml(1, 2), lease_expires_in=dt.timedelta(minutes=1))
    assert import_jobs.resume_stalled(services) == [f"importação {import_id}: busy"]
    assert (_row(services, import_id).status, _row(services, import_id).attempts) == ("running", 1)
    # Once the importer stops renewing, the next sweep takes it over.
    with pin_clock(DAY, hour=11):
        assert import_jobs.resume_stalled(services) == [f"importação {import_id}: done"]
    assert _row(services, import_id).status == "done"

def test_a_fresh_upload_is_left_to_the_thread_that_is_starting_it(services):
    branch_id = make_branch(services)
    import_id = _crashed_import(services, branch_id, batch_xml(1, 2), lease_expires_in=None)
    with transaction(services.session_factory) as s:
        s.get(CustomerImport, import_id).started_at = now_utc() - dt.timedelta(seconds=20)
    assert import_jobs.resume_stalled(services) == []
    assert _row(services, import_id).status == "running"

def test_an_import_whose_file_is_gone_ends_interrupted_with_a_way_to_send_it_again(services, login_as):
    branch_id = make_branch(services)
    import_id = _crashed_import(services, branch_id, batch_xml(1, 2), keep_file=False)

    assert import_jobs.resume_stalled(services) == [f"importação {import_id}: interrupted"]

    row = _row(services, import_id)
    assert row.status == "interrupted" and row.finished_at is not None
    assert row.message == ("A importação foi interrompida e o arquivo enviado não está mais disponível no servidor; "
                           "envie o arquivo de novo.")
    client = login_as("crm")
    page = client.get(f"/credito/importacoes-de-clientes/{import_id}").get_data(as_text=True)
    assert "Interrompida" in page and 'id="upload-again"' in page and 'id="run-again"' not in page
    assert f'href="/credito/importacoes-de-clientes/?branch_id={branch_id}"' in page
    form = client.get(f"/credito/importacoes-de-clientes/?branch_id={branch_id}").get_data(as_text=True)
    assert f'<option value="{branch_id}" selected>' in form
    assert client.get(f"/credito/importacoes-de-clientes/{import_id}/progresso.json").get_json()["status"] == (
        "interrupted")
    assert import_jobs.resume_stalled(services) == []  # ended: the sweep leaves it alone

def test_an_import_that_kept_stopping_is_interrupted_then_run_again_by_a_person(services, login_as):
    branch_id = make_branch(services)
    import_id = _crashed_import(services, branch_id, batch_xml(1, 3), attempts=import_jobs.MAX_ATTEMPTS)

    assert import_jobs.resume_stalled(services) == [f"importação {import_id}: interrupted"]
    row = _row(services, import_id)
    assert row.status == "interrupted"
    assert row.message.startswith(f"A importação parou {import_jobs.MAX_ATTEMPTS} vezes sem terminar")
    assert import_jobs.upload_path(services.config, import_id).exists()  # kept for "Executar de novo"
    client = login_as("crm")
    page = client.get(f"/credito/importacoes-de-clientes/{import_id}").get_data(as_text=True)
    assert 'id="run-again"' in page and "Executar de novo" in page

    resp = client.post(f"/credito/importacoes-de-clientes/{import_id}/executar-de-novo")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/{import_id}")
    deadline = time.monotonic() + 20
    while _row(services, import_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    row = _row(services, import_id)
    assert (row.status, row.attempts, row.created, row.updated) == ("done", 1, 3, 0)
    assert not import_jobs.upload_path(services.config, import_id).exists()
    # Only an interrupted import can be run again.
    again = client.post(f"/credito/importacoes-de-clientes/{import_id}/executar-de-novo", follow_redirects=True)
    assert "Só uma importação interrompida pode ser executada de novo." in again.get_data(as_text=True)

def test_the_upload_keeps_the_file_under_the_rows_name_until_it_ends(services, login_as, monkeypatch):
    branch_id = make_branch(services)
    started: list[int] = []
    # The web process "dies" before its thread runs: nothing imports the file.
    monkeypatch.setattr(import_jobs, "run_in_background", lambda svc, who, import_id: started.append(import_id))

    resp = login_as("crm").post("/credito/importacoes-de-clientes/", data={
        "branch_id": str(branch_id), "file": (io.BytesIO(batch_xml(1, 2)), "clientes.xml")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    [import_id] = started
    assert import_jobs.upload_path(services.config, import_id).read_bytes() == batch_xml(1, 2)
    with pin_clock(DAY, hour=11):  # an hour later, no lease was ever taken
        assert import_jobs.resume_stalled(services) == [f"importação {import_id}: done"]
    assert (_row(services, import_id).status, _row(services, import_id).created) == ("done", 2)
