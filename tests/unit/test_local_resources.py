"""The resources the local stack creates, read back from the emulator: the settings the CDK app
declares (tests/infra/test_local_parity.py compares them with the synthesized template)."""

from __future__ import annotations

from local import resources
from sello.adapters import aws as aws_clients
from sello.catalog import TABLE, resource_names

NAMES = resource_names("test", resources.ACCOUNT)


def test_table_has_point_in_time_recovery_ttl_and_its_own_rotating_kms_key(aws):
    ddb = aws_clients.client("dynamodb")
    backups = ddb.describe_continuous_backups(TableName=NAMES["table"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=NAMES["table"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TABLE.ttl_attribute)

    table = ddb.describe_table(TableName=NAMES["table"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    sse = table["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    kms = aws_clients.client("kms")
    table_key = kms.describe_key(KeyId=sse["KMSMasterKeyArn"])["KeyMetadata"]
    assert table_key["Description"] == "sello-test: DynamoDB table encryption"
    assert kms.get_key_rotation_status(KeyId=table_key["KeyId"])["KeyRotationEnabled"] is True
    certificate_key = kms.describe_key(KeyId=NAMES["key_alias"])["KeyMetadata"]
    assert certificate_key["KeyId"] != table_key["KeyId"]  # the certificate key is for certificates only


def test_certificate_key_rotates_and_has_the_catalog_alias(aws):
    kms = aws_clients.client("kms")
    key = kms.describe_key(KeyId=aws["SELLO_KEY_ID"])["KeyMetadata"]
    assert aws["SELLO_KEY_ID"] == NAMES["key_alias"]
    assert (key["KeyUsage"], key["KeySpec"], key["Enabled"]) == ("ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", True)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True


def test_documents_bucket_is_private_encrypted_versioned_with_lifecycle(aws):
    s3 = aws_clients.client("s3")
    bucket = aws["SELLO_BUCKET_NAME"]
    assert bucket == NAMES["bucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}
    (ownership,) = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_bucket_settings_do_not_get_in_the_way_of_the_functions(aws):
    s3 = aws_clients.client("s3")
    bucket = aws["SELLO_BUCKET_NAME"]
    first = s3.put_object(Bucket=bucket, Key="acc/doc/a.xml", Body=b"<a/>")["VersionId"]
    s3.put_object(Bucket=bucket, Key="acc/doc/a.xml", Body=b"<b/>")
    assert s3.get_object(Bucket=bucket, Key="acc/doc/a.xml")["Body"].read() == b"<b/>"
    assert s3.get_object(Bucket=bucket, Key="acc/doc/a.xml", VersionId=first)["Body"].read() == b"<a/>"


def test_configuration_set_tracks_reputation_and_suppresses_bounces_and_complaints(aws):
    config = aws_clients.client("sesv2").get_configuration_set(
        ConfigurationSetName=aws["SELLO_SES_CONFIGURATION_SET"])
    assert config["ConfigurationSetName"] == NAMES["configuration_set"]
    assert config["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert sorted(config["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]


def test_state_machine_is_standard_and_traced(aws):
    machine = aws_clients.client("stepfunctions").describe_state_machine(
        stateMachineArn=aws["SELLO_STATE_MACHINE_ARN"])
    assert machine["name"] == NAMES["state_machine"]
    assert machine["type"] == "STANDARD"
    assert machine["tracingConfiguration"] == {"enabled": True}
