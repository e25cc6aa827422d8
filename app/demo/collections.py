"""Demo: the Matriz ready for the routine (codes chosen, automatic mode on, 60 days), daily run off
so that "Simular" and "Executar agora" show the first run; the Rio branch left to configure by hand."""

from __future__ import annotations

from sqlalchemy import select

from app.db import transaction
from app.models import Branch, CollectionPolicy
from app.models.base import utcnow
from integrations.simulator.catalog import restriction_reasons


def seed(services, echo=print) -> None:
    with transaction(services.session_factory) as s:
        branch = s.scalars(select(Branch).order_by(Branch.id)).first()
        if branch is None or s.get(CollectionPolicy, branch.id) is not None:
            return
        integration = branch.integration
        if integration is not None and not integration.reasons_cache:
            # The demo bureau is the simulator: its code list is known, as if "Buscar códigos" was clicked.
            integration.reasons_cache = {pt: restriction_reasons(pt) for pt in ("PF", "PJ")}
            integration.reasons_fetched_at = utcnow()
            integration.restriction_code_pf, integration.restriction_code_pj = "12", "12"
            integration.auto_include_remove = True
        s.add(CollectionPolicy(branch_id=branch.id, enabled=False, handle_by_title=True, days_to_execute=60,
                               grouping="client", run_time="06:00", max_concurrency=4, rate_limit_per_s=50))
    echo(f"Rotina de cobrança pronta na filial {branch.name} (execução diária desligada; use Simular/Executar).")
