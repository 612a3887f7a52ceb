"""Delivering events, with a fake clock and in-memory queues and records, to a real receiver on
127.0.0.1: signatures the README's code and the standardwebhooks library accept, the backoff
schedule (full jitter, at least three days), re-sending until due, the dead-letter path and the rule
that disables an endpoint (three days of failures, or 410 Gone) and emails its owner in Spanish."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from sello.adapters import webhook_http
from sello.adapters.mailer import Mail
from sello.ids import iso
from sello.models.webhooks import WebhookEndpoint
from sello.services.deliveries import Deliverer, backoff_seconds, email_owner
from sello.services.events import delivery_message, new_event_id
from sello.webhook_signing import new_secret
from tests.unit.test_webhook_signing import readme_verify
from tests.webhook_receiver import Receiver

START = datetime(2026, 3, 2, 15, tzinfo=UTC)
ACCOUNT = "acct_a0000000000000000000"


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


class Queue:
    def __init__(self):
        self.sent: list[tuple[dict, int]] = []

    def send(self, message, delay_seconds=0):
        self.sent.append((message, delay_seconds))


class Store:
    def __init__(self):
        self.events, self.attempts, self.endpoints = {}, [], {}

    def get_event(self, account_id, environment, event_id):
        return self.events.get(event_id)

    def put_attempt(self, account_id, environment, attempt):
        self.attempts.append(attempt)

    def get_endpoint(self, account_id, environment, endpoint_id):
        return self.endpoints.get(endpoint_id)

    def put_endpoint(self, endpoint):
        self.endpoints[endpoint.id] = endpoint


@dataclass
class Setup:
    store: Store
    queue: Queue
    dead: Queue
    clock: Clock
    deliverer: Deliverer
    endpoint: WebhookEndpoint
    event_id: str
    disabled: list

    def message(self):
        return delivery_message(ACCOUNT, "test", self.event_id, self.endpoint.id, self.clock())


def setup(url: str, send=None, rng=lambda low, high: high) -> Setup:
    store, queue, dead, clock, disabled = Store(), Queue(), Queue(), Clock(), []
    endpoint = WebhookEndpoint(id="whep_00000000000000000001", account_id=ACCOUNT, environment="test", url=url,
                               enabled_events=["document.authorized"], secret=new_secret(), created_at=START,
                               updated_at=START)
    store.put_endpoint(endpoint)
    event_id = new_event_id(START)
    body = json.dumps({"id": event_id, "type": "document.authorized", "created": iso(START), "environment": "test",
                       "data": {"id": "doc_1", "status": "authorized"}})
    store.events[event_id] = {"id": event_id, "event_type": "document.authorized", "body": body}
    deliverer = Deliverer(store, store, queue, dead, disabled.append, allow_loopback_http=True, clock=clock,
                          rng=rng, **({"send": send} if send else {}))
    return Setup(store, queue, dead, clock, deliverer, endpoint, event_id, disabled)


def failing(status=500):
    return lambda target, body, headers: webhook_http.Response(status, 3, "no")


def test_backoff_is_exponential_capped_and_fully_jittered():
    top = [backoff_seconds(n, lambda low, high: high) for n in range(1, 16)]
    assert top[:5] == [5, 10, 20, 40, 80] and max(top) == top[-1] == 6 * 3600
    assert all(backoff_seconds(n, lambda low, high: low) == 0 for n in range(1, 16))
    assert all(0 <= backoff_seconds(n) <= 6 * 3600 for n in range(1, 40))


def test_a_delivery_is_signed_so_the_readme_code_and_the_library_verify_it():
    with Receiver() as receiver:
        s = setup(receiver.url)
        assert s.deliverer.handle(s.message()) == "delivered"
    request, = receiver.received
    headers = request.headers
    assert headers["webhook-id"] == s.event_id and headers["content-type"] == "application/json"
    assert json.loads(request.body)["data"]["id"] == "doc_1"
    # signed at the fake clock's time, long past for a real clock: verified without the replay window
    # here (the next test checks a delivery signed now with the library)
    assert headers["webhook-timestamp"] == str(int(START.timestamp()))
    secret = s.endpoint.secret
    verify = readme_verify()
    assert verify(secret, headers, request.body, tolerance=10 ** 10)
    assert not verify(new_secret(), headers, request.body, tolerance=10 ** 10)
    attempt, = s.store.attempts
    assert (attempt["attempt"], attempt["status_code"], attempt["succeeded"]) == (1, 204, True)
    assert "next_retry_at" not in attempt and s.queue.sent == []


def test_the_library_verifies_a_delivery_signed_now():
    with Receiver() as receiver:
        s = setup(receiver.url)
        s.clock.now = datetime.now(UTC)
        s.deliverer.handle(s.message())
    request, = receiver.received
    assert Webhook(s.endpoint.secret).verify(request.body, request.headers)["id"] == s.event_id


def test_a_receiver_failing_twice_then_succeeding_gets_the_event_three_times_with_one_id():
    with Receiver(statuses=[503, 500, 204]) as receiver:
        s = setup(receiver.url)
        message, outcomes = s.message(), []
        while True:
            outcomes.append(s.deliverer.handle(message))
            if not s.queue.sent:
                break
            message, delay = s.queue.sent.pop()
            s.clock.now = datetime.fromisoformat(message["not_before"])
    assert outcomes == ["retrying", "retrying", "delivered"]
    assert {r.headers["webhook-id"] for r in receiver.received} == {s.event_id}
    assert [(a["attempt"], a["status_code"]) for a in s.store.attempts] == [(1, 503), (2, 500), (3, 204)]
    assert s.store.attempts[0]["next_retry_at"] == iso(START + timedelta(seconds=5))
    assert s.store.endpoints[s.endpoint.id].failing_since is None  # cleared by the success


def test_a_message_not_yet_due_is_sent_again_delayed_at_most_15_minutes():
    s = setup("http://127.0.0.1:9/never", send=failing())
    message = s.message() | {"not_before": iso(START + timedelta(hours=2))}
    assert s.deliverer.handle(message) == "waiting"
    assert s.queue.sent == [(message, 900)] and s.store.attempts == []
    s.queue.sent.clear()
    assert s.deliverer.handle(message | {"not_before": iso(START + timedelta(seconds=42))}) == "waiting"
    assert s.queue.sent[0][1] == 42


def run_until_done(s: Setup) -> list[str]:
    """Plays the queue: each message handled when due, the clock moved to it."""
    message, outcomes = s.message(), []
    while True:
        outcomes.append(s.deliverer.handle(message))
        if not s.queue.sent:
            return outcomes
        message, delay = s.queue.sent.pop()
        assert 0 <= delay <= 900
        s.clock.now = max(s.clock.now, datetime.fromisoformat(message["not_before"]))


@pytest.mark.parametrize("rng", [lambda low, high: high, lambda low, high: (low + high) / 2])
def test_retries_go_on_for_three_days_then_dead_letter_and_the_endpoint_is_disabled(rng):
    s = setup("http://127.0.0.1:9/never", send=failing(), rng=rng)
    outcomes = run_until_done(s)
    assert outcomes[-1] == "dead" and set(outcomes[:-1]) == {"retrying"}
    first, last = (datetime.fromisoformat(s.store.attempts[i]["attempted_at"]) for i in (0, -1))
    assert last - first >= timedelta(days=3)
    dead, = s.dead.sent
    assert dead[0]["event_id"] == s.event_id and dead[0]["last_status"] == 500
    endpoint = s.store.endpoints[s.endpoint.id]
    assert (endpoint.disabled, endpoint.disabled_reason) == (True, "failing")
    assert [e.id for e in s.disabled] == [s.endpoint.id]


def test_410_gone_disables_at_once():
    s = setup("http://127.0.0.1:9/never", send=failing(410))
    assert s.deliverer.handle(s.message()) == "dead"
    assert s.store.endpoints[s.endpoint.id].disabled_reason == "gone"


def test_a_disabled_or_deleted_endpoint_gets_nothing():
    s = setup("http://127.0.0.1:9/never", send=failing())
    s.store.put_endpoint(s.endpoint.model_copy(update={"disabled": True}))
    assert s.deliverer.handle(s.message()) == "dropped"
    s.store.endpoints.clear()
    assert s.deliverer.handle(s.message()) == "dropped"
    assert s.store.attempts == [] and s.queue.sent == []


def test_the_url_is_checked_again_at_delivery():
    sent = []
    s = setup("https://10.0.0.7/hooks", send=lambda *args: sent.append(args))
    assert s.deliverer.handle(s.message()) == "retrying"
    assert sent == []
    assert s.store.attempts[0]["error"] == "url_not_allowed: address"


def test_during_a_roll_deliveries_carry_both_signatures():
    with Receiver() as receiver:
        s = setup(receiver.url)
        s.clock.now = datetime.now(UTC)
        old = s.endpoint.secret
        s.store.put_endpoint(s.endpoint.model_copy(update={
            "secret": new_secret(), "previous_secret": old,
            "previous_secret_expires_at": s.clock.now + timedelta(hours=24)}))
        s.deliverer.handle(s.message())
    request, = receiver.received
    assert len(request.headers["webhook-signature"].split()) == 2
    for secret in (old, s.store.endpoints[s.endpoint.id].secret):
        assert Webhook(secret).verify(request.body, request.headers)


def test_the_owner_is_emailed_in_the_accounts_language_spanish_by_default():
    @dataclass
    class Account:
        email: str = "owner@example.com"
        language: str = "es"

    class Accounts:
        def __init__(self, account):
            self.account = account

        def get_account(self, account_id):
            return self.account

    sent: list[Mail] = []

    class Mailer:
        def send(self, mail):
            sent.append(mail)
            return "id"

    endpoint = WebhookEndpoint(id="whep_00000000000000000001", account_id=ACCOUNT, environment="live",
                               url="https://shop.example.com/in", enabled_events=["document.authorized"],
                               secret=new_secret(), disabled=True, disabled_reason="failing", created_at=START,
                               updated_at=START)
    email_owner(Accounts(Account()), Mailer())(endpoint)
    email_owner(Accounts(Account(language="en")), Mailer())(endpoint)
    spanish, english = sent
    assert spanish.to == "owner@example.com" and "deshabilit" in spanish.subject.lower()
    assert "whep_00000000000000000001" in spanish.text and "tres días" in spanish.text
    assert "disabled" in english.subject and "three days" in english.text
    assert endpoint.secret not in spanish.text + english.text
