"""The customer import's per-batch pieces that need no database: the Histórico row of a changed
customer, the garbage-collector pause around a bulk import, and the reader's wider pipe."""

from __future__ import annotations

import gc
import os
import sys

import pytest

from app.services.commerce.customer_import import _young_collections_only, field_history
from app.services.commerce.import_file import _widen_pipe
from app.services.core.documents import normalize_document

CNPJ, OTHER_CNPJ = "11222333000181", "11444777000161"


def test_history_records_real_changes_masks_the_document_and_skips_empty_to_empty():
    match = {"id": 7, "document": CNPJ, "name": "Loja Velha", "email": None, "phone": "", "city": "Natal"}
    diff = {"name": ["Loja Velha", "Loja Nova"], "email": [None, ""], "phone": ["", "1130000000"],
            "document": [CNPJ, OTHER_CNPJ], "document_kind": ["CNPJ", "CPF"]}
    [row] = field_history(match, diff, branch_id=3)
    assert row["details"] == {"changes": {
        "name": ["Loja Velha", "Loja Nova"], "phone": ["", "1130000000"],
        "document": [normalize_document(CNPJ).masked, normalize_document(OTHER_CNPJ).masked]}}
    assert row["summary"] == "Atualizado pela plataforma: Nome, Telefone, CPF/CNPJ"
    assert (row["actor"], row["entity_id"], row["branch_id"], row["document"]) == ("plataforma", "7", 3, CNPJ)
    assert diff["document"] == [CNPJ, OTHER_CNPJ]  # the caller's diff is not masked in place


def test_history_is_empty_when_nothing_a_person_would_see_changed():
    assert field_history({"id": 1}, {"email": [None, ""], "document_kind": ["CNPJ", "CPF"]}, 1) == []


def test_the_collector_pause_resumes_after_the_import_even_when_it_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _young_collections_only():
        assert not gc.isenabled()
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_a_pause_inside_another_leaves_resuming_to_the_outer_one():
    with _young_collections_only():
        with _young_collections_only():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_the_reader_pipe_holds_several_chunks():
    import fcntl

    read_end, write_end = os.pipe()
    try:
        before = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
        _widen_pipe(read_end)
        assert fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) == 1 << 20 > before
    finally:
        os.close(read_end)
        os.close(write_end)
