"""Every Crédito na Medida wire detail: paths, field names, enum values and status mapping.

This is the only module to change when the provider's own documentation is obtained
(docs/bureau-api.md is the contract it implements). Builders turn neutral dataclasses into payloads; parsers turn
response bodies into dataclasses and raise MalformedResponse (with the raw body) on any surprise.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import quote

from integrations.bureau import (
    AccessToken,
    AuthenticationError,
    BureauError,
    BureauRejected,
    BureauUnavailable,
    ConsultationResult,
    IdempotencyConflict,
    MalformedResponse,
    NegativationReceipt,
    NegativationRequest,
    NegativationStatus,
    NotFound,
    RateLimited,
    RemovalReceipt,
    Restriction,
    RestrictionReason,
)

# --------------------------------------------------------------------------- paths and headers

TOKEN_PATH = "/oauth/token"
REASONS_PATH = "/v1/restriction-reasons"
CONSULTATIONS_PATH = "/v1/consultations"
NEGATIVATIONS_PATH = "/v1/negativations"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOKEN_FORM = {"grant_type": "client_credentials"}

# Statuses each call treats as success; 200 on an inclusion is the replay of an earlier 201.
TOKEN_OK = frozenset({200})
READ_OK = frozenset({200})
NEGATIVATE_OK = frozenset({200, 201})
REMOVE_OK = frozenset({200})


def negativation_path(protocol: str) -> str:
    return f"{NEGATIVATIONS_PATH}/{_segment(protocol)}"


def removal_path(protocol: str) -> str:
    return f"{negativation_path(protocol)}/removal"


def _segment(protocol: str) -> str:
    if not isinstance(protocol, str) or not protocol.strip():
        raise ValueError("protocol must be a non-empty string")
    return quote(protocol.strip(), safe="")  # a protocol must never escape its path segment


# --------------------------------------------------------------------------- enum values (neutral -> wire)

_DOCUMENT_TYPES = {"CPF": "CPF", "CNPJ": "CNPJ"}
_PERSON_TYPES = {"PF": "PF", "PJ": "PJ"}
_REMOVAL_REASONS = {"payment": "payment", "manual": "manual", "expired": "expired", "agreement": "agreement"}
# wire -> neutral
_STATES = {"notice": "notice", "active": "active", "removed": "removed", "rejected": "rejected"}
_REASON_KINDS = {"inclusion": "inclusion", "removal": "removal"}


def _enum(mapping: dict[str, str], value: str, what: str) -> str:
    try:
        return mapping[value]
    except (KeyError, TypeError):
        raise ValueError(f"{what} must be one of {sorted(mapping)}, got {value!r}") from None


# --------------------------------------------------------------------------- request builders

_CENTS = Decimal("0.01")
_DOCUMENT_PUNCTUATION = re.compile(r"[\s./-]")


def normalize_document(document: str) -> str:
    """CPF/CNPJ without punctuation, upper-cased (the new CNPJ is alphanumeric)."""
    cleaned = _DOCUMENT_PUNCTUATION.sub("", document or "").upper()
    if not cleaned:
        raise ValueError("document must not be empty")
    return cleaned


def money(amount: Decimal) -> str:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"money must be a finite Decimal, got {amount!r}")
    if amount != amount.quantize(_CENTS):
        raise ValueError(f"money has more than two decimal places: {amount}")  # never round silently
    return f"{amount.quantize(_CENTS):f}"


def reasons_params(person_type: str) -> dict[str, str]:
    return {"person_type": _enum(_PERSON_TYPES, person_type, "person_type")}


def consultation_payload(document: str, document_type: str) -> dict[str, Any]:
    return {
        "document": normalize_document(document),
        "document_type": _enum(_DOCUMENT_TYPES, document_type, "document_type"),
    }


def negativation_payload(request: NegativationRequest) -> dict[str, Any]:
    debtor, address = request.debtor, request.debtor.address
    debtor_body: dict[str, Any] = {"name": debtor.name}
    # Optional contact fields are left out rather than sent empty.
    if debtor.email:
        debtor_body["email"] = debtor.email
    if debtor.phone:
        debtor_body["phone"] = debtor.phone
    debtor_body["address"] = {
        "street": address.street,
        "number": address.number,
        "complement": address.complement or "",
        "district": address.district,
        "city": address.city,
        "state": address.state.upper(),
        "zip": re.sub(r"\D", "", address.zip),
    }
    return {
        "document": normalize_document(request.document),
        "document_type": _enum(_DOCUMENT_TYPES, request.document_type, "document_type"),
        "restriction_code": request.restriction_code,
        "debtor": debtor_body,
        "creditor": {"cnpj": normalize_document(request.creditor.cnpj), "name": request.creditor.name},
        "titles": [
            {"number": t.number, "due_date": t.due_date.isoformat(), "amount": money(t.amount)}
            for t in request.titles
        ],
        "total_amount": money(request.total_amount),
    }


def removal_payload(reason: str) -> dict[str, str]:
    return {"reason": _enum(_REMOVAL_REASONS, reason, "reason")}


def encode_json(payload: dict[str, Any]) -> bytes:
    # Encoded once per call so every retry sends byte-identical bodies.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- response parsing

_MONEY = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")  # NaN/Infinity cannot be stored as JSON


def decode_object(text: str, *, retryable: bool = True) -> dict[str, Any]:
    """The body as a JSON object, or MalformedResponse carrying the raw text."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedResponse(f"body is not valid JSON: {exc}", body=text, retryable=retryable) from None
    if not isinstance(data, dict):
        raise MalformedResponse("body is not a JSON object", body=text, retryable=retryable)
    return data


