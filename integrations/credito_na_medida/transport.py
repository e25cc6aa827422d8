"""What one HTTP exchange with Crédito na Medida needs: the call description, the internal signals
between attempts, the bearer auth, and the readers of a response (body, Retry-After)."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from importlib import metadata

import requests
from requests.auth import AuthBase
from tenacity import RetryCallState
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from integrations.bureau import BureauError

log = logging.getLogger("integrations.credito_na_medida.client")

# Transport failures that a later attempt may not repeat; anything else from requests is a bug
# or a configuration problem (bad URL, bad header) that retrying cannot fix.
TRANSIENT_TRANSPORT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: safe as a header value


@cache
def version() -> str:
    try:
        return metadata.version("credit-desk")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "dev"


def utcnow() -> datetime:
    return datetime.now(UTC)


class BearerAuth(AuthBase):
    # An auth object (not a bare header) stops requests from swapping in ~/.netrc credentials.
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class Transient(Exception):
    """One failed attempt worth repeating. Internal: callers only ever see BureauError."""

    def __init__(self, error: BureauError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class Unauthorized(Exception):
    """A 401: the token (or, on the token endpoint, the credentials) was refused."""

    def __init__(self, error: BureauError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Call:
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


def prepare(
    method: str,
    url: str,
    params: dict[str, str] | None,
    data: bytes | dict[str, str] | None,
    headers: dict[str, str],
    auth: AuthBase,
) -> requests.PreparedRequest:
    """The request as `Session.request` would prepare it for this client, without what that adds on
    every call and this client never uses: merging the session's cookie jar (the bureau sets no
    cookies), its default headers (merged once into the client's), auth, params and hooks, a third
    of requests' CPU per call in a routine's profile. The client sends it through the session's
    adapter with the session's proxies, CA bundle and client certificate."""
    request = requests.PreparedRequest()
    request.prepare_method(method)
    request.prepare_url(url, params)
    request.prepare_headers(headers)
    request.prepare_cookies(None)  # an empty jar: the bureau sets no cookies
    request.prepare_body(data, None)
    request.prepare_auth(auth, url)  # also sets Content-Length from the body
    return request


def checked_key(key: str) -> str:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValueError("idempotency_key must be 1-255 visible ASCII characters (use a UUID)")
    return key


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the bureau (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", None)  # urllib3's MaxRetryError wraps the cause
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def body_text(response: requests.Response) -> str:
    # JSON is UTF-8 (RFC 8259); other bodies (HTML error pages) are only kept for the record.
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return response.content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name in Content-Type
        return response.content.decode("utf-8", errors="replace")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
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


def log_retry(call: Call, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning(
        "bureau %s: attempt %d failed (%s); retrying in %.2fs", call.label, state.attempt_number, exc, delay
    )
