"""The local outbox endpoint's filters: the messages to one address, newest first when asked."""

from __future__ import annotations

from werkzeug.test import Client

from local.gateway import Gateway


class StubOutbox:
    def __init__(self, messages: list[dict]):
        self.messages = messages

    def summaries(self) -> list[dict]:
        return list(self.messages)


MESSAGES = [{"n": 1, "to": "a@example.com"}, {"n": 2, "to": "b@example.com"}, {"n": 3, "to": "A@Example.com"}]


def numbers(client: Client, query: str) -> list[int]:
    answer = client.get(f"/_local/outbox{query}")
    assert answer.status_code == 200
    return [m["n"] for m in answer.json]


def test_to_keeps_one_address_and_order_newest_reverses():
    client = Client(Gateway(outbox=StubOutbox(MESSAGES)))
    assert numbers(client, "") == [1, 2, 3]
    assert numbers(client, "?to=a@example.com") == [1, 3]  # addresses compare without case
    assert numbers(client, "?to=a@example.com&order=newest") == [3, 1]
    assert numbers(client, "?order=oldest") == [1, 2, 3]
    assert numbers(client, "?to=nobody@example.com") == []
    answer = client.get("/_local/outbox?order=latest")
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "invalid_value")
