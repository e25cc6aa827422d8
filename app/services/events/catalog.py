"""The event types an endpoint may subscribe to, with their pt-BR labels."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "negativation.accepted": "Negativação aceita pelo bureau (em notificação)",
    "negativation.active": "Negativação ativa (período de notificação encerrado)",
    "negativation.removed": "Negativação baixada",
    "negativation.error": "Negativação recusada ou com erro definitivo",
    "consultation.completed": "Consulta de crédito concluída",
    "collections_run.finished": "Execução da rotina de cobrança concluída",
    "reconciliation.divergence_opened": "Divergência aberta pela conciliação com o bureau",
    "title.payment_recorded": "Pagamento registrado em um título",
}
# Sent only by the "Enviar teste" button, to one endpoint, whatever it subscribed to.
TEST_EVENT = "endpoint.test"
API_VERSION = "2026-11-30"  # bumped when a payload changes in a way a receiver could notice
