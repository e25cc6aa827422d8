"""HttpEventSender: the real adapter, one signed event per attempt (integrations.signed_post)."""

from __future__ import annotations

import time
from typing import Any

import requests

from ..signed_post import SignedPoster, encode
from .port import SendResult
from .signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature


class HttpEventSender:
    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 10.0,
                 session: requests.Session | None = None, clock=time.time):
        self._poster = SignedPoster(user_agent="credit-desk/events",
                                    timeout_message="Tempo esgotado aguardando o destino.",
                                    connect_timeout=connect_timeout, read_timeout=read_timeout,
                                    session=session, clock=clock)

    def send(self, url: str, secret: str, event_id: str, event_type: str, payload: dict[str, Any]) -> SendResult:
        body = encode(payload)
        timestamp = str(int(self._poster.clock()))
        return self._poster.post(url, body, {
            EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: event_type,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        })
