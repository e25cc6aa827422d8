"""Shared set-up of the daily-flow browser tests: one SQLite run, a branch ready for collections,
a logged-in finance user, and a check that the page is no wider than the screen."""

from __future__ import annotations

import pytest

from app.services.core.clock import today_br
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_login
from tests.integration.collections_support import routine_world


def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one browser run is enough; the database layer is covered on both backends elsewhere")


def finance_world(services, page, live_server, **kw):
    """(branch_id, party_ids, title ids by number) and the browser logged in as finance."""
    world = routine_world(services, today=today_br(), **kw)
    browser_login(page, live_server, "finance", PASSWORD)
    return world


def page_width(page) -> tuple[int, int]:
    """(document scroll width, viewport width): equal when nothing scrolls the page sideways."""
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def accept_confirmations(page) -> list[str]:
    """Answer "OK" to every confirmation the flow asks (each one is a click a person makes);
    returns the questions asked, in order, so a flow can say how many there were."""
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return asked
