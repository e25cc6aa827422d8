"""Circuit breaker per bureau integration, shared by every process through the integration row.

A bureau has two kinds of bad day, and one breaker covers both:
- "credentials": it refuses the credentials (invalid_client, or a call still refused after a new
  token). Nothing but a person (or the bureau) can fix that: retrying only storms the bureau with
  token requests and turns every negativation into Erro.
- "outage": it answered only 5xx, timeouts or connection errors for `outage_after` (at least
  `outage_min_failures` calls in a row, none answered meanwhile).

While the breaker is open, `GuardedBureau` (what `services.bureau_for` returns) refuses every call of
the integration with `CircuitOpen` before it leaves: nothing reaches the bureau and nothing is
charged. The outbox leaves the integration's rows alone (they stay pending, never Erro, and keep
their Idempotency-Key), the routine creates no further rows, the daily run waits. `probe_due`
(scheduler, every minute) makes one cheap call when the backoff allows (1, 2, 4, 8, then every 15
minutes; the claim is one UPDATE, so one process probes): an answer closes the breaker and the
outbox resumes. "Testar conexão" and saving new credentials close it at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.models import BureauIntegration
from app.services.core import audit
from app.services.core.clock import now_utc, to_br
from integrations.bureau import (
    AuthenticationError,
    BureauError,
    BureauRejected,
    BureauUnavailable,
    CircuitOpen,
    IdempotencyConflict,
    NotFound,
)

log = logging.getLogger(__name__)

CREDENTIALS, OUTAGE = "credentials", "outage"
BACKOFF_MIN = (1, 2, 4, 8, 15)  # minutes to the next probe after 0, 1, 2, 3, 4+ failed probes
OUTAGE_AFTER = dt.timedelta(minutes=2)
OUTAGE_MIN_FAILURES = 3
BUREAU = audit.Actor.system("bureau")
CACHE_KEY = "bureau_breaker_cache"  # Services.extras: a StateCache shared by a run's bureau clients
_t = BureauIntegration.__table__
_COLUMNS = (_t.c.id, _t.c.name, _t.c.breaker_state, _t.c.breaker_opened_at, _t.c.breaker_retry_at,
            _t.c.breaker_probes, _t.c.breaker_message, _t.c.outage_since, _t.c.outage_failures)


def backoff(probes: int) -> dt.timedelta:
    return dt.timedelta(minutes=BACKOFF_MIN[min(max(probes, 0), len(BACKOFF_MIN) - 1)])


@dataclass(frozen=True)
class BreakerState:
    integration_id: int
    integration_name: str
    state: str | None  # None: closed
    opened_at: dt.datetime | None
    retry_at: dt.datetime | None
    probes: int
    message: str | None
    outage_since: dt.datetime | None
    outage_failures: int

    @property
    def is_open(self) -> bool:
        return self.state is not None

    @property
    def headline(self) -> str:
        if self.state == CREDENTIALS:
            return f"Credenciais recusadas pelo bureau em {to_br(self.opened_at):%d/%m %H:%M}"
        if self.state == OUTAGE:
            return f"Bureau indisponível desde {to_br(self.outage_since or self.opened_at):%d/%m %H:%M}"
        return ""

    @property
    def advice(self) -> str:
        probe = f" Nova verificação automática às {to_br(self.retry_at):%H:%M}." if self.retry_at else ""
        if self.state == CREDENTIALS:
            return ("Nenhuma chamada ao bureau sai por esta integração: as negativações aguardam como pendentes "
                    "(nunca Erro) e os títulos ainda não enviados ficam intactos. Corrija o client_secret e "
                    "salve a integração, ou use “Testar conexão”." + probe)
        if self.state == OUTAGE:
            return ("As chamadas estão suspensas para não gastar tentativas; as pendências são reenviadas com a "
                    "mesma chave quando o bureau voltar." + probe)
        return ""

    def error(self) -> CircuitOpen:
        return CircuitOpen(f"{self.headline}. {self.advice}", reason=self.state or "", since=self.opened_at,
                           retry_at=self.retry_at, code=f"circuit_open_{self.state}")


def _state(row: Any) -> BreakerState:
    return BreakerState(row.id, row.name, row.breaker_state, row.breaker_opened_at, row.breaker_retry_at,
                        row.breaker_probes or 0, row.breaker_message, row.outage_since, row.outage_failures or 0)


def read(session: Session, integration_id: int) -> BreakerState | None:
    row = session.execute(select(*_COLUMNS).where(_t.c.id == integration_id)).first()
    return None if row is None else _state(row)


def read_now(session_factory: sessionmaker[Session], integration_id: int) -> BreakerState | None:
    with session_factory() as s:
        return read(s, integration_id)


class StateCache:
    """A routine run's view of the breakers: each integration's state read at most once per `max_age_s`
    instead of before every call (a run sends ~100 calls a second; one SELECT each was a tenth of its
    database work). Anything this process learns (a failure, an answer) drops the cached state, so a
    breaker this run opens stops its very next call; one opened by another process is seen within
    `max_age_s`, and the calls made meanwhile meet the same refusal and are recorded as held or
    retried with their SAME Idempotency-Key, never sent twice."""

    def __init__(self, session_factory: sessionmaker[Session], max_age_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._session_factory, self._max_age, self._clock = session_factory, max_age_s, clock
        self._states: dict[int, tuple[float, BreakerState | None]] = {}
        self._lock = threading.Lock()

    def read(self, integration_id: int) -> BreakerState | None:
        now = self._clock()
        with self._lock:
            cached = self._states.get(integration_id)
        if cached is not None and now - cached[0] < self._max_age:
            return cached[1]
        state = read_now(self._session_factory, integration_id)
        with self._lock:
            self._states[integration_id] = (now, state)
        return state

    def forget(self, integration_id: int) -> None:
        with self._lock:
            self._states.pop(integration_id, None)


def open_breakers(session: Session) -> list[BreakerState]:
    """Every open breaker, for the alerts on the home page, the dashboard and the integration page."""
    rows = session.execute(select(*_COLUMNS).where(_t.c.breaker_state.is_not(None)).order_by(_t.c.name))
    return [_state(r) for r in rows]


def not_blocked(column: ColumnElement, session: Session) -> ColumnElement[bool]:
    """A WHERE clause leaving out the rows of integrations whose breaker is open (rows without an
    integration stay in)."""
    blocked = list(session.scalars(select(_t.c.id).where(_t.c.breaker_state.is_not(None))))
    return or_(column.is_(None), column.not_in(blocked)) if blocked else true()


def failure_kind(exc: BaseException) -> str | None:
    """Which breaker a failure feeds: a refusal of the credentials, or the bureau being unreachable."""
    if isinstance(exc, CircuitOpen):
        return exc.reason or None
    if isinstance(exc, AuthenticationError):
        return CREDENTIALS
    if isinstance(exc, BureauUnavailable):
        return OUTAGE
    return None


def _answered(exc: BaseException) -> bool:
    # A definitive answer about the request itself: the bureau is up and accepted the credentials.
    return isinstance(exc, BureauRejected | NotFound | IdempotencyConflict)


def is_credentials_refusal(exc: BaseException) -> bool:
    return failure_kind(exc) == CREDENTIALS


# --------------------------------------------------------------------------- transitions


def _open_in(s: Session, integration_id: int, kind: str, message: str, now: dt.datetime) -> bool:
    """Open (or turn an outage into a credentials refusal); True when this call opened it."""
    guard = _t.c.breaker_state.is_(None)
    if kind == CREDENTIALS:
        guard = or_(guard, _t.c.breaker_state == OUTAGE)
    opened = s.execute(update(_t).where(_t.c.id == integration_id, guard).values(
        breaker_state=kind, breaker_opened_at=now, breaker_retry_at=now + backoff(0), breaker_probes=0,
        breaker_message=message[:500])).rowcount == 1
    if opened:
        state = read(s, integration_id)
        log.warning("bureau breaker of integration %s opened (%s): %s", integration_id, kind, message)
        audit.record(s, BUREAU, "integration.breaker_open", "bureau_integration", integration_id,
                     summary=state.headline, details={"kind": kind, "message": message[:500]})
    return opened


def close_in(s: Session, integration_id: int, actor: audit.Actor, why: str) -> bool:
    """Close the breaker (and forget the refusal of the credentials); True when it was open."""
    state = read(s, integration_id)
    s.execute(update(_t).where(_t.c.id == integration_id).values(
        breaker_state=None, breaker_opened_at=None, breaker_retry_at=None, breaker_probes=0, breaker_message=None,
        outage_since=None, outage_failures=0, token_refused_at=None, token_refusal_message=None))
    if state is None or not state.is_open:
        return False
    log.info("bureau breaker of integration %s closed: %s", integration_id, why)
    audit.record(s, actor, "integration.breaker_close", "bureau_integration", integration_id,
                 summary=f"Chamadas ao bureau retomadas ({why})", details={"was": state.state})
    return True


def record_failure(services, integration_id: int, kind: str, exc: BaseException) -> None:
    now = now_utc()
    message = str(getattr(exc, "message", "") or exc)
    after = dt.timedelta(seconds=float(services.config.get("BUREAU_OUTAGE_AFTER_S", OUTAGE_AFTER.total_seconds())))
    min_failures = int(services.config.get("BUREAU_OUTAGE_MIN_FAILURES", OUTAGE_MIN_FAILURES))
    with transaction(services.session_factory) as s:
        if kind == CREDENTIALS:
            _open_in(s, integration_id, CREDENTIALS, message, now)
            return
        s.execute(update(_t).where(_t.c.id == integration_id).values(
            outage_since=case((_t.c.outage_since.is_(None), now), else_=_t.c.outage_since),
            outage_failures=_t.c.outage_failures + 1))
        state = read(s, integration_id)
        if (state is not None and not state.is_open and state.outage_failures >= min_failures
                and now - state.outage_since >= after):
            _open_in(s, integration_id, OUTAGE, message, now)


def record_answer(services, integration_id: int) -> None:
    """The bureau answered: the streak of failures is over (an outage breaker closes)."""
    with transaction(services.session_factory) as s:
        state = read(s, integration_id)
        if state is not None and state.state == OUTAGE:
            close_in(s, integration_id, BUREAU, "o bureau voltou a responder")
        else:
            s.execute(update(_t).where(_t.c.id == integration_id, _t.c.outage_failures > 0)
                      .values(outage_since=None, outage_failures=0))


# --------------------------------------------------------------------------- the guard


class GuardedBureau:
    """A CreditBureau that asks the integration's breaker before every call and tells it after."""

    def __init__(self, inner, services, integration_id: int) -> None:
        self.inner = inner
        self._services = services
        self._id = integration_id

    def __repr__(self) -> str:
        return f"GuardedBureau({self.inner!r}, integration={self._id})"

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        cache: StateCache | None = self._services.extras.get(CACHE_KEY)
        state = cache.read(self._id) if cache is not None else read_now(self._services.session_factory, self._id)
        if state is not None and state.is_open:
            raise state.error()
        try:
            result = getattr(self.inner, method)(*args, **kwargs)
        except BureauError as exc:
            kind = failure_kind(exc)
            if kind is not None:
                record_failure(self._services, self._id, kind, exc)
            elif _answered(exc) and state is not None and state.outage_failures:
                record_answer(self._services, self._id)
            if cache is not None and (kind is not None or state is not None and state.outage_failures):
                cache.forget(self._id)
            raise
        if state is not None and state.outage_failures:
            record_answer(self._services, self._id)
            if cache is not None:
                cache.forget(self._id)
        return result

    def get_token(self, *, force_refresh: bool = False):
        return self._call("get_token", force_refresh=force_refresh)

    def restriction_reasons(self, person_type: str):
        return self._call("restriction_reasons", person_type)

    def consult(self, document: str, document_type: str):
        return self._call("consult", document, document_type)

    def negativate(self, request, idempotency_key: str):
        return self._call("negativate", request, idempotency_key)

    def negativation_status(self, protocol: str):
        return self._call("negativation_status", protocol)

    def remove(self, protocol: str, reason: str, idempotency_key: str):
        return self._call("remove", protocol, reason, idempotency_key)


