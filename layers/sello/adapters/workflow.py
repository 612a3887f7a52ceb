"""Starts the document workflow (Step Functions). Each document has exactly one execution, named after
the document, so starting it twice (a retried API call, a replayed event) never runs it twice."""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from sello.adapters import aws

# Step Functions execution names: 1-80 characters, no whitespace, brackets, wildcards or punctuation.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def execution_name(document_id: str) -> str:
    if not _NAME.fullmatch(document_id):
        raise ValueError(f"{document_id!r} cannot name a workflow execution")
    return document_id


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str):
        self.state_machine_arn = state_machine_arn

    def execution_arn(self, document_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + execution_name(
            document_id)

    def start(self, account_id: str, document_id: str) -> str:
        """Starts the document's execution, or returns the one already started for it."""
        payload = json.dumps({"account_id": account_id, "document_id": document_id}, sort_keys=True)
        try:
            return aws.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn, name=execution_name(document_id),
                input=payload)["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        return self.execution_arn(document_id)
