"""The scope each /api/v1 route needs (app/services/core/scopes.py lists and explains the scopes).

One table rather than a decorator on every route: the whole API's exposure reads in one screen, and
a route missing from it is refused (fail closed) and caught by tests/integration/test_api_scopes.py,
which walks the URL map.
"""

from __future__ import annotations

from app.services.core.scopes import SCOPES

NO_SCOPE = ""  # any valid token (who am I)

ENDPOINT_SCOPES: dict[str, str] = {
    "api.me": NO_SCOPE,
    # CRM: parties and contacts are personal data
    "api.list_kind": "crm:read",
    "api.get_kind": "crm:read",
    "api.list_contacts": "crm:read",
    "api.create_kind": "crm:write",
    "api.update_kind": "crm:write",
    "api.delete_kind": "crm:write",
    "api.convert_kind": "crm:write",
    "api.create_contact": "crm:write",
    "api.update_contact": "crm:write",
    "api.delete_contact": "crm:write",
    # bureau consultations: reports are personal data, a new one is charged
    "api.list_consultations": "consultations",
    "api.create_consultation": "consultations",
    "api.get_consultation": "consultations",
    "api.retry": "consultations",
    "api.decide": "consultations",
    # negativations
    "api.list_negativations": "negativations",
    "api.create_negativation": "negativations",
    "api.get_negativation": "negativations",
    "api.negativation_events": "negativations",
    "api.resend_negativation": "negativations",
    "api.sync_negativation": "negativations",
    "api.remove_negativations": "negativations",
    "api.party_eligibility": "negativations",
    "api.party_reasons": "negativations",
    "api.release_hold": "negativations",  # a title held after a removal by hand may be sent again
    # reconciliation with the bureau: the state of negativations and the actions that fix them
    "api.list_divergences": "negativations",
    "api.get_divergence": "negativations",
    "api.create_runs": "negativations",
    "api.list_runs": "negativations",
    "api.get_run": "negativations",
    "api.recheck": "negativations",
    "api.resend_removal": "negativations",
    "api.mark_removed": "negativations",
    "api.update_status": "negativations",
    # titles and payments
    "api.list_titles": "titles",
    "api.create_title": "titles",
    "api.get_title": "titles",
    "api.update_title": "titles",
    "api.cancel_title": "titles",
    "api.dispute_title": "titles",
    "api.renegotiate_title": "titles",
    "api.list_payments": "titles",
    "api.create_payment": "titles",
    # collections routine and dashboard
    "api.get_collection_policy": "collections",
    "api.put_collection_policy": "collections",
    "api.create_collection_run": "collections",
    "api.list_collection_runs": "collections",
    "api.get_collection_run": "collections",
    "api.dashboard": "collections",
    # credit accounts (names, documents, limits) and the outbound update queue
    "api.list_accounts": "credit",
    "api.export_accounts": "credit",
    "api.get_account": "credit",
    "api.put_limit": "credit",
    "api.put_status": "credit",
    "api.resend": "credit",
    "api.import_accounts": "credit",
    "api.list_updates": "credit",
    "api.retry_update": "credit",
    # settings
    "api.list_branches": "settings",
    "api.create_branch": "settings",
    "api.update_branch": "settings",
    "api.list_integrations": "settings",
    "api.create_integration": "settings",
    "api.get_integration": "settings",
    "api.update_integration": "settings",
    "api.delete_integration": "settings",
    "api.integration_codes": "settings",
    "api.fetch_integration_codes": "settings",
    "api.test_integration": "settings",
    "api.link_branch": "settings",
    "api.unlink_branch": "settings",
    "api.get_credit_analysis": "settings",
    "api.put_credit_analysis": "settings",
    # outbound events: endpoints, deliveries
    "api.event_types": "settings",
    "api.list_endpoints": "settings",
    "api.list_deliveries": "settings",
    "api.redeliver": "settings",
    "api.test_endpoint": "settings",
    # the commerce platform
    "api.receive_customers": "commerce:inbound",
    "api.authorize": "commerce:orders",
    "api.list_reservations": "commerce:orders",
    "api.get_reservation": "commerce:orders",
    "api.change_reservation": "commerce:orders",
    "api.settle_reservation": "commerce:orders",
    "api.cancel_reservation": "commerce:orders",
}

assert set(ENDPOINT_SCOPES.values()) <= {NO_SCOPE, *SCOPES}, "a route names a scope that does not exist"


def scope_for(endpoint: str | None) -> str | None:
    """The scope the endpoint needs, NO_SCOPE for none, or None when the route is not in the table."""
    return ENDPOINT_SCOPES.get(endpoint or "")
