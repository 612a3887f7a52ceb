"""The local stack's changes to the emulator (local/emulator.py): DynamoDB transactions still leave no
partial write and keep counters exact, while costing memory in proportion to the items they name, not
to the table; Step Functions executions and SES messages are bounded; answers are unchanged."""

from __future__ import annotations

import gc
import json
import threading
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import emulator

TABLE = "emulator-test"


@pytest.fixture
def patched():
    emulator.install()
    yield
    emulator.uninstall()


def create_table(ddb, name: str = TABLE) -> None:
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])


def scan(ddb, name: str = TABLE) -> list[dict]:
    items = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def key(pk: str, sk: str = "META") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def live_items() -> int:
    from moto.dynamodb.models.dynamo_type import Item

    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Item)


@mock_aws
def test_a_transaction_with_one_failing_condition_leaves_every_item_unchanged(patched):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb)
    ddb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "5"}, "tags": {"SS": ["a"]}})
    ddb.put_item(TableName=TABLE, Item={**key("guard"), "state": {"S": "taken"}})
    ddb.put_item(TableName=TABLE, Item={**key("doomed"), "v": {"S": "still here"}})
    ddb.put_item(TableName=TABLE, Item={**key("replaced"), "v": {"S": "old"}})
    before = scan(ddb)

    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": key("counter"), "UpdateExpression": "ADD n :one, tags :t",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"SS": ["b"]}}}},
            {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "x"}}}},
            {"Put": {"TableName": TABLE, "Item": {**key("replaced"), "v": {"S": "new"}}}},
            {"Delete": {"TableName": TABLE, "Key": key("doomed")}},
            {"Update": {"TableName": TABLE, "Key": key("created-by-update"), "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key("guard"),
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert scan(ddb) == before


@mock_aws
def test_a_transaction_refused_midway_for_validation_leaves_every_item_unchanged(patched):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb)
    ddb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "1"}})
    before = scan(ddb)
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": key("counter"), "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "x"}}}},
            # the same item twice: refused, after the two writes above were applied
            {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "y"}}}},
        ])
    assert scan(ddb) == before


@mock_aws
def test_a_successful_transaction_writes_everything(patched):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb)
    ddb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "1"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE, "Key": key("counter"), "UpdateExpression": "ADD n :one",
                    "ConditionExpression": "n = :was",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":was": {"N": "1"}}}},
        {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "x"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    assert [(i["pk"]["S"], i.get("n", i.get("v"))) for i in scan(ddb)] == [
        ("counter", {"N": "2"}), ("new", {"S": "x"})]


@mock_aws
def test_transactions_cost_memory_for_the_items_they_name_not_for_the_table(patched):
    """moto copied the whole table for every transaction and kept every copy alive (its model
    instance tracking): 40 transactions over 300 items left 12,000 more items in memory."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb)
    for n in range(300):
        ddb.put_item(TableName=TABLE, Item={**key(f"item{n:03d}"), "v": {"S": "x" * 50}})
    baseline = live_items()
    for n in range(40):
        condition = "attribute_not_exists(pk)" if n % 2 else "attribute_exists(pk)"  # half fail
        try:
            ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": TABLE, "Key": key("item000"), "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"S": str(n)}}}},
                {"ConditionCheck": {"TableName": TABLE, "Key": key("item001"),
                                    "ConditionExpression": condition}},
            ])
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "TransactionCanceledException"
    assert live_items() - baseline < 20


def test_concurrent_transactions_keep_counters_exact(patched):
    """Against the emulator as the local stack runs it (server mode, one DynamoDB request at a
    time): every committed transaction adds exactly one, every cancelled one nothing."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from local.stack import serialize_dynamodb

    serialize_dynamodb()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        url = "http://127.0.0.1:%d" % server.get_host_and_port()[1]
        name = f"counters-{uuid.uuid4().hex[:8]}"

        def client():
            return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

        create_table(client(), name)
        client().put_item(TableName=name, Item={**key("counter"), "n": {"N": "0"}})
        client().put_item(TableName=name, Item=key("guard"))
        committed, cancelled = [], []

        def worker(w: int) -> None:
            ddb = client()
            for n in range(15):
                ops = [
                    {"Update": {"TableName": name, "Key": key("counter"), "UpdateExpression": "ADD n :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Put": {"TableName": name, "Item": {**key(f"row-{w}-{n}"), "w": {"N": str(w)}},
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
                if n % 3 == 0:  # a third of them cannot commit
                    ops.append({"ConditionCheck": {"TableName": name, "Key": key("guard"),
                                                   "ConditionExpression": "attribute_not_exists(pk)"}})
                try:
                    ddb.transact_write_items(TransactItems=ops)
                    committed.append((w, n))
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "TransactionCanceledException"
                    cancelled.append((w, n))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        items = scan(client(), name)
        counter = next(i for i in items if i["pk"]["S"] == "counter")
        assert (len(committed), len(cancelled)) == (60, 30)
        assert int(counter["n"]["N"]) == len(committed)
        assert sorted(i["pk"]["S"] for i in items if i["pk"]["S"].startswith("row-")) == sorted(
            f"row-{w}-{n}" for w, n in committed)
    finally:
        server.stop()


@mock_aws
def test_answers_are_the_same_as_moto_writes_them():
    item = {**key("a"), "n": {"N": "1.50"}, "b": {"BOOL": True}, "nul": {"NULL": True}, "ss": {"SS": ["x"]},
            "ns": {"NS": ["1"]}, "bin": {"B": b"\x00\x01"}, "bs": {"BS": [b"a"]},
            "m": {"M": {"l": {"L": [{"M": {"q": {"N": "2"}, "e": {"M": {}}, "z": {"L": []}}},
                                    {"B": b"zz"}]}}}}

    def answers() -> list[str]:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        bodies: list[str] = []
        for op in ("GetItem", "Query", "UpdateItem"):
            ddb.meta.events.register(f"after-call.dynamodb.{op}",
                                     lambda http_response, **_: bodies.append(http_response.text))
        create_table(ddb)
        ddb.put_item(TableName=TABLE, Item=item)
        ddb.get_item(TableName=TABLE, Key=key("a"))
        ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "a"}})
        ddb.update_item(TableName=TABLE, Key=key("a"), UpdateExpression="SET z = :z", ReturnValues="ALL_NEW",
                        ExpressionAttributeValues={":z": {"S": "q"}})
        ddb.delete_table(TableName=TABLE)
        assert len(bodies) == 3
        return bodies

    plain = answers()
    emulator.install()
    try:
        assert answers() == plain
    finally:
        emulator.uninstall()
    assert emulator.wire_form({"M": {"a": {"L": [{"S": "x"}]}}})
    assert not emulator.wire_form({"M": {"a": {"B": b"x"}}})


def create_indexed_table(ddb) -> None:
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk", "gsk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                                               {"AttributeName": "gsk", "KeyType": "RANGE"}]}])


