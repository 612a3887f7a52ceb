"""Runs Lambda invocations made inside the emulator (Step Functions tasks) with the real handlers,
in this process. It replaces moto's docker-less Lambda backend's echo with a dispatch by function
name; this is moto-internal API, which is why moto is pinned."""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

from sello.catalog import (
    API_FUNCTIONS,
    AUTHORIZER,
    SCHEDULED_FUNCTIONS,
    EVENT_FUNCTIONS,
    WORKFLOW_FUNCTIONS,
    FunctionSpec,
    function_name,
)

# One event at a time per function, as in one warm Lambda container: the Powertools resolvers keep
# the current event on the module-level app, so concurrent calls into one module would mix them up.
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def all_specs() -> dict[str, FunctionSpec]:
    return {s.name: s for s in (*API_FUNCTIONS, AUTHORIZER, *SCHEDULED_FUNCTIONS, *WORKFLOW_FUNCTIONS,
                                *EVENT_FUNCTIONS)}


def load_handler(spec: FunctionSpec):
    module_name, _, attr = spec.handler.rpartition(".")
    module = importlib.import_module(f"functions.{module_name}")
    return getattr(module, attr)


def context_for(spec: FunctionSpec) -> LambdaContext:
    return LambdaContext(function_name=spec.name, memory_limit_in_mb=spec.memory_mb,
                         aws_request_id=str(uuid.uuid4()))


def _lock(name: str) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.RLock())


def invoke(name: str, event: Any) -> Any:
    spec = all_specs()[name]
    handler = load_handler(spec)
    with _lock(name):
        return handler(event, context_for(spec))


def one_condition_at_a_time() -> None:
    """boto3's DynamoDB resource writes condition expressions with one placeholder counter per
    resource, reset for each request: two threads using one resource at once can give two names the
    same placeholder, and one request then loses, say, its partition key condition. A Lambda process
    handles one event at a time; the local stack runs every function in one process, with resources
    that several functions share, so expressions are written one at a time (microseconds each)."""
    from boto3.dynamodb.transform import TransformationInjector

    original = TransformationInjector.inject_condition_expressions
    if getattr(original, "one_at_a_time", False):
        return
    lock = threading.Lock()

    def inject_condition_expressions(self, params, model, **kwargs):
        with lock:
            return original(self, params, model, **kwargs)

    inject_condition_expressions.one_at_a_time = True
    TransformationInjector.inject_condition_expressions = inject_condition_expressions


def install(stage: str) -> None:
    """Dispatches the emulator's Lambda invocations to the handlers. Call it before the process
    creates its boto3 DynamoDB resources (see one_condition_at_a_time)."""
    one_condition_at_a_time()
    prefix = function_name(stage, "")  # what every function name of the stage starts with

    def _invoke(self, target, qualifier, body, headers, response_headers):
        name = target.rsplit(":", 1)[-1].removeprefix(prefix)  # `target`: the function's name or ARN
        event = json.loads(body) if body else {}
        try:
            result = invoke(name, event)
        except Exception as exc:  # what Lambda reports as an unhandled function error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                               "stackTrace": traceback.format_exc().splitlines()[-5:]}).encode()
        return json.dumps(result, default=str).encode()

    LambdaSimpleBackend.invoke = _invoke
