"""The home page lists, per branch, what needs attention today, each line linking to the list
filtered to exactly those rows."""

from __future__ import annotations

import datetime as dt
import re

from app.models import CollectionRun, Negativation, OutboundUpdate
from app.services.core.clock import now_utc, today_br
from app.services.negativations.inclusion import negativate_titles
from tests.integration.collections_support import routine_world

from .titles_support import FINANCE


def test_home_lists_what_needs_attention_with_links(services, login_as, fake_bureau):
    today = today_br()
    branch_id, [party_id], ids = routine_world(services, today=today)
    negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=today)
    negativate_titles(services, FINANCE, party_id, [ids["T-120"]], "12", today=today)
    with services.session_factory() as s:
        first, second = s.query(Negativation).order_by(Negativation.id).all()
        first.removal_deadline = today - dt.timedelta(days=1)  # past its legal deadline, not removed
        second.status, second.last_error_message = "error", "Recusada"
        s.add(CollectionRun(branch_id=branch_id, trigger="manual", dry_run=False, requested_by="rotina",
                            status="failed", days_to_execute=60, started_at=now_utc()))
        s.add(OutboundUpdate(branch_id=branch_id, party_id=party_id, kind="status", status="failed",
                             payload={"status": "APV"}, created_by="teste"))
        s.commit()
    client = login_as("finance")
    html = client.get("/").get_data(as_text=True)
    assert "Para hoje" in html and "<h3>Matriz</h3>" in html
    assert "1 baixa com prazo legal vencido" in html
    assert "1 negativação com erro" in html
    assert "1 execução da rotina com falha ou interrompida" in html
    assert "1 envio à plataforma com falha" in html
    late_link = re.search(r'href="([^"]+)">1 baixa com prazo legal vencido', html).group(1).replace("&amp;", "&")
    listing = client.get(late_link).get_data(as_text=True)
    assert f'href="/negativacoes/{first.id}"' in listing and f'href="/negativacoes/{second.id}"' not in listing
    runs_link = re.search(r'href="([^"]+)">1 execução', html).group(1).replace("&amp;", "&")
    assert client.get(runs_link).status_code == 200


def test_home_says_when_nothing_needs_attention(services, login_as):
    routine_world(services, today=today_br(), titles=())
    html = login_as("finance").get("/").get_data(as_text=True)
    assert "Nada pede atenção hoje" in html
