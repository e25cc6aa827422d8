"""The privacy rule on every output: no page, API answer, CSV export or payload shows a whole CPF
to a role that may not see it (the read-only role). Walks every GET route of the app and of the
API, with the ids of one client that has a title, a negativation-free credit account and an
outbound platform update carrying its document."""

from __future__ import annotations

import re

import pytest

from app.models import CreditAccount, OutboundUpdate

from .titles_support import CPF_OK, world

FORMATTED = f"{CPF_OK[:3]}.{CPF_OK[3:6]}.{CPF_OK[6:9]}-{CPF_OK[9:]}"
SKIP = {"/logout", "/static/<path:filename>", "/favicon.ico"}  # files, not pages


@pytest.fixture
def client_world(services):
    branch_id, party_id, (title_id, _) = world(services)
    with services.session_factory() as s:
        s.add(CreditAccount(party_id=party_id, branch_id=branch_id))
        s.add(OutboundUpdate(branch_id=branch_id, party_id=party_id, kind="status",
                             payload={"document": CPF_OK, "status": "PEN"}, status="pending", attempts=0,
                             created_by="teste"))
        s.commit()
    return {"party_id": party_id, "title_id": title_id, "branch_id": branch_id, "id": party_id}


def _urls(app, ids: dict[str, int]) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule in SKIP:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{name}>", str(ids.get(name, 1)), url)
        urls.append(url)
    return sorted(set(urls))


def _leaks(text: str) -> bool:
    return CPF_OK in text or FORMATTED in text


def test_the_read_only_role_never_sees_a_whole_document_anywhere(app, client, client_world, login_as, api_token):
    urls = _urls(app, client_world)
    assert len(urls) > 40  # every page and API route, not a hand-picked few
    login_as("viewer")
    shown = []
    for url in urls:
        if url.startswith("/api/"):
            continue
        with client.get(url) as resp:
            if resp.status_code == 200 and _leaks(resp.get_data(as_text=True)):
                shown.append(url)
    headers = api_token("viewer")
    for url in urls:
        if not url.startswith("/api/"):
            continue
        with client.get(url, headers=headers) as resp:
            if resp.status_code == 200 and _leaks(resp.get_data(as_text=True)):
                shown.append(url)
    assert shown == []


def test_finance_does_see_the_whole_document_where_it_works_with_it(client, client_world, login_as, api_token):
    """The walk above can fail: the same outputs show the document to a role that may see it."""
    headers = api_token("finance")
    body = client.get(f"/api/v1/credit/accounts/{client_world['party_id']}", headers=headers).get_data(as_text=True)
    assert CPF_OK in body
    login_as("finance")
    with client.get("/titulos/exportar.csv") as resp:
        assert FORMATTED in resp.get_data(as_text=True)
