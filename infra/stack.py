"""The whole deployment of one stage, composed from one construct per capability."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import Api
from infra.data import Data
from infra.events import Events
from infra.function import handler_code
from infra.integrations import Integrations
from infra.jobs import Jobs
from infra.layer import DependencyLayer
from infra.mail import Mail
from infra.monitoring import Monitoring
from infra.workflow import Workflow

# Feature flags this stack relies on, set here so `python infra/app.py` and `cdk synth` agree.
FEATURE_FLAGS = {
    # Server access logs are delivered under a bucket policy instead of a log-delivery ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


class SelloStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"Sello electronic invoicing ({stage})", **kwargs)
        for flag, value in FEATURE_FLAGS.items():
            self.node.set_context(flag, value)

        code = handler_code()
        layer = DependencyLayer(self, "Dependencies").layer
        self.data = Data(self, "Data", stage=stage)
        self.mail = Mail(self, "Mail", stage=stage)
        common = {"stage": stage, "code": code, "layer": layer, "data": self.data, "mail": self.mail}
        self.api = Api(self, "Api", **common)
        self.workflow = Workflow(self, "Workflow", **common)
        self.workflow.grant_start(self.api.functions["documents"])
        self.jobs = Jobs(self, "Jobs", workflow=self.workflow, **common)
        self.integrations = Integrations(self, "Integrations", workflow=self.workflow, **common)
        for name in ("integrations", "store_inbound"):  # the retry route; a store's deliveries
            self.integrations.grant_send(self.api.functions[name])
        self.events = Events(self, "Events", **common)
        for fn in (self.api.functions["issuers"], self.api.functions["webhooks"], self.workflow.functions["finish"],
                   self.workflow.functions["cancellation_finish"], self.jobs.functions["certificate_expiry"]):
            self.events.grant_emit(fn)
        self.monitoring = Monitoring(
            self, "Monitoring",
            functions=[self.api.authorizer_function, *self.api.functions.values(),
                       *self.workflow.functions.values(), *self.jobs.functions.values(),
                       *self.integrations.functions.values(), self.events.function],
            state_machine=self.workflow.state_machine, api=self.api.rest_api,
            queues=[*self.jobs.queues, self.integrations.dead_letters, self.events.dead_letters])

        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "BucketName", value=self.data.bucket.bucket_name)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
