"""Provider-neutral credit bureau port: the interface services depend on, its results and errors.

Nothing here knows a provider's paths or field names; adapters (``integrations.credito_na_medida``)
translate to and from these types, and ``integrations.fake_bureau`` implements them in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

DocumentType = Literal["CPF", "CNPJ"]
PersonType = Literal["PF", "PJ"]
RemovalReason = Literal["payment", "manual", "expired", "agreement"]
ReasonKind = Literal["inclusion", "removal"]
NegativationState = Literal["notice", "active", "removed", "rejected"]

# Neutral values, checked by every implementation (adapters map them to the provider's own).
DOCUMENT_TYPES: tuple[str, ...] = ("CPF", "CNPJ")
PERSON_TYPES: tuple[str, ...] = ("PF", "PJ")
REMOVAL_REASONS: tuple[str, ...] = ("payment", "manual", "expired", "agreement")
REASON_KINDS: tuple[str, ...] = ("inclusion", "removal")
NEGATIVATION_STATES: tuple[str, ...] = ("notice", "active", "removed", "rejected")


def _raw_field() -> Any:
    # The parsed JSON body, kept for storage; excluded from eq/hash (dicts are unhashable) and repr.
    return field(default_factory=dict, repr=False, compare=False, hash=False)


# --------------------------------------------------------------------------- results


REFRESH_MARGIN_CAP_S = 60.0  # never renew a token earlier than this before it expires...
REFRESH_MARGIN_SHARE = 0.1  # ...nor earlier than this share of its lifetime


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)  # a bearer credential: never in logs or reprs
    expires_at: datetime
    issued_at: datetime | None = None  # when it was asked for; None for tokens cached before it was kept

    def __post_init__(self) -> None:
        if self.expires_at.tzinfo is None:
            raise ValueError("AccessToken.expires_at must be timezone-aware")
        if self.issued_at is not None and self.issued_at.tzinfo is None:
            raise ValueError("AccessToken.issued_at must be timezone-aware")

    def is_usable(self, now: datetime, margin_s: float = 0) -> bool:
        """True while more than ``margin_s`` seconds remain before expiry."""
        return self.expires_at - timedelta(seconds=margin_s) > now

    def refresh_margin_s(self, cap_s: float = REFRESH_MARGIN_CAP_S, share: float = REFRESH_MARGIN_SHARE) -> float:
        """How early to renew: the smaller of ``cap_s`` and ``share`` of the lifetime. A fixed 60 s
        margin never reuses a token that lives 60 s or less (one token request per call); with the
        share, a 20 s token is reused for 18 s and a 3600 s one for 3540 s."""
        if self.issued_at is None:
            return cap_s
        lifetime = (self.expires_at - self.issued_at).total_seconds()
        return max(0.0, min(cap_s, share * lifetime))

    def is_fresh(self, now: datetime, cap_s: float = REFRESH_MARGIN_CAP_S,
                 share: float = REFRESH_MARGIN_SHARE) -> bool:
        """Usable without renewing: more than the refresh margin remains."""
        return self.is_usable(now, self.refresh_margin_s(cap_s, share))


@dataclass(frozen=True)
class TokenRefusal:
    """The token endpoint refused the credentials at ``at``: remembered so that every process waits
    before asking again (a refusing bureau gets at most one token request per pause)."""

    at: datetime
    message: str = ""


@dataclass(frozen=True)
class RestrictionReason:
    code: str
    description: str
    kind: str  # "inclusion" | "removal"


@dataclass(frozen=True)
class Restriction:
    creditor: str
    amount: Decimal
    occurred_on: date
    kind: str  # e.g. "PEFIN", "PROTESTO", "CHEQUE", "ACAO"


@dataclass(frozen=True)
class ConsultationResult:
    protocol: str
    document: str
    name: str
    score: int
    risk_class: str
    restrictions: tuple[Restriction, ...]
    restrictions_total: Decimal
    queried_at: datetime
    raw: dict = _raw_field()


@dataclass(frozen=True)
class Address:
    street: str
    number: str
    district: str
    city: str
    state: str  # two-letter UF, e.g. "SP"
    zip: str  # CEP, eight digits
    complement: str = ""


@dataclass(frozen=True)
class Debtor:
    name: str
    address: Address
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Creditor:
    cnpj: str  # the branch that owns the debt
    name: str


@dataclass(frozen=True)
class TitleLine:
    number: str
    due_date: date
    amount: Decimal

    def __post_init__(self) -> None:
        # Floats cannot hold cents exactly; refuse them instead of rounding silently.
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise TypeError(f"TitleLine.amount must be a finite Decimal, got {self.amount!r}")
        if self.amount <= 0:
            raise ValueError(f"TitleLine.amount must be positive, got {self.amount}")


@dataclass(frozen=True)
class NegativationRequest:
    document: str
    document_type: str  # "CPF" | "CNPJ"
    restriction_code: str
    debtor: Debtor
    creditor: Creditor
    titles: tuple[TitleLine, ...]

    def __post_init__(self) -> None:
        if self.document_type not in DOCUMENT_TYPES:
            raise ValueError(f"document_type must be one of {DOCUMENT_TYPES}, got {self.document_type!r}")
        # Accept any iterable but store a tuple so the request stays immutable and hashable.
        object.__setattr__(self, "titles", tuple(self.titles))
        if not self.titles:
            raise ValueError("a negativation needs at least one title")

    @property
    def total_amount(self) -> Decimal:
        return sum((t.amount for t in self.titles), Decimal("0"))


@dataclass(frozen=True)
class NegativationReceipt:
    protocol: str
    status: str  # one of NEGATIVATION_STATES, normally "notice"
    notice_until: date | None
    raw: dict = _raw_field()


@dataclass(frozen=True)
class NegativationStatus:
    protocol: str
    status: str  # one of NEGATIVATION_STATES
    notice_until: date | None = None
    activated_at: datetime | None = None
    removed_at: datetime | None = None
    message: str | None = None
    total_amount: Decimal | None = None  # when the bureau says it (the reconciliation compares it)
    raw: dict = _raw_field()


@dataclass(frozen=True)
class RemovalReceipt:
    protocol: str
    status: str  # "removed"
    removed_at: datetime
    raw: dict = _raw_field()


# --------------------------------------------------------------------------- errors


def _restore_error(cls: type[BureauError], message: str) -> BureauError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    return err


class BureauError(Exception):
    """Base of every bureau failure. ``retryable`` says whether trying again later can help."""

    retryable: bool = False

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, body: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body  # raw response body, for the record; never shown to end users

    def __str__(self) -> str:
        tag = " ".join(p for p in (None if self.status is None else str(self.status), self.code) if p)
        return f"[{tag}] {self.message}" if tag else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> Any:
        # Keyword-only attributes survive pickling (jobs may hand errors across processes).
        return (_restore_error, (type(self), self.message), self.__dict__)


class AuthenticationError(BureauError):
    """Credentials refused (``invalid_client``), or a call still refused after one token refresh."""


class CredentialsRefused(AuthenticationError):
    """The token endpoint refused client_id/client_secret (``invalid_client``): permanent until a
    person fixes the credentials. ``cached``: no request was made, a recent refusal was repeated."""

    def __init__(self, message: str, *, cached: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cached = cached


class CircuitOpen(BureauError):
    """The integration's circuit breaker refused the call before it left: nothing reached the bureau.

    ``reason`` is "credentials" (the bureau refused the credentials) or "outage" (it answered only
    5xx/timeouts for a while); ``since`` is when the breaker opened, ``retry_at`` the next probe."""

    retryable = True

    def __init__(self, message: str, *, reason: str, since: datetime | None = None,
                 retry_at: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
        self.since = since
        self.retry_at = retry_at


class BureauRejected(BureauError):
    """Permanent refusal (422 and any 4xx without a more specific class): fix the data, do not retry."""


class IdempotencyConflict(BureauError):
    """The Idempotency-Key was already used with a different payload (409)."""


class NotFound(BureauError):
    """Unknown protocol (404)."""


class RateLimited(BureauError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after  # seconds the bureau asked us to wait, when it said so


class BureauUnavailable(BureauError):
    """5xx, connection error or timeout, after the retries were exhausted."""

    retryable = True

    def __init__(self, message: str, *, outcome_unknown: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # True when a request with side effects may have reached the bureau (e.g. a read timeout
        # on an inclusion): record it as "unknown" and retry later with the SAME Idempotency-Key.
        self.outcome_unknown = outcome_unknown


class MalformedResponse(BureauError):
    """The body was not the JSON the contract promises; ``body`` keeps it verbatim."""

    retryable = True

    def __init__(self, message: str, *, retryable: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # Safe to repeat for idempotent calls; a charged consultation says False.
        self.retryable = retryable


# --------------------------------------------------------------------------- ports


@runtime_checkable
class CreditBureau(Protocol):
    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        """A token valid for a while (fetched when missing or expiring; always when forced)."""
        ...

    def restriction_reasons(self, person_type: str) -> list[RestrictionReason]: ...

    def consult(self, document: str, document_type: str) -> ConsultationResult: ...

    def negativate(self, request: NegativationRequest, idempotency_key: str) -> NegativationReceipt: ...

    def negativation_status(self, protocol: str) -> NegativationStatus: ...

    def remove(self, protocol: str, reason: str, idempotency_key: str) -> RemovalReceipt: ...


@runtime_checkable
class TokenStore(Protocol):
    """Where a client caches its access token, shared by every process of one integration."""

    def load(self) -> AccessToken | None: ...

    def save(self, token: AccessToken) -> None:
        """Keep a new token (and forget any earlier refusal)."""
        ...

    def refusal(self) -> TokenRefusal | None:
        """The last refusal of the credentials, while no token was obtained since."""
        ...

    def save_refusal(self, refusal: TokenRefusal) -> None:
        """Remember that the credentials were refused (and drop the cached token)."""
        ...

    def refresh_lock(self) -> AbstractContextManager[object]:
        """Serialises refreshes across processes; callers ``load()`` again once inside."""
        ...


class InMemoryTokenStore:
    """Process-local TokenStore for tests and the CLI."""

    def __init__(self, token: AccessToken | None = None) -> None:
        self._token = token
        self._refusal: TokenRefusal | None = None
        self._data_lock = threading.Lock()
        self._refresh = threading.Lock()

    def load(self) -> AccessToken | None:
        with self._data_lock:
            return self._token

    def save(self, token: AccessToken) -> None:
        with self._data_lock:
            self._token, self._refusal = token, None

    def refusal(self) -> TokenRefusal | None:
        with self._data_lock:
            return self._refusal

    def save_refusal(self, refusal: TokenRefusal) -> None:
        with self._data_lock:
            self._token, self._refusal = None, refusal

    def clear(self) -> None:
        with self._data_lock:
            self._token, self._refusal = None, None

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._refresh:
            yield
