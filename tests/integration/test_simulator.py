"""The bureau simulator over a real socket, spoken to with requests the way the real client would."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.simulator import SimulatorConfig, start_in_thread

pytestmark = pytest.mark.simulator

BRASILIA = timezone(timedelta(hours=-3))
CPF = "52998224725"
CREDITOR_CNPJ = "11222333000181"
ALPHANUMERIC_CNPJ = "12ABC34501DE35"
TIMEOUT = 5
DELETE = object()


def today() -> date:
    return datetime.now(BRASILIA).date()


def days_ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


def negativation_payload(*titles: tuple[str, str], creditor_cnpj: str = CREDITOR_CNPJ) -> dict[str, Any]:
    """A valid inclusion; each title is (number, amount), 90 days overdue."""
    titles = titles or (("FAT-1001", "99.90"),)
    return {
        "document": CPF,
        "document_type": "CPF",
        "restriction_code": "12",
        "debtor": {
            "name": "Maria da Silva",
            "email": "maria@example.com",
            "phone": "11987654321",
            "address": {
                "street": "Rua das Flores",
                "number": "123",
                "complement": "ap 4",
                "district": "Centro",
                "city": "São Paulo",
                "state": "SP",
                "zip": "01001000",
            },
        },
        "creditor": {"cnpj": creditor_cnpj, "name": "Provedor Exemplo Ltda - Filial Centro"},
        "titles": [
            {"number": number, "due_date": days_ago(90), "amount": amount} for number, amount in titles
        ],
        "total_amount": str(sum(Decimal(amount) for _, amount in titles)),
    }


class Bureau:
    """A small client for the tests: one session, the base URL, a bearer token once logged in."""

    def __init__(self, session: requests.Session, base_url: str, stop) -> None:
        self.session = session
        self.base_url = base_url
        self.stop = stop
        self.token: str | None = None

    def get_token(self, client_id: str = "demo-client", secret: str = "demo-secret", **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("data", {"grant_type": "client_credentials"})
        return self.session.post(f"{self.base_url}/oauth/token", auth=(client_id, secret), **kwargs)

    def login(self) -> Bureau:
        response = self.get_token()
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.get(self.base_url + path, headers=self._headers(), **kwargs)

    def post(self, path: str, body: Any = None, key: str | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.post(self.base_url + path, json=body, headers=self._headers(key), **kwargs)

    def consult(self, document: str, document_type: str = "CPF") -> requests.Response:
        return self.post("/v1/consultations", {"document": document, "document_type": document_type})

    def negativate(self, payload: dict[str, Any], key: str | None = None, **kwargs) -> requests.Response:
        return self.post("/v1/negativations", payload, key or str(uuid.uuid4()), **kwargs)

    def remove(self, protocol: str, reason: str = "payment", key: str | None = None) -> requests.Response:
        return self.post(
            f"/v1/negativations/{protocol}/removal", {"reason": reason}, key or str(uuid.uuid4())
        )

    def stats(self) -> dict[str, Any]:
        return self.session.get(f"{self.base_url}/_sim/stats", timeout=TIMEOUT).json()

    def configure(self, **changes: Any) -> requests.Response:
        return self.session.post(f"{self.base_url}/_sim/config", json=changes, timeout=TIMEOUT)


@pytest.fixture
def start():
    """start(**config) -> Bureau: a simulator on a free port, stopped at teardown."""
    started: list[Bureau] = []

    def _start(**config: Any) -> Bureau:
        base_url, stop = start_in_thread(SimulatorConfig(**config))
        bureau = Bureau(requests.Session(), base_url, stop)
        started.append(bureau)
        return bureau

    yield _start
    for bureau in reversed(started):
        bureau.session.close()
        bureau.stop()


@pytest.fixture
def bureau(start) -> Bureau:
    return start().login()


# -- authentication ------------------------------------------------------------------------------
def test_token_with_demo_credentials(start):
    response = start().get_token()

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(("client_id", "secret"), [("demo-client", "wrong"), ("someone", "demo-secret")])
def test_wrong_credentials_are_invalid_client(start, client_id, secret):
    response = start().get_token(client_id, secret)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_token_without_basic_auth_or_with_wrong_grant(start):
    bureau = start()
    no_auth = bureau.session.post(f"{bureau.base_url}/oauth/token", data={"grant_type": "client_credentials"})
    wrong_grant = bureau.get_token(data={"grant_type": "password"})

    assert no_auth.status_code == 401
    assert no_auth.json()["error"] == "invalid_client"
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"


def test_configured_clients_replace_the_demo_one(start):
    bureau = start(clients={"isp-norte": "s3cret"})

    assert bureau.get_token().status_code == 401
    assert bureau.get_token("isp-norte", "s3cret").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic ZGVtbzpkZW1v"])
def test_calls_without_a_valid_bearer_token_get_401(start, authorization):
    bureau = start()
    headers = {"Authorization": authorization} if authorization else {}
    response = bureau.session.get(
        f"{bureau.base_url}/v1/restriction-reasons", params={"person_type": "PF"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_expired_token_gets_401_and_a_new_token_works(start):
    bureau = start(token_ttl_s=0.3).login()
    assert bureau.get("/v1/restriction-reasons", params={"person_type": "PF"}).status_code == 200

    time.sleep(0.4)
    assert bureau.get("/v1/restriction-reasons", params={"person_type": "PF"}).status_code == 401

    bureau.login()
    assert bureau.get("/v1/restriction-reasons", params={"person_type": "PF"}).status_code == 200


# -- restriction reasons -------------------------------------------------------------------------
def test_restriction_reasons_per_person_type(bureau):
    lists = {}
    for person_type in ("PF", "PJ"):
        response = bureau.get("/v1/restriction-reasons", params={"person_type": person_type})
        assert response.status_code == 200
        lists[person_type] = {item["code"]: item for item in response.json()["items"]}

    assert lists["PF"]["12"] == {"code": "12", "description": "Mensalidade em atraso", "kind": "inclusion"}
    assert lists["PJ"]["20"]["description"] == "Duplicata mercantil"
    assert lists["PF"]["90"] == {"code": "90", "description": "Pagamento da dívida", "kind": "removal"}
    assert {"91", "92"} <= set(lists["PJ"])
    assert set(lists["PF"]) != set(lists["PJ"])


@pytest.mark.parametrize("params", [{"person_type": "PX"}, {}])
def test_restriction_reasons_reject_unknown_person_type(bureau, params):
    response = bureau.get("/v1/restriction-reasons", params=params)

    assert response.status_code == 422


# -- consultations -------------------------------------------------------------------------------
def test_consultation_is_deterministic_by_document(bureau):
    first, second = bureau.consult(CPF).json(), bureau.consult(CPF).json()

    assert first["protocol"].startswith("C-")
    assert first["protocol"] != second["protocol"]
    assert first["queried_at"].endswith("-03:00")
    same_fields = ("document", "name", "score", "risk_class", "restrictions", "restrictions_total")
    assert {name: first[name] for name in same_fields} == {name: second[name] for name in same_fields}
    assert 0 <= first["score"] <= 1000
    assert first["risk_class"] in "ABCDE"


def test_consultation_restrictions_are_decimal_strings_that_add_up(bureau):
    # Enough documents that some carry restrictions.
    documents = ["52998224725", "11144477735", "39053344705", "12345678909", "98765432100", "74682489070"]
    bodies = [bureau.consult(document).json() for document in documents]

    assert any(body["restrictions"] for body in bodies)
    for body in bodies:
        total = sum((Decimal(item["amount"]) for item in body["restrictions"]), Decimal("0"))
        assert Decimal(body["restrictions_total"]) == total
        assert len(body["restrictions"]) <= 3
        for item in body["restrictions"]:
            assert isinstance(item["amount"], str)
            assert item["kind"] in {"PEFIN", "PROTESTO", "CHEQUE", "ACAO"}
            date.fromisoformat(item["occurred_on"])


def test_consultation_of_a_valid_alphanumeric_cnpj(bureau):
    response = bureau.consult(ALPHANUMERIC_CNPJ, "CNPJ")

    assert response.status_code == 200
    assert response.json()["document"] == ALPHANUMERIC_CNPJ
    assert response.json()["name"]


@pytest.mark.parametrize(
    ("document", "document_type"),
    [
        ("11111111111", "CPF"),  # all digits equal
        ("5299822472", "CPF"),  # 10 digits: never padded
        ("52998224726", "CPF"),  # wrong check digit
        ("529.982.247-25", "CPF"),  # punctuation is the caller's job
        ("12ABC34501DE36", "CNPJ"),  # wrong check digit
        ("12abc34501de35", "CNPJ"),  # lower case
        ("AAAAAAAAAAAAAA", "CNPJ"),
        (CREDITOR_CNPJ, "CPF"),  # type and document disagree
        (CPF, "RG"),
    ],
)
def test_consultation_rejects_invalid_documents(bureau, document, document_type):
    response = bureau.consult(document, document_type)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_document"
    assert response.json()["message"]


def test_body_that_is_not_json_is_400(bureau):
    response = bureau.session.post(
        f"{bureau.base_url}/v1/consultations", data="document=1", headers=bureau._headers(), timeout=TIMEOUT
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_unknown_route_and_wrong_method_answer_json(bureau):
    missing = bureau.get("/v1/nothing-here")
    wrong_method = bureau.get("/v1/consultations")

    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert "POST" in wrong_method.headers["Allow"]


# -- negativations -------------------------------------------------------------------------------
def test_negativation_created_replayed_and_conflicting(bureau):
    payload, key = negativation_payload(), str(uuid.uuid4())

    first = bureau.negativate(payload, key)
    replay = bureau.negativate(payload, key)
    reordered = bureau.negativate(dict(reversed(list(payload.items()))), key)
    conflict = bureau.negativate({**payload, "restriction_code": "13"}, key)

    assert first.status_code == 201
    body = first.json()
    assert body["protocol"].startswith("N-")
    assert body["status"] == "notice"
    assert body["notice_until"] in {(today() + timedelta(days=days)).isoformat() for days in (10, 11)}
    assert (replay.status_code, replay.json()) == (200, body)
    assert (reordered.status_code, reordered.json()) == (200, body)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_conflict"
    stats = bureau.stats()
    assert stats["negativations_created"] == 1
    assert stats["negativations_replayed"] == 2
    assert stats["idempotency_conflicts"] == 1


def test_negativation_of_an_alphanumeric_cnpj_with_several_titles(bureau):
    payload = negativation_payload(("FAT-1", "99.90"), ("FAT-2", "150.10"))
    payload.update(document=ALPHANUMERIC_CNPJ, document_type="CNPJ", restriction_code="24")

    response = bureau.negativate(payload)

    assert response.status_code == 201, response.text
    assert payload["total_amount"] == "250.00"


def _mutation(path: str, value: Any):
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("debtor.address.zip", "0100100"),
        ("debtor.address.zip", "01001-000"),
        ("debtor.address.state", "São Paulo"),
        ("debtor.address.street", DELETE),
        ("debtor.address.district", "  "),
        ("debtor.address.number", 123),
        ("debtor.address", DELETE),
        ("debtor.name", ""),
        ("document", "11111111111"),
        ("restriction_code", "90"),  # a removal code
        ("restriction_code", "24"),  # a PJ-only code for a CPF
        ("creditor.cnpj", "11222333000180"),
        ("titles", []),
        ("titles.0.number", ""),
        ("titles.0.due_date", (date.today() + timedelta(days=30)).isoformat()),
        ("titles.0.due_date", "10/08/2026"),
        ("titles.0.due_date", (date.today() - timedelta(days=365 * 5 + 10)).isoformat()),  # prescribed
        ("titles.0.amount", "0.00"),
        ("titles.0.amount", 99.9),
        ("titles.0.amount", "99,90"),
        ("total_amount", "100.00"),
        ("total_amount", DELETE),
    ],
)
def test_negativation_rejects_bad_data(bureau, path, value):
    payload = copy.deepcopy(negativation_payload())
    _mutation(path, value)(payload)

    response = bureau.negativate(payload)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "rejected"
    assert response.json()["message"]
    assert bureau.stats()["negativations_created"] == 0


def test_negativation_rejects_a_title_due_today(bureau):
    payload = negativation_payload()
    payload["titles"][0]["due_date"] = today().isoformat()

    assert bureau.negativate(payload).status_code == 422


def test_missing_idempotency_key_is_422(bureau):
    created = bureau.negativate(negativation_payload()).json()

    without_key = bureau.post("/v1/negativations", negativation_payload())
    removal_without_key = bureau.post(
        f"/v1/negativations/{created['protocol']}/removal", {"reason": "payment"}
    )

    for response in (without_key, removal_without_key):
        assert response.status_code == 422
        assert response.json()["error"] == "missing_idempotency_key"


def test_status_goes_from_notice_to_active(start):
    bureau = start(notice_seconds=1).login()
    protocol = bureau.negativate(negativation_payload()).json()["protocol"]

    pending = bureau.get(f"/v1/negativations/{protocol}").json()
    time.sleep(1.1)
    active = bureau.get(f"/v1/negativations/{protocol}").json()

    assert pending["status"] == "notice"
    assert pending["activated_at"] is None
    assert pending["notice_until"] == today().isoformat()
    assert active["status"] == "active"
    assert active["activated_at"].endswith("-03:00")
    assert active["removed_at"] is None


def test_unknown_protocol_is_404(bureau):
    assert bureau.get("/v1/negativations/N-UNKNOWN").status_code == 404
    assert bureau.remove("N-UNKNOWN").status_code == 404


# -- removal -------------------------------------------------------------------------------------
def test_removal_is_idempotent(bureau):
    protocol = bureau.negativate(negativation_payload()).json()["protocol"]
    key = str(uuid.uuid4())

    first = bureau.remove(protocol, "payment", key)
    same_key = bureau.remove(protocol, "payment", key)
    other_key = bureau.remove(protocol, "manual")
    status = bureau.get(f"/v1/negativations/{protocol}").json()

    assert first.status_code == 200
    body = first.json()
    assert body["protocol"] == protocol
    assert body["status"] == "removed"
    assert body["removed_at"].endswith("-03:00")
    assert (same_key.status_code, same_key.json()) == (200, body)
    assert (other_key.status_code, other_key.json()) == (200, body)
    assert status["status"] == "removed"
    assert status["removed_at"] == body["removed_at"]
    assert status["activated_at"] is None  # removed while still in notice
    stats = bureau.stats()
    assert (stats["removals"], stats["removals_replayed"]) == (1, 2)


def test_removal_rejects_bad_reason_and_key_reuse(bureau):
    first = bureau.negativate(negativation_payload(("A-1", "10.00"))).json()["protocol"]
    second = bureau.negativate(negativation_payload(("A-2", "10.00"))).json()["protocol"]
    key = str(uuid.uuid4())
    bureau.remove(first, "agreement", key)

    bad_reason = bureau.remove(second, "paid")
    reused_key = bureau.remove(second, "agreement", key)

    assert bad_reason.status_code == 422
    assert bad_reason.json()["error"] == "rejected"
    assert reused_key.status_code == 409
    assert bureau.get(f"/v1/negativations/{second}").json()["status"] == "notice"


# -- rate limit and faults -----------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after(start):
    bureau = start(rate_limit_per_s=2).login()

    responses = [bureau.get("/v1/restriction-reasons", params={"person_type": "PF"}) for _ in range(6)]
    limited = [response for response in responses if response.status_code == 429]

    assert limited
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["error"] == "rate_limited"
    assert bureau.stats()["rate_limited"] == len(limited)
    time.sleep(1.0)
    assert bureau.get("/v1/restriction-reasons", params={"person_type": "PF"}).status_code == 200


def test_fault_5xx(start):
    response = start(fault_rate=1, fault_kinds=["5xx"]).get_token()

    assert response.status_code in {500, 502, 503}


def test_fault_429_says_retry_after_one_second(start):
    bureau = start(fault_rate=1, fault_kinds=["429"])
    response = bureau.get_token()

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert bureau.stats()["faults"]["429"] == 1


def test_fault_malformed_bodies_are_not_json(bureau):
    bureau.configure(fault_rate=1, fault_kinds=["malformed"])

    responses = [bureau.consult(CPF) for _ in range(10)]

    for response in responses:
        with pytest.raises(ValueError):
            json.loads(response.text)
    content_types = {response.headers["Content-Type"].split(";")[0] for response in responses}
    assert content_types == {"text/html", "application/json"}  # HTML pages and truncated JSON


def test_fault_timeout_hangs_then_answers_504(start):
    bureau = start(fault_rate=1, fault_kinds=["timeout"], timeout_sleep_s=0.3)

    with pytest.raises(requests.exceptions.ReadTimeout):
        bureau.get_token(timeout=0.1)
    started = time.monotonic()
    response = bureau.get_token()

    assert response.status_code == 504
    assert time.monotonic() - started >= 0.3


def test_timeout_after_processing_is_resolved_by_the_same_key(start):
    bureau = start(timeout_sleep_s=1.0).login()
    payload, key = negativation_payload(), str(uuid.uuid4())
    bureau.configure(fault_rate=1, fault_kinds=["timeout"], timeout_after_processing=1)

    with pytest.raises(requests.exceptions.ReadTimeout):
        bureau.negativate(payload, key, timeout=0.3)
    bureau.configure(fault_rate=0)
    retry = bureau.negativate(payload, key)

    assert retry.status_code == 200  # the bureau had accepted it: no second protocol
    stats = bureau.stats()
    assert (stats["negativations_created"], stats["negativations_replayed"]) == (1, 1)
    assert stats["faults"]["timeout"] == 1
    assert stats["stored_negativations"] == 1


def test_faults_are_reproducible_with_a_seed(start):
    def run(bureau: Bureau) -> list[int]:
        return [bureau.get_token().status_code for _ in range(20)]

    first = start(seed=7, fault_rate=0.5, fault_kinds=["5xx", "429"])
    first_run = run(first)
    second_run = run(start(seed=7, fault_rate=0.5, fault_kinds=["5xx", "429"]))
    first.session.post(f"{first.base_url}/_sim/reset", timeout=TIMEOUT)

    assert first_run == second_run
    assert run(first) == first_run  # reset reseeds the fault generator
    assert 200 in first_run
    assert set(first_run) - {200}


def test_control_plane_has_no_faults(start):
    bureau = start(fault_rate=1, fault_kinds=["5xx"])

    assert bureau.session.get(f"{bureau.base_url}/_sim/stats", timeout=TIMEOUT).status_code == 200
    assert bureau.session.get(f"{bureau.base_url}/_sim/config", timeout=TIMEOUT).status_code == 200


# -- storage, stats, control plane ---------------------------------------------------------------
def test_sqlite_storage_survives_a_restart(start, tmp_path):
    path = str(tmp_path / "bureau.sqlite3")
    payload, key = negativation_payload(), str(uuid.uuid4())
    first = start(storage_path=path).login()
    created = first.negativate(payload, key).json()
    first.stop()

    second = start(storage_path=path).login()
    status = second.get(f"/v1/negativations/{created['protocol']}")
    replay = second.negativate(payload, key)
    in_memory = start().login().get(f"/v1/negativations/{created['protocol']}")

    assert status.status_code == 200
    assert status.json()["status"] == "notice"
    assert (replay.status_code, replay.json()) == (200, created)
    assert in_memory.status_code == 404


def test_stats_count_requests_and_outcomes(bureau):
    for _ in range(3):
        bureau.consult(CPF)
    bureau.consult("11111111111")
    payload, key = negativation_payload(), str(uuid.uuid4())
    protocol = bureau.negativate(payload, key).json()["protocol"]
    bureau.negativate(payload, key)
    bureau.negativate(negativation_payload(("FAT-2", "10.00")))
    bureau.remove(protocol)

    stats = bureau.stats()

    assert stats["tokens"] == 1
    assert stats["consultations"] == 3
    assert stats["invalid_documents"] == 1
    assert stats["negativations_created"] == 2
    assert stats["negativations_replayed"] == 1
    assert stats["removals"] == 1
    assert stats["faults"] == {"5xx": 0, "timeout": 0, "429": 0, "malformed": 0}
    assert stats["rate_limited"] == 0
    assert stats["requests"]["consultations"] == 4
    assert stats["statuses"]["consultations"] == {"200": 3, "422": 1}
    assert stats["statuses"]["negativation_create"] == {"201": 2, "200": 1}
    assert stats["duplicate_titles"] == 0


def test_duplicate_titles_counts_titles_sent_while_still_negativated(bureau):
    first = bureau.negativate(negativation_payload(("T-1", "50.00"))).json()["protocol"]
    bureau.remove(first)
    second = bureau.negativate(negativation_payload(("T-1", "50.00"))).json()["protocol"]
    assert bureau.stats()["duplicate_titles"] == 0  # the earlier one had been removed

    third = bureau.negativate(negativation_payload(("T-1", "50.00"), ("T-2", "5.00"))).json()["protocol"]
    bureau.negativate(negativation_payload(("T-1", "50.00"), creditor_cnpj=ALPHANUMERIC_CNPJ))

    stats = bureau.stats()
    assert stats["duplicate_titles"] == 1
    assert stats["duplicate_title_details"] == [
        {"creditor_cnpj": CREDITOR_CNPJ, "number": "T-1", "protocol": third, "earlier_protocols": [second]}
    ]


def test_runtime_config_and_reset(bureau):
    protocol = bureau.negativate(negativation_payload()).json()["protocol"]

    changed = bureau.configure(latency_ms=200, notice_seconds=5)
    started = time.monotonic()
    bureau.get("/v1/restriction-reasons", params={"person_type": "PF"})
    elapsed = time.monotonic() - started
    unknown_field = bureau.configure(storage_path="/tmp/x")
    bad_kind = bureau.configure(fault_kinds=["boom"])
    reset = bureau.session.post(f"{bureau.base_url}/_sim/reset", timeout=TIMEOUT)

    assert changed.status_code == 200
    assert changed.json()["latency_ms"] == 200
    assert "demo-secret" not in changed.text
    assert elapsed >= 0.2
    assert (unknown_field.status_code, bad_kind.status_code) == (400, 400)
    assert reset.status_code == 200
    assert bureau.stats()["negativations_created"] == 0
    assert bureau.get(f"/v1/negativations/{protocol}").status_code == 404  # tokens survive a reset


def test_concurrent_requests_with_one_key_create_one_protocol(bureau):
    payload, key = negativation_payload(), str(uuid.uuid4())

    def send(_: int) -> tuple[int, str]:
        with requests.Session() as session:
            response = session.post(
                f"{bureau.base_url}/v1/negativations",
                json=payload,
                headers=bureau._headers(key),
                timeout=TIMEOUT,
            )
            return response.status_code, response.json()["protocol"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(8)))

    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({protocol for _, protocol in results}) == 1
    assert bureau.stats()["stored_negativations"] == 1


def test_request_log_shows_no_secrets(bureau, capsys):
    bureau.negativate(negativation_payload())

    err = capsys.readouterr().err
    assert "POST /v1/negativations 201" in err
    assert bureau.token not in err
    assert CPF not in err


# -- command line --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_command_line_serves_under_waitress(tmp_path):
    port = _free_port()
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "integrations.simulator", "--port", str(port), "--latency-ms", "1"]
    command += ["--rate-limit", "100", "--notice-seconds", "60", "--storage", str(tmp_path / "sim.db")]
    with (tmp_path / "stderr.log").open("w") as log:
        process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    response = requests.post(
                        f"http://127.0.0.1:{port}/oauth/token",
                        data={"grant_type": "client_credentials"},
                        auth=("demo-client", "demo-secret"),
                        timeout=TIMEOUT,
                    )
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, (tmp_path / "stderr.log").read_text()
                    time.sleep(0.1)
            config = requests.get(f"http://127.0.0.1:{port}/_sim/config", timeout=TIMEOUT).json()
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert response.status_code == 200
    assert config["notice_seconds"] == 60
    assert config["rate_limit_per_s"] == 100
    assert "POST /oauth/token 200" in (tmp_path / "stderr.log").read_text()
