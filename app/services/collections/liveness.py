"""Runs whose process is gone: found by whoever looks next, marked "interrompida", their work released.

A real run holds the branch lease (`collections:branch:<id>`, app/services/core/locks.py) and renews
it every RUN_LEASE_TTL / 4 while it works. A run still marked "running" is dead when its lease
expired (no heartbeat), or at once when the lease's holder is a process of this machine that no
longer exists (the holder names host and pid). The queue ("Executar agora", the API), the
scheduler's tick, the CLI and the run pages all call `reap` first, so a killed run never blocks its
branch: the next run starts at once, picks up the titles the dead one never sent, and the outbox
resends with the same Idempotency-Key the rows it had committed as pending (rule 7: never twice).

The rows a dead run had claimed for its bureau calls (next_attempt_at = now + CLAIM) are released
at the same moment, instead of waiting for the claim to run out.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import CollectionRun, JobLock, Negativation
from app.services.core.clock import now_utc, to_br

RUN_LEASE_TTL = dt.timedelta(minutes=2)
_HOST = socket.gethostname()


def lease_name(branch_id: int) -> str:
    return f"collections:branch:{branch_id}"


def interrupted_message(run_id: int, at: dt.datetime) -> str:
    return f"A execução nº {run_id} foi interrompida às {to_br(at):%H:%M} e será retomada."


@dataclass(frozen=True)
class Interrupted:
    run_id: int
    branch_id: int
    at: dt.datetime  # the last sign of life
    released: int  # outbox rows whose claim was released

    @property
    def message(self) -> str:
        return interrupted_message(self.run_id, self.at)


def holder_gone(holder: str) -> bool:
    """True when the lease holder ("host:pid:nonce") was a process of this machine that has exited."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False  # another machine: only the lease's expiry tells
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A killed child not yet reaped by its parent still answers kill(pid, 0); it does no work.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _dead_since(session: Session, branch_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the branch's runner was last alive, if it is dead now; None while it lives (or never ran)."""
    lease = session.get(JobLock, lease_name(branch_id))
    if lease is None:
        return now  # a run marked running without its lease (it crashed while closing)
    if lease.expires_at < now:
        return lease.expires_at - RUN_LEASE_TTL
    if holder_gone(lease.holder):
        # Free the lease now rather than when it expires: its holder will never renew it.
        session.execute(update(JobLock).where(JobLock.name == lease.name, JobLock.holder == lease.holder)
                        .values(expires_at=now - dt.timedelta(seconds=1)))
        return min(now, lease.expires_at - RUN_LEASE_TTL)
    return None


def mark_interrupted(session: Session, run: CollectionRun, at: dt.datetime, now: dt.datetime) -> Interrupted:
    """Record a dead run and release the rows it had claimed (the caller commits)."""
    run.status, run.finished_at = "interrupted", at
    run.message = (interrupted_message(run.id, at) + " Os títulos não enviados voltam na próxima execução e as "
                   "negativações pendentes são reenviadas com a mesma chave, sem envio em dobro.")[:500]
    released = session.execute(
        update(Negativation)
        .where(Negativation.branch_id == run.branch_id, Negativation.next_attempt_at > now,
               or_((Negativation.status == "pending") & (Negativation.origin == "routine")
                   & (Negativation.created_at >= run.started_at),
                   (Negativation.status == "removal_pending")
                   & (Negativation.removal_requested_at >= run.started_at)))
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)).rowcount
    return Interrupted(run.id, run.branch_id, at, released)


def reap_dead_runs(session: Session, branch_id: int | None = None, *, now: dt.datetime | None = None,
                   keep: int | None = None) -> list[Interrupted]:
    """Mark "interrompida" every real run still "running" whose process is gone (the caller commits)."""
    now = now or now_utc()
    stmt = select(CollectionRun).where(CollectionRun.status == "running", CollectionRun.dry_run.is_(False))
    if branch_id is not None:
        stmt = stmt.where(CollectionRun.branch_id == branch_id)
    if keep is not None:
        stmt = stmt.where(CollectionRun.id != keep)
    found = []
    for run in session.scalars(stmt.order_by(CollectionRun.id)).all():
        at = _dead_since(session, run.branch_id, now)
        if at is not None:
            found.append(mark_interrupted(session, run, max(at, run.started_at), now))
    return found


def reap(services, branch_id: int | None = None) -> list[Interrupted]:
    """`reap_dead_runs` in a transaction of its own (scheduler, CLI)."""
    with transaction(services.session_factory) as s:
        return reap_dead_runs(s, branch_id)


def free_dead_lease(services, branch_id: int) -> bool:
    """The branch lease is held by a process of this machine that exited: free it (True) so that a
    new run can start now instead of when the lease expires."""
    with transaction(services.session_factory) as s:
        lease = s.get(JobLock, lease_name(branch_id))
        if lease is None or lease.expires_at < now_utc() or not holder_gone(lease.holder):
            return False
        holder = lease.holder
        reap_dead_runs(s, branch_id)
        s.execute(update(JobLock).where(JobLock.name == lease_name(branch_id), JobLock.holder == holder)
                  .values(expires_at=now_utc() - dt.timedelta(seconds=1)))
        return True
