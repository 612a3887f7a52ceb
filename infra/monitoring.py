"""Dead-letter queues for asynchronous invocations and the CloudWatch alarms that say something
went wrong: function errors, failed workflow executions, API 5xx answers, messages in a DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.function import SelloFunction

PERIOD = Duration.minutes(5)


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    return sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: list[SelloFunction],
                 state_machine: sfn.StateMachine, api: apigw.RestApi, queues: list[sqs.Queue]) -> None:
        super().__init__(scope, construct_id)
        for fn in functions:
            self._alarm(f"{fn.node.id}Errors", fn.function.metric_errors(period=PERIOD),
                        f"{fn.name}: the function raised an error")
        self._alarm("WorkflowFailed", state_machine.metric_failed(period=PERIOD),
                    "Document workflow: an execution failed")
        self._alarm("WorkflowTimedOut", state_machine.metric_timed_out(period=PERIOD),
                    "Document workflow: an execution timed out")
        self._alarm("Api5xx", api.metric_server_error(period=PERIOD, statistic="Sum"),
                    "API: answered with a 5xx status")
        for queue in queues:
            visible = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
            self._alarm(f"{queue.node.id}Messages", visible, "A dead-letter queue holds a failed invocation")

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self, construct_id, metric=metric, threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)
