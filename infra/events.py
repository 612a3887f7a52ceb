"""Outgoing events: the queue of pending deliveries, the function that consumes it, and its
dead-letter queue with an alarm.

The emitters (the functions that end a document's or a cancellation's run, the certificate upload,
the expiry job, and the webhooks API for redeliveries) may only send to the queue. The delivery
function reads it through an event source mapping (batches, partial failures reported), re-sends a
message delayed until its next try is due (services/deliveries.py), and sends a message whose retry
window has passed to the dead-letter queue itself. SQS also moves there a message whose handling
crashed five times in a row (the redrive policy), so the alarm on that queue covers both."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from sello.catalog import EVENT_FUNCTIONS

from infra.data import Data
from infra.function import SelloFunction, construct_name
from infra.mail import Mail
from infra.monitoring import dead_letter_queue

DELIVER = next(spec for spec in EVENT_FUNCTIONS if spec.name == "deliver")
# AWS asks for a visibility timeout of at least six times the consumer's timeout.
VISIBILITY = Duration.seconds(6 * DELIVER.timeout_s)
CRASHES_BEFORE_DEAD_LETTER = 5


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, code: lambda_.Code,
                 layer: lambda_.ILayerVersion, data: Data, mail: Mail) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "DeliveryDeadLetters")
        self.queue = sqs.Queue(
            self, "Deliveries", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            visibility_timeout=VISIBILITY, retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters,
                                                  max_receive_count=CRASHES_BEFORE_DEAD_LETTER))
        self.function = SelloFunction(self, construct_name(DELIVER), spec=DELIVER, stage=stage, code=code,
                                      layer=layer)
        data.grant_table(self.function, DELIVER.name)
        mail.grant_send(self.function)
        self.grant_emit(self.function)
        self.dead_letters.grant_send_messages(self.function.role)
        self.function.function.add_environment("SELLO_EVENTS_DEAD_LETTER_URL", self.dead_letters.queue_url)
        self.function.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=5, report_batch_item_failures=True))

    def grant_emit(self, fn: SelloFunction) -> None:
        """Lets a function queue deliveries (and only that) and tells it where."""
        self.queue.grant_send_messages(fn.role)
        fn.function.add_environment("SELLO_EVENTS_QUEUE_URL", self.queue.queue_url)
