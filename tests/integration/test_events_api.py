"""Events: recorded once, queued for each enabled endpoint that wants their type, listed newest first,
read, delivered again on request; emitting never fails the caller's step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sello.adapters.dynamo import DynamoStore
from sello.adapters.events_repo import DynamoEventsRepo
from sello.adapters.webhooks_repo import DynamoWebhooksRepo
from sello.services import events
from sello.settings import get_settings
from tests.integration.test_webhooks_api import BODY, LIVE, OTHER, TEST, create, request

pytestmark = pytest.mark.usefixtures("aws")
ACCOUNT = TEST["account_id"]


class Queue:
    def __init__(self):
        self.sent: list[tuple[dict, int]] = []

    def send(self, message: dict, delay_seconds: int = 0) -> None:
        self.sent.append((message, delay_seconds))


def service(queue=None, clock=None) -> events.EventService:
    store = DynamoStore(get_settings().table_name)
    return events.EventService(DynamoEventsRepo(store), DynamoWebhooksRepo(store), queue,
                               **({"clock": clock} if clock else {}))


def test_an_event_is_queued_once_for_each_enabled_endpoint_that_wants_it():
    wants = create()
    other_type = create({**BODY, "enabled_events": ["certificate.expiring"]})
    disabled = create()
    request("PATCH", f"/v1/webhook-endpoints/{disabled['id']}", {"disabled": True})
    create(principal=LIVE)  # the other environment's
    queue = Queue()
    event = service(queue).emit(ACCOUNT, "test", "document.authorized", {"id": "doc_1", "object": "document"})
    assert [(m["endpoint_id"], m["event_id"], m["attempt"], delay) for m, delay in queue.sent] == \
        [(wants["id"], event.id, 1, 0)]
    assert other_type["id"] not in str(queue.sent)
    status, shown = request("GET", f"/v1/events/{event.id}")
    assert status == 200
    assert shown == {"id": event.id, "type": "document.authorized", "created": shown["created"],
                     "environment": "test", "data": {"id": "doc_1", "object": "document"}}


def test_events_are_listed_newest_first_a_page_at_a_time_per_environment():
    start = datetime(2026, 3, 2, 15, tzinfo=UTC)
    times = iter(start + timedelta(seconds=s) for s in range(10))
    made = [service(clock=lambda: next(times)).record(ACCOUNT, "test", "document.failed", {"id": f"doc_{i}"})
            for i in range(5)]
    status, page = request("GET", "/v1/events", query={"limit": "3"})
    assert status == 200 and [e["id"] for e in page["data"]] == [e.id for e in made[::-1][:3]]
    status, rest = request("GET", "/v1/events", query={"limit": "3", "cursor": page["next_cursor"]})
    assert [e["id"] for e in rest["data"]] == [made[1].id, made[0].id] and rest["next_cursor"] is None
    assert request("GET", "/v1/events", principal=LIVE)[1]["data"] == []
    assert request("GET", f"/v1/events/{made[0].id}", principal=OTHER)[0] == 404
    assert request("GET", "/v1/events/evt_nothere")[1]["error"]["code"] == "event_not_found"


def test_redeliver_queues_the_same_event_again(monkeypatch):
    endpoint = create()
    queue = Queue()
    event = service(queue).emit(ACCOUNT, "test", "document.authorized", {"id": "doc_1"})
    monkeypatch.setattr(events, "default_service", lambda: service(queue))
    status, answer = request("POST", f"/v1/events/{event.id}/redeliver")
    assert (status, answer) == (202, {"event_id": event.id, "endpoint_ids": [endpoint["id"]]})
    assert [m["event_id"] for m, _ in queue.sent] == [event.id, event.id]
    status, answer = request("POST", f"/v1/events/{event.id}/redeliver", {"endpoint_id": endpoint["id"]})
    assert status == 202 and len(queue.sent) == 3
    status, error = request("POST", f"/v1/events/{event.id}/redeliver", {"endpoint_id": "whep_nothere"})
    assert (status, error["error"]["code"]) == (404, "webhook_endpoint_not_found")


def test_emitting_never_raises_and_logs_what_was_lost(caplog):
    class Broken:
        def put_event(self, *args):
            raise RuntimeError("DynamoDB unavailable")

    broken = events.EventService(Broken(), DynamoWebhooksRepo(DynamoStore(get_settings().table_name)), Queue())
    assert broken.emit(ACCOUNT, "test", "document.authorized", {"id": "doc_lost"}) is None
    lost, = [r for r in caplog.records if r.getMessage() == "event not emitted"]
    assert lost.levelname == "ERROR" and "DynamoDB unavailable" in caplog.text


def test_deliveries_of_an_endpoint_newest_first():
    endpoint = create()
    repo = DynamoEventsRepo(DynamoStore(get_settings().table_name))
    for attempt in (1, 2):
        repo.put_attempt(ACCOUNT, "test", {
            "event_id": "evt_00000000000000000001", "event_type": "document.authorized",
            "endpoint_id": endpoint["id"], "attempt": attempt, "attempted_at": f"2026-03-02T15:00:0{attempt}Z",
            "status_code": 500 if attempt == 1 else 204, "duration_ms": 12, "succeeded": attempt == 2,
            "response_excerpt": ""})
    status, page = request("GET", f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")
    assert status == 200
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in page["data"]] == [(2, 204, True), (1, 500, False)]
    assert request("GET", f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", principal=LIVE)[0] == 404
