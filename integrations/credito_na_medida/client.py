"""HTTP client for Crédito na Medida; implements ``integrations.bureau.CreditBureau``.

Transport policy only (timeouts, retries, token, idempotency); every wire detail is in ``wire``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import resolve_proxies
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from integrations.bureau import (
    REFRESH_MARGIN_CAP_S,
    REFRESH_MARGIN_SHARE,
    AccessToken,
    AuthenticationError,
    BureauError,
    BureauUnavailable,
    ConsultationResult,
    CredentialsRefused,
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
from integrations.credito_na_medida.tokens import REFUSAL_PAUSE_S, TokenKeeper
from integrations.credito_na_medida.transport import (
    TRANSIENT_TRANSPORT,
    BearerAuth,
    Call,
    Transient,
    Unauthorized,
    body_text,
    checked_key,
    log_retry,
    never_sent,
    prepare,
    retry_after_seconds,
    utcnow,
    version,
)

log = logging.getLogger(__name__)


def _session_for(base_url: str) -> requests.Session:
    """A session whose environment settings (proxy variables with NO_PROXY, CA bundle variables) are
    read once, for the one host this client talks to: with `trust_env` requests reads them again on
    every call, walking os.environ twice, a measurable share of a routine run's CPU per negativation."""
    session = requests.Session()
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.trust_env = False
    return session


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
        refresh_margin_s: float = REFRESH_MARGIN_CAP_S,
        refresh_share: float = REFRESH_MARGIN_SHARE,
        refusal_pause_s: float = REFUSAL_PAUSE_S,
        max_retry_after_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret  # only ever handed to HTTPBasicAuth
        self._owns_session = session is None
        self._session = session if session is not None else _session_for(self.base_url)
        self._timeout = (connect_timeout, read_timeout)
        self._max_attempts = max_attempts
        self._backoff = wait_random_exponential(multiplier=backoff_initial, max=backoff_max)
        self._max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._clock = clock
        store: TokenStore = token_store if token_store is not None else InMemoryTokenStore()
        self._tokens = TokenKeeper(store, self._request_token, clock, margin_cap_s=refresh_margin_s,
                                   margin_share=refresh_share, refusal_pause_s=refusal_pause_s)
        # The session's defaults (Accept-Encoding, Connection) merged once: `_attempt` prepares each
        # request itself instead of `Session.request` merging them again on every call.
        self._headers = {**self._session.headers, "User-Agent": f"credit-desk/{version()}",
                         "Accept": "application/json"}

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
        return self._tokens.current(force=force_refresh)

    def restriction_reasons(self, person_type: str) -> list[RestrictionReason]:
        call = Call("GET", wire.REASONS_PATH, wire.READ_OK, params=wire.reasons_params(person_type))
        return wire.parse_reasons(self._authorized(call))

    def consult(self, document: str, document_type: str) -> ConsultationResult:
        body = wire.encode_json(wire.consultation_payload(document, document_type))
        # Charged per call and without an idempotency key: a request that may have been
        # processed is not sent again (no double charge); refused connections, 429 and 5xx are.
        call = Call("POST", wire.CONSULTATIONS_PATH, wire.READ_OK, json_body=body, side_effects=True)
        call.resend_safe = False
        return wire.parse_consultation(self._authorized(call))

    def negativate(self, request: NegativationRequest, idempotency_key: str) -> NegativationReceipt:
        body = wire.encode_json(wire.negativation_payload(request))
        call = Call(
            "POST",
            wire.NEGATIVATIONS_PATH,
            wire.NEGATIVATE_OK,
            json_body=body,
            idempotency_key=checked_key(idempotency_key),
            side_effects=True,
        )
        return wire.parse_negativation_receipt(self._authorized(call))

    def negativation_status(self, protocol: str) -> NegativationStatus:
        call = Call("GET", wire.negativation_path(protocol), wire.READ_OK)
        return wire.parse_negativation_status(self._authorized(call))

    def remove(self, protocol: str, reason: str, idempotency_key: str) -> RemovalReceipt:
        body = wire.encode_json(wire.removal_payload(reason))
        call = Call(
            "POST",
            wire.removal_path(protocol),
            wire.REMOVE_OK,
            json_body=body,
            idempotency_key=checked_key(idempotency_key),
            side_effects=True,
        )
        return wire.parse_removal_receipt(self._authorized(call))

    # ----------------------------------------------------------------------- token

    def _request_token(self) -> AccessToken:
        now = self._clock()  # taken before the call, so the expiry errs on the early side
        call = Call("POST", wire.TOKEN_PATH, wire.TOKEN_OK, form=dict(wire.TOKEN_FORM))
        try:
            text = self._with_retries(call, HTTPBasicAuth(self.client_id, self._client_secret))
        except Unauthorized as exc:
            # invalid_client is permanent: never retried, and remembered by the token keeper.
            error = exc.error
            raise CredentialsRefused(error.message, status=error.status, code=error.code, body=error.body) from None
        return wire.parse_token(text, now)

    def _authorized(self, call: Call) -> str:
        token = self._tokens.current()
        try:
            return self._with_retries(call, BearerAuth(token.value))
        except Unauthorized:
            log.info("bureau refused the token on %s; refreshing it once", call.label)
        token = self._tokens.current(stale=token.value)
        try:
            return self._with_retries(call, BearerAuth(token.value))
        except Unauthorized as exc:
            raise exc.error from None

    # ----------------------------------------------------------------------- transport

    def _with_retries(self, call: Call, auth: AuthBase) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            before_sleep=lambda state: log_retry(call, state),
            reraise=True,
        )
        try:
            return retrying(self._attempt, call, auth)
        except Transient as exc:
            raise self._give_up(call, exc.error) from exc.__cause__

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after  # the bureau said how long; already capped in _attempt
        return self._backoff(state)

    def _give_up(self, call: Call, last: BureauError) -> BureauError:
        attempts = f"{call.label} failed after {self._max_attempts} attempt(s)"
        fields: dict[str, Any] = {"status": last.status, "code": last.code, "body": last.body}
        if isinstance(last, RateLimited):
            return RateLimited(f"{attempts}: {last.message}", retry_after=last.retry_after, **fields)
        return BureauUnavailable(
            f"{attempts}: {last.message}", outcome_unknown=call.side_effects and call.reached, **fields
        )

    def _attempt(self, call: Call, auth: AuthBase) -> str:
        headers = dict(self._headers)
        if call.json_body is not None:
            headers["Content-Type"] = "application/json"
        if call.idempotency_key is not None:
            headers[wire.IDEMPOTENCY_HEADER] = call.idempotency_key
        try:
            request = prepare(call.method, self.base_url + call.path, call.params,
                              call.json_body if call.json_body is not None else call.form, headers, auth)
            # Straight to the session's adapter: Session.send adds hooks, cookie extraction and redirect
            # bookkeeping, none of which this client uses, and never follows a redirect from here
            # (a redirected POST would silently become a GET).
            session = self._session
            response = session.get_adapter(request.url).send(
                request,
                stream=False,
                timeout=self._timeout,
                verify=session.verify,
                cert=session.cert,
                proxies=resolve_proxies(request, session.proxies, session.trust_env),
            )
            response.content  # noqa: B018 - read inside this try: a broken body is a transport failure
        except TRANSIENT_TRANSPORT as exc:
            raise self._transport_failure(call, exc) from exc
        except requests.RequestException as exc:
            raise BureauError(f"{call.label}: request failed: {exc}") from exc

        text = body_text(response)
        status = response.status_code
        if status in call.ok:
            return text
        retry_after = None
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
        error = wire.error_for_status(status, text, retry_after=retry_after)
        if isinstance(error, AuthenticationError):
            raise Unauthorized(error)
        if isinstance(error, RateLimited):
            if retry_after is not None and retry_after > self._max_retry_after_s:
                raise error  # longer than we may block: the caller reschedules
            raise Transient(error, retry_after)
        if isinstance(error, BureauUnavailable):
            # A 5xx may come after the bureau already acted, so an inclusion's outcome becomes unknown
            # (resent with its key). A charged consultation is resent on a 5xx only because the
            # contract makes a 5xx a refusal to act: for it the answer settles that nothing was done.
            call.reached = call.reached or call.resend_safe
            raise Transient(error)
        raise error

    def _transport_failure(self, call: Call, exc: requests.RequestException) -> Exception:
        may_have_arrived = not never_sent(exc)
        call.reached = call.reached or may_have_arrived
        kind = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
        error = BureauUnavailable(
            f"{call.label}: {kind}: {exc}", outcome_unknown=call.side_effects and call.reached
        )
        if may_have_arrived and not call.resend_safe:
            return error  # e.g. a read timeout on a charged consultation: do not pay twice
        return Transient(error)