# --------------------------------------------------------------------------- probes


def preflight(services, integration_id: int) -> BreakerState | None:
    """Before a run creates any row: one free, authorized call through the breaker. Returns the open
    breaker when the bureau refuses the credentials (or the breaker was already open), else None."""
    with services.session_factory() as s:
        integration = s.get(BureauIntegration, integration_id)
        bureau = services.bureau_for(integration)
    try:
        bureau.restriction_reasons("PF")
    except BureauError as exc:
        log.info("preflight of integration %s: %s", integration_id, exc)
    state = read_now(services.session_factory, integration_id)
    return state if state is not None and state.is_open else None


def probe(services, integration_id: int) -> BreakerState | None:
    """One call past the open breaker (the caller claimed the probe): an answer closes it."""
    with services.session_factory() as s:
        integration = s.get(BureauIntegration, integration_id)
        if integration is None:
            return None
        bureau = services.bureau_factory(integration)  # not guarded: this call IS the probe
    now = now_utc()
    try:
        bureau.restriction_reasons("PF")
    except BureauError as exc:
        kind = failure_kind(exc)
        if kind is not None:
            with transaction(services.session_factory) as s:
                s.execute(update(_t).where(_t.c.id == integration_id, _t.c.breaker_state.is_not(None)).values(
                    breaker_probes=_t.c.breaker_probes + 1, breaker_message=str(exc.message)[:500],
                    breaker_opened_at=case((_t.c.breaker_state == kind, _t.c.breaker_opened_at), else_=now),
                    breaker_state=kind))
            return read_now(services.session_factory, integration_id)
    with transaction(services.session_factory) as s:
        close_in(s, integration_id, BUREAU, "o bureau respondeu à verificação automática")
    return read_now(services.session_factory, integration_id)


def probe_due(services, now: dt.datetime | None = None) -> dict[str, int]:
    """Scheduler job: probe each open breaker whose turn came, one process per breaker."""
    now = now or now_utc()
    with services.session_factory() as s:
        due = list(s.scalars(select(_t.c.id).where(_t.c.breaker_state.is_not(None), _t.c.breaker_retry_at <= now)))
    counts = {"probed": 0, "closed": 0, "still_open": 0}
    for integration_id in due:
        with transaction(services.session_factory) as s:
            state = read(s, integration_id)
            claimed = s.execute(update(_t).where(and_(
                _t.c.id == integration_id, _t.c.breaker_state.is_not(None), _t.c.breaker_retry_at <= now))
                .values(breaker_retry_at=now + backoff(state.probes + 1))).rowcount == 1
        if not claimed:
            continue
        counts["probed"] += 1
        after = probe(services, integration_id)
        counts["still_open" if after is not None and after.is_open else "closed"] += 1
    return counts


def guarded(services, integration, bureau) -> GuardedBureau:
    return GuardedBureau(bureau, services, integration.id)
