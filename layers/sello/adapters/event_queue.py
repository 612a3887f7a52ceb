"""The queue of pending deliveries (SQS): one message per event and endpoint, consumed by the
delivery function (functions/events/deliver.py). SQS delays a message at most 15 minutes; a longer
wait is a message re-sent, delayed again, until its `not_before` comes (services/deliveries.py)."""

from __future__ import annotations

import json

from sello.adapters import aws

MAX_DELAY_SECONDS = 900


class SqsDeliveryQueue:
    def __init__(self, queue_url: str):
        self.queue_url = queue_url

    def send(self, message: dict, delay_seconds: int = 0) -> None:
        aws.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message, sort_keys=True),
                                       DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)))
