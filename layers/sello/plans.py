"""Request limits: the plans an account can be on, what each allows, and the separate limit of the
routes that need no API key. The CDK app makes one API Gateway usage plan per plan from these
figures, the accounts function puts each account's API Gateway key in its plan's usage plan, the
authorizer names that key, and the local gateway applies the same rates and bursts.

Why one API Gateway key per account (and not per Sello API key, nor one per plan): usage plans
count and throttle per API Gateway key. One key per plan would put every tenant of a plan in one
bucket, so one busy store could starve the others; one per Sello key would let an account multiply
its allowance by creating keys, and would mean creating and deleting API Gateway keys on every key
rotation. One per account is the tenant's own bucket whatever keys it holds, is created once (when
the account gets its first key) and stays within API Gateway's quota of API keys per region (10,000
by default, adjustable) for as many accounts. The key's value is derived from the account id: it
is never a credential (the API takes keys from the authorizer, never from an x-api-key header)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Limits:
    rate: float  # requests per second, sustained
    burst: int  # requests at once (the bucket's size)


@dataclass(frozen=True)
class Plan:
    name: str
    throttle: Limits
    quota: int  # requests per period
    period: Literal["DAY", "WEEK", "MONTH"] = "MONTH"


PLANS: dict[str, Plan] = {plan.name: plan for plan in (
    Plan("standard", Limits(rate=5, burst=10), quota=100_000),
    Plan("business", Limits(rate=25, burst=50), quota=1_000_000),
)}
DEFAULT_PLAN = "standard"  # the plan of a new account

# Sign-up, confirmation and resending a code (catalog.PUBLIC_ROUTES) have no API key: each route is
# limited across all callers, so a flood of sign-ups cannot crowd out the rest of the API.
PUBLIC_ROUTE_LIMITS = Limits(rate=2, burst=5)
# The stores' inbound URL is one route for every connected store: orders arrive in bursts (a sale, a
# store sending its backlog after an outage), and WooCommerce disables a webhook after a few failed
# deliveries in a row, so it has a throttle of its own, still well inside the stage's.
ROUTE_LIMITS = {("POST", "/v1/integrations/{integration_id}/inbound"): Limits(rate=25, burst=50)}
# The whole stage, every caller together: above any one plan, so one account alone cannot use it up.
STAGE_LIMITS = Limits(rate=100, burst=200)

# Seconds a client is told to wait (Retry-After) after a 429: the throttle's bucket refills within a
# second; a used-up quota only at the start of the next period, so a client retrying hourly is told so.
RETRY_AFTER_SECONDS = {"THROTTLED": 1, "QUOTA_EXCEEDED": 3600}


def public_route_limits(method: str, resource: str) -> Limits:
    """The throttle of a public route (a resource template), all its callers together."""
    return ROUTE_LIMITS.get((method.upper(), resource), PUBLIC_ROUTE_LIMITS)


def usage_plan_name(stage: str, plan: str) -> str:
    return f"sello-{stage}-{plan}"


def usage_key(account_id: str) -> str:
    """Name and value of the account's API Gateway key, which the authorizer returns as the
    request's usage identifier (API Gateway wants at least 20 characters)."""
    return f"sello-usage-{account_id}"
