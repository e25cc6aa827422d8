"""Leads, prospects and clients (one `Party` row each) and their contacts.

Fields are those the commerce platform sends (docs/commerce-xml.md): name, e-mail, CPF or CNPJ,
inscrição estadual, phone, mobile, address. Converting a lead to a prospect, and a prospect to a
client, changes only the stage of the same row, so consultations, contacts and history stay
attached (a prospect keeps the consultations made while it was a lead). Every change is written to
the audit trail; that trail is the person's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Branch, Consultation, Contact, Party, Stage, Title
from app.models.parties import STAGE_LABELS
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.settings.branches import UFS, clean_zip

STAGES = tuple(s.value for s in Stage)
NEXT_STAGE = {Stage.LEAD.value: Stage.PROSPECT.value, Stage.PROSPECT.value: Stage.CLIENT.value}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
STATE_REGISTRATION_RE = re.compile(r"^(ISENTO|[0-9A-Z./-]{2,20})$")
ADDRESS_FIELDS = ("street", "number", "complement", "district", "city")
AUDITED_FIELDS = ("branch_id", "name", "email", "document", "state_registration", "phone", "mobile", "street",
                  "number", "complement", "district", "city", "state", "zip", "notes")


@dataclass(frozen=True)
class PartyInput:
    branch_id: int | None
    name: str
    email: str = ""
    document: str = ""
    state_registration: str = ""
    phone: str = ""
    mobile: str = ""
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ContactInput:
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    document: str = ""


def stage_label(stage: str) -> str:
    return STAGE_LABELS[Stage(stage)]


def clean_phone(value: str | None) -> str:
    """Digits only, with the area code; a leading +55 is dropped."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    return digits


def _email(value: str, errors: dict[str, str], field: str = "email") -> str | None:
    email = (value or "").strip().lower()
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        errors[field] = "E-mail inválido."
    return email or None


def _phone(value: str, errors: dict[str, str], field: str) -> str | None:
    phone = clean_phone(value)
    if phone and len(phone) not in (10, 11):
        errors[field] = "Informe o telefone com DDD (10 ou 11 dígitos)."
    return phone or None


def _document(value: str, errors: dict[str, str], field: str = "document") -> tuple[str | None, str | None]:
    if not (value or "").strip():
        return None, None
    try:
        doc = normalize_document(value)
    except InvalidDocument as exc:
        errors[field] = exc.message
        return None, None
    return doc.number, doc.kind


def _clean_party(session: Session, data: PartyInput, stage: str) -> dict:
    errors: dict[str, str] = {}
    values: dict = {}
    values["name"] = " ".join((data.name or "").split())
    if not values["name"]:
        errors["name"] = "Informe o nome ou a razão social."
    elif len(values["name"]) > 200:
        errors["name"] = "Use no máximo 200 caracteres."
    if data.branch_id is None or session.get(Branch, data.branch_id) is None:
        errors["branch_id"] = "Escolha a filial."
    values["branch_id"] = data.branch_id
    values["email"] = _email(data.email, errors)
    values["document"], values["document_kind"] = _document(data.document, errors)
    if stage == Stage.CLIENT.value and values["document"] is None and "document" not in errors:
        errors["document"] = "Um cliente precisa de CPF ou CNPJ."
    ie = (data.state_registration or "").strip().upper()
    if ie and not STATE_REGISTRATION_RE.match(ie):
        errors["state_registration"] = "Inscrição estadual inválida: use números (ou ISENTO)."
    values["state_registration"] = ie or None
    values["phone"] = _phone(data.phone, errors, "phone")
    values["mobile"] = _phone(data.mobile, errors, "mobile")
    for f in ADDRESS_FIELDS:
        values[f] = " ".join((getattr(data, f) or "").split()) or None
    state = (data.state or "").strip().upper()
    if state and state not in UFS:
        errors["state"] = "UF inválida."
    values["state"] = state or None
    zip_code = clean_zip(data.zip)
    if zip_code and len(zip_code) != 8:
        errors["zip"] = "O CEP deve ter 8 dígitos."
    values["zip"] = zip_code or None
    values["notes"] = (data.notes or "").strip() or None
    if errors:
        raise ValidationError("Não foi possível salvar o cadastro. Corrija os campos indicados.",
                              field_errors=errors)
    return values


def _check_duplicate(session: Session, branch_id: int, document: str | None, party_id: int | None) -> None:
    if document is None:
        return
    clash = session.execute(
        select(Party.id, Party.name, Party.stage)
        .where(Party.branch_id == branch_id, Party.document == document)).first()
    if clash and clash.id != party_id:
        raise Conflict(f"Já existe um cadastro com este CPF/CNPJ nesta filial: {clash.name} "
                       f"({stage_label(clash.stage)} nº {clash.id}).", code="duplicate_document")


def _snapshot(party: Party) -> dict:
    return {f: getattr(party, f) for f in AUDITED_FIELDS}


def get_party(session: Session, party_id: int, *, stage: str | None = None) -> Party:
    party = session.get(Party, party_id)
    if party is None or (stage is not None and party.stage != stage):
        label = stage_label(stage) if stage else "Cadastro"
        raise NotFound(f"{label} não encontrado.")
    return party


def client_id_by_document(session: Session, document: str, *, branch_id: int | None = None) -> int | None:
    """The client with this CPF/CNPJ (in `branch_id` when given), or None: an invalid document or
    a lead/prospect finds nothing, and the caller's validation says "informe um cliente"."""
    try:
        number = normalize_document(document).number
    except InvalidDocument:
        return None
    stmt = select(Party.id).where(Party.document == number, Party.stage == Stage.CLIENT.value)
    if branch_id is not None:
        stmt = stmt.where(Party.branch_id == branch_id)
    return session.scalars(stmt.order_by(Party.id)).first()


