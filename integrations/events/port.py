"""The port services use to deliver one signed event; `HttpEventSender` speaks HTTP, tests pass fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SendResult:
    """One attempt. `retryable` is False for answers a retry cannot fix (e.g. 410 Gone)."""

    ok: bool
    http_status: int | None = None
    duration_ms: int = 0
    error: str | None = None
    retryable: bool = True


@runtime_checkable
class EventSender(Protocol):
    def send(self, url: str, secret: str, event_id: str, event_type: str, payload: dict[str, Any]) -> SendResult:
        """POST the payload, signed with the endpoint's secret."""
        ...
