"""Sistema › CRM: Leads, Prospects and Clientes — lists, forms, the "Dados" and "Contatos" tabs,
conversion lead → prospect → client. Consultations live in `consultations.py`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.models import AuditEvent, Branch, Party
from app.models.consultations import PURPOSES
from app.models.parties import STATUS_LABELS
from app.services.core.errors import DomainError
from app.services.crm import parties as party_service
from app.services.crm.search import SORTS, PartyFilter, list_parties
from app.services.settings import branches as branch_service

from .common import ALL_ROLES, actor, db_session, flash_domain_error, roles_required
from .party_tabs import PartyTab, register_tab

bp = Blueprint("crm", __name__, url_prefix="/crm")

EDIT_ROLES = ("admin", "finance", "crm")
CONSULT_ROLES = ("admin", "finance", "crm")
SLUGS = {"leads": "lead", "prospects": "prospect", "clientes": "client"}
STAGE_SLUG = {v: k for k, v in SLUGS.items()}
LIST_TITLES = {"lead": "Leads", "prospect": "Prospects", "client": "Clientes"}
LIST_ENDPOINTS = {"lead": "crm.leads", "prospect": "crm.prospects", "client": "crm.clients"}
NEW_TITLES = {"lead": "Novo lead", "prospect": "Novo prospect", "client": "Novo cliente"}
PARTY_FIELDS = party_service.party_input_fields()
CONTACT_FIELDS = party_service.contact_input_fields()

register_tab(PartyTab("dados", "Dados", "crm.party_data"))
register_tab(PartyTab("contatos", "Contatos", "crm.contacts"))


def can_consult() -> bool:
    return current_user.has_role(*CONSULT_ROLES)


def default_purpose(party: Party) -> str:
    return "limite" if party.stage == "client" else "cadastro"


def party_page_context(party: Party) -> dict:
    """What every tab of the party page needs for the header buttons (_party_actions.html)."""
    return {"party": party, "can_edit": current_user.has_role(*EDIT_ROLES), "can_consult": can_consult(),
            "next_stage": party_service.NEXT_STAGE.get(party.stage), "stage_label": party_service.stage_label,
            "purposes": PURPOSES, "default_purpose": default_purpose(party)}


def _load(party_id: int) -> Party:
    party = db_session().get(Party, party_id)
    if party is None:
        abort(404)
    return party


def _branch_options() -> list[tuple[int, str]]:
    return [(b.id, b.name) for b in branch_service.list_branches(db_session(), only_active=True)]


def _list(stage: str):
    s = db_session()
    branch_raw = request.args.get("branch_id", "")
    status = request.args.get("status") or None
    flt = PartyFilter(stage=stage, q=request.args.get("q", ""),
                      branch_id=int(branch_raw) if branch_raw.isdigit() else None,
                      status=status if status in STATUS_LABELS else None,
                      sort=request.args.get("sort", "recent"))
    page = list_parties(s, flt, cursor=request.args.get("after") or None)
    branch_names = {row.id: row.name for row in s.execute(select(Branch.id, Branch.name))}
    return render_template("crm/parties_list.html", stage=stage, title=LIST_TITLES[stage], page=page,
                           branch_names=branch_names, branches=_branch_options(), statuses=STATUS_LABELS,
                           sorts=SORTS, args=request.args, slug=STAGE_SLUG[stage],
                           can_edit=current_user.has_role(*EDIT_ROLES), can_consult=can_consult())


@bp.route("/leads/")
@roles_required(*ALL_ROLES)
def leads():
    return _list("lead")


@bp.route("/prospects/")
@roles_required(*ALL_ROLES)
def prospects():
    return _list("prospect")


@bp.route("/clientes/")
@roles_required(*ALL_ROLES)
def clients():
    return _list("client")


def _party_input() -> party_service.PartyInput:
    raw = request.form.get("branch_id", "")
    values = {f: request.form.get(f, "") for f in PARTY_FIELDS if f != "branch_id"}
    return party_service.PartyInput(branch_id=int(raw) if raw.isdigit() else None, **values)


@bp.route("/<slug>/novo", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def new(slug: str):
    stage = SLUGS.get(slug) or abort(404)
    errors: dict[str, str] = {}
    data = request.form
    if request.method == "POST":
        s = db_session()
        try:
            party = party_service.create_party(s, actor(), _party_input(), stage=stage)
            s.commit()
            flash(f"{party.stage_label} {party.name} cadastrado.", "success")
            return redirect(url_for("crm.party_data", party_id=party.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
    else:
        options = _branch_options()
        data = {"branch_id": options[0][0]} if len(options) == 1 else {}
    return render_template("crm/party_form.html", party=None, stage=stage, title=NEW_TITLES[stage], data=data,
                           errors=errors, branch_options=_branch_options(), slug=slug)


@bp.route("/cadastros/<int:party_id>")
@roles_required(*ALL_ROLES)
def party(party_id: int):
    return redirect(url_for("crm.party_data", party_id=_load(party_id).id))


@bp.route("/cadastros/<int:party_id>/dados")
@roles_required(*ALL_ROLES)
def party_data(party_id: int):
    party = _load(party_id)
    history = db_session().scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "party", AuditEvent.entity_id == str(party.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(30)).all()
    return render_template("crm/party_data.html", active_tab="dados", history=history,
                           **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/editar", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def edit(party_id: int):
    party = _load(party_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        s = db_session()
        try:
            party_service.update_party(s, actor(), party.id, _party_input())
            s.commit()
            flash("Cadastro salvo.", "success")
            return redirect(url_for("crm.party_data", party_id=party.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = request.form
    else:
        data = {f: getattr(party, f) or "" for f in PARTY_FIELDS}
    return render_template("crm/party_form.html", party=party, stage=party.stage,
                           title=f"Editar {party.name}", data=data, errors=errors,
                           branch_options=_branch_options(), slug=STAGE_SLUG[party.stage])


@bp.route("/cadastros/<int:party_id>/converter", methods=["POST"])
@roles_required(*EDIT_ROLES)
def convert(party_id: int):
    s = db_session()
    try:
        party = party_service.convert(s, actor(), party_id)
        s.commit()
        flash(f"{party.name} agora é {party.stage_label}. As consultas de crédito e os contatos "
              "foram mantidos.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("crm.party_data", party_id=party_id))


@bp.route("/cadastros/<int:party_id>/excluir", methods=["POST"])
@roles_required(*EDIT_ROLES)
def delete(party_id: int):
    s = db_session()
    stage = _load(party_id).stage
    try:
        party_service.delete_party(s, actor(), party_id)
        s.commit()
        flash("Cadastro excluído.", "success")
        return redirect(url_for(LIST_ENDPOINTS[stage]))
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
        return redirect(url_for("crm.party_data", party_id=party_id))


def _contact_input() -> party_service.ContactInput:
    return party_service.ContactInput(**{f: request.form.get(f, "") for f in CONTACT_FIELDS})


@bp.route("/cadastros/<int:party_id>/contatos", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def contacts(party_id: int):
    party = _load(party_id)
    errors: dict[str, str] = {}
    data = {}
    if request.method == "POST":
        if not current_user.has_role(*EDIT_ROLES):
            abort(403)
        s = db_session()
        try:
            contact = party_service.add_contact(s, actor(), party.id, _contact_input())
            s.commit()
            flash(f"Contato {contact.name} incluído.", "success")
            return redirect(url_for("crm.contacts", party_id=party.id))
        except DomainError as exc:
            s.rollback()
            errors, data = flash_domain_error(exc), request.form
    return render_template("crm/contacts.html", active_tab="contatos", errors=errors, data=data,
                           **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/contatos/<int:contact_id>", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def edit_contact(party_id: int, contact_id: int):
    party = _load(party_id)
    s = db_session()
    try:
        contact = party_service.get_contact(s, party.id, contact_id)
    except DomainError:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            party_service.update_contact(s, actor(), party.id, contact_id, _contact_input())
            s.commit()
            flash("Contato salvo.", "success")
            return redirect(url_for("crm.contacts", party_id=party.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = request.form
    else:
        data = {f: getattr(contact, f) or "" for f in CONTACT_FIELDS}
    return render_template("crm/contact_form.html", active_tab="contatos", contact=contact, data=data,
                           errors=errors, **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/contatos/<int:contact_id>/excluir", methods=["POST"])
@roles_required(*EDIT_ROLES)
def delete_contact(party_id: int, contact_id: int):
    s = db_session()
    try:
        party_service.delete_contact(s, actor(), party_id, contact_id)
        s.commit()
        flash("Contato excluído.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("crm.contacts", party_id=party_id))
