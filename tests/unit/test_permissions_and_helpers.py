"""Capabilities keep the product's who-can-do-what; the one money formatter; keyset cursors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.models.negativations import MANUAL_REMOVAL_REASONS, REMOVABLE_STATUSES
from app.services.core.money import brl, decimal_br, parse_money
from app.services.core.pagination import decode_cursor, encode_cursor
from app.services.core.permissions import Capability, allows, capabilities_of, sees_full_document

# Who may do what, as the screens and the API have always allowed it.
EXPECTED = {
    "admin": set(Capability),
    "finance": {Capability.READ, Capability.EDIT_PARTIES, Capability.CONSULT, Capability.DECIDE_CREDIT,
                Capability.MANAGE_TITLES, Capability.NEGATIVATE, Capability.RUN_COLLECTIONS, Capability.VIEW_CREDIT,
                Capability.MANAGE_CREDIT, Capability.AUTHORISE_PURCHASES, Capability.IMPORT_CUSTOMERS,
                Capability.VIEW_BRANCHES, Capability.SEE_FULL_DOCUMENT},
    "crm": {Capability.READ, Capability.EDIT_PARTIES, Capability.CONSULT, Capability.AUTHORISE_PURCHASES,
            Capability.IMPORT_CUSTOMERS, Capability.SEE_FULL_DOCUMENT},
    "viewer": {Capability.READ, Capability.VIEW_CREDIT},
    # The routine and the CLI: titles, negativations and credit, never a person's decision (rule 16).
    "system": {Capability.MANAGE_TITLES, Capability.NEGATIVATE, Capability.MANAGE_CREDIT},
    None: set(),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_has_exactly_its_capabilities(role):
    assert capabilities_of(role) == EXPECTED[role]
    assert all(allows(role, c) == (c in EXPECTED[role]) for c in Capability)


def test_capabilities_are_asked_by_name_and_a_typo_fails_loudly():
    assert allows("crm", "consult") and not allows("viewer", "consult")
    assert sees_full_document("crm") and not sees_full_document("viewer")
    with pytest.raises(ValueError):
        allows("admin", "consultar")


def test_one_money_formatter_for_display_and_for_fields():
    assert brl(Decimal("1234567.8")) == "R$ 1.234.567,80" and brl(None) == "—"
    assert decimal_br(Decimal("1234.5")) == "1234,50" and decimal_br(None) == ""
    assert decimal_br(Decimal("62.54"), 1) == "62,5"
    assert parse_money(decimal_br(Decimal("98765.43"))) == Decimal("98765.43")  # a field reads back unchanged


def test_cursors_round_trip_and_refuse_damage():
    assert decode_cursor(encode_cursor(["Maria", 42])) == ["Maria", 42]
    for damaged in ("!!", "bm90LWpzb24", encode_cursor([]), "eyJhIjogMX0"):  # junk, not JSON, empty, not a list
        with pytest.raises(ValueError):
            decode_cursor(damaged)


def test_a_person_removes_for_any_reason_but_expiry():
    assert set(MANUAL_REMOVAL_REASONS) == {"payment", "agreement", "error_correction", "manual"}
    assert REMOVABLE_STATUSES == ("pending", "notice", "active")
