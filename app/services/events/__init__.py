"""Outbound events: signed HTTPS notifications to the ISP's own systems.

`catalog` (the event types), `payloads` (what each carries, LGPD-reduced per endpoint), `schemas`
(the same as JSON Schemas, for the OpenAPI `webhooks` section), `emit` (the outbox rows, written in
the transaction of the change), `endpoints` (configuration per branch), `delivery` (the scheduler's
side: signed POSTs, retries with backoff, the log). Documented in docs/events.md.
"""
