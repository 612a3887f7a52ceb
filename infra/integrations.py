"""Store orders: the queue between the store's deliveries (and the retry route) and the worker that
issues their documents, its dead-letter queue, and the worker with only the grants it uses."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from sello.catalog import STORE_FUNCTIONS

from infra.data import Data
from infra.function import SelloFunction, construct_name
from infra.monitoring import dead_letter_queue
from infra.workflow import Workflow

# A message failing this many times (the authority or AWS down, not the order: an order's own problem
# is recorded on it) goes to the dead-letter queue and its alarm.
MAX_RECEIVES = 5


class Integrations(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, data: Data, workflow: Workflow, **_: object) -> None:
        super().__init__(scope, construct_id)
        (spec,) = STORE_FUNCTIONS
        self.dead_letters = dead_letter_queue(self, "StoreOrdersDeadLetters")
        self.queue = sqs.Queue(
            self, "StoreOrders", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=Duration.days(4),
            # SQS's advice: six times the consumer's timeout, so a message in work is not handed out again.
            visibility_timeout=Duration.seconds(6 * spec.timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVES))
        self.worker = SelloFunction(self, construct_name(spec), spec=spec, stage=stage, code=code, layer=layer)
        data.grant_table(self.worker, spec.name)
        workflow.grant_start(self.worker)
        self.worker.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=5, report_batch_item_failures=True))
        self.functions = {spec.name: self.worker}

    def grant_send(self, fn: SelloFunction) -> None:
        """Lets `fn` queue orders (the retry route; the inbound endpoint)."""
        self.queue.grant_send_messages(fn.function)
        fn.function.add_environment("SELLO_STORE_ORDERS_QUEUE_URL", self.queue.queue_url)