class _Fields:
    """Typed reads from one JSON object; anything missing or mistyped becomes MalformedResponse."""

    def __init__(self, data: Any, text: str, retryable: bool, where: str = "") -> None:
        self.text, self.retryable, self.where = text, retryable, where
        if not isinstance(data, dict):
            self._fail("", "an object")
        self.data: dict[str, Any] = data

    def _fail(self, key: str, expected: str) -> NoReturn:
        name = f"{self.where}.{key}" if self.where and key else (key or self.where or "body")
        raise MalformedResponse(
            f"field {name!r}: expected {expected}", body=self.text, retryable=self.retryable
        )

    def _get(self, key: str, optional: bool) -> Any:
        value = self.data.get(key)
        if value is None and not optional:
            self._fail(key, "a value")
        return value

    def string(self, key: str, *, optional: bool = False, nonempty: bool = False) -> Any:
        value = self._get(key, optional)
        if value is None:
            return None
        if not isinstance(value, str) or (nonempty and not value.strip()):
            self._fail(key, "a non-empty string" if nonempty else "a string")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, False)
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(key, "an integer")
        return value

    def money(self, key: str) -> Decimal:
        value = self._get(key, False)
        if not isinstance(value, str) or not _MONEY.fullmatch(value):
            self._fail(key, "a decimal string")  # a JSON number would have gone through float
        return Decimal(value)

    def day(self, key: str, *, optional: bool = False) -> date | None:
        value = self._get(key, optional)
        if value is None:
            return None
        try:
            if isinstance(value, str) and _DATE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        self._fail(key, "a YYYY-MM-DD date")

    def instant(self, key: str, *, optional: bool = False) -> datetime | None:
        value = self._get(key, optional)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self._fail(key, "an ISO 8601 date-time with UTC offset")
        return parsed

    def choice(self, key: str, mapping: dict[str, str]) -> str:
        value = self.string(key)
        if value not in mapping:
            self._fail(key, f"one of {sorted(mapping)}")
        return mapping[value]

    def objects(self, key: str) -> list[_Fields]:
        value = self._get(key, False)
        if not isinstance(value, list):
            self._fail(key, "a list")
        return [_Fields(item, self.text, self.retryable, f"{key}[{i}]") for i, item in enumerate(value)]


def _fields(text: str, retryable: bool = True) -> _Fields:
    return _Fields(decode_object(text, retryable=retryable), text, retryable)


_TOKEN_VALUE = re.compile(r'("access_token"\s*:\s*")[^"]*')


def _redact_token(text: str) -> str:
    return _TOKEN_VALUE.sub(r"\1***", text)


