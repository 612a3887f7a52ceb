"""The document workflow: one function per task and the Standard state machine defined by
infra/workflow.asl.json (the same file the local stack runs); its ${fn_<name>} placeholders
become the functions' ARNs."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from sello.catalog import WORKFLOW_FUNCTIONS, resource_names
from sello.settings import Settings

from infra.data import Data
from infra.function import SelloFunction, construct_name
from infra.mail import Mail
from infra.nag import acknowledge

ASL_FILE = Path(__file__).resolve().parent / "workflow.asl.json"
DECRYPTS_CERTIFICATE_KEYS = {"sign", "cancel"}  # cancel signs the cancellation request
SENDS_EMAIL = {"notify", "cancellation_finish"}
# Call the tax authority; its endpoints come from the context values of the same names (e.g.
# `-c sri_test_url=...`), by default the settings' own.
CALLS_AUTHORITY = {"submit", "poll", "cancel"}
AUTHORITY_URLS = ("sri_test_url", "sri_live_url", "sw_test_url", "sw_live_url", "sw_test_api_url",
                  "sw_live_api_url")
# Ask SAT's public status service (no credentials): its URL from the context value `sat_status_url`.
ASKS_STATUS = {"cancellation_status"}
# Mexico: the PAC account's credentials ("user:password"), one secret per environment. The stack
# creates them with a placeholder; an operator puts the PAC's values in (README, Deployment).
PAC_CREDENTIALS = {"test": "PacTestCredentials", "live": "PacLiveCredentials"}


class Workflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, data: Data, mail: Mail) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, SelloFunction] = {}
        self.pac_credentials = {}
        for environment, name in PAC_CREDENTIALS.items():
            secret = secretsmanager.Secret(
                self, name, description=f"sello-{stage}: the PAC's (SW Sapien) {environment} credentials, "
                                        f"user:password",
                generate_secret_string=secretsmanager.SecretStringGenerator(password_length=32,
                                                                            exclude_punctuation=True))
            acknowledge(secret, "AwsSolutions-SMG4",
                        "The PAC account's credentials are issued by the PAC (SW Sapien) and changed in its "
                        "portal; an operator puts them here. No rotation function can change them.")
            self.pac_credentials[environment] = secret
        for spec in WORKFLOW_FUNCTIONS:
            fn = SelloFunction(self, construct_name(spec), spec=spec, stage=stage, code=code, layer=layer)
            data.grant_table(fn, spec.name)
            data.grant_documents(fn)
            if spec.name in DECRYPTS_CERTIFICATE_KEYS:
                data.grant_certificate_key(fn, "kms:Decrypt")
            if spec.name in SENDS_EMAIL:
                mail.grant_send(fn)
            if spec.name in CALLS_AUTHORITY:
                for setting in AUTHORITY_URLS:
                    url = self.node.try_get_context(setting) or Settings.model_fields[setting].default
                    fn.function.add_environment(f"SELLO_{setting.upper()}", url)
                for environment, secret in self.pac_credentials.items():
                    secret.grant_read(fn.function)
                    fn.function.add_environment(f"SELLO_SW_{environment.upper()}_CREDENTIALS_SECRET",
                                                secret.secret_arn)
            if spec.name in ASKS_STATUS:
                url = self.node.try_get_context("sat_status_url") or Settings.model_fields["sat_status_url"].default
                fn.function.add_environment("SELLO_SAT_STATUS_URL", url)
            self.functions[spec.name] = fn

        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                        description=f"sello-{stage} workflow: invokes its task functions")
        role.add_to_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[fn.function.function_arn for fn in self.functions.values()]))
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            state_machine_name=resource_names(stage, Stack.of(self).account)["state_machine"],
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (DefinitionString), so the template alone shows the whole workflow.
            definition_body=sfn.DefinitionBody.from_string(ASL_FILE.read_text()),
            definition_substitutions={f"fn_{name}": fn.function.function_arn
                                      for name, fn in self.functions.items()},
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,  # payloads carry customer and tax data
            ),
        )
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "Only the X-Ray (PutTraceSegments, GetSampling*) and CloudWatch Logs delivery actions "
                    "that Step Functions needs for tracing and logging; AWS does not support "
                    "resource-level permissions for them.")

    def grant_start(self, fn: SelloFunction) -> None:
        """Lets `fn` start executions of the state machine (services/documents.py starts one per document)."""
        self.state_machine.grant_start_execution(fn.function)
        fn.function.add_environment("SELLO_STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
