"""The local stack against the synthesized template: what local/resources.py creates in the emulator
for a stage has the names, keys and settings the CDK app declares for that stage, and the local
gateway answers a Deny as the declared gateway response does."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from local import resources
from local.gateway import Gateway
from sello.adapters import aws as aws_clients
from sello.catalog import API_FUNCTIONS
from tests.infra.conftest import ACCOUNT, SENDER, STAGE

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def only(synth, type_: str) -> dict:
    """Properties of the one resource of that type (or, for buckets, the one with a name)."""
    found = [r["Properties"] for r in synth.resources(type_).values()
             if type_ != "AWS::S3::Bucket" or "BucketName" in r["Properties"]]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def local(aws) -> dict[str, str]:
    """The environment of the same stage as the template, created in the emulator."""
    assert resources.ACCOUNT == ACCOUNT  # names carry the account: both sides use the same one
    return resources.create_resources(STAGE, SENDER)


def test_table_name_keys_index_ttl_and_recovery(synth, local):
    template = only(synth, "AWS::DynamoDB::Table")
    ddb = aws_clients.client("dynamodb")
    table = ddb.describe_table(TableName=local["SELLO_TABLE_NAME"])["Table"]
    assert table["TableName"] == template["TableName"]
    assert table["KeySchema"] == template["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(template["AttributeDefinitions"], key=str)
    assert table["BillingModeSummary"]["BillingMode"] == template["BillingMode"]
    ((gsi,), (template_gsi,)) = table["GlobalSecondaryIndexes"], template["GlobalSecondaryIndexes"]
    assert (gsi["IndexName"], gsi["KeySchema"], gsi["Projection"]) == (
        template_gsi["IndexName"], template_gsi["KeySchema"], template_gsi["Projection"])
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert {"AttributeName": ttl["AttributeName"], "Enabled": ttl["TimeToLiveStatus"] == "ENABLED"} == (
        template["TimeToLiveSpecification"])
    pitr = ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
    assert (pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED") is (
        template["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"])
    assert table["SSEDescription"]["SSEType"] == template["SSESpecification"]["SSEType"]


def test_keys_alias_descriptions_and_rotation(synth, local):
    kms = aws_clients.client("kms")
    alias = only(synth, "AWS::KMS::Alias")["AliasName"]
    assert local["SELLO_KEY_ID"] == alias
    assert alias in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}

    declared = {k["Properties"]["Description"]: k["Properties"]["EnableKeyRotation"]
                for k in synth.resources("AWS::KMS::Key").values()}
    created = {}
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata["Description"].startswith(f"sello-{STAGE}:"):
            created[metadata["Description"]] = kms.get_key_rotation_status(
                KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert created == declared
    table_key = aws_clients.client("dynamodb").describe_table(TableName=local["SELLO_TABLE_NAME"])[
        "Table"]["SSEDescription"]["KMSMasterKeyArn"]
    assert kms.describe_key(KeyId=table_key)["KeyMetadata"]["Description"] == next(
        d for d in declared if "DynamoDB" in d)


def test_documents_bucket_settings(synth, local):
    template = only(synth, "AWS::S3::Bucket")
    s3 = aws_clients.client("s3")
    bucket = local["SELLO_BUCKET_NAME"]
    assert bucket == template["BucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == template["VersioningConfiguration"]["Status"]
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    (declared,) = template["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ApplyServerSideEncryptionByDefault"] == declared["ServerSideEncryptionByDefault"]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == (
        template["PublicAccessBlockConfiguration"])
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership == template["OwnershipControls"]
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    (declared,) = template["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == declared["Status"]
    assert lifecycle["AbortIncompleteMultipartUpload"] == declared["AbortIncompleteMultipartUpload"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == (
        declared["NoncurrentVersionExpiration"]["NoncurrentDays"])


def test_state_machine_and_configuration_set(synth, local):
    template = only(synth, "AWS::StepFunctions::StateMachine")
    machine = aws_clients.client("stepfunctions").describe_state_machine(
        stateMachineArn=local["SELLO_STATE_MACHINE_ARN"])
    assert machine["name"] == template["StateMachineName"]
    assert machine["type"] == template["StateMachineType"]
    assert machine["tracingConfiguration"]["enabled"] is template["TracingConfiguration"]["Enabled"]

    template = only(synth, "AWS::SES::ConfigurationSet")
    config = aws_clients.client("sesv2").get_configuration_set(
        ConfigurationSetName=local["SELLO_SES_CONFIGURATION_SET"])
    assert config["ConfigurationSetName"] == template["Name"]
    assert config["ReputationOptions"]["ReputationMetricsEnabled"] is (
        template["ReputationOptions"]["ReputationMetricsEnabled"])
    assert sorted(config["SuppressionOptions"]["SuppressedReasons"]) == sorted(
        template["SuppressionOptions"]["SuppressedReasons"])


@pytest.mark.parametrize("context", [
    {"error_code": "api_key_revoked", "error_message": "This API key has been revoked."},
    {},  # a Deny that gives no reason: both answer with empty values, neither invents one
], ids=["with a reason", "without"])
def test_a_deny_answers_the_same_locally_and_deployed(synth, context):
    (declared,) = [r["Properties"] for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()
                   if r["Properties"]["ResponseType"] == "ACCESS_DENIED"]
    body = declared["ResponseTemplates"]["application/json"]
    for key in ("error_code", "error_message"):  # API Gateway's substitution
        body = body.replace(f"$context.authorizer.{key}", context.get(key, ""))
    assert "$context" not in body

    def deny(name: str, event: dict) -> dict:
        assert name == "authorizer"
        statement = {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [event["methodArn"]]}
        return {"principalId": "denied", "context": context,
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}

    answer = Client(Gateway(invoke=deny)).get("/v1/api-keys", headers={"Authorization": "Bearer sk_test_x"})
    assert (answer.status_code, answer.json) == (int(declared["StatusCode"]), json.loads(body))


def test_the_routes_without_a_key_are_the_same_locally(synth):
    """Each method the template leaves without authorization reaches, locally too, the same function
    without any key; another method on the same path needs a key locally, as the template's ANY
    method behind the authorizer does (tests/infra/test_stack.py); where the template has no ANY method
    (the stores' inbound URL) another method is route_not_found in both."""
    resources = synth.resources("AWS::ApiGateway::Resource")
    functions = {lid: r["Properties"]["FunctionName"].removeprefix(f"sello-{STAGE}-")
                 for lid, r in synth.resources("AWS::Lambda::Function").items()}

    def path(resource_id) -> str:
        if "Ref" not in resource_id:
            return ""
        props = resources[resource_id["Ref"]]["Properties"]
        return f"{path(props['ParentId'])}/{props['PathPart']}"

    open_methods, any_methods = {}, set()
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "ANY":
            any_methods.add(path(props["ResourceId"]) or "/")
        if props["AuthorizationType"] == "NONE":
            uri = json.dumps(props["Integration"]["Uri"])
            (owner,) = [name for lid, name in functions.items() if f'"{lid}"' in uri]
            open_methods[(props["HttpMethod"], path(props["ResourceId"]) or "/")] = owner
    assert ("GET", "/") in open_methods and ("POST", "/v1/accounts") in open_methods
    for (method, route), owner in open_methods.items():
        called = []

        def invoke(name: str, event: dict, called=called) -> dict:
            called.append(name)
            return {"statusCode": 200, "body": "{}"}

        client = Client(Gateway(invoke=invoke))
        assert client.open(route, method=method).status_code == 200, (method, route)
        assert called == [owner], (method, route)
        other = "DELETE" if method != "DELETE" else "PATCH"
        assert client.open(route, method=other).status_code == (401 if route in any_methods else 404), (other, route)


def test_api_functions_find_their_settings_in_the_local_environment(synth, local):
    """Locally every function runs in one process with the environment create_resources returns: each
    SELLO_ variable a deployed API function is given is there as well (the state machine ARN the
    documents function starts workflows with, among them)."""
    api = {spec.name for spec in API_FUNCTIONS}
    checked = set()
    for resource in synth.resources("AWS::Lambda::Function").values():
        name = resource["Properties"]["FunctionName"].removeprefix(f"sello-{STAGE}-")
        if name in api:
            variables = resource["Properties"]["Environment"]["Variables"]
            deployed = {k for k in variables if k.startswith("SELLO_")}
            assert deployed <= set(local), (name, deployed - set(local))
            checked.add(name)
    assert checked == api
    assert "SELLO_STATE_MACHINE_ARN" in local


def test_usage_plans_have_the_templates_names_throttles_and_quotas(synth, local):
    declared = {p["Properties"]["UsagePlanName"]: (p["Properties"]["Throttle"], p["Properties"]["Quota"])
                for p in synth.resources("AWS::ApiGateway::UsagePlan").values()}
    created = {p["name"]: ({"RateLimit": p["throttle"]["rateLimit"], "BurstLimit": p["throttle"]["burstLimit"]},
                           {"Limit": p["quota"]["limit"], "Period": p["quota"]["period"]})
               for p in aws_clients.client("apigateway").get_usage_plans()["items"]
               if p["name"].startswith(f"sello-{STAGE}-")}
    assert created == declared
    assert set(json.loads(local["SELLO_USAGE_PLANS"]).values()) == set(declared)
