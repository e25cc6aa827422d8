"""Sistema › CRM: Leads, Prospects and Clientes — lists, forms, the "Dados" and "Contatos" tabs,
conversion lead → prospect → client. Consultations live in `consultations.py`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import AuditEvent, Party
from app.models.consultations import PURPOSES
from app.models.parties import STATUS_LABELS
from app.services.commerce.customer_import import HISTORY_LABELS
from app.services.crm import parties as party_service
from app.services.crm.search import SORTS, PartyFilter, list_parties
from app.services.settings import branches as branch_service

from .common import Capability, actor, can, db_session, form_id, id_arg, request_branches, requires
from .errors import on_error, or_404
from .party_tabs import PartyTab, register_tab

bp = Blueprint("crm", __name__, url_prefix="/crm")

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
    return can(Capability.CONSULT)


def default_purpose(party: Party) -> str:
    return "limite" if party.stage == "client" else "cadastro"


def party_page_context(party: Party) -> dict:
    """What every tab of the party page needs for the header buttons (_party_actions.html)."""
    return {"party": party, "can_edit": can(Capability.EDIT_PARTIES), "can_consult": can_consult(),
            "next_stage": party_service.NEXT_STAGE.get(party.stage), "stage_label": party_service.stage_label,
            "purposes": PURPOSES, "default_purpose": default_purpose(party)}


def _load(party_id: int) -> Party:
    # Every tab shows the party's branch: loaded with it rather than by a second query.
    party = db_session().get(Party, party_id, options=[joinedload(Party.branch)])
    if party is None:
        abort(404)
    return party


def _branch_options() -> list[tuple[int, str]]:
    return [(b.id, b.name) for b in branch_service.list_branches(db_session(), only_active=True)]


def _list(stage: str):
    s = db_session()
    status = request.args.get("status") or None
    flt = PartyFilter(stage=stage, q=request.args.get("q", ""),
                      branch_id=id_arg("branch_id"),
                      status=status if status in STATUS_LABELS else None,
                      sort=request.args.get("sort", "recent"))
    page = list_parties(s, flt, cursor=request.args.get("after") or None)
    # One read of the branches for the rows' names (inactive ones too) and the filter (active ones).
    every_branch = request_branches()
    branch_names = {b.id: b.name for b in every_branch}
    options = [(b.id, b.name) for b in every_branch if b.active]
    return render_template("crm/parties_list.html", stage=stage, title=LIST_TITLES[stage], page=page,
                           branch_names=branch_names, branches=options, statuses=STATUS_LABELS,
                           sorts=SORTS, args=request.args, slug=STAGE_SLUG[stage],
                           can_edit=can(Capability.EDIT_PARTIES), can_consult=can_consult())


@bp.route("/leads/")
@requires(Capability.READ)
def leads():
    return _list("lead")


@bp.route("/prospects/")
@requires(Capability.READ)
def prospects():
    return _list("prospect")


@bp.route("/clientes/")
@requires(Capability.READ)
def clients():
    return _list("client")


def _party_input() -> party_service.PartyInput:
    values = {f: request.form.get(f, "") for f in PARTY_FIELDS if f != "branch_id"}
    return party_service.PartyInput(branch_id=form_id("branch_id"), **values)


def _party_form(party: Party | None, stage: str, data, errors: dict[str, str]):
    title = NEW_TITLES[stage] if party is None else f"Editar {party.name}"
    return render_template("crm/party_form.html", party=party, stage=stage, title=title, data=data,
                           errors=errors, branch_options=_branch_options(), slug=STAGE_SLUG[stage])


@bp.route("/<slug>/novo", methods=["GET", "POST"])
@on_error(form=lambda data, errors, slug: _party_form(None, SLUGS[slug], data, errors))
@requires(Capability.EDIT_PARTIES)
def new(slug: str):
    stage = SLUGS.get(slug) or abort(404)
    if request.method == "POST":
        party = party_service.create_party(db_session(), actor(), _party_input(), stage=stage)
        flash(f"{party.stage_label} {party.name} cadastrado.", "success")
        return redirect(url_for("crm.party_data", party_id=party.id))
    options = _branch_options()
    return _party_form(None, stage, {"branch_id": options[0][0]} if len(options) == 1 else {}, {})


@bp.route("/cadastros/<int:party_id>")
@requires(Capability.READ)
def party(party_id: int):
    return redirect(url_for("crm.party_data", party_id=_load(party_id).id))


@bp.route("/cadastros/<int:party_id>/dados")
@requires(Capability.READ)
def party_data(party_id: int):
    party = _load(party_id)
    history = db_session().scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "party", AuditEvent.entity_id == str(party.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(30)).all()
    return render_template("crm/party_data.html", active_tab="dados", history=history,
                           history_labels=HISTORY_LABELS,
                           **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/editar", methods=["GET", "POST"])
@on_error(form=lambda data, errors, party_id: _party_form(_load(party_id), _load(party_id).stage, data, errors))
@requires(Capability.EDIT_PARTIES)
def edit(party_id: int):
    party = _load(party_id)
    if request.method == "POST":
        party_service.update_party(db_session(), actor(), party.id, _party_input())
        flash("Cadastro salvo.", "success")
        return redirect(url_for("crm.party_data", party_id=party.id))
    return _party_form(party, party.stage, {f: getattr(party, f) or "" for f in PARTY_FIELDS}, {})


@bp.route("/cadastros/<int:party_id>/converter", methods=["POST"])
@on_error(redirect="crm.party_data")
@requires(Capability.EDIT_PARTIES)
def convert(party_id: int):
    party = party_service.convert(db_session(), actor(), party_id)
    flash(f"{party.name} agora é {party.stage_label}. As consultas de crédito e os contatos "
          "foram mantidos.", "success")
    return redirect(url_for("crm.party_data", party_id=party_id))


@bp.route("/cadastros/<int:party_id>/excluir", methods=["POST"])
@on_error(redirect="crm.party_data")
@requires(Capability.EDIT_PARTIES)
def delete(party_id: int):
    stage = _load(party_id).stage
    party_service.delete_party(db_session(), actor(), party_id)
    flash("Cadastro excluído.", "success")
    return redirect(url_for(LIST_ENDPOINTS[stage]))


def _contact_input() -> party_service.ContactInput:
    return party_service.ContactInput(**{f: request.form.get(f, "") for f in CONTACT_FIELDS})


def _contacts_page(party_id: int, data, errors: dict[str, str]):
    return render_template("crm/contacts.html", active_tab="contatos", errors=errors, data=data,
                           **party_page_context(_load(party_id)))


@bp.route("/cadastros/<int:party_id>/contatos", methods=["GET", "POST"])
@on_error(form=_contacts_page)
@requires(Capability.READ)
def contacts(party_id: int):
    party = _load(party_id)
    if request.method == "POST":
        if not can(Capability.EDIT_PARTIES):
            abort(403)
        contact = party_service.add_contact(db_session(), actor(), party.id, _contact_input())
        flash(f"Contato {contact.name} incluído.", "success")
        return redirect(url_for("crm.contacts", party_id=party.id))
    return _contacts_page(party.id, {}, {})


def _contact_form(party_id: int, contact_id: int, data, errors: dict[str, str]):
    party = _load(party_id)
    contact = or_404(lambda: party_service.get_contact(db_session(), party.id, contact_id))
    if data is None:
        data = {f: getattr(contact, f) or "" for f in CONTACT_FIELDS}
    return render_template("crm/contact_form.html", active_tab="contatos", contact=contact, data=data,
                           errors=errors, **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/contatos/<int:contact_id>", methods=["GET", "POST"])
@on_error(form=_contact_form)
@requires(Capability.EDIT_PARTIES)
def edit_contact(party_id: int, contact_id: int):
    party = _load(party_id)
    or_404(lambda: party_service.get_contact(db_session(), party.id, contact_id))
    if request.method == "POST":
        party_service.update_contact(db_session(), actor(), party.id, contact_id, _contact_input())
        flash("Contato salvo.", "success")
        return redirect(url_for("crm.contacts", party_id=party.id))
    return _contact_form(party.id, contact_id, None, {})


@bp.route("/cadastros/<int:party_id>/contatos/<int:contact_id>/excluir", methods=["POST"])
@on_error(redirect="crm.contacts")
@requires(Capability.EDIT_PARTIES)
def delete_contact(party_id: int, contact_id: int):
    party_service.delete_contact(db_session(), actor(), party_id, contact_id)
    flash("Contato excluído.", "success")
    return redirect(url_for("crm.contacts", party_id=party_id))
