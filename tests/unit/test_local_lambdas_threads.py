"""The local stack runs every function's handler in one process, in threads that share boto3's
DynamoDB resource; expressions written by several threads at once keep each request's own names."""

from __future__ import annotations

import sys
import threading

import boto3
from boto3.dynamodb.conditions import Key

from local import lambdas


def test_condition_expressions_written_by_many_threads_keep_their_names():
    lambdas.one_condition_at_a_time()
    lambdas.one_condition_at_a_time()  # a second call changes nothing
    resource = boto3.resource("dynamodb", region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
    injector = resource._injector
    model = resource.meta.client.meta.service_model.operation_model("Query")
    wrong: list[dict] = []

    def build(worker: int) -> None:
        for n in range(300):
            params = {"TableName": "t", "KeyConditionExpression":
                      Key("pk").eq(f"p{worker}-{n}") & Key("sk").begins_with("KEY#")}
            injector.inject_condition_expressions(params, model)
            names, expression = params["ExpressionAttributeNames"], params["KeyConditionExpression"]
            if sorted(names.values()) != ["pk", "sk"] or not all(name in expression for name in names):
                wrong.append(params)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=build, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
