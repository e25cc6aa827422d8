"""Client-side pacing of bureau calls, so a batch stays under the bureau's rate limit.

A token bucket shared by the threads of one run. Bureau 429s are still handled by the client's
retries; pacing just keeps the run from provoking them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_per_s <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate_per_s)
        self.capacity = float(burst if burst is not None else max(1, int(rate_per_s // 10)))
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # float tolerance: a wait of ~1e-17 s would never advance
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)


class PacedBureau:
    """Wraps a CreditBureau: every call first takes a token from the bucket."""

    def __init__(self, bureau, bucket: TokenBucket):
        self._bureau = bureau
        self._bucket = bucket

    def __getattr__(self, name):
        attr = getattr(self._bureau, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def paced(*args, **kwargs):
            self._bucket.acquire()
            return attr(*args, **kwargs)

        return paced
