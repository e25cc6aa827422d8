"""The commerce-platform port: what credit-desk's services need from the B2B platform.

Services depend on `CommercePlatform`; `HttpCommercePlatform` speaks HTTP, tests pass fakes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..post_result import PostResult

# One attempt's outcome, shared with the other outbound delivery (integrations.post_result).
DeliveryResult = PostResult


@runtime_checkable
class CommercePlatform(Protocol):
    def send_update(self, url: str, secret: str, payload: dict[str, Any], *, idempotency_key: str
                    ) -> DeliveryResult:
        """POST one status/limit update, signed with the branch's HMAC secret."""
        ...