@mock_aws
def test_queries_answer_as_moto_does():
    """Table and index queries, with key ranges, filters, projections, limits, both directions and
    pages (also pages cut by the 1 MB limit), give the same answers with the emulator's changes as
    without."""
    padding = "x" * 40_000

    def answers() -> list:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_indexed_table(ddb)
        for p in range(4):
            for n in range(30):
                item = {**key(f"p{p}", f"s{n:03}"), "status": {"S": "ok" if n % 3 else "no"},
                        "n": {"N": str(n)}, "m": {"M": {"deep": {"L": [{"M": {"k": {"S": "é" * n}}}]}}}}
                if n % 4:  # not every item is in the index
                    item.update(gpk={"S": f"g{p % 2}"}, gsk={"S": f"{n:03}#{p}"})
                if p == 3:
                    item["pad"] = {"S": padding}
                if n == 7:
                    item["tags"] = {"SS": ["b", "a", "c"]}
                ddb.put_item(TableName=TABLE, Item=item)
        queries = [
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}},
            {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b", "ScanIndexForward": False,
             "ExpressionAttributeValues": {":p": {"S": "p2"}, ":a": {"S": "s005"}, ":b": {"S": "s020"}}},
            {"KeyConditionExpression": "pk = :p AND begins_with(sk, :a)", "Limit": 4,
             "ExpressionAttributeValues": {":p": {"S": "p0"}, ":a": {"S": "s01"}}},
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p3"}}},
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nothing"}}},
            {"IndexName": "gsi", "KeyConditionExpression": "gpk = :g", "ScanIndexForward": False, "Limit": 7,
             "FilterExpression": "#s = :s", "ExpressionAttributeNames": {"#s": "status"},
             "ExpressionAttributeValues": {":g": {"S": "g1"}, ":s": {"S": "ok"}}},
            {"IndexName": "gsi", "KeyConditionExpression": "gpk = :g AND gsk >= :a",
             "ExpressionAttributeValues": {":g": {"S": "g0"}, ":a": {"S": "010"}}},
            {"IndexName": "gsi", "KeyConditionExpression": "gpk = :g", "Limit": 5,
             "ProjectionExpression": "pk, sk, gpk, gsk, #s, m, n, tags, absent_attr",
             "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":g": {"S": "g1"}}},
            {"KeyConditionExpression": "pk = :p", "ProjectionExpression": "sk, m.deep[0].k, n",
             "ExpressionAttributeValues": {":p": {"S": "p0"}}},
        ]
        pages = []
        for query in queries:
            start = None
            while True:
                page = ddb.query(TableName=TABLE, **query, **({"ExclusiveStartKey": start} if start else {}))
                pages.append(page["Items"] and [page["Count"], page["ScannedCount"], page["Items"]])
                start = page.get("LastEvaluatedKey")
                pages.append(start)
                if not start:
                    break
        ddb.delete_table(TableName=TABLE)
        return pages

    plain = answers()
    emulator.install()
    try:
        assert answers() == plain
    finally:
        emulator.uninstall()
    assert len(plain) > 20


