"""The REST API: one Lambda per API capability behind a REQUEST authorizer (API key in the
Authorization header), routes from the catalog, JSON error bodies for the gateway's own answers,
request limits (sello.plans: a usage plan per plan, throttling each account's API Gateway key; the
public routes and the stage throttled on their own) and access logs."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from sello.catalog import (
    API_FUNCTIONS,
    AUTHORIZER,
    BINARY_MEDIA_TYPES,
    GATEWAY_ERRORS,
    GATEWAY_HEADERS,
    PUBLIC_ROUTES,
    function_for_path,
    resources,
)
from sello.plans import PLANS, STAGE_LIMITS, public_route_limits, usage_plan_name

from infra.data import TABLE_ACTIONS, Data
from infra.function import SelloFunction, construct_name
from infra.mail import Mail
from infra.nag import acknowledge

# Makes each account's API Gateway key and puts it in its plan's usage plan (adapters.usage_keys).
PROVISIONS_USAGE_KEYS = {"accounts"}
# Confirmation codes; certificate notifications; documents emailed again on request.
SENDS_EMAIL = {"accounts", "issuers", "documents"}
# Envelope-encrypts uploaded private keys: asks KMS for a data key (plaintext + wrapped copy) and
# never unwraps one; only the workflow's sign task decrypts.
WRAPS_CERTIFICATE_KEYS = {"issuers"}
# Downloads the documents' XML and PDF (written by the workflow tasks) and attaches them to emails.
READS_DOCUMENT_FILES = {"documents"}
# Stores, reads and removes issuers' logos.
WRITES_ISSUER_FILES = {"issuers"}
# Lists a page at a time with sealed cursors (the key is a secret of Data).
HANDS_OUT_CURSORS = {"issuers", "documents", "integrations", "webhooks"}
# Envelope-encrypts the webhook secrets of connected stores (never unwraps one here).
SEALS_STORE_SECRETS = {"integrations"}
# Opens the webhook secrets of connected stores to check a delivery's signature (never seals one).
OPENS_STORE_SECRETS = {"store_inbound"}
# Why each function's public routes need no API key (cdk-nag AwsSolutions-APIG4).
PUBLIC_BECAUSE = {
    "accounts": "sign-up and confirmation happen before the caller has an API key",
    "store_inbound": "a store's webhook deliveries carry no API key; the function accepts only bodies signed "
                     "with the integration's own secret (HMAC-SHA256 over the raw body) and answers 401 otherwise",
    "docs": "the API's index, OpenAPI document and Swagger UI describe the API to anyone about to use it, "
            "and hold no data",
}

ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "resource": "$context.resourcePath",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "bytes": "$context.responseLength",
    "account": "$context.authorizer.account_id",
    "environment": "$context.authorizer.environment",
    "error": "$context.error.message",
}


def gateway_response(response_type: str) -> tuple[str | None, str]:
    """(status, application/json template) of one catalog.GATEWAY_ERRORS entry, in the API's error
    shape (sello.errors)."""
    status, code, message = GATEWAY_ERRORS[response_type]
    # messageString is API Gateway's own message, already a quoted JSON string.
    text = json.dumps(message) if message is not None else "$context.error.messageString"
    body = '{"error":{"code":' + json.dumps(code) + ',"message":' + text + "}}"
    return (str(status) if status is not None else None), body


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, data: Data, mail: Mail) -> None:
        super().__init__(scope, construct_id)

        self.authorizer_function = SelloFunction(self, "Authorizer", spec=AUTHORIZER, stage=stage, code=code,
                                                 layer=layer)
        data.grant_table(self.authorizer_function, AUTHORIZER.name)
        self.functions: dict[str, SelloFunction] = {}
        for spec in API_FUNCTIONS:
            fn = SelloFunction(self, construct_name(spec), spec=spec, stage=stage, code=code, layer=layer)
            if spec.name in TABLE_ACTIONS:  # the docs function holds no data
                data.grant_table(fn, spec.name)
            if spec.name in READS_DOCUMENT_FILES:
                data.grant_documents(fn, write=False)
            if spec.name in WRITES_ISSUER_FILES:
                data.grant_issuer_files(fn)
            if spec.name in SENDS_EMAIL:
                mail.grant_send(fn)
            if spec.name in WRAPS_CERTIFICATE_KEYS:
                data.grant_certificate_key(fn, "kms:GenerateDataKey")
            if spec.name in HANDS_OUT_CURSORS:
                data.grant_cursor_key(fn)
            if spec.name in SEALS_STORE_SECRETS:
                data.grant_certificate_key(fn, "kms:GenerateDataKey")
            if spec.name in OPENS_STORE_SECRETS:
                data.grant_certificate_key(fn, "kms:Decrypt")
            self.functions[spec.name] = fn

        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.THREE_MONTHS)
        self.rest_api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"sello-{stage}",
            description="Sello electronic-invoicing API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=list(BINARY_MEDIA_TYPES),
            cloud_watch_role=False,
            # Usage plans count the key the authorizer names (usageIdentifierKey), never a client's header.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                throttling_rate_limit=STAGE_LIMITS.rate,
                throttling_burst_limit=STAGE_LIMITS.burst,
                method_options={f"{path}/{method}": apigw.MethodDeploymentOptions(
                    throttling_rate_limit=public_route_limits(method, path).rate,
                    throttling_burst_limit=public_route_limits(method, path).burst)
                    for method, path in PUBLIC_ROUTES},
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG)),
                metrics_enabled=True,
            ),
        )
        self.authorizer = apigw.RequestAuthorizer(
            self, "ApiKeyAuthorizer",
            handler=self.authorizer_function.function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            results_cache_ttl=Duration.seconds(0),  # no cache: a revoked key stops working at once
        )
        for response_type in GATEWAY_ERRORS:
            status, body = gateway_response(response_type)
            self.rest_api.add_gateway_response(
                response_type.title().replace("_", ""),
                type=apigw.ResponseType.of(response_type),
                status_code=status,
                templates={"application/json": body},
                response_headers={name: f"'{value}'" for name, value in GATEWAY_HEADERS.get(response_type, {}).items()},
            )
        self._add_routes()
        self._add_usage_plans(stage)
        self._acknowledge()

    def _add_usage_plans(self, stage: str) -> None:
        """One usage plan per plan (sello.plans) on this stage; the accounts function learns their names
        and may only find them, find and create API keys, and add keys to these plans."""
        self.usage_plans: dict[str, apigw.UsagePlan] = {}
        for plan in PLANS.values():
            self.usage_plans[plan.name] = self.rest_api.add_usage_plan(
                f"{plan.name.capitalize()}Plan", name=usage_plan_name(stage, plan.name),
                description=f"Sello {plan.name} plan: the limits of each account on it",
                throttle=apigw.ThrottleSettings(rate_limit=plan.throttle.rate, burst_limit=plan.throttle.burst),
                quota=apigw.QuotaSettings(limit=plan.quota, period=apigw.Period[plan.period]),
                api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)])
        stack = Stack.of(self)

        def arn(path: str) -> str:
            return stack.format_arn(service="apigateway", account="", resource=path,
                                    arn_format=ArnFormat.NO_RESOURCE_NAME)

        for name in PROVISIONS_USAGE_KEYS:
            fn = self.functions[name]
            # Names, not ids: the plans depend on the stage, which depends on this function (cycle).
            fn.function.add_environment("SELLO_USAGE_PLANS", json.dumps(
                {plan: usage_plan_name(stage, plan) for plan in self.usage_plans}))
            # A policy of its own, which the function does not wait for (its default policy would close
            # the same cycle through the plans' ids).
            iam.Policy(self, f"{name.capitalize()}UsagePlans", roles=[fn.role], statements=[
                iam.PolicyStatement(  # find the plans and the account's key
                    actions=["apigateway:GET"], resources=[arn("/usageplans"), arn("/apikeys")]),
                iam.PolicyStatement(  # create the key; add it to a plan
                    actions=["apigateway:POST"], resources=[arn("/apikeys"), *(
                        arn(f"/usageplans/{usage_plan.usage_plan_id}/keys")
                        for usage_plan in self.usage_plans.values())]),
            ])

    def _add_routes(self) -> None:
        # api_key_required: the request counts against the usage plan of the key the authorizer names.
        protected = {"authorizer": self.authorizer, "authorization_type": apigw.AuthorizationType.CUSTOM,
                     "api_key_required": True}
        for spec in API_FUNCTIONS:
            integration = apigw.LambdaIntegration(self.functions[spec.name].function, allow_test_invoke=False)
            for path in resources(spec):
                if path in spec.prefixes or path.endswith("/{proxy+}"):
                    self.rest_api.root.resource_for_path(path).add_method("ANY", integration, **protected)
            for method, path in PUBLIC_ROUTES:
                if function_for_path(path) != spec:
                    continue
                resource = self.rest_api.root.resource_for_path(path)
                if path not in spec.prefixes and (method, path) not in spec.public:
                    # a fixed path beside {proxy+}: other methods stay protected
                    resource.add_method("ANY", integration, **protected)
                public = resource.add_method(method, integration,
                                             authorization_type=apigw.AuthorizationType.NONE)
                acknowledge(public, "AwsSolutions-APIG4",
                            f"{method} {path} is public on purpose (catalog.PUBLIC_ROUTES): "
                            f"{PUBLIC_BECAUSE[spec.name]}; its own method throttle "
                            "(sello.plans.public_route_limits) and the service's limits protect it.")

    def _acknowledge(self) -> None:
        api = self.rest_api
        acknowledge(api, "AwsSolutions-APIG2",
                    "Requests are validated in the functions (pydantic models through Powertools), which "
                    "answer with the API's own error codes and field paths; a gateway validator would "
                    "answer in a different shape.")
        acknowledge(api, "AwsSolutions-COG4",
                    "Callers are machines holding API keys, checked by the Lambda REQUEST authorizer "
                    "against hashed keys in DynamoDB; there are no Cognito users.")
        acknowledge(api, "AwsSolutions-APIG3",
                    "No WAF web ACL by default: every non-public route needs an API key and is throttled per "
                    "account by its usage plan, the public routes and the stage have their own throttles, "
                    "and a web ACL has a fixed monthly cost; an operator can associate one.")
        acknowledge(api, "AwsSolutions-APIG6",
                    "Access logs (JSON, every request) go to CloudWatch Logs; execution logging would need "
                    "the account-wide API Gateway CloudWatch role, a per-region setting this app does not "
                    "own.")
