"""One Lambda function per catalog entry: thin handler code from functions/, the shared layer,
its own role (no managed policies) and its own log group."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from sello.catalog import FunctionSpec, function_name

from infra.layer import ARCHITECTURE, HANDLER_PATH, IGNORED, ROOT, RUNTIME, compile_bytecode
from infra.nag import acknowledge

SERVICE_NAME = "sello"


def construct_name(spec: FunctionSpec) -> str:
    """certificate_expiry -> CertificateExpiry"""
    return "".join(part.capitalize() for part in spec.name.split("_"))


@jsii.implements(ILocalBundling)
class HandlerBundling:
    """Local bundling of the handlers: the functions/ folder with its CPython 3.13 bytecode, like the
    layer's (/var/task is read-only too: without it every cold start compiles its handler again)."""

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:  # options: nothing to read
        shutil.copytree(ROOT / "functions", output_dir, ignore=IGNORED, dirs_exist_ok=True)
        compile_bytecode(Path(output_dir), HANDLER_PATH)
        return True


def handler_code() -> lambda_.Code:
    """The functions/ folder, shared by every function (one asset)."""
    return lambda_.Code.from_asset(str(ROOT / "functions"), exclude=["**/__pycache__", "*.pyc"],
                                   bundling=BundlingOptions(image=RUNTIME.bundling_image, local=HandlerBundling()))


class SelloFunction(Construct):
    """A function from a catalog FunctionSpec. Grants and the environment variables that go with
    them are added by the construct that owns each resource (see Data.grant_*, Mail.grant_send)."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: FunctionSpec, stage: str,
                 code: lambda_.Code, layer: lambda_.ILayerVersion,
                 dead_letter_queue: sqs.IQueue | None = None) -> None:
        super().__init__(scope, construct_id)
        self.name = name = function_name(stage, spec.name)
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/lambda/{name}", retention=logs.RetentionDays.ONE_MONTH,
            # A named group left behind would make the next deployment of the same stage fail.
            removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"{name}: only what this function uses")
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Function",
            function_name=name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            layers=[layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            role=self.role,
            log_group=self.log_group,
            dead_letter_queue=dead_letter_queue,
            environment={"POWERTOOLS_SERVICE_NAME": SERVICE_NAME},
        )
        acknowledge(self.function, "AwsSolutions-L1",
                    "python3.13 on purpose: the layer's wheels (lxml, cryptography, pydantic-core) are built "
                    "for cp313 on arm64, so a newer runtime is a deliberate upgrade of layer and functions.")
