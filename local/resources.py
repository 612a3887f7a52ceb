"""Creates, in the emulator, the resources the CDK app declares: same names, keys and settings
(catalog.py is the source of both)."""

from __future__ import annotations

import json
from pathlib import Path

from moto.core import DEFAULT_ACCOUNT_ID

from sello.adapters import aws
from sello.catalog import TABLE, WORKFLOW_FUNCTIONS, resource_names

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID  # the emulator's account: ARNs it returns use it too
ASL_FILE = Path(__file__).resolve().parent.parent / "infra" / "workflow.asl.json"


def function_name(stage: str, name: str) -> str:
    return f"sello-{stage}-{name}"


def function_arn(stage: str, name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(stage, name)}"


def asl_substitutions(stage: str) -> dict[str, str]:
    """Values for the ${...} placeholders of the ASL file (the CDK app passes the deployed ARNs)."""
    return {f"fn_{spec.name}": function_arn(stage, spec.name) for spec in WORKFLOW_FUNCTIONS}


def create_table(name: str) -> None:
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
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": TABLE.ttl_attribute})


def create_resources(stage: str, sender: str, asl: dict[str, str] | None = None) -> dict[str, str]:
    """Creates everything and returns the environment variables the functions read."""
    names = resource_names(stage, ACCOUNT)
    create_table(names["table"])
    aws.client("s3").create_bucket(Bucket=names["bucket"])
    kms = aws.client("kms")
    key_id = kms.create_key(Description="Sello certificate private keys", KeyUsage="ENCRYPT_DECRYPT")[
        "KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=names["key_alias"], TargetKeyId=key_id)
    ses = aws.client("sesv2")
    ses.create_email_identity(EmailIdentity=sender)
    ses.create_configuration_set(ConfigurationSetName=names["configuration_set"])
    env = {
        "SELLO_STAGE": stage,
        "SELLO_TABLE_NAME": names["table"],
        "SELLO_BUCKET_NAME": names["bucket"],
        "SELLO_KEY_ID": names["key_alias"],
        "SELLO_SENDER_EMAIL": sender,
        "SELLO_SES_CONFIGURATION_SET": names["configuration_set"],
    }
    if ASL_FILE.exists():
        definition = ASL_FILE.read_text()
        for placeholder, value in (asl or {}).items():
            definition = definition.replace("${" + placeholder + "}", value)
        sm = aws.client("stepfunctions").create_state_machine(
            name=names["state_machine"], definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/sello-{stage}-workflow", type="STANDARD")
        env["SELLO_STATE_MACHINE_ARN"] = sm["stateMachineArn"]
    return env


def dumps(env: dict[str, str]) -> str:
    return json.dumps(env, indent=2, sort_keys=True)
