"""Restriction reasons for the manual form ("Buscar motivos restrição").

PF or PJ follows the client's document. Answers are cached briefly per process and integration,
and also kept on the integration (`reasons_cache`) so other screens can show the descriptions.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from app.db import transaction
from app.models import BureauIntegration, Party
from app.models.base import utcnow
from app.services.core.errors import NotFound, ValidationError
from app.services.settings.bureau_messages import call_failed
from integrations.bureau import BureauError

TTL_S = 300.0
_cache: dict[tuple[int, str, str, str], tuple[float, list[dict]]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ReasonList:
    person_type: str  # PF | PJ
    items: list[dict]  # [{"code", "description"}], inclusion reasons only
    from_cache: bool


def reasons_for_party(services, party_id: int, *, refresh: bool = False) -> ReasonList:
    with transaction(services.session_factory) as s:
        party = s.get(Party, party_id)
        if party is None:
            raise NotFound("Cliente não encontrado.")
        person_type = party.person_type
        if person_type is None:
            raise ValidationError("O cliente não tem CPF/CNPJ válido; não há motivos de restrição a buscar.")
        integration = party.branch.integration if party.branch else None
        if integration is None:
            raise ValidationError("A filial do cliente não tem integração com o bureau.")
        integration_id = integration.id
        # Another URL or account is another bureau: never answer from the old one's cache.
        key = (integration_id, integration.base_url, integration.client_id, person_type)
        bureau = services.bureau_for(integration)
        # The stored list is what the other screens describe codes with ("12 — Mensalidade em
        # atraso"): a process cache that outlived it (another database, a cleared integration)
        # must not keep it from being written again.
        stored = bool((integration.reasons_cache or {}).get(person_type))
    with _lock:
        hit = _cache.get(key)
    if hit and stored and not refresh and time.monotonic() - hit[0] < TTL_S:
        return ReasonList(person_type, hit[1], True)
    try:
        fetched = bureau.restriction_reasons(person_type)
    except BureauError as exc:
        raise call_failed("Não foi possível buscar os motivos de restrição.", exc) from exc
    items = [{"code": r.code, "description": r.description} for r in fetched if r.kind == "inclusion"]
    with _lock:
        _cache[key] = (time.monotonic(), items)
    with transaction(services.session_factory) as s:
        row = s.get(BureauIntegration, integration_id)
        cache = dict(row.reasons_cache or {})
        cache[person_type] = [{"code": r.code, "description": r.description, "kind": r.kind} for r in fetched]
        row.reasons_cache = cache
        row.reasons_fetched_at = utcnow()
    return ReasonList(person_type, items, False)


def cached_reasons(integration: BureauIntegration | None, person_type: str | None) -> list[dict]:
    """Reasons last stored on the integration (no bureau call), inclusion only."""
    if integration is None or person_type is None:
        return []
    return [
        {"code": r["code"], "description": r["description"]}
        for r in (integration.reasons_cache or {}).get(person_type, [])
        if r.get("kind", "inclusion") == "inclusion"
    ]


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def describe_code(session, integration_id: int | None, document_type: str | None, code: str | None) -> str | None:
    """The description of a restriction code from the integration's stored list ("12" ->
    "Mensalidade em atraso"), without calling the bureau; None when it was never fetched."""
    if not integration_id or not code:
        return None
    integration = session.get(BureauIntegration, integration_id)
    person_type = {"CPF": "PF", "CNPJ": "PJ"}.get(document_type or "", document_type)
    for reason in ((integration.reasons_cache or {}) if integration else {}).get(person_type, []):
        if str(reason.get("code")) == str(code):
            return reason.get("description")
    return None
