"""SQS consumer: each record is one try to deliver one event to one endpoint (services/deliveries.py).
A record whose handling raised (DynamoDB or SQS unavailable) is reported as failed, so SQS hands it
out again after its visibility timeout; the others of the batch are done."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger

import sello
from sello.services.deliveries import default_deliverer

logger = Logger(service="sello")


def handler(event, context):
    deliverer = default_deliverer()
    failures = []
    for record in event.get("Records", []):
        try:
            outcome = deliverer.handle(json.loads(record["body"]))
            logger.info("delivery handled", outcome=outcome, message_id=record["messageId"])
        except Exception:
            logger.exception("delivery not handled", message_id=record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