def test_attribute_sizes_are_moto_s():
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = {"s": {"S": "añb"}, "n": {"N": "-12.50"}, "b": {"B": b"\x00\x01"}, "t": {"BOOL": False},
             "z": {"NULL": True}, "ss": {"SS": ["x", "ÿy"]}, "ns": {"NS": ["1", "22"]}, "bs": {"BS": [b"ab"]},
             "m": {"M": {"l": {"L": [{"M": {"q": {"N": "2"}, "e": {"M": {}}, "z": {"L": []}}}, {"S": "ü"}]}}}}
    plain = {name: DynamoType(value).size() for name, value in attrs.items()}
    item_size = Item(DynamoType({"S": "k"}), None, attrs).size()
    emulator.install()
    try:
        assert {name: DynamoType(value).size() for name, value in attrs.items()} == plain
        assert Item(DynamoType({"S": "k"}), None, attrs).size() == item_size
    finally:
        emulator.uninstall()


@mock_aws
def test_sent_messages_are_bounded_and_the_outbox_keeps_numbering(patched):
    from moto.ses.models import ses_backends

    from local.outbox import Outbox
    from local.resources import ACCOUNT, REGION

    ses = boto3.client("sesv2", region_name=REGION)
    ses.create_email_identity(EmailIdentity="from@example.com")
    emulator.bound_sent_messages(ses_backends[ACCOUNT][REGION], keep=5)
    outbox = Outbox(None, keep=5)

    def send(n: int) -> None:
        ses.send_email(FromEmailAddress="from@example.com",
                       Destination={"ToAddresses": [f"to{n}@example.com"]},
                       Content={"Simple": {"Subject": {"Data": f"Message {n}"},
                                           "Body": {"Text": {"Data": "hi"}}}})

    for n in range(1, 4):
        send(n)
    assert outbox.sync() == 3
    for n in range(4, 10):
        send(n)
    assert outbox.sync() == 9
    assert len(ses_backends[ACCOUNT][REGION].sent_messages) == 5
    summaries = outbox.summaries()
    assert [(s["n"], s["subject"], s["to"]) for s in summaries] == [
        (n, f"Message {n}", f"to{n}@example.com") for n in range(5, 10)]
    assert b"Message 9" in outbox.raw(9)
    assert outbox.raw(4) is None and outbox.raw(10) is None


def test_model_instances_are_tracked_weakly(patched):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    kept = Item(DynamoType({"S": "a"}), None, {"pk": {"S": "a"}})
    dropped = Item(DynamoType({"S": "b"}), None, {"pk": {"S": "b"}})
    dropped_id = id(dropped)
    del dropped
    gc.collect()
    tracked = [id(i) for i in Item.instances_tracked]
    assert id(kept) in tracked and dropped_id not in tracked


ASL = json.dumps({"StartAt": "Twice", "States": {
    "Twice": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}})


def finished(sfn, arn: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while (out := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.05)
    return out


@mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
def test_finished_executions_are_bounded_and_run_as_before(patched, monkeypatch):
    from moto.stepfunctions.parser import utils

    monkeypatch.setattr(emulator, "KEEP_EXECUTIONS", 2)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(name="twice", definition=ASL,
                                       roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
    for n in range(6):
        arn = sfn.start_execution(stateMachineArn=machine, name=f"run-{n}",
                                  input=json.dumps({"n": n}))["executionArn"]
        out = finished(sfn, arn)
        assert (out["status"], json.loads(out["output"])) == ("SUCCEEDED", {"doubled": 2 * n})
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
    assert sorted(names) == ["run-3", "run-4", "run-5"]  # two finished kept, then the last one started
    emulator._prune_threads()
    assert all(t.is_alive() for t in utils.TMP_THREADS)
