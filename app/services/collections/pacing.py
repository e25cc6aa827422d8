"""Pacing a run's bureau calls across its worker threads: each call reserves the next free slot.

`core.rate_limit.TokenBucket` makes a waiting thread sleep until ONE token is due and then compete
for it: with a routine's 16 workers paced at 100 calls/s, every token woke all the waiting threads
and all but one went back to sleep, ~15 wake-ups (a GIL hand-off and a context switch each) per bureau
call, in the process CPU the routine's benchmark counts. Here a thread takes its slot under the lock
(the bucket may go into debt) and sleeps once, until that slot: the same rate and burst, first come
first served, one wake-up per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SlotBucket:
    """A token bucket whose `acquire` reserves: same `rate_per_s` and `burst` as TokenBucket."""

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
        with self._lock:
            now = self._clock()
            # Below zero, the tokens are the slots already promised to the threads sleeping now.
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate) - 1
            self._last = now
            wait = -self._tokens / self.rate
        if wait > 1e-9:  # float tolerance, as in TokenBucket
            self._sleep(wait)
