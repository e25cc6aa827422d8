"""Rule 15 (retention, then anonymise) runs by itself: a daily scheduler job, under its lease."""

from __future__ import annotations

import datetime as dt

import pytest

from app.models import Consultation
from app.services.consultations.consult import consult_credit
from app.services.core.audit import Actor
from scheduler.registry import JOBS, run_job
from scheduler.runner import build_scheduler, load_jobs
from tests.clock import pin_clock

from .crm_helpers import backdate, make_branch, make_cpf, make_party, set_policy

TODAY = dt.date(2026, 11, 23)
CRM = Actor(name="crm", user_id=None, role="crm")


@pytest.fixture(autouse=True)
def _clock():
    """The retention period is counted from TODAY: the clock stands there."""
    with pin_clock(TODAY):
        yield


def test_retention_job_is_registered_daily(services):
    load_jobs()
    spec = JOBS["consultation_retention"]
    assert (spec.trigger, spec.trigger_args) == ("cron", {"hour": 3, "minute": 30})
    scheduler = build_scheduler(services, blocking=False)
    job = scheduler.get_job("consultation_retention")
    assert str(job.trigger) == "cron[hour='3', minute='30']"
    assert str(job.trigger.timezone) == "America/Sao_Paulo"


def test_retention_job_anonymises_an_expired_consultation(services, fake_bureau):
    load_jobs()
    branch_id = make_branch(services)
    lead_id = make_party(services, branch_id, seed=7)
    set_policy(services, branch_id, retention_days=60)
    old = consult_credit(services, CRM, lead_id, today=TODAY, purpose="cadastro").consultation_id
    recent = consult_credit(services, CRM, lead_id, today=TODAY, purpose="cadastro",
                            force_new=True).consultation_id
    backdate(services, old, 61)

    assert run_job(JOBS["consultation_retention"], services) == "anonimizadas=1"
    assert run_job(JOBS["consultation_retention"], services) == "anonimizadas=0"  # re-run safe

    with services.session_factory() as s:
        o, r = s.get(Consultation, old), s.get(Consultation, recent)
        assert o.anonymised_at is not None
        assert (o.document, o.subject_name, o.score, o.restrictions) == (None, None, None, None)
        assert (o.status, o.purpose, o.party_id) == ("success", "cadastro", lead_id)  # rule 13 stays
        assert r.anonymised_at is None and r.document == make_cpf(7)
