"""HttpCommercePlatform: the real adapter, one signed update per attempt (integrations.signed_post)."""

from __future__ import annotations

import time
from typing import Any

import requests

from ..signed_post import SignedPoster, encode
from .port import DeliveryResult
from .signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature


class HttpCommercePlatform:
    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 10.0,
                 session: requests.Session | None = None, clock=time.time):
        self._poster = SignedPoster(user_agent="credit-desk/commerce-outbox",
                                    timeout_message="Tempo esgotado aguardando a plataforma.",
                                    connect_timeout=connect_timeout, read_timeout=read_timeout,
                                    session=session, clock=clock)

    def send_update(self, url: str, secret: str, payload: dict[str, Any], *, idempotency_key: str
                    ) -> DeliveryResult:
        sent_at = int(self._poster.clock())
        body = encode({**payload, "sent_at": sent_at})
        return self._poster.post(url, body, {
            SIGNATURE_HEADER: signature(secret, body),
            TIMESTAMP_HEADER: str(sent_at),
            IDEMPOTENCY_HEADER: idempotency_key,
        })
