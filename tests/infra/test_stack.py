"""The synthesized CloudFormation template: resources, their key properties, routes and
authorization, IAM scope per function, the workflow definition, schedule, DLQs and alarms."""

from __future__ import annotations

import json
import re

import pytest
from sello.catalog import (
    API_FUNCTIONS,
    AUTHORIZER,
    BINARY_MEDIA_TYPES,
    GATEWAY_ERRORS,
    PUBLIC_ROUTES,
    SCHEDULED_FUNCTIONS,
    EVENT_FUNCTIONS,
    STORE_FUNCTIONS,
    TABLE,
    WORKFLOW_FUNCTIONS,
    function_for_path,
    resource_names,
)
from sello.plans import PLANS, PUBLIC_ROUTE_LIMITS, RETRY_AFTER_SECONDS, ROUTE_LIMITS, STAGE_LIMITS
from sello.settings import Settings

from infra.function import construct_name
from tests.infra.conftest import ACCOUNT, REGION, SENDER, STAGE

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ALL_FUNCTIONS = (AUTHORIZER, *API_FUNCTIONS, *WORKFLOW_FUNCTIONS, *SCHEDULED_FUNCTIONS, *STORE_FUNCTIONS,
                 *EVENT_FUNCTIONS)
NAMES = resource_names(STAGE, ACCOUNT)
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "s3:PutObject", "kms:Encrypt", "kms:GenerateDataKey", "ses:SendEmail",
                 "states:StartExecution"}
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}


def one(resources: dict[str, dict]) -> tuple[str, dict]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def logical_id(synth, type_: str, name_prefix: str) -> str:
    (lid, _), = [(k, v) for k, v in synth.resources(type_).items() if k.startswith(name_prefix)]
    return lid


@pytest.fixture(scope="module")
def functions(synth) -> dict[str, tuple[str, dict]]:
    """catalog name -> (logical id, properties) of its Lambda function."""
    found = {}
    for lid, res in synth.resources("AWS::Lambda::Function").items():
        name = res["Properties"]["FunctionName"].removeprefix(f"sello-{STAGE}-")
        found[name] = (lid, res["Properties"])
    return found


@pytest.fixture(scope="module")
def statements(synth, functions) -> dict[str, list[dict]]:
    """catalog name -> every IAM statement attached to its function's role."""
    policies = synth.resources("AWS::IAM::Policy").values()
    result = {}
    for name, (_, props) in functions.items():
        role = props["Role"]["Fn::GetAtt"][0]
        result[name] = [s for p in policies if {"Ref": role} in p["Properties"]["Roles"]
                        for s in p["Properties"]["PolicyDocument"]["Statement"]]
    return result


def actions_of(stmts: list[dict]) -> set[str]:
    return {a for s in stmts for a in as_list(s["Action"])}


def granted(stmts: list[dict], action: str) -> list[dict]:
    return [s for s in stmts if action in as_list(s["Action"])]


def test_resource_counts(synth):
    counts = {
        "AWS::Lambda::Function": len(ALL_FUNCTIONS),
        "AWS::Lambda::LayerVersion": 1,
        "AWS::DynamoDB::Table": 1,
        "AWS::KMS::Key": 2,
        "AWS::KMS::Alias": 1,
        "AWS::S3::Bucket": 2,  # documents + their access logs
        "AWS::StepFunctions::StateMachine": 1,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::Authorizer": 1,
        "AWS::ApiGateway::Stage": 1,
        "AWS::ApiGateway::UsagePlan": len(PLANS),
        "AWS::SES::ConfigurationSet": 1,
        "AWS::SecretsManager::Secret": 3,  # the key of the paging cursors; the PAC credentials, test and live
        "AWS::Events::Rule": len(SCHEDULED_FUNCTIONS),
        # + the store orders queue and its DLQ, the deliveries queue and its dead letters
        "AWS::SQS::Queue": len(SCHEDULED_FUNCTIONS) + 4,
        # one per function, failed + timed-out executions, API 5xx, one per DLQ
        "AWS::CloudWatch::Alarm": len(ALL_FUNCTIONS) + 2 + 1 + len(SCHEDULED_FUNCTIONS) + 2,
        "AWS::Lambda::EventSourceMapping": 2,  # the store orders worker, the deliveries
    }
    for type_, count in counts.items():
        synth.template.resource_count_is(type_, count)


def test_every_function_is_python313_arm64_with_the_layer_and_its_catalog_handler(synth, functions):
    layer = logical_id(synth, "AWS::Lambda::LayerVersion", "Dependencies")
    assert set(functions) == {spec.name for spec in ALL_FUNCTIONS}
    for spec in ALL_FUNCTIONS:
        _, props = functions[spec.name]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == spec.handler
        assert props["MemorySize"] == spec.memory_mb and props["Timeout"] == spec.timeout_s
        assert props["Layers"] == [{"Ref": layer}]
    synth.template.has_resource_properties("AWS::Lambda::LayerVersion", {
        "CompatibleRuntimes": ["python3.13"], "CompatibleArchitectures": ["arm64"]})


