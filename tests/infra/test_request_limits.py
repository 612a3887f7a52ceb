"""Request limits (sello.plans) as the local gateway applies them, with the real authorizer and
accounts function against the emulator: the account's API Gateway key is made in its plan's usage
plan, the authorizer names it, and requests over the plan's burst get 429 with Retry-After, as the
THROTTLED gateway response the CDK app declares; public routes have their own bucket."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from local.gateway import Gateway
from local.limits import RequestLimits, TokenBucket
from sello.adapters import aws as aws_clients
from sello.catalog import GATEWAY_ERRORS
from sello.plans import DEFAULT_PLAN, PLANS, PUBLIC_ROUTE_LIMITS, ROUTE_LIMITS, Limits, usage_key
from sello.services.accounts import seed_account

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_holds_the_burst_and_refills_at_the_rate():
    bucket = TokenBucket(Limits(rate=2, burst=3), now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.25) is False  # half a request refilled
    assert bucket.take(0.5) is True
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]  # never above the burst


def test_the_account_key_is_in_its_plans_usage_plan(aws):
    account, _ = seed_account("Comercial Andina S.A.", "limits@example.com")
    apigateway = aws_clients.client("apigateway")
    (key,) = [k for k in apigateway.get_api_keys(includeValues=True)["items"]
              if k["name"] == usage_key(account["id"])]
    assert key["value"] == usage_key(account["id"]) and key["enabled"]
    (plan,) = apigateway.get_usage_plans(keyId=key["id"])["items"]
    assert plan["name"] == f"sello-test-{DEFAULT_PLAN}"
    limits = PLANS[DEFAULT_PLAN]
    assert plan["throttle"] == {"rateLimit": limits.throttle.rate, "burstLimit": limits.throttle.burst}
    assert plan["quota"]["limit"] == limits.quota
    seed_account("Comercial Andina S.A.", "limits@example.com")  # another key: the same usage key
    assert [k["name"] for k in apigateway.get_api_keys()["items"]].count(usage_key(account["id"])) == 1


def throttled(answer) -> bool:
    if answer.status_code != 429:
        return False
    status, code, message = GATEWAY_ERRORS["THROTTLED"]
    assert answer.json == {"error": {"code": code, "message": message}}
    assert answer.headers["Retry-After"] == "1"
    return True


def test_requests_over_the_plans_burst_get_429_with_retry_after(aws):
    _, key = seed_account("Comercial Andina S.A.", "limits@example.com")
    _, other = seed_account("Otra S.A.", "other@example.com")
    clock = Clock()
    client = Client(Gateway(limits=RequestLimits(clock=clock)))
    auth = {"Authorization": f"Bearer {key}"}
    burst = PLANS[DEFAULT_PLAN].throttle.burst
    answers = [client.get("/v1/accounts/me", headers=auth) for _ in range(burst + 1)]
    assert [a.status_code for a in answers[:burst]] == [200] * burst
    assert throttled(answers[-1])
    # another account has its own bucket
    assert client.get("/v1/accounts/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    clock.now += 1 / PLANS[DEFAULT_PLAN].throttle.rate  # one request refilled
    assert client.get("/v1/accounts/me", headers=auth).status_code == 200
    assert throttled(client.get("/v1/accounts/me", headers=auth))


def test_a_key_in_no_usage_plan_is_refused_like_api_gateway_does(aws):
    def allow_without_usage_plan(name: str, event: dict) -> dict:
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [event["methodArn"]]}
        return {"principalId": "acct_x", "context": {}, "usageIdentifierKey": "sello-usage-acct_unknown",
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}

    client = Client(Gateway(invoke=allow_without_usage_plan, limits=RequestLimits()))
    answer = client.get("/v1/accounts/me", headers={"Authorization": "Bearer sk_test_x"})
    assert answer.status_code == 403 and answer.json["error"]["code"] == GATEWAY_ERRORS["DEFAULT_4XX"][1]


def test_public_routes_have_their_own_throttle(aws):
    clock = Clock()
    client = Client(Gateway(limits=RequestLimits(clock=clock)))

    def resend():
        return client.post("/v1/accounts/resend-confirmation", data=json.dumps({"email": "x@example.com"}),
                           content_type="application/json")

    answers = [resend() for _ in range(PUBLIC_ROUTE_LIMITS.burst + 1)]
    assert all(a.status_code < 400 for a in answers[:-1]), [a.status_code for a in answers]
    assert throttled(answers[-1])
    # another public route, its own bucket
    signup = client.post("/v1/accounts", data=json.dumps({"company_name": "Nueva S.A.", "email": "n@example.com"}),
                         content_type="application/json")
    assert signup.status_code == 202, signup.json


def test_the_stores_inbound_url_has_a_higher_throttle_of_its_own():
    """Every store's deliveries share one resource, so it holds a larger burst than the sign-up routes,
    in its own bucket: a busy store neither is cut at the sign-up routes' burst nor crowds them out."""
    clock = Clock()
    limits = RequestLimits(throttle_of=lambda key: None, clock=clock)
    inbound = ("POST", "/v1/integrations/{integration_id}/inbound")
    own = ROUTE_LIMITS[inbound]
    assert own.burst > PUBLIC_ROUTE_LIMITS.burst
    assert [limits.allow_route(*inbound) for _ in range(own.burst + 1)] == [True] * own.burst + [False]
    assert limits.allow_route("POST", "/v1/accounts") is True
    clock.now += 1.5 / own.rate  # a token and a half
    assert limits.allow_route(*inbound) is True and limits.allow_route(*inbound) is False
