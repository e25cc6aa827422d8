"""Counters exposed by GET /_sim/stats for tests and the demo."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

from .config import FAULT_KINDS
from .store import DuplicateTitle

OUTCOMES = (
    "tokens",
    "auth_failures",
    "reasons",
    "consultations",
    "invalid_documents",
    "negativations_created",
    "negativations_replayed",
    "negativations_rejected",
    "idempotency_conflicts",
    "missing_idempotency_keys",
    "status_queries",
    "removals",
    "removals_replayed",
    "rate_limited",
    "duplicate_titles",
    "answers_lost",
    "dead_refusals",
    "tokens_revoked",
)
_MAX_DUPLICATE_DETAILS = 100


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._outcomes: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._requests: Counter[str] = Counter()
            self._statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self._duplicates: list[dict[str, Any]] = []

    def count(self, outcome: str, amount: int = 1) -> None:
        with self._lock:
            self._outcomes[outcome] += amount

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def request(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._requests[endpoint] += 1
            self._statuses[endpoint][str(status)] += 1

    def duplicates(self, found: tuple[DuplicateTitle, ...]) -> None:
        with self._lock:
            self._outcomes["duplicate_titles"] += len(found)
            for item in found:
                if len(self._duplicates) < _MAX_DUPLICATE_DETAILS:
                    self._duplicates.append(
                        {
                            "creditor_cnpj": item.creditor_cnpj,
                            "number": item.number,
                            "protocol": item.protocol,
                            "earlier_protocols": list(item.earlier_protocols),
                        }
                    )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {name: self._outcomes[name] for name in OUTCOMES}
            data["faults"] = {kind: self._faults[kind] for kind in FAULT_KINDS}
            data["requests"] = dict(self._requests)
            data["statuses"] = {endpoint: dict(counts) for endpoint, counts in self._statuses.items()}
            data["duplicate_title_details"] = list(self._duplicates)
            return data
