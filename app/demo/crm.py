"""Demo CRM: leads (one with contacts), prospects and clients per demo branch, with valid CPFs and
CNPJs (check digits computed here) and full addresses. Idempotent: a record whose document already
exists at the branch is left as it is."""

from __future__ import annotations

from sqlalchemy import select

from app.db import transaction
from app.models import Branch, Party
from app.services.core.audit import Actor
from app.services.crm import parties

_CPF_WEIGHTS = (range(10, 1, -1), range(11, 1, -1))
_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))


def _check_digit(chars: str, weights) -> str:
    total = sum((ord(c) - 48) * w for c, w in zip(chars, weights, strict=True))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


def make_cpf(seed: int) -> str:
    """A valid CPF (11 digits) derived from `seed`; never all-equal digits."""
    base = f"{(seed * 7919 + 100000007) % 10**9:09d}"
    if len(set(base)) == 1:
        base = base[:-1] + str((int(base[-1]) + 1) % 10)
    first = _check_digit(base, _CPF_WEIGHTS[0])
    return base + first + _check_digit(base + first, _CPF_WEIGHTS[1])


def make_cnpj(seed: int, order: int = 1) -> str:
    """A valid CNPJ (14 digits): an 8-digit root from `seed`, branch order `order`."""
    base = f"{(seed * 104729 + 10000019) % 10**8:08d}{order:04d}"
    first = _check_digit(base, _CNPJ_WEIGHTS[0])
    return base + first + _check_digit(base + first, _CNPJ_WEIGHTS[1])


# (stage, name, kind, e-mail, address) — the branch's index varies the documents and the numbers.
PEOPLE = [
    ("lead", "Mercadinho Boa Vista Ltda", "CNPJ", "compras@boavista.example.com",
     ("Rua das Palmeiras", "120", "Loja 2", "Jardim América", "São Paulo", "SP", "01455000")),
    ("lead", "João Pereira da Silva", "CPF", "joao.pereira@example.com",
     ("Rua Tupi", "45", "", "Santa Cecília", "São Paulo", "SP", "01233001")),
    ("lead", "Padaria Pão Quente ME", "CNPJ", "contato@paoquente.example.com",
     ("Avenida Brasil", "1500", "", "Centro", "Campinas", "SP", "13013000")),
    ("prospect", "Maria Aparecida Souza", "CPF", "maria.souza@example.com",
     ("Rua Voluntários da Pátria", "300", "Apto 52", "Botafogo", "Rio de Janeiro", "RJ", "22270000")),
    ("prospect", "Oficina Mecânica Dois Irmãos Ltda", "CNPJ", "oficina@doisirmaos.example.com",
     ("Rua Barão de Mesquita", "890", "", "Tijuca", "Rio de Janeiro", "RJ", "20540004")),
    ("client", "Supermercado Estrela Ltda", "CNPJ", "financeiro@estrela.example.com",
     ("Avenida Sete de Setembro", "2100", "", "Vitória", "Salvador", "BA", "40080001")),
    ("client", "Carlos Eduardo Lima", "CPF", "carlos.lima@example.com",
     ("Rua XV de Novembro", "77", "Casa", "Centro", "Curitiba", "PR", "80020310")),
    ("client", "Farmácia Saúde Total Ltda", "CNPJ", "adm@saudetotal.example.com",
     ("Rua da Bahia", "1000", "Sala 3", "Centro", "Belo Horizonte", "MG", "30160011")),
]
CONTACTS = [("Ana Paula Ramos", "Compradora", "ana.ramos@boavista.example.com", "11987650001"),
            ("Roberto Nunes", "Sócio", "roberto@boavista.example.com", "11987650002")]


def seed(services, echo=print) -> None:
    actor = Actor.system("demo")
    created = 0
    with transaction(services.session_factory) as s:
        branch_ids = s.scalars(select(Branch.id).order_by(Branch.id)).all()
        for b_index, branch_id in enumerate(branch_ids):
            for p_index, (stage, name, kind, email, address) in enumerate(PEOPLE):
                seed_no = 1000 * (b_index + 1) + p_index
                document = make_cpf(seed_no) if kind == "CPF" else make_cnpj(seed_no)
                if s.scalar(select(Party.id).where(Party.branch_id == branch_id, Party.document == document)):
                    continue
                street, number, complement, district, city, state, zip_code = address
                party = parties.create_party(s, actor, parties.PartyInput(
                    branch_id=branch_id, name=name, email=email, document=document,
                    state_registration="ISENTO" if kind == "CNPJ" else "", phone=f"113{seed_no:07d}",
                    mobile=f"119{seed_no:08d}", street=street, number=number, complement=complement,
                    district=district, city=city, state=state, zip=zip_code), stage=stage)
                created += 1
                if p_index == 0:
                    for c_index, (c_name, role, c_email, phone) in enumerate(CONTACTS):
                        parties.add_contact(s, actor, party.id, parties.ContactInput(
                            name=c_name, role=role, email=c_email, phone=phone,
                            document=make_cpf(seed_no * 10 + c_index)))
    echo(f"CRM: {created} leads, prospects e clientes de demonstração criados." if created
         else "CRM: dados de demonstração já existentes.")
