"""Scheduled jobs. Each is a thin caller of a service function (business rules live in app/services)."""

from __future__ import annotations

from .registry import job


@job("removal_sweep", "interval", minutes=1,
     description="Baixa de negativações pagas, renegociadas ou prescritas")
def removal_sweep(services):
    from app.services.negativations import sweep_removals

    return sweep_removals(services)


@job("status_sync", "interval", minutes=2, description="Notificação → ativo conforme o bureau")
def status_sync(services):
    from app.services.negativations import sync_statuses

    return sync_statuses(services)


@job("outbox_retry", "interval", minutes=1,
     description="Reenvio de negativações e baixas pendentes (mesma chave)")
def outbox_retry(services):
    from app.services.negativations import retry_outbox

    return retry_outbox(services)
