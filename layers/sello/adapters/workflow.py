"""Starts the document workflow (Step Functions). A document's first execution is named after the
document, and the execution of its n-th retry (services/documents.py, retry) `<document id>-<n>`, so
starting the same one twice (a retried API call, a replayed event, the scheduled restart) never runs
it twice. A cancellation of the document runs the same state machine with `"action": "cancel"` in its
input, named `<document id>-cancel-<n>` for its n-th request (a rejected cancellation can be requested
again)."""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from sello.adapters import aws

# Step Functions execution names: 1-80 characters, no whitespace, brackets, wildcards or punctuation.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def execution_name(document_id: str, round_: int = 0) -> str:
    name = f"{document_id}-{round_}" if round_ else document_id
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} cannot name a workflow execution")
    return name


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str):
        self.state_machine_arn = state_machine_arn

    def execution_arn(self, document_id: str, round_: int = 0) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + execution_name(
            document_id, round_)

    def start(self, account_id: str, document_id: str, round_: int = 0) -> str:
        """Starts the document's execution of that round, or returns the one already started for it."""
        payload = json.dumps({"account_id": account_id, "document_id": document_id}, sort_keys=True)
        try:
            return aws.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=execution_name(document_id, round_),
                input=payload)["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        return self.execution_arn(document_id, round_)

    def start_cancellation(self, account_id: str, document_id: str, attempt: int) -> str:
        """Starts the execution that follows the document's `attempt`-th cancellation request."""
        name = execution_name(f"{document_id}-cancel", attempt)
        payload = json.dumps({"account_id": account_id, "document_id": document_id, "action": "cancel"},
                             sort_keys=True)
        try:
            return aws.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=payload)["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
