"""Where state lives: the single DynamoDB table (customer-managed key), the KMS key that wraps
certificate private keys, the bucket for signed XML and PDFs, and the secret that keys the paging
cursors."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from sello.adapters.blobs import issuer_key
from sello.catalog import TABLE, resource_names
from sello.services.logos import LOGO_FILE

from infra.function import SelloFunction
from infra.nag import acknowledge

STRING = dynamodb.AttributeType.STRING

# The DynamoDB actions each function uses (catalog name -> actions), from the repositories it calls:
# GetItem, Query, UpdateItem, PutItem and DeleteItem as named, and each item of a transaction as its
# own action (Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck ->
# ConditionCheckItem). No Scan, no batch operations, no streams, no DescribeTable. Keys cannot be
# narrowed further: a request reaches the partitions of the caller's account, which only the data
# in the request names (dynamodb:LeadingKeys would need the account in the role).
TABLE_ACTIONS: dict[str, frozenset[str]] = {
    # the key's lookup item, then its account
    "authorizer": frozenset({"GetItem"}),
    # sign-up (account + unique email, or both removed when the mail fails), confirmation (code
    # attempts; account activated with its first key), API keys (listed; created, revoked while
    # another stays active, rotated)
    "accounts": frozenset({"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"}),
    # issuers and their unique tax ids, certificates (record, issuer summary, account for its email)
    "issuers": frozenset({"GetItem", "Query", "PutItem", "UpdateItem"}),
    # store integrations (one item each, listed through the index) and their orders' records
    "integrations": frozenset({"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"}),
    # a store's delivery: its integration, then the order's record (created or updated in place)
    "store_inbound": frozenset({"GetItem", "UpdateItem"}),
    # a queued order: its integration and record, then the document as the documents function issues it
    "store_worker": frozenset({"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"}),
    # documents, their numbers, idempotency claims (released on failure), pending-start marks; lists
    # through the index
    "documents": frozenset({"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"}),
    # webhook endpoints: registered, listed, changed, deleted
    "webhooks": frozenset({"GetItem", "Query", "PutItem", "DeleteItem"}),
    # each task reads its document and records its step on it; sign also reads the issuer and its
    # certificate
    **{name: frozenset({"GetItem", "UpdateItem"}) for name in ("sign", "submit", "poll", "render", "notify",
                                                               "cancel", "cancellation_status")},
    # ... and the two that end a document's or a cancellation's run record its event and read the
    # account's webhook endpoints (services/events.py)
    **{name: frozenset({"GetItem", "UpdateItem", "PutItem", "Query"}) for name in ("finish", "cancellation_finish")},
    # certificates by expiry day (index), each warning claimed (or released) on the certificate; the
    # issuer and account for the address
    "certificate_expiry": frozenset({"GetItem", "Query", "UpdateItem", "PutItem"}),  # PutItem: events
    # the event and endpoint of each try, the try recorded, the endpoint's failures and disabling;
    # the account of a disabled endpoint's owner
    "deliver": frozenset({"GetItem", "PutItem"}),
    # the pending marks, each document marked started and its mark removed
    "workflow_restart": frozenset({"Query", "UpdateItem", "DeleteItem"}),
}
QUERIES_INDEX = frozenset({"documents", "certificate_expiry", "integrations"})
# The objects of issuers' files: their logos, whatever the account and issuer.
ISSUER_FILES = issuer_key("*", "*", LOGO_FILE)
WRITE_ACTIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        names = resource_names(stage, Stack.of(self).account)

        self.table_key = kms.Key(self, "TableKey", enable_key_rotation=True,
                                 description=f"sello-{stage}: DynamoDB table encryption",
                                 removal_policy=RemovalPolicy.RETAIN)
        self.table = dynamodb.Table(
            self, "Table",
            table_name=names["table"],
            partition_key=dynamodb.Attribute(name=TABLE.partition_key, type=STRING),
            sort_key=dynamodb.Attribute(name=TABLE.sort_key, type=STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.table_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=TABLE.ttl_attribute,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=TABLE.gsi_name,
            partition_key=dynamodb.Attribute(name=TABLE.gsi_partition_key, type=STRING),
            sort_key=dynamodb.Attribute(name=TABLE.gsi_sort_key, type=STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

        self.key_alias = names["key_alias"]
        self.certificate_key = kms.Key(
            self, "CertificateKey", enable_key_rotation=True, alias=self.key_alias,
            description=f"sello-{stage}: wraps the data keys of certificate private keys",
            removal_policy=RemovalPolicy.RETAIN)

        access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self, "Documents",
            bucket_name=names["bucket"],
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90),
                                              abort_incomplete_multipart_upload_after=Duration.days(7))],
            removal_policy=RemovalPolicy.RETAIN,
        )

        # The key of the paging cursors (sello/adapters/cursors.py): generated by CloudFormation, read
        # only by the functions that hand out cursors. Cursors are short-lived, so nothing is kept
        # when the stack goes.
        self.cursor_key = secretsmanager.Secret(
            self, "CursorKey", description=f"sello-{stage}: the key of the paging cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64,
                                                                        exclude_punctuation=True),
            removal_policy=RemovalPolicy.DESTROY)
        acknowledge(self.cursor_key, "AwsSolutions-SMG4",
                    "Rotating the cursor key only invalidates the paging cursors handed out before (their "
                    "clients start the list again); an operator can set a new value at any time, and no "
                    "rotation function is worth keeping for it.")

    def grant_table(self, fn: SelloFunction, function: str) -> None:
        """The DynamoDB actions `function` (a catalog name) uses (TABLE_ACTIONS), on the table, and
        Query on its index for those that query it; the table key's actions DynamoDB needs for them."""
        actions = TABLE_ACTIONS[function]
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in sorted(actions)], resources=[self.table.table_arn]))
        if function in QUERIES_INDEX:
            fn.role.add_to_principal_policy(iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{self.table.table_arn}/index/{TABLE.gsi_name}"]))
        writes = bool(actions & WRITE_ACTIONS)
        # The key actions CDK's own table grants add for reading, or reading and writing, items
        # encrypted with a customer-managed key.
        key_actions = ["kms:Decrypt", "kms:DescribeKey"]
        if writes:
            key_actions += ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
        fn.role.add_to_principal_policy(iam.PolicyStatement(actions=key_actions,
                                                            resources=[self.table_key.key_arn]))
        fn.function.add_environment("SELLO_TABLE_NAME", self.table.table_name)
        if writes:
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
                acknowledge(fn.role, f"AwsSolutions-IAM5[Action::{action}]",
                            "Scoped to the table's own KMS key: DynamoDB needs these to write items "
                            "encrypted with a customer-managed key (the set CDK's table grant uses).")

    def grant_documents(self, fn: SelloFunction, *, write: bool = True) -> None:
        actions = ["s3:GetObject", "s3:PutObject"] if write else ["s3:GetObject"]
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=actions, resources=[self.bucket.arn_for_objects("*")]))
        self._grant_listing(fn)
        fn.function.add_environment("SELLO_BUCKET_NAME", self.bucket.bucket_name)
        acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::<{self._logical_id(self.bucket)}.Arn>/*]",
                    "Object keys are made per document at run time (account/document id), so "
                    f"{'reads and writes cover' if write else 'reads cover'} the objects of this one bucket; "
                    "no bucket-level or delete actions.")

    def _grant_listing(self, fn: SelloFunction) -> None:
        """s3:ListBucket on the bucket, so that reading an object that does not exist (an issuer without a
        logo) answers 404 NoSuchKey, which the functions expect, and not 403 AccessDenied, which is what
        S3 answers a role that may not list the bucket."""
        fn.role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListBucket"],
                                                            resources=[self.bucket.bucket_arn]))

    def grant_issuer_files(self, fn: SelloFunction) -> None:
        """Reads, writes and deletes issuers' files (their logos), and no other object."""
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            resources=[self.bucket.arn_for_objects(ISSUER_FILES)]))
        self._grant_listing(fn)
        fn.function.add_environment("SELLO_BUCKET_NAME", self.bucket.bucket_name)
        bucket = self._logical_id(self.bucket)
        acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{ISSUER_FILES}]",
                    "Object keys are made per account and issuer at run time; the grant covers the issuers' "
                    "logos in this one bucket and no other object.")

    def grant_cursor_key(self, fn: SelloFunction) -> None:
        """Reading the cursor key's value, which is all a function needs to seal and open cursors."""
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[self.cursor_key.secret_arn]))
        fn.function.add_environment("SELLO_CURSOR_KEY_SECRET", self.cursor_key.secret_arn)

    def grant_certificate_key(self, fn: SelloFunction, *actions: str) -> None:
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(actions), resources=[self.certificate_key.key_arn]))
        fn.function.add_environment("SELLO_KEY_ID", self.key_alias)

    @staticmethod
    def _logical_id(construct: Construct) -> str:
        return Stack.of(construct).get_logical_id(construct.node.default_child)

