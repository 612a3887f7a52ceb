"""The store orders queue's consumer: issues each queued order's documents (services/store_orders.py).
A message that fails (the authority's or AWS's trouble, not the order's) is reported back alone
(partial batch response) and SQS delivers it again; after the queue's receive count it goes to the
dead-letter queue, whose alarm calls a person."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger

import sello
from sello.services.store_orders import default_service

logger = Logger(service="sello")


def handler(event, context):
    service = default_service()
    failures = []
    for record in event.get("Records", []):
        try:
            service.process(json.loads(record["body"]))
        except Exception:
            logger.exception("store order failed", message_id=record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
