"""In-memory CreditBureau for service unit tests: deterministic, inspectable, no I/O.

bureau = FakeBureau(today=lambda: date(2026, 11, 23))
bureau.fail_next(BureauUnavailable("down", outcome_unknown=True))
... call the service ...
assert [name for name, _ in bureau.calls] == ["negativate", "negativate"]
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from integrations.bureau import (
    DOCUMENT_TYPES,
    PERSON_TYPES,
    REMOVAL_REASONS,
    AccessToken,
    ConsultationResult,
    IdempotencyConflict,
    NegativationReceipt,
    NegativationRequest,
    NegativationStatus,
    NotFound,
    RemovalReceipt,
    Restriction,
    RestrictionReason,
)

DEFAULT_REASONS: dict[str, list[RestrictionReason]] = {
    "PF": [
        RestrictionReason("12", "Mensalidade em atraso", "inclusion"),
        RestrictionReason("13", "Equipamento não devolvido", "inclusion"),
        RestrictionReason("90", "Pagamento da dívida", "removal"),
    ],
    "PJ": [
        RestrictionReason("22", "Duplicata vencida", "inclusion"),
        RestrictionReason("90", "Pagamento da dívida", "removal"),
    ],
}
_RESTRICTION_KINDS = ("PEFIN", "PROTESTO", "CHEQUE", "ACAO")
_EPOCH = date(2024, 1, 1)  # restriction dates derive from it, so results never depend on today


def _sao_paulo_today() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _clean(document: str) -> str:
    return re.sub(r"[\s./-]", "", document).upper()


class FakeBureau:
    """Implements ``CreditBureau``. Every call is appended to ``calls`` as ``(method, args)``."""

    def __init__(
        self,
        *,
        reasons: dict[str, list[RestrictionReason]] | None = None,
        notice_days: int = 10,
        today: Callable[[], date] = _sao_paulo_today,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.reasons = {k: list(v) for k, v in (reasons or DEFAULT_REASONS).items()}
        self.notice_days = notice_days
        self.today = today
        self.clock = clock
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        # Tests may pin a consultation answer per (clean) document.
        self.consultations: dict[str, ConsultationResult] = {}
        self.negativations: dict[str, NegativationStatus] = {}
        self.requests: dict[str, NegativationRequest] = {}  # by protocol
        self._inclusions: dict[str, tuple[NegativationRequest, NegativationReceipt]] = {}
        self._removals: dict[str, tuple[tuple[str, str], RemovalReceipt]] = {}
        self._failures: deque[tuple[str | None, BaseException]] = deque()
        self._sequence = 0

    # ----------------------------------------------------------------------- test controls

    def fail_next(self, exc: BaseException, times: int = 1, *, method: str | None = None) -> None:
        """The next ``times`` calls (of any method, or only of ``method``) raise ``exc`` after being recorded."""
        self._failures.extend([(method, exc)] * times)

    def calls_to(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]

    def activate(self, protocol: str, at: datetime | None = None) -> NegativationStatus:
        """The notice period ended: the restriction is now visible."""
        return self._update(protocol, status="active", activated_at=at or self.clock())

    def mark_removed(self, protocol: str, at: datetime | None = None) -> NegativationStatus:
        """Removed on the bureau side (e.g. by the debtor's dispute), without a ``remove`` call."""
        return self._update(protocol, status="removed", removed_at=at or self.clock())

    def reject(self, protocol: str, message: str = "Rejeitado pelo bureau") -> NegativationStatus:
        return self._update(protocol, status="rejected", message=message)

    def reactivate(self, protocol: str, at: datetime | None = None) -> NegativationStatus:
        """Live again at the bureau (behind credit-desk's back), e.g. a removal the bureau lost."""
        return self._update(protocol, status="active", removed_at=None, activated_at=at or self.clock())

    def forget(self, protocol: str) -> None:
        """The bureau no longer knows the protocol: status reads answer 404."""
        self.negativations.pop(protocol, None)

    def set_amount(self, protocol: str, amount: Decimal) -> NegativationStatus:
        return self._update(protocol, total_amount=amount)

    # ----------------------------------------------------------------------- CreditBureau

    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        self._record("get_token", force_refresh)
        return AccessToken("fake-token", self.clock() + timedelta(hours=1))

    def restriction_reasons(self, person_type: str) -> list[RestrictionReason]:
        self._record("restriction_reasons", person_type)
        _check(person_type, PERSON_TYPES, "person_type")
        return list(self.reasons.get(person_type, []))

    def consult(self, document: str, document_type: str) -> ConsultationResult:
        self._record("consult", document, document_type)
        _check(document_type, DOCUMENT_TYPES, "document_type")
        clean = _clean(document)
        if not clean:
            raise ValueError("document must not be empty")
        pinned = self.consultations.get(clean)
        if pinned is not None:
            return pinned
        return self._synthetic_consultation(clean, document_type)

    def negativate(self, request: NegativationRequest, idempotency_key: str) -> NegativationReceipt:
        self._record("negativate", request, idempotency_key)
        if not idempotency_key:
            raise ValueError("idempotency_key is required")
        previous = self._inclusions.get(idempotency_key)
        if previous is not None:
            if previous[0] != request:
                raise IdempotencyConflict(
                    "Idempotency-Key reused with another payload", status=409, code="idempotency_conflict"
                )
            return previous[1]  # replay: same receipt, no second negativation
        protocol = self._protocol("N")
        notice_until = self.today() + timedelta(days=self.notice_days)
        receipt = NegativationReceipt(
            protocol, "notice", notice_until, raw=_raw(protocol=protocol, status="notice")
        )
        self._inclusions[idempotency_key] = (request, receipt)
        self.requests[protocol] = request
        self.negativations[protocol] = NegativationStatus(
            protocol, "notice", notice_until=notice_until, total_amount=request.total_amount,
            raw=_raw(protocol=protocol, status="notice")
        )
        return receipt

    def negativation_status(self, protocol: str) -> NegativationStatus:
        self._record("negativation_status", protocol)
        return self._known(protocol)

    def remove(self, protocol: str, reason: str, idempotency_key: str) -> RemovalReceipt:
        self._record("remove", protocol, reason, idempotency_key)
        _check(reason, REMOVAL_REASONS, "reason")
        if not idempotency_key:
            raise ValueError("idempotency_key is required")
        previous = self._removals.get(idempotency_key)
        if previous is not None:
            if previous[0] != (protocol, reason):
                raise IdempotencyConflict(
                    "Idempotency-Key reused with another payload", status=409, code="idempotency_conflict"
                )
            return previous[1]
        current = self._known(protocol)
        if current.status != "removed":  # removing twice answers the first removal (idempotent)
            current = self._update(protocol, status="removed", removed_at=self.clock())
        removed_at = current.removed_at or self.clock()
        receipt = RemovalReceipt(
            protocol, "removed", removed_at, raw=_raw(protocol=protocol, status="removed")
        )
        self._removals[idempotency_key] = ((protocol, reason), receipt)
        return receipt

    # ----------------------------------------------------------------------- internals

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        if self._failures and self._failures[0][0] in (None, method):
            raise self._failures.popleft()[1]

    def _protocol(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}-{self._sequence:06d}"

    def _known(self, protocol: str) -> NegativationStatus:
        try:
            return self.negativations[protocol]
        except KeyError:
            raise NotFound(f"protocol {protocol} not found", status=404, code="not_found") from None

    def _update(self, protocol: str, **changes: Any) -> NegativationStatus:
        current = self._known(protocol)
        updated = dataclasses.replace(current, **changes)
        self.negativations[protocol] = dataclasses.replace(
            updated, raw=_raw(protocol=protocol, status=updated.status)
        )
        return self.negativations[protocol]

    def _synthetic_consultation(self, document: str, document_type: str) -> ConsultationResult:
        # Same document, same score and restrictions: derived from a hash, not from randomness.
        digest = hashlib.sha256(document.encode()).digest()
        score = int.from_bytes(digest[:2], "big") % 1001
        risk_class = "ABCDE"[min(4, (1000 - score) // 200)]
        count = digest[2] % 4 if score < 600 else 0
        restrictions = tuple(
            Restriction(
                creditor=f"Credor {i + 1}",
                amount=Decimal(1000 + int.from_bytes(digest[3 + 2 * i : 5 + 2 * i], "big")).scaleb(-2),
                occurred_on=_EPOCH + timedelta(days=digest[12 + i] * 3),
                kind=_RESTRICTION_KINDS[digest[20 + i] % len(_RESTRICTION_KINDS)],
            )
            for i in range(count)
        )
        protocol = self._protocol("C")
        prefix = "Cliente" if document_type == "CPF" else "Empresa"
        return ConsultationResult(
            protocol=protocol,
            document=document,
            name=f"{prefix} {document[-4:]}",
            score=score,
            risk_class=risk_class,
            restrictions=restrictions,
            restrictions_total=sum((r.amount for r in restrictions), Decimal("0.00")),
            queried_at=self.clock(),
            raw=_raw(protocol=protocol, document=document, score=score),
        )


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, got {value!r}")


def _raw(**fields: Any) -> dict[str, Any]:
    # JSON-serialisable, like a real body, so services can store it as they would a real one.
    return {"source": "fake", **fields}
