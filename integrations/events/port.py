"""The port services use to deliver one signed event; `HttpEventSender` speaks HTTP, tests pass fakes."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..post_result import PostResult

# One attempt's outcome, shared with the other outbound delivery (integrations.post_result).
SendResult = PostResult


@runtime_checkable
class EventSender(Protocol):
    def send(self, url: str, secret: str, event_id: str, event_type: str, payload: dict[str, Any]) -> SendResult:
        """POST the payload, signed with the endpoint's secret."""
        ...
