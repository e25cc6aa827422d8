from decimal import Decimal

from app.services.core.audit import diff, scrub
from app.web.formatting import brl


def test_scrub_hides_secrets_at_any_depth():
    assert scrub({"client_secret": "x", "a": {"password": "p", "b": 1}, "c": None}) == {
        "client_secret": "(alterado)", "a": {"password": "(alterado)", "b": 1}, "c": None}


def test_diff_lists_only_changes_and_never_secret_values():
    before = {"name": "A", "client_secret": "old", "limit": Decimal("10.00")}
    after = {"name": "B", "client_secret": "new", "limit": Decimal("10.00")}
    assert diff(before, after) == {"client_secret": "(alterado)", "name": ["A", "B"]}


def test_brl_formats_brazilian_money():
    assert brl(Decimal("1234567.8")) == "R$ 1.234.567,80"
    assert brl(Decimal("-0.5")) == "-R$ 0,50"
    assert brl(None) == "—"
