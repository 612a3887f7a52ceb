"""Outgoing email: the SES configuration set and the sender address.

The sender is the CloudFormation parameter `SenderEmail` (deploy with
`--parameters SenderEmail=billing@example.com`, or set the context value `sender_email` to give the
parameter a default). Its address or its domain must be a verified SES identity in the account;
functions may only send from that address, through the configuration set."""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnParameter, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct
from sello.catalog import resource_names

from infra.function import SelloFunction

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Mail(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        default = self.node.try_get_context("sender_email")
        self.sender = CfnParameter(
            stack, "SenderEmail", type="String", allowed_pattern=EMAIL_PATTERN, default=default,
            constraint_description="an email address",
            description="From address of every email Sello sends; the address or its domain must be a "
                        "verified SES identity",
        ).value_as_string
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet",
            configuration_set_name=resource_names(stage, stack.account)["configuration_set"],
            reputation_metrics=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        domain = Fn.select(1, Fn.split("@", self.sender))
        self._resources = [
            self._arn("identity", self.sender),
            self._arn("identity", domain),
            self._arn("configuration-set", self.configuration_set.configuration_set_name),
        ]

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="ses", resource=resource, resource_name=name,
                                         arn_format=ArnFormat.SLASH_RESOURCE_NAME)

    def grant_send(self, fn: SelloFunction) -> None:
        """ses:SendEmail from the sender address only, through the configuration set."""
        fn.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ses:SendEmail"], resources=self._resources,
            conditions={"StringEquals": {"ses:FromAddress": self.sender}}))
        fn.function.add_environment("SELLO_SENDER_EMAIL", self.sender)
        fn.function.add_environment("SELLO_SES_CONFIGURATION_SET",
                                    self.configuration_set.configuration_set_name)