def test_environment_names_are_settings_fields_and_follow_the_grants(synth, functions):
    table = {"Ref": logical_id(synth, "AWS::DynamoDB::Table", "DataTable")}
    documents = {"Ref": logical_id(synth, "AWS::S3::Bucket", "DataDocuments")}
    fields = {f"SELLO_{name.upper()}" for name in Settings.model_fields}
    email = {"accounts", "issuers", "documents", "notify", "certificate_expiry", "cancellation_finish", "deliver"}
    key = {"issuers", "sign", "cancel", "integrations", "store_inbound"}
    bucket = {"documents", "issuers"} | {spec.name for spec in WORKFLOW_FUNCTIONS}
    state_machine = {"Ref": logical_id(synth, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")}
    authority = {"submit", "poll", "cancel"}
    starters = {"documents", "workflow_restart", "store_worker"}
    for name, (_, props) in functions.items():
        env = props["Environment"]["Variables"]
        sello_vars = {k for k in env if k.startswith("SELLO_")}
        assert sello_vars <= fields, f"{name}: {sello_vars - fields} are not Settings fields"
        assert env["POWERTOOLS_SERVICE_NAME"] == "sello"
        assert env.get("SELLO_TABLE_NAME") == (None if name == "docs" else table), name
        assert ("SELLO_SENDER_EMAIL" in env) == (name in email), name
        assert ("SELLO_SES_CONFIGURATION_SET" in env) == (name in email), name
        assert ("SELLO_KEY_ID" in env) == (name in key), name
        assert ("SELLO_BUCKET_NAME" in env) == (name in bucket), name
        assert ("SELLO_STATE_MACHINE_ARN" in env) == (name in starters), name
        if name in starters:
            assert env["SELLO_STATE_MACHINE_ARN"] == state_machine
        for setting in ("sri_test_url", "sri_live_url"):
            assert env.get(f"SELLO_{setting.upper()}") == (
                Settings.model_fields[setting].default if name in authority else None), name
        # SAT's status service: only the task that follows a cancellation asks it
        assert env.get("SELLO_SAT_STATUS_URL") == (
            Settings.model_fields["sat_status_url"].default if name == "cancellation_status" else None), name
        if name in bucket:
            assert env["SELLO_BUCKET_NAME"] == documents
        if name in key:
            assert env["SELLO_KEY_ID"] == NAMES["key_alias"]
        if name in email:
            assert env["SELLO_SENDER_EMAIL"] == {"Ref": "SenderEmail"}


def test_table_is_on_demand_with_pitr_ttl_gsi_and_a_customer_managed_key(synth):
    table_key = logical_id(synth, "AWS::KMS::Key", "DataTableKey")
    _, table = one(synth.resources("AWS::DynamoDB::Table"))
    props = table["Properties"]
    assert props["TableName"] == NAMES["table"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS",
                                         "KMSMasterKeyId": {"Fn::GetAtt": [table_key, "Arn"]}}
    assert props["TimeToLiveSpecification"] == {"AttributeName": TABLE.ttl_attribute, "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
                                  {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"}]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == TABLE.gsi_name
    assert gsi["KeySchema"] == [{"AttributeName": TABLE.gsi_partition_key, "KeyType": "HASH"},
                                {"AttributeName": TABLE.gsi_sort_key, "KeyType": "RANGE"}]
    assert table["DeletionPolicy"] == "Retain"


def test_keys_rotate_and_the_certificate_key_has_the_catalog_alias(synth):
    for key in synth.resources("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True
    certificate_key = logical_id(synth, "AWS::KMS::Key", "DataCertificateKey")
    synth.template.has_resource_properties("AWS::KMS::Alias", {
        "AliasName": NAMES["key_alias"], "TargetKeyId": {"Fn::GetAtt": [certificate_key, "Arn"]}})


def test_buckets_are_encrypted_private_tls_only_and_documents_are_versioned_and_logged(synth):
    buckets = synth.resources("AWS::S3::Bucket")
    documents = logical_id(synth, "AWS::S3::Bucket", "DataDocuments")
    access_logs = logical_id(synth, "AWS::S3::Bucket", "DataAccessLogs")
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}
    doc = buckets[documents]["Properties"]
    assert doc["BucketName"] == NAMES["bucket"]
    assert doc["VersioningConfiguration"] == {"Status": "Enabled"}
    assert doc["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": access_logs}

    tls_only = {bucket: False for bucket in buckets}
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        for stmt in policy["Properties"]["PolicyDocument"]["Statement"]:
            if stmt["Effect"] == "Deny" and stmt.get("Condition") == TLS_ONLY:
                assert stmt["Action"] == "s3:*" and stmt["Principal"] == {"AWS": "*"}
                tls_only[policy["Properties"]["Bucket"]["Ref"]] = True
    assert all(tls_only.values()), tls_only


def api_methods(synth) -> dict[tuple[str, str], dict]:
    """(HTTP method, path) -> properties of each API Gateway method."""
    resources = synth.resources("AWS::ApiGateway::Resource")

    def path(resource_id) -> str:
        if "Ref" not in resource_id:  # the root resource
            return ""
        props = resources[resource_id["Ref"]]["Properties"]
        return f"{path(props['ParentId'])}/{props['PathPart']}"

    return {(m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"]) or "/"): m["Properties"]
            for m in synth.resources("AWS::ApiGateway::Method").values()}


def test_routes_come_from_the_catalog_public_ones_without_the_authorizer(synth, functions):
    authorizer_id, authorizer = one(synth.resources("AWS::ApiGateway::Authorizer"))
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    assert authorizer["Properties"]["AuthorizerUri"]["Fn::Join"][1][-2] == {
        "Fn::GetAtt": [functions["authorizer"][0], "Arn"]}

    methods = api_methods(synth)
    expected = set(PUBLIC_ROUTES)
    for spec in API_FUNCTIONS:
        for prefix in spec.prefixes:
            expected |= {("ANY", prefix), ("ANY", f"{prefix}/{{proxy+}}")}
    # a variable part below a prefix takes the place of its {proxy+} (one variable part per level)
    expected -= {("ANY", "/v1/integrations/{proxy+}")}
    expected |= {("ANY", path) for method, path in PUBLIC_ROUTES
                 if (method, path) not in function_for_path(path).public}
    assert set(methods) == expected
    # the stores' inbound URL: a fixed child of {integration_id}, POST only, beside the integrations' {proxy+}
    assert ("POST", "/v1/integrations/{integration_id}/inbound") in methods
    assert {("ANY", "/v1/integrations/{integration_id}"),
            ("ANY", "/v1/integrations/{integration_id}/{proxy+}")} <= set(methods)
    assert not any(path == "/v1/integrations/{integration_id}/inbound" and m != "POST" for m, path in methods)

    for (http_method, path), props in methods.items():
        if (http_method, path) in PUBLIC_ROUTES:
            assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props, path
        else:
            assert props["AuthorizationType"] == "CUSTOM", (http_method, path)
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, (http_method, path)
        owner = function_for_path(path)
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert {"Fn::GetAtt": [functions[owner.name][0], "Arn"]} in props["Integration"]["Uri"]["Fn::Join"][1]


def gateway_body(template: str) -> dict:
    """A gateway response template as JSON, with API Gateway's own (already quoted) message filled in."""
    return json.loads(template.replace("$context.error.messageString", '"Missing Authentication Token"'))


def test_gateway_answers_use_the_api_error_shape_and_the_catalog_codes(synth):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == set(GATEWAY_ERRORS)
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"} <= set(
        responses)
    for response_type, props in responses.items():
        status, code, message = GATEWAY_ERRORS[response_type]
        assert props.get("StatusCode") == (str(status) if status else None), response_type
        body = gateway_body(props["ResponseTemplates"]["application/json"])
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, response_type
        if response_type == "ACCESS_DENIED":  # the authorizer's reason, e.g. a revoked key
            assert body["error"] == {"code": "$context.authorizer.error_code",
                                     "message": "$context.authorizer.error_message"}
            continue
        assert body["error"]["code"] == code, response_type
        assert body["error"]["message"] == (message or "Missing Authentication Token"), response_type

    def answer(response_type: str) -> tuple[str | None, str]:
        props = responses[response_type]
        body = gateway_body(props["ResponseTemplates"]["application/json"])
        return props.get("StatusCode"), body["error"]["code"]

    # the same codes the functions' resolver and the local gateway use
    assert answer("MISSING_AUTHENTICATION_TOKEN") == ("404", "route_not_found")
    assert answer("UNAUTHORIZED") == ("401", "unauthorized")
    assert answer("AUTHORIZER_FAILURE") == ("500", "authorizer_failure")
    assert answer("THROTTLED") == ("429", "too_many_requests")
    assert answer("REQUEST_TOO_LARGE") == ("413", "payload_too_large")
    # any other gateway error keeps its status and API Gateway's message, in the API's shape
    assert answer("DEFAULT_4XX") == (None, "bad_request")
    assert answer("DEFAULT_5XX") == (None, "gateway_error")
    assert "$context.error.messageString" in responses["DEFAULT_4XX"]["ResponseTemplates"]["application/json"]


def test_stage_is_throttled_and_access_logged_and_accepts_multipart(synth):
    _, stage = one(synth.resources("AWS::ApiGateway::Stage"))
    props = stage["Properties"]
    assert props["StageName"] == STAGE
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in props["MethodSettings"]}
    stage_wide = settings.pop(("/*", "*"))
    assert (stage_wide["ThrottlingRateLimit"], stage_wide["ThrottlingBurstLimit"]) == (
        STAGE_LIMITS.rate, STAGE_LIMITS.burst)
    # above any one plan: one account alone cannot use up the stage
    assert all(plan.throttle.rate < STAGE_LIMITS.rate and plan.throttle.burst < STAGE_LIMITS.burst
               for plan in PLANS.values())
    # the routes without an API key: each throttled on its own (API Gateway writes /a/b as /~1a~1b)
    # (the root resource is "/" itself)
    assert set(settings) == {("/" + path.replace("/", "~1") if path != "/" else "/", method)
                             for method, path in PUBLIC_ROUTES}
    for (path, method), public in settings.items():
        limits = ROUTE_LIMITS.get((method, path[1:].replace("~1", "/")), PUBLIC_ROUTE_LIMITS)
        assert (public["ThrottlingRateLimit"], public["ThrottlingBurstLimit"]) == (limits.rate, limits.burst)
    # the stores' inbound URL has its own, higher throttle, inside the stage's
    inbound = settings[("/~1v1~1integrations~1{integration_id}~1inbound", "POST")]
    assert PUBLIC_ROUTE_LIMITS.rate < inbound["ThrottlingRateLimit"] < STAGE_LIMITS.rate
    access_logs = logical_id(synth, "AWS::Logs::LogGroup", "ApiAccessLogs")
    assert props["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": [access_logs, "Arn"]}
    log_format = json.loads(props["AccessLogSetting"]["Format"])
    assert log_format["requestId"] == "$context.requestId" and log_format["status"] == "$context.status"
    _, api = one(synth.resources("AWS::ApiGateway::RestApi"))
    assert api["Properties"]["BinaryMediaTypes"] == list(BINARY_MEDIA_TYPES)
    assert "multipart/form-data" in BINARY_MEDIA_TYPES


def test_a_usage_plan_per_plan_throttles_and_counts_each_account_key(synth):
    api = logical_id(synth, "AWS::ApiGateway::RestApi", "ApiRestApi")
    stage = logical_id(synth, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
    assert synth.resources("AWS::ApiGateway::RestApi")[api]["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    plans = {p["Properties"]["UsagePlanName"]: p["Properties"]
             for p in synth.resources("AWS::ApiGateway::UsagePlan").values()}
    assert set(plans) == {f"sello-{STAGE}-{name}" for name in PLANS}
    for name, plan in PLANS.items():
        props = plans[f"sello-{STAGE}-{name}"]
        assert props["Throttle"] == {"RateLimit": plan.throttle.rate, "BurstLimit": plan.throttle.burst}
        assert props["Quota"] == {"Limit": plan.quota, "Period": plan.period}
        ((api_stage),) = props["ApiStages"]
        assert (api_stage["ApiId"], api_stage["Stage"], api_stage.get("Throttle") or {}) == (
            {"Ref": api}, {"Ref": stage}, {})  # no per-method exceptions
    assert not synth.resources("AWS::ApiGateway::ApiKey")  # made per account, at run time
    # every route with an authorizer counts against the usage plan of the key it names
    for (http_method, path), props in api_methods(synth).items():
        assert props.get("ApiKeyRequired", False) is ((http_method, path) not in PUBLIC_ROUTES), (http_method, path)


def test_only_the_accounts_function_makes_usage_keys_and_only_in_the_plans(synth, functions, statements):
    users = {name for name, stmts in statements.items()
             if any(a.startswith("apigateway:") for a in actions_of(stmts))}
    assert users == {"accounts"}
    _, accounts = functions["accounts"]
    assert json.loads(accounts["Environment"]["Variables"]["SELLO_USAGE_PLANS"]) == {
        name: f"sello-{STAGE}-{name}" for name in PLANS}
    plan_ids = {json.dumps({"Ref": lid}) for lid in synth.resources("AWS::ApiGateway::UsagePlan")}

    def path_of(resource) -> str:  # arn:aws:apigateway:<region>::<path>, with the plans' ids as {plan}
        parts = resource["Fn::Join"][1]
        return "".join("{plan}" if json.dumps(p) in plan_ids else p for p in parts
                       if isinstance(p, str) or json.dumps(p) in plan_ids).rsplit("::", 1)[-1]

    stmts = [s for s in statements["accounts"] if any(a.startswith("apigateway:") for a in as_list(s["Action"]))]
    granted_paths = {(a, path_of(r)) for s in stmts for a in as_list(s["Action"]) for r in as_list(s["Resource"])}
    assert granted_paths == {("apigateway:GET", "/usageplans"), ("apigateway:GET", "/apikeys"),
                             ("apigateway:POST", "/apikeys"), ("apigateway:POST", "/usageplans/{plan}/keys")}
    posts = [r for s in stmts if "apigateway:POST" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert len(posts) == 1 + len(PLANS)


def test_429s_say_when_to_retry(synth):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()}
    for response_type in ("THROTTLED", "QUOTA_EXCEEDED"):
        props = responses[response_type]
        assert props["StatusCode"] == "429"
        assert props["ResponseParameters"] == {
            "gatewayresponse.header.Retry-After": f"'{RETRY_AFTER_SECONDS[response_type]}'"}
    assert RETRY_AFTER_SECONDS["THROTTLED"] == 1
    assert not [t for t, p in responses.items() if p.get("ResponseParameters") and t not in RETRY_AFTER_SECONDS]


def test_no_function_role_has_wildcard_actions_or_resources(statements):
    for name, stmts in statements.items():
        for stmt in stmts:
            assert stmt["Effect"] == "Allow"
            for action in as_list(stmt["Action"]):
                assert action != "*" and not action.endswith(":*"), (name, action)
            assert "*" not in as_list(stmt["Resource"]), (name, stmt)


# Exactly the DynamoDB actions each function's code uses (infra/data.py TABLE_ACTIONS says why), and
# the functions that query the index. No Scan, batch, stream or DescribeTable action anywhere.
TABLE_ACTIONS = {
    "authorizer": {"GetItem"},
    "accounts": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
    "issuers": {"GetItem", "Query", "PutItem", "UpdateItem"},
    "documents": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "integrations": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "store_worker": {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
    "store_inbound": {"GetItem", "UpdateItem"},  # the integration; the order recorded with UpdateItem
    "sign": {"GetItem", "UpdateItem"},
    "submit": {"GetItem", "UpdateItem"},
    "poll": {"GetItem", "UpdateItem"},
    "render": {"GetItem", "UpdateItem"},
    "notify": {"GetItem", "UpdateItem"},
    "finish": {"GetItem", "UpdateItem", "PutItem", "Query"},
    "cancel": {"GetItem", "UpdateItem"},
    "cancellation_status": {"GetItem", "UpdateItem"},
    "cancellation_finish": {"GetItem", "UpdateItem", "PutItem", "Query"},
    "certificate_expiry": {"GetItem", "Query", "UpdateItem", "PutItem"},
    "workflow_restart": {"Query", "UpdateItem", "DeleteItem"},
    "docs": set(),  # the API's index and documentation: no data
    "deliver": {"GetItem", "PutItem"},
    "webhooks": {"GetItem", "Query", "PutItem", "DeleteItem"},
}
INDEX_READERS = {"documents", "certificate_expiry", "integrations"}


def test_each_function_has_exactly_the_table_actions_it_uses(synth, statements):
    table = {"Fn::GetAtt": [logical_id(synth, "AWS::DynamoDB::Table", "DataTable"), "Arn"]}
    index = {"Fn::Join": ["", [table, f"/index/{TABLE.gsi_name}"]]}
    table_key = {"Fn::GetAtt": [logical_id(synth, "AWS::KMS::Key", "DataTableKey"), "Arn"]}
    assert set(TABLE_ACTIONS) == {spec.name for spec in ALL_FUNCTIONS}
    for name, expected in TABLE_ACTIONS.items():
        on_table = [s for s in statements[name] if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        by_resource = {json.dumps(as_list(s["Resource"]), sort_keys=True): actions_of([s]) for s in on_table}
        wanted = {json.dumps([table], sort_keys=True): {f"dynamodb:{a}" for a in expected}}
        if not expected:  # no grant at all, not an empty one
            wanted = {}
        if name in INDEX_READERS:
            wanted[json.dumps([index], sort_keys=True)] = {"dynamodb:Query"}
        assert by_resource == wanted, name
        on_key = actions_of([s for s in statements[name] if table_key in as_list(s["Resource"])])
        reads = {"kms:Decrypt", "kms:DescribeKey"}
        writes = expected & {"PutItem", "UpdateItem", "DeleteItem"}
        if not expected:
            assert on_key == set(), name
            continue
        assert on_key == (reads | {"kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"} if writes else reads), name


def test_the_docs_function_reaches_nothing_but_its_logs(functions, statements):
    _, props = functions["docs"]
    assert {k for k in props["Environment"]["Variables"] if k.startswith("SELLO_")} == set()
    assert actions_of(statements["docs"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_authorizer_only_reads_the_table(statements):
    actions = actions_of(statements["authorizer"])
    assert "dynamodb:GetItem" in actions
    assert not actions & WRITE_ACTIONS
    assert not any(a.startswith(("s3:", "ses:", "states:")) for a in actions)


def test_documents_function_writes_the_table_reads_files_and_starts_the_workflow(synth, statements):
    table = logical_id(synth, "AWS::DynamoDB::Table", "DataTable")
    bucket = logical_id(synth, "AWS::S3::Bucket", "DataDocuments")
    machine = {"Ref": logical_id(synth, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")}
    stmts = statements["documents"]
    actions = actions_of(stmts)
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    # the table, and its one index (lists are read through it)
    assert sorted((as_list(stmt["Resource"]) for stmt in granted(stmts, "dynamodb:Query")), key=str) == sorted(
        ([{"Fn::GetAtt": [table, "Arn"]}], [{"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]},
                                                              f"/index/{TABLE.gsi_name}"]]}]), key=str)
    # Files are read, never written: the workflow tasks write them.
    assert {a for a in actions if a.startswith("s3:")} == {"s3:GetObject", "s3:ListBucket"}
    (s3,) = granted(stmts, "s3:GetObject")
    assert s3["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}
    assert {a for a in actions if a.startswith("states:")} == {"states:StartExecution"}
    (start,) = granted(stmts, "states:StartExecution")
    assert as_list(start["Resource"]) == [machine]


def test_only_sign_cancel_and_issuers_use_the_certificate_key(synth, statements):
    certificate_key = {"Fn::GetAtt": [logical_id(synth, "AWS::KMS::Key", "DataCertificateKey"), "Arn"]}

    def users(action: str) -> set[str]:
        return {name for name, stmts in statements.items()
                if any(certificate_key in as_list(s["Resource"]) for s in granted(stmts, action))}

    # issuers only seals uploaded keys, integrations stores' webhook secrets; sign (documents) and cancel
    # (cancellation requests) unwrap keys, store_inbound a store's secret to check its signature
    assert users("kms:Decrypt") == {"sign", "cancel", "store_inbound"}
    assert users("kms:GenerateDataKey") == {"issuers", "integrations"}
    for name, allowed in (("sign", {"kms:Decrypt"}), ("cancel", {"kms:Decrypt"}), ("store_inbound", {"kms:Decrypt"}),
                          ("issuers", {"kms:GenerateDataKey"}), ("integrations", {"kms:GenerateDataKey"})):
        on_key = [s for s in statements[name] if certificate_key in as_list(s["Resource"])]
        assert actions_of(on_key) == allowed, name


def test_only_the_functions_that_page_read_the_cursor_key(synth, functions, statements):
    secret = {"Ref": logical_id(synth, "AWS::SecretsManager::Secret", "DataCursorKey")}
    readers = {name for name, stmts in statements.items()
               if any(secret in as_list(s["Resource"]) for s in stmts)}
    assert readers == {"issuers", "documents", "integrations", "webhooks"}
    for name in readers:
        (stmt,) = [s for s in statements[name] if secret in as_list(s["Resource"])]
        assert as_list(stmt["Action"]) == ["secretsmanager:GetSecretValue"]
    for name, (_, props) in functions.items():
        assert props["Environment"]["Variables"].get("SELLO_CURSOR_KEY_SECRET") == (
            secret if name in readers else None), name
    generated = synth.resources("AWS::SecretsManager::Secret")
    assert generated[logical_id(synth, "AWS::SecretsManager::Secret", "DataCursorKey")][
        "Properties"]["GenerateSecretString"]["PasswordLength"] == 64


def test_only_the_tasks_that_call_the_authority_read_the_pac_credentials(synth, functions, statements):
    secrets = {environment: {"Ref": logical_id(synth, "AWS::SecretsManager::Secret", name)}
               for environment, name in (("test", "WorkflowPacTestCredentials"), ("live", "WorkflowPacLiveCredentials"))}
    readers = {name for name, stmts in statements.items()
               if any(secret in as_list(s["Resource"]) for s in stmts for secret in secrets.values())}
    assert readers == {"submit", "poll", "cancel"}
    for name, (_, props) in functions.items():
        variables = props["Environment"]["Variables"]
        for environment, secret in secrets.items():
            assert variables.get(f"SELLO_SW_{environment.upper()}_CREDENTIALS_SECRET") == (
                secret if name in readers else None), name


def test_only_mail_senders_send_email_from_the_sender_address(statements):
    senders = {name for name, stmts in statements.items() if granted(stmts, "ses:SendEmail")}
    assert senders == {"accounts", "issuers", "documents", "notify", "certificate_expiry", "cancellation_finish",
                       "deliver"}
    for name in senders:
        (stmt,) = granted(statements[name], "ses:SendEmail")
        assert stmt["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
        assert len(stmt["Resource"]) == 3  # the address, its domain, the configuration set


def test_only_workflow_tasks_write_files_and_only_documents_and_the_restart_start_executions(statements):
    users = {name for name, stmts in statements.items() if granted(stmts, "s3:PutObject")}
    assert users == {spec.name for spec in WORKFLOW_FUNCTIONS} | {"issuers"}
    starters = {name for name, stmts in statements.items() if granted(stmts, "states:StartExecution")}
    assert starters == {"documents", "workflow_restart", "store_worker"}


def test_every_function_that_reads_files_may_list_the_bucket_so_a_missing_one_is_a_404(synth, statements):
    """S3 answers a read of a missing object (an issuer without a logo) with 403 AccessDenied unless the
    role may list the bucket; the functions expect 404 NoSuchKey."""
    bucket = {"Fn::GetAtt": [logical_id(synth, "AWS::S3::Bucket", "DataDocuments"), "Arn"]}
    readers = {name for name, stmts in statements.items() if granted(stmts, "s3:GetObject")}
    assert readers
    for name in readers:
        (listing,) = granted(statements[name], "s3:ListBucket")
        assert as_list(listing["Resource"]) == [bucket], name


def test_the_issuers_function_reads_writes_and_deletes_only_logos(synth, statements):
    from sello.services.logos import logo_key

    bucket = logical_id(synth, "AWS::S3::Bucket", "DataDocuments")
    stmts = statements["issuers"]
    s3_actions = {a for a in actions_of(stmts) if a.startswith("s3:")} - {"s3:ListBucket"}
    assert s3_actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    for action in s3_actions:
        (stmt,) = granted(stmts, action)
        assert stmt["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]},
                                                      "/" + logo_key("*", "*")]]}
    # nobody else deletes objects: documents and their files are kept
    deleters = {name for name, stmts in statements.items() if granted(stmts, "s3:DeleteObject")}
    assert deleters == {"issuers"}


def test_the_workflow_restart_only_uses_the_table_and_starts_executions(synth, statements):
    table = {"Fn::GetAtt": [logical_id(synth, "AWS::DynamoDB::Table", "DataTable"), "Arn"]}
    machine = {"Ref": logical_id(synth, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")}
    stmts = statements["workflow_restart"]
    actions = actions_of(stmts)
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    # the table (and its key), its logs, its dead-letter queue, the state machine: no mail, no files
    assert {a.split(":")[0] for a in actions} == {"dynamodb", "kms", "logs", "sqs", "states"}
    assert {a for a in actions if a.startswith("sqs:")} == {"sqs:SendMessage"}
    assert {a for a in actions if a.startswith("states:")} == {"states:StartExecution"}
    (start,) = granted(stmts, "states:StartExecution")
    assert as_list(start["Resource"]) == [machine]
    for stmt in stmts:
        if any(a.startswith("dynamodb:") for a in as_list(stmt["Action"])):
            assert table in as_list(stmt["Resource"])


def test_authority_calls_have_room_for_the_clients_timeouts(functions):
    """The SRI client's timeout applies to each phase of a call (connect, send, read)."""
    for name in ("submit", "poll"):
        _, props = functions[name]
        assert props["Timeout"] > 2 * Settings().sri_timeout_seconds, name


def test_sender_is_a_parameter_and_the_configuration_set_is_named(synth):
    parameter = synth.json["Parameters"]["SenderEmail"]
    assert parameter["Default"] == SENDER
    assert re.fullmatch(parameter["AllowedPattern"], SENDER)
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")
    synth.template.has_resource_properties("AWS::SES::ConfigurationSet", {"Name": NAMES["configuration_set"]})


def definition(synth) -> tuple[dict, dict]:
    _, machine = one(synth.resources("AWS::StepFunctions::StateMachine"))
    return machine["Properties"], machine


def test_state_machine_is_standard_logged_traced_and_invokes_only_its_tasks(synth, functions):
    props, _ = definition(synth)
    assert props["StateMachineName"] == NAMES["state_machine"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["DefinitionSubstitutions"] == {
        f"fn_{spec.name}": {"Fn::GetAtt": [functions[spec.name][0], "Arn"]} for spec in WORKFLOW_FUNCTIONS}

    role = props["RoleArn"]["Fn::GetAtt"][0]
    role_statements = [s for p in synth.resources("AWS::IAM::Policy").values()
                       if {"Ref": role} in p["Properties"]["Roles"]
                       for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (stmt,) = granted(role_statements, "lambda:InvokeFunction")
    assert sorted(stmt["Resource"], key=str) == sorted(
        ({"Fn::GetAtt": [functions[spec.name][0], "Arn"]} for spec in WORKFLOW_FUNCTIONS), key=str)


def test_workflow_definition_retries_every_task_and_catches_failures(synth):
    props, _ = definition(synth)
    text = props["DefinitionString"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(props["DefinitionSubstitutions"])
    for placeholder in props["DefinitionSubstitutions"]:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{placeholder}"
        text = text.replace("${" + placeholder + "}", arn)
    states = json.loads(text)["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert {t["Parameters"]["FunctionName"].rsplit(":", 1)[1] for t in tasks.values()} == {
        f"fn_{spec.name}" for spec in WORKFLOW_FUNCTIONS}
    for name, task in tasks.items():
        assert task["Retry"] and all(r["MaxAttempts"] > 0 for r in task["Retry"]), name
        for catch in task.get("Catch", []):
            assert catch["Next"] in states, name
        if not task["Parameters"]["FunctionName"].endswith(("fn_finish", "fn_cancellation_finish")):
            # a failing step is never the end: it is caught and recorded
            assert any("States.ALL" in c["ErrorEquals"] for c in task.get("Catch", [])), name


def test_each_job_runs_on_its_catalog_schedule_with_a_dead_letter_queue(synth, functions):
    rules = {rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: rule["Properties"]
             for rule in synth.resources("AWS::Events::Rule").values()}
    assert len(rules) == len(SCHEDULED_FUNCTIONS)
    expected = {"certificate_expiry": "cron(0 13 * * ? *)", "workflow_restart": "rate(5 minutes)"}
    assert {spec.name: spec.schedule for spec in SCHEDULED_FUNCTIONS} == expected
    for spec in SCHEDULED_FUNCTIONS:
        fn_id, fn = functions[spec.name]
        queue = logical_id(synth, "AWS::SQS::Queue", f"Jobs{construct_name(spec)}DeadLetters")
        rule = rules[fn_id]
        assert rule["ScheduleExpression"] == expected[spec.name]
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
        assert fn["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}}


def test_dead_letter_queues_are_encrypted_and_tls_only(synth):
    queues = synth.resources("AWS::SQS::Queue")
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    denied = set()
    for policy in synth.resources("AWS::SQS::QueuePolicy").values():
        for stmt in policy["Properties"]["PolicyDocument"]["Statement"]:
            if stmt["Effect"] == "Deny" and stmt["Condition"] == TLS_ONLY:
                denied |= {q["Ref"] for q in policy["Properties"]["Queues"]}
    assert denied == set(queues)


def test_alarms_cover_every_function_the_workflow_the_api_and_the_dlqs(synth, functions):
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]

    def watched(namespace: str, metric: str) -> list:
        return [d["Value"] for a in alarms if a["Namespace"] == namespace and a["MetricName"] == metric
                for d in a["Dimensions"]]

    assert sorted(watched("AWS/Lambda", "Errors"), key=str) == sorted(
        ({"Ref": lid} for lid, _ in functions.values()), key=str)
    machine = logical_id(synth, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")
    assert watched("AWS/States", "ExecutionsFailed") == [{"Ref": machine}]
    assert watched("AWS/ApiGateway", "5XXError") == [f"sello-{STAGE}"]
    queues = [logical_id(synth, "AWS::SQS::Queue", f"Jobs{construct_name(spec)}DeadLetters")
              for spec in SCHEDULED_FUNCTIONS]
    queues.append(logical_id(synth, "AWS::SQS::Queue", "IntegrationsStoreOrdersDeadLetters"))
    queues.append(logical_id(synth, "AWS::SQS::Queue", "EventsDeliveryDeadLetters"))
    assert sorted(watched("AWS/SQS", "ApproximateNumberOfMessagesVisible"), key=str) == sorted(
        ({"Fn::GetAtt": [queue, "QueueName"]} for queue in queues), key=str)
    for alarm in alarms:
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_store_orders_go_through_a_queue_with_a_dead_letter_queue_to_the_worker(synth, statements):
    queues = synth.template.find_resources("AWS::SQS::Queue")
    (orders_id,) = [name for name in queues if name.startswith("IntegrationsStoreOrders")
                    and "DeadLetters" not in name]
    (dead_id,) = [name for name in queues if name.startswith("IntegrationsStoreOrdersDeadLetters")]
    orders = queues[orders_id]["Properties"]
    assert orders["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]}, "maxReceiveCount": 5}
    assert orders["VisibilityTimeout"] == 6 * 120 and orders["SqsManagedSseEnabled"] is True
    (mapping,) = [m for m in synth.template.find_resources("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [orders_id, "Arn"]}]
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = synth.template.find_resources("AWS::CloudWatch::Alarm")
    assert any(a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_id, "QueueName"]}}]
               for a in alarms.values() if "Dimensions" in a["Properties"])
    # only the retry route and the stores' deliveries queue orders; only the worker reads them
    arn = {"Fn::GetAtt": [orders_id, "Arn"]}

    def users(action: str) -> set[str]:
        return {name for name, stmts in statements.items()
                if any(arn in as_list(s["Resource"]) for s in granted(stmts, action))}

    senders, readers = users("sqs:SendMessage"), users("sqs:ReceiveMessage")
    assert (senders, readers) == ({"integrations", "store_inbound"}, {"store_worker"})
