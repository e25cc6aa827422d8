"""Synthetic customers in the platform's XML (docs/commerce-xml.md), for the simulator, tests and
the benchmark. Deterministic: the same (start, count) always gives the same customers, so sending a
batch twice updates instead of duplicating."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import IO
from xml.sax.saxutils import escape

from stdnum.br import cnpj as stdnum_cnpj

_TRADES = ("Mercado", "Distribuidora", "Farmácia", "Papelaria", "Padaria", "Atacado", "Empório", "Loja")
_NAMES = ("Boa Vista", "São Jorge", "Primavera", "Central", "do Vale", "Aurora", "Bela Vista", "Serra Azul")
_PLACES = (("São Paulo", "SP", "01310"), ("Campinas", "SP", "13010"), ("Rio de Janeiro", "RJ", "20040"),
           ("Belo Horizonte", "MG", "30130"), ("Curitiba", "PR", "80010"), ("Salvador", "BA", "40020"))
_STREETS = ("Rua das Flores", "Av. Brasil", "Rua XV de Novembro", "Av. Independência", "Rua do Comércio")


def cnpj_for(n: int) -> str:
    base = f"{n % 10**8:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def customer(n: int, variant: int = 0) -> dict[str, str]:
    """Customer number `n`; another `variant` keeps id and CNPJ and changes the other fields (an update)."""
    rng = random.Random(n * 1000 + variant)
    city, uf, cep = rng.choice(_PLACES)
    name = f"{rng.choice(_TRADES)} {rng.choice(_NAMES)} {n} Ltda"
    return {
        "id": f"PLT-{n:08d}", "nome": name, "email": f"compras{n}@cliente{(n + variant) % 997}.com.br",
        "cnpj": cnpj_for(n), "inscricao_estadual": f"{rng.randrange(10**11, 10**12)}",
        "telefone": f"11{rng.randrange(30000000, 39999999)}", "celular": f"119{rng.randrange(10**7, 10**8)}",
        "logradouro": rng.choice(_STREETS), "numero": str(rng.randrange(1, 3000)),
        "complemento": rng.choice(("", "Sala 2", "Galpão B", "Loja 1")), "bairro": "Centro", "cidade": city,
        "uf": uf, "cep": f"{cep}{rng.randrange(0, 999):03d}",
    }


def customer_xml(c: dict[str, str]) -> str:
    def el(tag: str) -> str:
        return f"<{tag}>{escape(c[tag])}</{tag}>" if c.get(tag) else f"<{tag}/>"

    address = "".join(el(t) for t in ("logradouro", "numero", "complemento", "bairro", "cidade", "uf", "cep"))
    head = "".join(el(t) for t in ("id", "nome", "email", "cnpj", "inscricao_estadual", "telefone", "celular"))
    return f"<cliente>{head}<endereco>{address}</endereco></cliente>\n"


def iter_batch_xml(start: int, count: int, variant: int = 0) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<clientes>\n'
    for n in range(start, start + count):
        yield customer_xml(customer(n, variant))
    yield "</clientes>\n"


def batch_xml(start: int, count: int, variant: int = 0) -> bytes:
    return "".join(iter_batch_xml(start, count, variant)).encode()


def write_batch(fh: IO[bytes], start: int, count: int, variant: int = 0) -> int:
    """Stream a batch to a binary file; returns the bytes written."""
    written = 0
    buffer: list[str] = []
    for i, part in enumerate(iter_batch_xml(start, count, variant)):
        buffer.append(part)
        if i % 2000 == 0:
            data = "".join(buffer).encode()
            fh.write(data)
            written += len(data)
            buffer.clear()
    data = "".join(buffer).encode()
    fh.write(data)
    return written + len(data)
