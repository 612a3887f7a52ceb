"""Daily (EventBridge schedule): emails a warning 30, 15, 7 and 1 days (settings.certificate_warning_days)
before each active signing certificate expires, once per certificate and threshold. A warning whose
day was missed (a failed run) still goes out on one of the next two days, as long as the next, more
urgent threshold has not been reached by then.

The day counted from is the event's `time` (UTC), so a re-delivered or replayed event acts on the
day it was scheduled for. Certificates are found through the expiry index, not by scanning."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from aws_lambda_powertools import Logger

import sello
from sello.ids import utcnow
from sello.services.certificates import send_expiry_warnings

logger = Logger(service="sello")


def handler(event, context):
    stamp = (event or {}).get("time")
    today = datetime.fromisoformat(stamp).date() if stamp else utcnow().date()
    report = send_expiry_warnings(today)
    logger.info("certificate expiry warnings", **asdict(report))
    if report.failed:
        # Fail the invocation so it is retried (warnings already sent are not repeated) and alarms fire.
        raise RuntimeError(f"{report.failed} certificate expiry warning(s) could not be sent")
    return asdict(report)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
