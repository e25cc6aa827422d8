"""The outcome of one outbound delivery attempt, apart from the HTTP code: the ports and the services
that record attempts import it without importing `requests` (services never do)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostResult:
    """The outcome of one attempt. `retryable` is False for answers a retry cannot fix (e.g. 410)."""

    ok: bool
    http_status: int | None = None
    duration_ms: int = 0
    error: str | None = None
    retryable: bool = True