def parse_token(text: str, now: datetime) -> AccessToken:
    # A malformed token body may still hold a live bearer token: redact it before keeping it.
    try:
        f = _fields(text)
        value = f.string("access_token", nonempty=True)
        expires_in = f.integer("expires_in")
        token_type = f.string("token_type", optional=True)
        if expires_in <= 0:
            f._fail("expires_in", "a positive number of seconds")
        if token_type is not None and token_type.lower() != "bearer":
            f._fail("token_type", "'Bearer'")
    except MalformedResponse as exc:
        exc.body = _redact_token(text)
        raise
    return AccessToken(value=value, expires_at=now + timedelta(seconds=expires_in), issued_at=now)


def parse_reasons(text: str) -> list[RestrictionReason]:
    return [
        RestrictionReason(
            code=item.string("code", nonempty=True),
            description=item.string("description"),
            kind=item.choice("kind", _REASON_KINDS),
        )
        for item in _fields(text).objects("items")
    ]


def parse_consultation(text: str) -> ConsultationResult:
    # A consultation is charged: repeating it after a bad body costs money, so not retryable.
    f = _fields(text, retryable=False)
    restrictions = tuple(
        Restriction(
            creditor=r.string("creditor"),
            amount=r.money("amount"),
            occurred_on=r.day("occurred_on"),
            kind=r.string("kind", nonempty=True),
        )
        for r in f.objects("restrictions")
    )
    return ConsultationResult(
        protocol=f.string("protocol", nonempty=True),
        document=f.string("document", nonempty=True),
        name=f.string("name"),
        score=f.integer("score"),
        risk_class=f.string("risk_class", nonempty=True),
        restrictions=restrictions,
        restrictions_total=f.money("restrictions_total"),
        queried_at=f.instant("queried_at"),
        raw=f.data,
    )


def parse_negativation_receipt(text: str) -> NegativationReceipt:
    f = _fields(text)
    return NegativationReceipt(
        protocol=f.string("protocol", nonempty=True),
        status=f.choice("status", _STATES),
        notice_until=f.day("notice_until", optional=True),
        raw=f.data,
    )


def parse_negativation_status(text: str) -> NegativationStatus:
    f = _fields(text)
    return NegativationStatus(
        protocol=f.string("protocol", nonempty=True),
        status=f.choice("status", _STATES),
        notice_until=f.day("notice_until", optional=True),
        activated_at=f.instant("activated_at", optional=True),
        removed_at=f.instant("removed_at", optional=True),
        message=f.string("message", optional=True),
        # Optional: the simulator sends it; a bureau that does not leaves the amount unchecked.
        total_amount=f.money("total_amount") if f.data.get("total_amount") is not None else None,
        raw=f.data,
    )


def parse_removal_receipt(text: str) -> RemovalReceipt:
    f = _fields(text)
    return RemovalReceipt(
        protocol=f.string("protocol", nonempty=True),
        status=f.choice("status", _STATES),
        removed_at=f.instant("removed_at"),
        raw=f.data,
    )


# --------------------------------------------------------------------------- error mapping


def _error_fields(text: str) -> tuple[str | None, str | None]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None  # HTML error pages and the like: the raw body is kept on the error
    if not isinstance(data, dict):
        return None, None
    code, message = data.get("error"), data.get("message")
    return (code if isinstance(code, str) else None, message if isinstance(message, str) else None)


def error_for_status(status: int, text: str, *, retry_after: float | None = None) -> BureauError:
    """The typed error for a non-success HTTP answer (the caller decides about retrying)."""
    code, message = _error_fields(text)
    message = message or code or f"HTTP {status} from the bureau"
    kwargs: dict[str, Any] = {"status": status, "code": code, "body": text}
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 409:
        return IdempotencyConflict(message, **kwargs)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    if 500 <= status <= 599:
        return BureauUnavailable(message, **kwargs)
    if 300 <= status <= 399:
        # Redirects are not followed (a POST must not turn into a GET): usually a wrong base URL.
        return BureauRejected(f"unexpected redirect (HTTP {status}); check the base URL", **kwargs)
    if 400 <= status <= 499:
        return BureauRejected(message, **kwargs)
    return MalformedResponse(f"unexpected HTTP status {status}", **kwargs)
