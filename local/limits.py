"""API Gateway's request limits, locally (sello.plans): the throttle of the usage plan that holds the
key the authorizer names, per key, and each public route's own throttle, as token buckets (a bucket
holds `burst` requests and refills at `rate` per second, as API Gateway's does). The usage plans and
the accounts' keys are the emulator's, made by local/resources.py and the accounts function as in
AWS. Quotas and the stage-wide throttle are not applied locally."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sello.adapters import aws
from sello.plans import Limits, public_route_limits


class TokenBucket:
    def __init__(self, limits: Limits, now: float):
        self.limits = limits
        self.tokens = float(limits.burst)
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.limits.burst, self.tokens + (now - self.updated) * self.limits.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def emulator_throttle(key: str) -> Limits | None:
    """The throttle of the usage plan holding the API key whose value is `key`, from the emulator."""
    apigateway = aws.client("apigateway")
    items = apigateway.get_api_keys(nameQuery=key, includeValues=True).get("items", [])
    key_id = next((k["id"] for k in items if k.get("value") == key and k.get("enabled", True)), None)
    if key_id is None:
        return None
    plans = apigateway.get_usage_plans(keyId=key_id).get("items", [])
    throttle = plans[0].get("throttle") if plans else None
    return Limits(rate=throttle["rateLimit"], burst=int(throttle["burstLimit"])) if throttle else None


class RequestLimits:
    def __init__(self, throttle_of: Callable[[str], Limits | None] = emulator_throttle,
                 clock: Callable[[], float] = time.monotonic):
        self.throttle_of = throttle_of
        self.clock = clock
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._throttles: dict[str, Limits] = {}  # found once per key: the plans do not change here
        self._lock = threading.Lock()

    def _take(self, name: tuple[str, ...], limits: Limits) -> bool:
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(name)
            if bucket is None or bucket.limits != limits:
                bucket = self._buckets[name] = TokenBucket(limits, now)
            return bucket.take(now)

    def allow_key(self, key: str | None) -> bool | None:
        """Whether a request of this usage key is within its plan's throttle; None when the key is in
        no usage plan (API Gateway refuses the request: 403)."""
        limits = self._throttles.get(key) or (self.throttle_of(key) if key else None)
        if limits is None:
            return None
        self._throttles[key] = limits
        return self._take(("key", key), limits)

    def allow_route(self, method: str, path: str) -> bool:
        """Whether a request to this public route is within the route's own throttle (all callers)."""
        return self._take(("route", method.upper(), path), public_route_limits(method, path))
