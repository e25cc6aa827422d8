"""The events API: the catalogue, the endpoints without their secret, the delivery log paged by
cursor, the test button and "reenviar" (never an event the receiver already answered 2xx)."""

from __future__ import annotations

import pytest

from app.services.events.catalog import EVENT_TYPES
from integrations.events.port import SendResult
from tests.clock import pin_clock
from tests.integration.events_support import SECRET, add_endpoint
from tests.integration.titles_support import TODAY, world


@pytest.fixture(autouse=True)
def _clock():
    with pin_clock(TODAY):
        yield


class Receiver:
    """The events adapter of these tests: answers as told, without HTTP."""

    def __init__(self, result: SendResult):
        self.result = result
        self.sent: list[str] = []

    def send(self, url, secret, event_id, event_type, payload) -> SendResult:
        self.sent.append(event_id)
        return self.result


@pytest.fixture
def endpoint_id(services):
    branch_id, _, _ = world(services)
    return add_endpoint(services, branch_id)


def answering(services, result: SendResult) -> Receiver:
    services.extras["events_sender"] = receiver = Receiver(result)
    return receiver


def test_types_and_endpoints_and_never_the_secret(client, api_token, endpoint_id):
    admin = api_token("admin")
    types = client.get("/api/v1/events/types", headers=admin).get_json()
    assert [t["type"] for t in types["items"]] == list(EVENT_TYPES) and types["next_cursor"] is None
    listed = client.get("/api/v1/events/endpoints", headers=admin)
    assert [(e["id"], e["url"]) for e in listed.get_json()["items"]] == [(endpoint_id, "https://erp.example.com.br/hooks")]
    assert SECRET not in listed.get_data(as_text=True) and "secret" not in listed.get_data(as_text=True)
    for url in ("/api/v1/events/types", "/api/v1/events/endpoints",
                f"/api/v1/events/endpoints/{endpoint_id}/deliveries"):
        assert client.get(url, headers=api_token("finance")).status_code == 403, url


def test_the_delivery_log_is_paged_by_cursor(client, api_token, services, endpoint_id):
    admin = api_token("admin")
    receiver = answering(services, SendResult(False, http_status=500, duration_ms=4, error="HTTP 500"))
    sent = [client.post(f"/api/v1/events/endpoints/{endpoint_id}/test", headers=admin).get_json() for _ in range(5)]
    assert {s["outcome"] for s in sent} == {"retrying"} and len(receiver.sent) == 5
    assert sent[0]["delivery"]["log"][0] | {"at": None} == {
        "attempt": 1, "at": None, "ok": False, "http_status": 500, "duration_ms": 4, "error": "HTTP 500"}
    ids = sorted((s["delivery"]["id"] for s in sent), reverse=True)
    url = f"/api/v1/events/endpoints/{endpoint_id}/deliveries"
    pages, cursor = [], None
    while True:
        body = client.get(url + "?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=admin).get_json()
        pages.append([d["id"] for d in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [ids[0:2], ids[2:4], ids[4:]]
    assert client.get(url + "?status=delivered", headers=admin).get_json() == {"items": [], "next_cursor": None}
    for query, field in (("before_id=3", "before_id"), ("offset=2", "offset"), ("limit=0", "limit"),
                         ("status=sent", "status")):
        resp = client.get(f"{url}?{query}", headers=admin)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], query
    bad = client.get(f"{url}?cursor=abc", headers=admin)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_cursor"
    assert client.get("/api/v1/events/endpoints/999/deliveries", headers=admin).status_code == 404


def test_redeliver_requeues_a_failure_and_refuses_a_delivered_event(client, api_token, services, endpoint_id):
    admin = api_token("admin")
    answering(services, SendResult(False, http_status=410, duration_ms=4, error="HTTP 410", retryable=False))
    failed = client.post(f"/api/v1/events/endpoints/{endpoint_id}/test", headers=admin).get_json()
    assert (failed["outcome"], failed["delivery"]["status"]) == ("failed", "failed")
    again = client.post(f"/api/v1/events/deliveries/{failed['delivery']['id']}/redeliver", headers=admin)
    assert again.status_code == 202
    assert (again.get_json()["status"], again.get_json()["attempts"]) == ("pending", 0)
    assert [a["http_status"] for a in again.get_json()["log"]] == [410]  # the history stays
    answering(services, SendResult(True, http_status=200, duration_ms=4))
    delivered = client.post(f"/api/v1/events/endpoints/{endpoint_id}/test", headers=admin).get_json()
    assert delivered["outcome"] == "delivered" and delivered["delivery"]["delivered_at"]
    refused = client.post(f"/api/v1/events/deliveries/{delivered['delivery']['id']}/redeliver", headers=admin)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_delivered"
    assert client.post("/api/v1/events/deliveries/999/redeliver", headers=admin).status_code == 404
    assert client.post(f"/api/v1/events/endpoints/{endpoint_id}/test", headers=api_token("finance")).status_code == 403
