"""The commerce-platform port: what credit-desk's services need from the B2B platform.

Services depend on `CommercePlatform`; `HttpCommercePlatform` speaks HTTP, tests pass fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery attempt. `retryable` is False for answers a retry cannot fix."""

    ok: bool
    http_status: int | None = None
    duration_ms: int = 0
    error: str | None = None
    retryable: bool = True


@runtime_checkable
class CommercePlatform(Protocol):
    def send_update(self, url: str, secret: str, payload: dict[str, Any], *, idempotency_key: str
                    ) -> DeliveryResult:
        """POST one status/limit update, signed with the branch's HMAC secret."""
        ...
