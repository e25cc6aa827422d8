"""Branches (filiais): the creditor of every negativation is a branch's CNPJ (domain rule 8)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, BureauIntegration, Party
from app.services.core import audit
from app.services.core.documents import InvalidDocument, normalize_cnpj
from app.services.core.errors import Conflict, NotFound, ValidationError

UFS = [
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
]  # fmt: skip


@dataclass(frozen=True)
class BranchInput:
    name: str
    cnpj: str
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    active: bool = True
    bureau_integration_id: int | None = None


def clean_zip(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _snapshot(b: Branch) -> dict:
    return {f: getattr(b, f) for f in ("name", "cnpj", "street", "number", "complement", "district", "city",
                                       "state", "zip", "active", "bureau_integration_id")}


def save_branch(session: Session, actor: audit.Actor, data: BranchInput, *, branch_id: int | None = None) -> Branch:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "Informe o nome da filial."
    cnpj = None
    try:
        cnpj = normalize_cnpj(data.cnpj).number
    except InvalidDocument as exc:
        errors["cnpj"] = exc.message
    state = (data.state or "").strip().upper()
    if state and state not in UFS:
        errors["state"] = "UF inválida."
    zip_code = clean_zip(data.zip)
    if zip_code and len(zip_code) != 8:
        errors["zip"] = "O CEP deve ter 8 dígitos."
    if data.bureau_integration_id is not None and session.get(BureauIntegration, data.bureau_integration_id) is None:
        errors["bureau_integration_id"] = "Integração inexistente."
    if errors:
        raise ValidationError("Não foi possível salvar a filial. Corrija os campos indicados.", field_errors=errors)
    branch = None
    if branch_id is not None:
        branch = session.get(Branch, branch_id)
        if branch is None:
            raise NotFound("Filial não encontrada.")
    clash = session.scalar(select(Branch.id).where(Branch.cnpj == cnpj))
    if clash and (branch is None or clash != branch.id):
        raise Conflict("Já existe uma filial com este CNPJ.", code="duplicate_cnpj")
    created = branch is None
    before = {} if created else _snapshot(branch)
    if created:
        branch = Branch()
        session.add(branch)
    branch.name, branch.cnpj, branch.state, branch.zip = name, cnpj, state or None, zip_code or None
    for f in ("street", "number", "complement", "district", "city"):
        setattr(branch, f, (getattr(data, f) or "").strip() or None)
    branch.active = data.active
    branch.bureau_integration_id = data.bureau_integration_id
    session.flush()
    audit.record(session, actor, "branch.create" if created else "branch.update", "branch", branch.id,
                 branch_id=branch.id, summary=f"Filial '{name}' {'criada' if created else 'alterada'}",
                 details={"changes": audit.diff(before, _snapshot(branch))})
    return branch


def delete_branch(session: Session, actor: audit.Actor, branch_id: int) -> None:
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    if session.scalar(select(Party.id).where(Party.branch_id == branch_id).limit(1)):
        raise ValidationError("A filial tem cadastros vinculados; desative-a em vez de excluir.")
    audit.record(session, actor, "branch.delete", "branch", branch.id, summary=f"Filial '{branch.name}' excluída")
    session.delete(branch)


def list_branches(session: Session, *, only_active: bool = False) -> list[Branch]:
    stmt = select(Branch).order_by(Branch.name)
    if only_active:
        stmt = stmt.where(Branch.active.is_(True))
    return list(session.scalars(stmt))
