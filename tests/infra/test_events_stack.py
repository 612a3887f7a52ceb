"""The outgoing events' AWS parts in the template: the deliveries queue (encrypted, TLS only, a
visibility timeout six times the consumer's, a redrive policy to its dead-letter queue), the
delivery function's event source mapping with partial batch failures, and who may send to which
queue: only the emitters to the deliveries queue, only the delivery function to the dead letters."""

from __future__ import annotations

import pytest

from infra.events import CRASHES_BEFORE_DEAD_LETTER, DELIVER
from tests.infra.test_stack import as_list, functions, logical_id, statements  # noqa: F401 (fixtures)

pytestmark = pytest.mark.infra
EMITTERS = {"issuers", "webhooks", "finish", "cancellation_finish", "certificate_expiry", "deliver"}


def senders(statements, queue_id) -> set[str]:
    target = {"Fn::GetAtt": [queue_id, "Arn"]}
    return {name for name, stmts in statements.items()
            if any("sqs:SendMessage" in as_list(s["Action"]) and target in as_list(s["Resource"]) for s in stmts)}


def test_the_deliveries_queue_and_its_dead_letters(synth):
    queues = synth.resources("AWS::SQS::Queue")
    deliveries = logical_id(synth, "AWS::SQS::Queue", "EventsDeliveries")
    dead = logical_id(synth, "AWS::SQS::Queue", "EventsDeliveryDeadLetters")
    props = queues[deliveries]["Properties"]
    assert props["SqsManagedSseEnabled"] is True
    assert props["VisibilityTimeout"] == 6 * DELIVER.timeout_s
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]},
                                      "maxReceiveCount": CRASHES_BEFORE_DEAD_LETTER}
    assert queues[dead]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    policies = synth.resources("AWS::SQS::QueuePolicy").values()
    for queue in (deliveries, dead):
        (policy,) = [p for p in policies if {"Ref": queue} in p["Properties"]["Queues"]]
        (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_delivery_function_consumes_the_queue_reporting_partial_failures(synth, functions):
    deliveries = {"Fn::GetAtt": [logical_id(synth, "AWS::SQS::Queue", "EventsDeliveries"), "Arn"]}
    (mapping,) = [m for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == deliveries]
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": functions["deliver"][0]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_emitters_send_deliveries_and_only_the_consumer_dead_letters(synth, statements, functions):
    deliveries = logical_id(synth, "AWS::SQS::Queue", "EventsDeliveries")
    dead = logical_id(synth, "AWS::SQS::Queue", "EventsDeliveryDeadLetters")
    assert senders(statements, deliveries) == EMITTERS
    assert senders(statements, dead) == {"deliver"}
    for name, (_, props) in functions.items():
        variables = props["Environment"]["Variables"]
        assert ("SELLO_EVENTS_QUEUE_URL" in variables) == (name in EMITTERS), name
        assert ("SELLO_EVENTS_DEAD_LETTER_URL" in variables) == (name == "deliver"), name
