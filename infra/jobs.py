"""Scheduled jobs: each catalog SCHEDULED_FUNCTIONS entry runs on its `schedule` from an EventBridge
rule, with only the grants it needs. Both the rule's delivery and the function's asynchronous retries
end in a dead-letter queue."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from sello.catalog import SCHEDULED_FUNCTIONS

from infra.data import Data
from infra.function import SelloFunction, construct_name
from infra.mail import Mail
from infra.monitoring import dead_letter_queue
from infra.workflow import Workflow

# Every job reads and writes the table (certificate_expiry records which warnings went out,
# workflow_restart marks documents started); these need more.
SENDS_EMAIL = {"certificate_expiry"}
STARTS_WORKFLOW = {"workflow_restart"}


class Jobs(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, data: Data, mail: Mail, workflow: Workflow) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, SelloFunction] = {}
        self.queues: list[sqs.Queue] = []
        for spec in SCHEDULED_FUNCTIONS:
            name = construct_name(spec)
            queue = dead_letter_queue(self, f"{name}DeadLetters")
            fn = SelloFunction(self, name, spec=spec, stage=stage, code=code, layer=layer,
                               dead_letter_queue=queue)
            data.grant_table(fn, spec.name)
            if spec.name in SENDS_EMAIL:
                mail.grant_send(fn)
            if spec.name in STARTS_WORKFLOW:
                workflow.grant_start(fn)
            target = targets.LambdaFunction(fn.function, dead_letter_queue=queue, retry_attempts=2)
            events.Rule(self, f"{name}Schedule", schedule=events.Schedule.expression(spec.schedule),
                        description=spec.description, targets=[target])
            self.functions[spec.name] = fn
            self.queues.append(queue)
