"""HTTP client for Crédito na Medida; implements ``integrations.bureau.CreditBureau``.

Transport policy only (timeouts, retries, token, idempotency); every wire detail is in ``wire``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from importlib import metadata
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from integrations.bureau import (
    AccessToken,
    AuthenticationError,
    BureauError,
    BureauUnavailable,
    ConsultationResult,
    InMemoryTokenStore,
    NegativationReceipt,
    NegativationRequest,
    NegativationStatus,
    RateLimited,
    RemovalReceipt,
    RestrictionReason,
    TokenStore,
)
from integrations.credito_na_medida import wire

log = logging.getLogger(__name__)

# Transport failures that a later attempt may not repeat; anything else from requests is a bug
# or a configuration problem (bad URL, bad header) that retrying cannot fix.
_TRANSIENT_TRANSPORT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: safe as a header value


@cache
def _version() -> str:
    try:
        return metadata.version("credit-desk")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "dev"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _BearerAuth(AuthBase):
    # An auth object (not a bare header) stops requests from swapping in ~/.netrc credentials.
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


class _Transient(Exception):
    """One failed attempt worth repeating. Internal: callers only ever see BureauError."""

    def __init__(self, error: BureauError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _Unauthorized(Exception):
    def __init__(self, error: BureauError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Call:
    method: str
    path: str
    ok: frozenset[int]
    params: dict[str, str] | None = None
    json_body: bytes | None = None  # encoded once: every attempt sends the same bytes
    form: dict[str, str] | None = None
    idempotency_key: str | None = None
    side_effects: bool = False  # only then can an outcome be "unknown"
    resend_safe: bool = True  # False: never repeat a request that may have reached the bureau
    reached: bool = False  # set once any attempt may have been processed by the bureau

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class CreditoNaMedidaClient:
    """Crédito na Medida over HTTPS. Build one per process, job or request: it holds a
    requests.Session, which is not guaranteed thread-safe. The token is shared through the store."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        token_store: TokenStore | None = None,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 20,
        max_attempts: int = 4,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        refresh_margin_s: float = 60,
        max_retry_after_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret  # only ever handed to HTTPBasicAuth
        self._store: TokenStore = token_store if token_store is not None else InMemoryTokenStore()
        self._last_token: AccessToken | None = None  # this instance's copy of the shared token
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._max_attempts = max_attempts
        self._backoff = wait_random_exponential(multiplier=backoff_initial, max=backoff_max)
        self._refresh_margin_s = refresh_margin_s
        self._max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._clock = clock
        self._headers = {"User-Agent": f"credit-desk/{_version()}", "Accept": "application/json"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> CreditoNaMedidaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- CreditBureau

    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        return self._token(force=force_refresh)

    def restriction_reasons(self, person_type: str) -> list[RestrictionReason]:
        call = _Call("GET", wire.REASONS_PATH, wire.READ_OK, params=wire.reasons_params(person_type))
        return wire.parse_reasons(self._authorized(call))

    def consult(self, document: str, document_type: str) -> ConsultationResult:
        body = wire.encode_json(wire.consultation_payload(document, document_type))
        # Charged per call and without an idempotency key: a request that may have been
        # processed is not sent again (no double charge); refused connections, 429 and 5xx are.
        call = _Call("POST", wire.CONSULTATIONS_PATH, wire.READ_OK, json_body=body, side_effects=True)
        call.resend_safe = False
        return wire.parse_consultation(self._authorized(call))

    def negativate(self, request: NegativationRequest, idempotency_key: str) -> NegativationReceipt:
        body = wire.encode_json(wire.negativation_payload(request))
        call = _Call(
            "POST",
            wire.NEGATIVATIONS_PATH,
            wire.NEGATIVATE_OK,
            json_body=body,
            idempotency_key=_checked_key(idempotency_key),
            side_effects=True,
        )
        return wire.parse_negativation_receipt(self._authorized(call))

    def negativation_status(self, protocol: str) -> NegativationStatus:
        call = _Call("GET", wire.negativation_path(protocol), wire.READ_OK)
        return wire.parse_negativation_status(self._authorized(call))

    def remove(self, protocol: str, reason: str, idempotency_key: str) -> RemovalReceipt:
        body = wire.encode_json(wire.removal_payload(reason))
        call = _Call(
            "POST",
            wire.removal_path(protocol),
            wire.REMOVE_OK,
            json_body=body,
            idempotency_key=_checked_key(idempotency_key),
            side_effects=True,
        )
        return wire.parse_removal_receipt(self._authorized(call))

    # ----------------------------------------------------------------------- token

    def _token(self, *, force: bool = False, stale: str | None = None) -> AccessToken:
        """The cached token, or a new one; ``stale`` is a value the bureau has just refused."""
        if not force and stale is None:
            # This instance's copy first: a shared-store read per call costs a database query.
            mine = self._last_token
            if mine is not None and mine.is_usable(self._clock(), self._refresh_margin_s):
                return mine
            cached = self._store.load()
            if cached is not None and cached.is_usable(self._clock(), self._refresh_margin_s):
                self._last_token = cached
                return cached
        with self._store.refresh_lock():
            # Another process may have refreshed while we waited for the lock: reuse its token.
            cached = self._store.load()
            if (
                not force
                and cached is not None
                and cached.value != stale
                and cached.is_usable(self._clock(), self._refresh_margin_s)
            ):
                self._last_token = cached
                return cached
            fresh = self._request_token()
            self._store.save(fresh)
            self._last_token = fresh
            return fresh

    def _request_token(self) -> AccessToken:
        now = self._clock()  # taken before the call, so the expiry errs on the early side
        call = _Call("POST", wire.TOKEN_PATH, wire.TOKEN_OK, form=dict(wire.TOKEN_FORM))
        try:
            text = self._with_retries(call, HTTPBasicAuth(self.client_id, self._client_secret))
        except _Unauthorized as exc:
            raise exc.error from None  # invalid_client is permanent: never retried
        return wire.parse_token(text, now)

    def _authorized(self, call: _Call) -> str:
        token = self._token()
        try:
            return self._with_retries(call, _BearerAuth(token.value))
        except _Unauthorized:
            log.info("bureau refused the token on %s; refreshing it once", call.label)
        token = self._token(stale=token.value)
        try:
            return self._with_retries(call, _BearerAuth(token.value))
        except _Unauthorized as exc:
            raise exc.error from None

    # ----------------------------------------------------------------------- transport

    def _with_retries(self, call: _Call, auth: AuthBase) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            before_sleep=lambda state: _log_retry(call, state),
            reraise=True,
        )
        try:
            return retrying(self._attempt, call, auth)
        except _Transient as exc:
            raise self._give_up(call, exc.error) from exc.__cause__

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after  # the bureau said how long; already capped in _attempt
        return self._backoff(state)

    def _give_up(self, call: _Call, last: BureauError) -> BureauError:
        attempts = f"{call.label} failed after {self._max_attempts} attempt(s)"
        fields: dict[str, Any] = {"status": last.status, "code": last.code, "body": last.body}
        if isinstance(last, RateLimited):
            return RateLimited(f"{attempts}: {last.message}", retry_after=last.retry_after, **fields)
        return BureauUnavailable(
            f"{attempts}: {last.message}", outcome_unknown=call.side_effects and call.reached, **fields
        )

    def _attempt(self, call: _Call, auth: AuthBase) -> str:
        headers = dict(self._headers)
        if call.json_body is not None:
            headers["Content-Type"] = "application/json"
        if call.idempotency_key is not None:
            headers[wire.IDEMPOTENCY_HEADER] = call.idempotency_key
        try:
            response = self._session.request(
                call.method,
                self.base_url + call.path,
                params=call.params,
                data=call.json_body if call.json_body is not None else call.form,
                headers=headers,
                auth=auth,
                timeout=self._timeout,
                allow_redirects=False,  # a redirected POST would silently become a GET
            )
        except _TRANSIENT_TRANSPORT as exc:
            raise self._transport_failure(call, exc) from exc
        except requests.RequestException as exc:
            raise BureauError(f"{call.label}: request failed: {exc}") from exc

        text = _body_text(response)
        status = response.status_code
        if status in call.ok:
            return text
        retry_after = None
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"), self._clock())
        error = wire.error_for_status(status, text, retry_after=retry_after)
        if isinstance(error, AuthenticationError):
            raise _Unauthorized(error)
        if isinstance(error, RateLimited):
            if retry_after is not None and retry_after > self._max_retry_after_s:
                raise error  # longer than we may block: the caller reschedules
            raise _Transient(error, retry_after)
        if isinstance(error, BureauUnavailable):
            call.reached = True  # a 5xx may come after the bureau already acted
            raise _Transient(error)
        raise error

    def _transport_failure(self, call: _Call, exc: requests.RequestException) -> Exception:
        may_have_arrived = not _never_sent(exc)
        call.reached = call.reached or may_have_arrived
        kind = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
        error = BureauUnavailable(
            f"{call.label}: {kind}: {exc}", outcome_unknown=call.side_effects and call.reached
        )
        if may_have_arrived and not call.resend_safe:
            return error  # e.g. a read timeout on a charged consultation: do not pay twice
        return _Transient(error)


def _checked_key(key: str) -> str:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValueError("idempotency_key must be 1-255 visible ASCII characters (use a UUID)")
    return key


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the bureau (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", None)  # urllib3's MaxRetryError wraps the cause
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def _body_text(response: requests.Response) -> str:
    # JSON is UTF-8 (RFC 8259); other bodies (HTML error pages) are only kept for the record.
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return response.content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name in Content-Type
        return response.content.decode("utf-8", errors="replace")


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _log_retry(call: _Call, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning(
        "bureau %s: attempt %d failed (%s); retrying in %.2fs", call.label, state.attempt_number, exc, delay
    )
