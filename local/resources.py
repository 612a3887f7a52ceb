"""Creates, in the emulator, the resources the CDK app declares: same names, keys and settings
(catalog.py is the source of names and keys; tests/infra/test_local_parity.py holds the settings
against the synthesized template). The emulator records the settings without acting on them (no
backups, no key rotation, no expiry).

Left out on purpose: the documents bucket's TLS-only policy, because the emulator evaluates a bucket
policy's conditions without looking at the request, so `Deny unless aws:SecureTransport` would deny
every request (and the local endpoints are plain HTTP); the bucket of S3 server access logs (the
emulator delivers none); log groups and alarms; the API itself (local/gateway.py stands in, and
applies the usage plans created here)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from moto.core import DEFAULT_ACCOUNT_ID

from sello.adapters import aws
from sello.catalog import TABLE, WORKFLOW_FUNCTIONS, function_name, resource_names
from sello.plans import PLANS, usage_plan_name

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID  # the emulator's account: ARNs it returns use it too
ASL_FILE = Path(__file__).resolve().parent.parent / "infra" / "workflow.asl.json"


def function_arn(stage: str, name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(stage, name)}"


def asl_substitutions(stage: str) -> dict[str, str]:
    """Values for the ${...} placeholders of the ASL file (the CDK app passes the deployed ARNs)."""
    return {f"fn_{spec.name}": function_arn(stage, spec.name) for spec in WORKFLOW_FUNCTIONS}


def create_table(name: str, key_arn: str) -> None:
    """On demand, the one GSI, TTL, point-in-time recovery, encrypted with its own KMS key."""
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"}
            for a in (TABLE.partition_key, TABLE.sort_key, TABLE.gsi_partition_key, TABLE.gsi_sort_key)
        ],
        KeySchema=[{"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
                   {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": TABLE.gsi_name,
            "KeySchema": [{"AttributeName": TABLE.gsi_partition_key, "KeyType": "HASH"},
                          {"AttributeName": TABLE.gsi_sort_key, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": TABLE.ttl_attribute})
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})


def create_key(description: str) -> str:
    """A symmetric key with yearly rotation; returns its ARN."""
    kms = aws.client("kms")
    key = kms.create_key(Description=description, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["Arn"]


def create_bucket(name: str) -> None:
    """Private (owner-enforced, public access blocked), S3-encrypted and versioned; old versions
    expire after 90 days and abandoned multipart uploads after 7."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [{
        "ID": "versions-and-uploads", "Filter": {"Prefix": ""}, "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]})


def create_usage_plans(stage: str) -> dict[str, str]:
    """One usage plan per plan (sello.plans) with its throttle and quota; returns plan -> usage plan
    name, what the accounts function is given."""
    apigateway = aws.client("apigateway")
    names = {}
    for plan in PLANS.values():
        names[plan.name] = usage_plan_name(stage, plan.name)
        apigateway.create_usage_plan(
            name=names[plan.name], description=f"Sello {plan.name} plan: the limits of each account on it",
            throttle={"rateLimit": plan.throttle.rate, "burstLimit": plan.throttle.burst},
            quota={"limit": plan.quota, "period": plan.period})
    return names


def create_resources(stage: str, sender: str) -> dict[str, str]:
    """Creates everything and returns the environment variables the functions read."""
    names = resource_names(stage, ACCOUNT)
    create_table(names["table"], create_key(f"sello-{stage}: DynamoDB table encryption"))
    create_bucket(names["bucket"])
    certificate_key = create_key(f"sello-{stage}: wraps the data keys of certificate private keys")
    aws.client("kms").create_alias(AliasName=names["key_alias"], TargetKeyId=certificate_key)
    ses = aws.client("sesv2")
    ses.create_email_identity(EmailIdentity=sender)
    ses.create_configuration_set(
        ConfigurationSetName=names["configuration_set"],
        ReputationOptions={"ReputationMetricsEnabled": True},
        SuppressionOptions={"SuppressedReasons": ["BOUNCE", "COMPLAINT"]})
    # The paging cursors' key, a new random value at each start (the CDK app has one generated, under a
    # name CloudFormation picks, and passes its ARN).
    cursor_key = aws.client("secretsmanager").create_secret(
        Name=f"sello-{stage}-cursor-key", Description=f"sello-{stage}: the key of the paging cursors",
        SecretString=secrets.token_urlsafe(48))["ARN"]
    env = {
        "SELLO_TABLE_NAME": names["table"],
        "SELLO_BUCKET_NAME": names["bucket"],
        "SELLO_KEY_ID": names["key_alias"],
        "SELLO_SENDER_EMAIL": sender,
        "SELLO_SES_CONFIGURATION_SET": names["configuration_set"],
        "SELLO_USAGE_PLANS": json.dumps(create_usage_plans(stage)),
        "SELLO_CURSOR_KEY_SECRET": cursor_key,
        # No store orders queue: the local stack issues a store order's documents as it is received
        # (services/store_orders.default_service).
        "SELLO_STORE_ORDERS_QUEUE_URL": "",
    }
    # Outgoing events: the deliveries queue and its dead letters (infra/events.py); locally a poller
    # thread consumes the queue (local/deliveries.py), since the emulator hands delayed messages to no
    # function.
    sqs = aws.client("sqs")
    dead_letters = sqs.create_queue(QueueName=f"sello-{stage}-event-dead-letters")["QueueUrl"]
    env["SELLO_EVENTS_QUEUE_URL"] = sqs.create_queue(QueueName=f"sello-{stage}-events")["QueueUrl"]
    env["SELLO_EVENTS_DEAD_LETTER_URL"] = dead_letters
    definition = ASL_FILE.read_text()
    for placeholder, value in asl_substitutions(stage).items():
        definition = definition.replace("${" + placeholder + "}", value)
    sm = aws.client("stepfunctions").create_state_machine(
        name=names["state_machine"], definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sello-{stage}-workflow", type="STANDARD",
        tracingConfiguration={"enabled": True})
    env["SELLO_STATE_MACHINE_ARN"] = sm["stateMachineArn"]
    return env
