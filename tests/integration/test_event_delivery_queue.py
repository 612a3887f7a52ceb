"""Deliveries through the emulator's SQS queues, as the local stack and AWS run them: an emitted event
is a message on the deliveries queue; the consumer (the local poller handing SQS events to the
delivery function) posts it to a receiver on 127.0.0.1; a failed try comes back as a delayed message
with the next attempt; past the retry window the message ends in the dead-letter queue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from local.deliveries import DeliveryPoller
from sello.adapters import aws
from sello.ids import iso, utcnow
from sello.services import deliveries, events
from sello.settings import get_settings
from tests.helpers import load_event
from tests.integration.test_webhooks_api import BODY, TEST, create
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture(autouse=True)
def loopback(monkeypatch):
    monkeypatch.setenv("SELLO_WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    get_settings.cache_clear()


def queued(url: str) -> list[dict]:
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_an_event_goes_through_the_queue_to_the_receiver_and_a_failure_is_requeued():
    settings = get_settings()
    with Receiver(statuses=[500, 204]) as receiver:
        create({**BODY, "url": receiver.url})
        # what the workflow steps call
        events.emit(TEST["account_id"], "test", "document.authorized", {"id": "doc_1", "status": "authorized"})
        poller = DeliveryPoller(settings.events_queue_url, wait_seconds=0)
        assert poller.poll_once() == 1
        assert len(receiver.received) == 1 and receiver.received[0].headers["webhook-signature"].startswith("v1,")
        # the retry: a new message, attempt 2, delayed (full jitter within 5 s: it may be due at once)
        poller.wait_seconds = 1
        for _ in range(40):
            if len(receiver.received) == 2:
                break
            poller.poll_once()
    assert [r.headers["webhook-id"] for r in receiver.received] == [receiver.received[0].headers["webhook-id"]] * 2
    assert json.loads(receiver.received[1].body)["data"]["id"] == "doc_1"
    assert queued(settings.events_queue_url) == []


def test_past_the_retry_window_a_message_goes_to_the_dead_letter_queue():
    settings = get_settings()
    endpoint = create({**BODY, "url": "http://127.0.0.1:9/closed"})
    service = events.default_service()
    event = service.record(TEST["account_id"], "test", "document.failed", {"id": "doc_2"})
    now = utcnow().replace(microsecond=0)
    message = events.delivery_message(TEST["account_id"], "test", event.id, endpoint["id"], now) | {
        "first_attempt_at": iso(now - timedelta(days=3, seconds=1)), "attempt": 30}
    assert deliveries.default_deliverer().handle(message) == "dead"
    (dead,) = queued(settings.events_dead_letter_url)
    assert (dead["event_id"], dead["attempt"], dead["last_status"]) == (event.id, 30, None)
    assert dead["last_error"].startswith("connection")
    assert queued(settings.events_queue_url) == []


def test_the_sample_sqs_event_is_one_the_consumer_reads(monkeypatch):
    from functions.events import deliver

    handled = []
    monkeypatch.setattr(deliver, "default_deliverer", lambda: type("D", (), {"handle": handled.append})())
    answer = deliver.handler(load_event("events/deliver.json"), None)
    assert answer == {"batchItemFailures": []}
    assert handled[0]["event_id"] == "evt_0mq3ab7c9d1e2f3g4h5i" and handled[0]["attempt"] == 1


def test_a_record_that_cannot_be_handled_is_reported_alone(monkeypatch):
    from functions.events import deliver

    def handle(message):
        if message["attempt"] == 2:
            raise RuntimeError("DynamoDB unavailable")
        return "delivered"

    monkeypatch.setattr(deliver, "default_deliverer", lambda: type("D", (), {"handle": staticmethod(handle)})())
    sample = load_event("events/deliver.json")["Records"][0]
    second = sample | {"messageId": "second", "body": json.dumps(json.loads(sample["body"]) | {"attempt": 2})}
    assert deliver.handler({"Records": [sample, second]}, None) == {"batchItemFailures": [{"itemIdentifier": "second"}]}
