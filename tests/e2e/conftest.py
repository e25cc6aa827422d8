"""Browser tests: the app served over a real socket, driven by Playwright with Debian's chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so `page` knows whether the flow failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, tmp_path, request):
    context = browser.new_context(locale="pt-BR")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        # One screenshot per failed flow, named after the test, to see what the person would have seen.
        SCREENSHOTS.mkdir(exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        with contextlib.suppress(Exception):  # a screenshot must never hide the test's own failure
            pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


def browser_login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def pytest_collection_modifyitems(config, items):
    """The daily-flow browser tests run once, on SQLite (`make test` stays under 5 minutes); the
    database layer is covered on both backends by the integration tests. Skipped at collection,
    so the PostgreSQL copies set up no schema, server or browser."""
    skip = pytest.mark.skip(reason="browser flows run on SQLite only")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (item.get_closest_marker("browser") and callspec is not None
                and callspec.params.get("backend") == "postgresql"):
            item.add_marker(skip)
