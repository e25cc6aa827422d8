"""Names compared the way a person would: case, accents, punctuation, word order and company suffixes aside."""

from __future__ import annotations

import pytest

from app.models import Consultation
from app.models.search_text import name_key


@pytest.mark.parametrize(("ours", "bureau"), [
    ("João da Silva", "JOAO SILVA"),
    ("Silva, João", "João Silva"),
    ("Estrela Comércio S/A", "ESTRELA COMERCIO LTDA"),
    ("Conecta Serviços de Informática S.A.", "CONECTA SERVICOS DE INFORMATICA SA"),
    ("Padaria Pão Quente ME", "padaria pao quente - epp"),
])
def test_same_name_written_differently(ours, bureau):
    assert name_key(ours) == name_key(bureau)


@pytest.mark.parametrize(("ours", "bureau"), [
    ("Supermercado Estrela Ltda", "Conecta Serviços de Informática S.A."),
    ("Maria da Silva", "Maria Souza"),
    ("João Silva", "João Silva Filho"),
])
def test_different_names(ours, bureau):
    assert name_key(ours) != name_key(bureau)


def test_consultation_flags_a_bureau_name_that_differs_from_the_register():
    c = Consultation(register_name="Supermercado Estrela Ltda", subject_name="Conecta Serviços de Informática S.A.")
    assert c.bureau_name_differs
    same = Consultation(register_name="Estrela Comércio S/A", subject_name="ESTRELA COMERCIO LTDA")
    assert not same.bureau_name_differs
    assert not Consultation(register_name=None, subject_name="X").bureau_name_differs  # older reports: no warning
