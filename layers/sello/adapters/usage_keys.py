"""API Gateway keys for usage plans (sello.plans): one per account, in its plan's usage plan.

The key exists only so that API Gateway can count and throttle the account's requests: the
authorizer names it (usageIdentifierKey) and API Gateway applies the usage plan it belongs to."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError

from sello.adapters import aws
from sello.plans import usage_key


def _conflict(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConflictException"


def usage_plan_id(name: str) -> str:
    """The id of the usage plan of that name (the CDK app cannot hand the ids to the function that
    also serves the API the plans belong to without a dependency cycle). Keys are provisioned rarely
    (confirmation, new and rotated keys), so it is looked up each time."""
    client = aws.client("apigateway")
    for page in client.get_paginator("get_usage_plans").paginate():
        for plan in page.get("items", []):
            if plan.get("name") == name:
                return plan["id"]
    raise LookupError(f"no usage plan named {name}")


class ApiGatewayUsageKeys:
    """`usage_plans`: usage plan name by plan name (settings.usage_plans)."""

    def __init__(self, usage_plans: Mapping[str, str]):
        self.usage_plans = dict(usage_plans)

    def provision(self, account_id: str, plan: str) -> None:
        """The account's key, created once, and its membership of the plan's usage plan; calling it
        again changes nothing. Raises KeyError or LookupError for a plan without a usage plan and
        ClientError when API Gateway refuses."""
        plan_id = usage_plan_id(self.usage_plans[plan])
        client = aws.client("apigateway")
        key_id = self._key_id(account_id)
        if key_id is None:
            name = usage_key(account_id)
            try:
                key_id = client.create_api_key(name=name, value=name, enabled=True,
                                               description="Sello usage plan key of one account")["id"]
            except ClientError as exc:  # created meanwhile by a concurrent request
                if not _conflict(exc) or (key_id := self._key_id(account_id)) is None:
                    raise
        try:
            client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
        except ClientError as exc:
            if not _conflict(exc):  # already in the usage plan
                raise

    @staticmethod
    def _key_id(account_id: str) -> str | None:
        name = usage_key(account_id)
        found = aws.client("apigateway").get_api_keys(nameQuery=name, includeValues=False, limit=500)
        return next((key["id"] for key in found.get("items", []) if key.get("name") == name), None)
