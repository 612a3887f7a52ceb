"""Every few minutes (EventBridge schedule): starts the workflow of documents that were stored while
Step Functions could not be reached (marked as pending by services/documents.py), so none is left
unprocessed. Each document's execution is named after it, so a start repeated by a retried run or
a replayed request still runs the document once."""

from __future__ import annotations

from dataclasses import asdict

from aws_lambda_powertools import Logger

import sello
from sello.services.documents import start_pending_workflows

logger = Logger(service="sello")


def handler(event, context):
    report = start_pending_workflows()
    logger.info("pending document workflows", **asdict(report))
    if report.failed:
        # Fail the invocation so alarms fire; the documents stay pending for the next run.
        raise RuntimeError(f"{report.failed} document workflow(s) could not be started")
    return asdict(report)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
