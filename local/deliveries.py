"""The local stand-in for the deliveries queue's event source mapping: a thread that long-polls the
queue on the emulator and hands each batch to the delivery function as Lambda would (an SQS event),
deleting the messages it did not report as failed. The emulator's own mapping would not do: it never
hands a delayed message to a function (and delays are how retries wait)."""

from __future__ import annotations

import threading

from aws_lambda_powertools import Logger

from local.lambdas import context_for
from sello.adapters import aws
from sello.catalog import EVENT_FUNCTIONS

logger = Logger(service="sello")
DELIVER = next(spec for spec in EVENT_FUNCTIONS if spec.name == "deliver")


class DeliveryPoller:
    def __init__(self, queue_url: str, wait_seconds: int = 1):
        self.queue_url = queue_url
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deliveries", daemon=True)

    def start(self) -> DeliveryPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.wait_seconds + 15)

    def poll_once(self) -> int:
        """One receive and its batch handled; how many messages came."""
        from functions.events import deliver

        sqs = aws.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=5,
                                       WaitTimeSeconds=self.wait_seconds).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "eventSource": "aws:sqs"} for m in messages]}
        failed = {f["itemIdentifier"] for f in deliver.handler(event, context_for(DELIVER))["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("local delivery poller")
                self._stop.wait(1)
