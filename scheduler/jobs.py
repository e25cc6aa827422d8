"""Scheduled jobs. Each is a thin caller of a service function (business rules live in app/services)."""

from __future__ import annotations

import datetime as dt

from .registry import job


@job("removal_sweep", "interval", minutes=1,
     description="Baixa de negativações pagas, renegociadas ou prescritas")
def removal_sweep(services):
    from app.services.negativations.outbox import sweep_removals

    return sweep_removals(services)


@job("status_sync", "interval", minutes=2, description="Notificação → ativo conforme o bureau")
def status_sync(services):
    from app.services.negativations.outbox import sync_statuses

    return sync_statuses(services)


@job("outbox_retry", "interval", minutes=1,
     description="Reenvio de negativações e baixas pendentes (mesma chave)")
def outbox_retry(services):
    from app.services.negativations.outbox import retry_outbox

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


@job("customer_imports_resume", "interval", minutes=1,
     description="Retomada das importações de clientes (XML) cujo processo parou no meio")
def customer_imports_resume(services):
    from app.services.commerce.import_jobs import resume_stalled

    return resume_stalled(services)


@job("credit_reservations_expiry", "interval", minutes=5,
     description="Expiração das pré-autorizações de boleto faturado vencidas")
def credit_reservations_expiry(services):
    from app.db import transaction
    from app.services.core.audit import Actor
    from app.services.credit.purchases import expire_reservations

    with transaction(services.session_factory) as s:
        return f"expiradas={expire_reservations(s, Actor.system('rotina'))}"


@job("title_totals_compact", "interval", minutes=10,
     description="Compactação dos totais em aberto por vencimento (painel de cobrança)")
def title_totals_compact(services):
    # Every title change appends a row to the ledger the panel sums (app/models/title_totals.py);
    # folding it to one row per branch and due date keeps the panel's read short. Safe to repeat.
    from app.db import transaction
    from app.services.titles.open_totals import compact

    with transaction(services.session_factory) as s:
        before, after = compact(s)
        return f"linhas={before}->{after}"


@job("consultation_retention", "cron", hour=3, minute=30,
     description="Anonimização das consultas após o prazo de retenção de cada filial (LGPD)")
def consultation_retention(services):
    # Rule 15 (retention, then anonymise): daily, at a quiet hour in São Paulo. Rows already
    # anonymised are skipped, so a second run, or the `anonymise-consultations` command, is harmless.
    from app.db import transaction
    from app.services.consultations.consult import anonymise_expired

    with transaction(services.session_factory) as s:
        return f"anonimizadas={anonymise_expired(s)}"


@job("reconciliation", "interval", seconds=30, lease=dt.timedelta(minutes=2),
     description="Conciliação diária com o bureau, \"Conciliar agora\" e retomada de conciliação interrompida")
def reconciliation(services):
    from app.services.reconciliation.runs import tick

    return [f"filial {s.branch_id}: {s.status}" for s in tick(services)]


@job("events_delivery", "interval", seconds=5, lease=dt.timedelta(minutes=1),
     description="Envio dos eventos assinados aos sistemas do provedor (com novas tentativas)")
def events_delivery(services):
    # Every 5 s: the delivery latency from a change to the receiver is about half of it on average.
    from app.services.events.delivery import deliver_pending

    return deliver_pending(services)
