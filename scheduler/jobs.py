"""Scheduled jobs. Each is a thin caller of a service function (business rules live in app/services)."""

from __future__ import annotations

import datetime as dt

from .registry import job


@job("removal_sweep", "interval", minutes=1,
     description="Baixa de negativações pagas, renegociadas ou prescritas")
def removal_sweep(services):
    from app.services.negativations.sending import sweep_removals

    return sweep_removals(services)


@job("status_sync", "interval", minutes=2, description="Notificação → ativo conforme o bureau")
def status_sync(services):
    from app.services.negativations.sending import sync_statuses

    return sync_statuses(services)


@job("outbox_retry", "interval", minutes=1,
     description="Reenvio de negativações e baixas pendentes (mesma chave)")
def outbox_retry(services):
    from app.services.negativations.sending import retry_outbox

    return retry_outbox(services)


@job("bureau_probe", "interval", minutes=1,
     description="Verificação do bureau com o disjuntor aberto (credenciais recusadas ou bureau fora do ar)")
def bureau_probe(services):
    from app.services.settings.bureau_breaker import probe_due

    return probe_due(services)


@job("collections_daily", "interval", minutes=1, lease=dt.timedelta(minutes=1),
     description="Rotina de cobrança diária por filial (horário nos parâmetros; recupera execução perdida)")
def collections_daily(services):
    from app.services.collections.schedule import tick

    return [f"{s.branch_name}: {s.status}" for s in tick(services)]


@job("commerce_outbox", "interval", minutes=1,
     description="Envio de status e limite à plataforma B2B (com novas tentativas)")
def commerce_outbox(services):
    from app.services.commerce.outbox import deliver_pending

    return deliver_pending(services)


@job("credit_reservations_expiry", "interval", minutes=5,
     description="Expiração das pré-autorizações de boleto faturado vencidas")
def credit_reservations_expiry(services):
    from app.db import transaction
    from app.services.core.audit import Actor
    from app.services.credit.purchases import expire_reservations

    with transaction(services.session_factory) as s:
        return f"expiradas={expire_reservations(s, Actor.system('rotina'))}"
