"""SimulatorConfig: every knob of the simulator, fixed at start and partly changeable at runtime."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("5xx", "timeout", "429", "malformed")

# Fields POST /_sim/config may change while the simulator runs.
RUNTIME_FIELDS = frozenset(
    {
        "latency_ms",
        "fault_rate",
        "fault_kinds",
        "timeout_sleep_s",
        "timeout_after_processing",
        "rate_limit_per_s",
        "notice_days",
        "notice_seconds",
        "token_ttl_s",
        "request_log",
        # Bad days at the bureau, for the tests and the demo:
        "clients",  # rotate a secret: the client's issued tokens are revoked with it
        "lost_answer_rate",  # do the work, then lose the answer (the client times out)
        "die_after_requests",  # after N more bureau requests answer only 503 (null: alive again)
    }
)


def _default_clients() -> dict[str, str]:
    return {"demo-client": "demo-secret"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class SimulatorConfig:
    clients: Mapping[str, str] = field(default_factory=_default_clients)
    token_ttl_s: float = 3600
    latency_ms: float = 0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    # A "timeout" fault sleeps this long, longer than any sane client read timeout, then answers 504.
    timeout_sleep_s: float = 15.0
    # Share of timeouts on POSTs (inclusion, removal) where the bureau did the work before hanging.
    timeout_after_processing: float = 0.5
    rate_limit_per_s: float | None = None
    notice_days: int = 10
    # Overrides notice_days when set, so a demo restriction becomes active within a minute.
    notice_seconds: float | None = None
    storage_path: str | None = None
    seed: int = 0
    request_log: bool = True
    # Share of bureau calls whose work is done and whose answer is then lost: the simulator hangs for
    # timeout_sleep_s and answers 504 (a charged consultation, an inclusion the client never hears of).
    lost_answer_rate: float = 0.0
    # After this many more bureau requests, every bureau request (the token too) answers 503, as a
    # bureau that died mid-run; null keeps it (or brings it back) alive.
    die_after_requests: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fault_kinds", tuple(self.fault_kinds))
        object.__setattr__(self, "clients", dict(self.clients))
        for name in (
            "token_ttl_s",
            "latency_ms",
            "fault_rate",
            "timeout_sleep_s",
            "timeout_after_processing",
            "lost_answer_rate",
        ):
            if not _is_number(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a number >= 0")
        for name in ("fault_rate", "timeout_after_processing", "lost_answer_rate"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.token_ttl_s <= 0:
            raise ValueError("token_ttl_s must be > 0")
        unknown = [kind for kind in self.fault_kinds if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; choose among {list(FAULT_KINDS)}")
        if self.rate_limit_per_s is not None and (
            not _is_number(self.rate_limit_per_s) or self.rate_limit_per_s <= 0
        ):
            raise ValueError("rate_limit_per_s must be a number > 0, or null to disable")
        if (
            not isinstance(self.notice_days, int)
            or isinstance(self.notice_days, bool)
            or self.notice_days < 0
        ):
            raise ValueError("notice_days must be an integer >= 0")
        if self.notice_seconds is not None and (
            not _is_number(self.notice_seconds) or self.notice_seconds < 0
        ):
            raise ValueError("notice_seconds must be a number >= 0, or null to use notice_days")
        if not isinstance(self.request_log, bool):
            raise ValueError("request_log must be a boolean")
        if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in self.clients.items()):
            raise ValueError("clients must map non-empty client ids to non-empty secrets")
        if self.die_after_requests is not None and (
            not isinstance(self.die_after_requests, int)
            or isinstance(self.die_after_requests, bool)
            or self.die_after_requests < 0
        ):
            raise ValueError("die_after_requests must be an integer >= 0, or null to stay alive")

    @property
    def notice_period_s(self) -> float:
        if self.notice_seconds is not None:
            return float(self.notice_seconds)
        return self.notice_days * 86400.0

    def with_changes(self, changes: Mapping[str, Any]) -> SimulatorConfig:
        """A copy with runtime changes applied; ValueError names what is not allowed."""
        not_allowed = sorted(set(changes) - RUNTIME_FIELDS)
        if not_allowed:
            raise ValueError(f"cannot change {not_allowed} at runtime; allowed: {sorted(RUNTIME_FIELDS)}")
        if "fault_kinds" in changes and not isinstance(changes["fault_kinds"], list | tuple):
            raise ValueError("fault_kinds must be a list")
        if "clients" in changes and not isinstance(changes["clients"], Mapping):
            raise ValueError("clients must be an object {client_id: client_secret}")
        return dataclasses.replace(self, **changes)

    def public_dict(self) -> dict[str, Any]:
        """The configuration without client secrets, for GET /_sim/config."""
        data = dataclasses.asdict(self)
        data["clients"] = sorted(self.clients)
        data["fault_kinds"] = list(self.fault_kinds)
        return data
