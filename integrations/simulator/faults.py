"""Fault injection and rate limiting.

Faults are drawn from one Random seeded by the configuration, so a run with the same seed and
the same sequence of requests meets the same faults (reproducible reliability tests).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

from .config import SimulatorConfig

# Calls whose side effect may happen even though the client never sees the answer.
MUTATING_ENDPOINTS = frozenset({"negativation_create", "removal"})


@dataclass(frozen=True)
class Fault:
    kind: str  # "5xx" | "timeout" | "429" | "malformed"
    status: int = 0  # the 5xx status to answer
    # timeout: do the work, then hang; malformed: do the work, then cut the body in half.
    after_processing: bool = False


class FaultInjector:
    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def draw(self, config: SimulatorConfig, endpoint: str) -> Fault | None:
        with self._lock:
            rng = self._rng
            # Always consume one number, so changing the rate does not shift later draws.
            if rng.random() >= config.fault_rate or not config.fault_kinds:
                return None
            kind = rng.choice(config.fault_kinds)
            if kind == "5xx":
                return Fault(kind, status=rng.choice((500, 502, 503)))
            if kind == "timeout":
                processed = endpoint in MUTATING_ENDPOINTS and rng.random() < config.timeout_after_processing
                return Fault(kind, after_processing=processed)
            if kind == "malformed":
                return Fault(kind, after_processing=rng.random() < 0.5)
            return Fault(kind)


class BadDay:
    """The bad-day controls: answers lost after the work is done, and a bureau that dies mid-run."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # drawn only while lost_answer_rate > 0: other draws keep their seed
        self._since = 0  # bureau requests since die_after_requests was set

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def start_counting(self) -> None:
        with self._lock:
            self._since = 0

    def dead(self, config: SimulatorConfig) -> bool:
        """Count this request; True once more than die_after_requests were answered."""
        if config.die_after_requests is None:
            return False
        with self._lock:
            self._since += 1
            return self._since > config.die_after_requests

    def is_dead(self, config: SimulatorConfig) -> bool:
        with self._lock:
            return config.die_after_requests is not None and self._since >= config.die_after_requests

    def loses_answer(self, config: SimulatorConfig) -> bool:
        if config.lost_answer_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < config.lost_answer_rate


class TokenBucket:
    """One bucket shared by every client: `rate` requests per second, bursts of up to `rate`."""

    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._tokens: float | None = None
        self._updated = 0.0

    def reset(self) -> None:
        with self._lock:
            self._tokens = None

    def take(self, rate: float | None) -> int | None:
        """None when the request may go on; otherwise the Retry-After seconds (>= 1)."""
        if not rate:
            return None
        capacity = max(1.0, float(rate))
        with self._lock:
            current = self._clock()
            if self._tokens is None:
                self._tokens = capacity
            else:
                elapsed = max(0.0, current - self._updated)
                self._tokens = min(capacity, self._tokens + elapsed * rate)
            self._updated = current
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return max(1, math.ceil((1 - self._tokens) / rate))