def create_party(session: Session, actor: audit.Actor, data: PartyInput, *,
                 stage: str = Stage.LEAD.value) -> Party:
    if stage not in STAGES:
        raise ValidationError("Estágio inválido.", field_errors={"stage": "Use lead, prospect ou client."})
    values = _clean_party(session, data, stage)
    _check_duplicate(session, values["branch_id"], values["document"], None)
    now = now_utc()
    party = Party(stage=stage, created_by_id=actor.user_id, **values)
    if stage in (Stage.PROSPECT.value, Stage.CLIENT.value):
        party.became_prospect_at = now
    if stage == Stage.CLIENT.value:
        party.became_client_at = now
    session.add(party)
    session.flush()
    audit.record(session, actor, "party.create", "party", party.id, branch_id=party.branch_id,
                 document=party.document, summary=f"{party.stage_label} '{party.name}' cadastrado",
                 details={"stage": stage})
    return party


def update_party(session: Session, actor: audit.Actor, party_id: int, data: PartyInput) -> Party:
    party = get_party(session, party_id)
    values = _clean_party(session, data, party.stage)
    _check_duplicate(session, values["branch_id"], values["document"], party.id)
    before = _snapshot(party)
    for key, value in values.items():
        setattr(party, key, value)
    changes = audit.diff(before, _snapshot(party))
    if changes:
        session.flush()
        audit.record(session, actor, "party.update", "party", party.id, branch_id=party.branch_id,
                     document=party.document, summary=f"{party.stage_label} '{party.name}' alterado",
                     details={"changes": changes})
    return party


def convert(session: Session, actor: audit.Actor, party_id: int) -> Party:
    """Lead -> prospect -> client: the same row moves on, so every consultation stays attached."""
    party = get_party(session, party_id)
    target = NEXT_STAGE.get(party.stage)
    if target is None:
        raise Conflict("O cadastro já é um cliente.", code="already_client")
    if target == Stage.CLIENT.value and not party.document:
        raise ValidationError("Para converter em cliente, cadastre antes o CPF ou CNPJ.",
                              field_errors={"document": "Um cliente precisa de CPF ou CNPJ."})
    previous = party.stage
    party.stage = target
    now = now_utc()
    if target == Stage.PROSPECT.value:
        party.became_prospect_at = now
    else:
        party.became_client_at = now
    session.flush()
    audit.record(session, actor, "party.convert", "party", party.id, branch_id=party.branch_id,
                 document=party.document,
                 summary=f"'{party.name}' convertido de {stage_label(previous)} para {stage_label(target)}",
                 details={"stage": [previous, target]})
    return party


def delete_party(session: Session, actor: audit.Actor, party_id: int) -> None:
    """Only a record with no consultation and no title: those are evidence that must be kept."""
    party = get_party(session, party_id)
    used = session.scalar(select(exists().where(Consultation.party_id == party_id))) or session.scalar(
        select(exists().where(Title.party_id == party_id)))
    if used:
        raise Conflict("O cadastro tem consultas de crédito ou títulos e não pode ser excluído.",
                       code="party_in_use")
    audit.record(session, actor, "party.delete", "party", party.id, branch_id=party.branch_id,
                 document=party.document, summary=f"{party.stage_label} '{party.name}' excluído")
    session.delete(party)
    session.flush()


def _clean_contact(data: ContactInput) -> dict:
    errors: dict[str, str] = {}
    values: dict = {"name": " ".join((data.name or "").split())}
    if not values["name"]:
        errors["name"] = "Informe o nome do contato."
    values["role"] = (data.role or "").strip()[:80] or None
    values["email"] = _email(data.email, errors)
    values["phone"] = _phone(data.phone, errors, "phone")
    values["document"], values["document_kind"] = _document(data.document, errors)
    if errors:
        raise ValidationError("Não foi possível salvar o contato. Corrija os campos indicados.",
                              field_errors=errors)
    return values


def get_contact(session: Session, party_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.party_id != party_id:
        raise NotFound("Contato não encontrado.")
    return contact


def add_contact(session: Session, actor: audit.Actor, party_id: int, data: ContactInput) -> Contact:
    party = get_party(session, party_id)
    contact = Contact(party_id=party.id, **_clean_contact(data))
    session.add(contact)
    session.flush()
    audit.record(session, actor, "contact.create", "contact", contact.id, branch_id=party.branch_id,
                 document=contact.document, summary=f"Contato '{contact.name}' incluído em '{party.name}'",
                 details={"party_id": party.id})
    return contact


def update_contact(session: Session, actor: audit.Actor, party_id: int, contact_id: int,
                   data: ContactInput) -> Contact:
    contact = get_contact(session, party_id, contact_id)
    values = _clean_contact(data)
    before = {k: getattr(contact, k) for k in values}
    for key, value in values.items():
        setattr(contact, key, value)
    changes = audit.diff(before, values)
    if changes:
        audit.record(session, actor, "contact.update", "contact", contact.id,
                     branch_id=contact.party.branch_id, document=contact.document,
                     summary=f"Contato '{contact.name}' alterado",
                     details={"party_id": party_id, "changes": changes})
    return contact


def delete_contact(session: Session, actor: audit.Actor, party_id: int, contact_id: int) -> None:
    """Consultations made from the contact keep their record (contact_id becomes empty)."""
    contact = get_contact(session, party_id, contact_id)
    audit.record(session, actor, "contact.delete", "contact", contact.id, branch_id=contact.party.branch_id,
                 document=contact.document, summary=f"Contato '{contact.name}' excluído",
                 details={"party_id": party_id})
    session.delete(contact)
    session.flush()


def party_input_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(PartyInput))


def contact_input_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ContactInput))
