"""What the local stack changes in the emulator (moto, pinned in pyproject.toml because this is
moto-internal API) so that it runs for hours under load in bounded memory. `install()` applies all
of them once per process; nothing here is used by the deployed code.

- Tracked model instances. moto appends every model object it ever creates (each DynamoDB item and
  each copy of one, each SES message, each S3 key...) to a list on its class, for its dashboard; the
  lists are never emptied, so every object stays alive. They now hold their objects weakly: the
  dashboard still lists what is alive.
- DynamoDB transactions. moto deep-copies every table a TransactWriteItems names, whole, to roll
  back on failure: each transaction costs time and memory in proportion to the table. It now copies
  only the items the transaction names, before it runs, and puts back exactly those when it fails
  for any reason, so a cancelled transaction still leaves no partial write.
- Step Functions. moto keeps every execution (its event history and evaluation state) and every
  worker thread object it started, and scans all executions on each start. It now keeps the running
  executions and the most recent KEEP_EXECUTIONS finished ones; a name can be reused once its
  execution has been dropped (AWS refuses a used name for 90 days). Each execution also parsed the
  definition again (about 0.2 s of CPU for the workflow's) and each Lambda task created a new boto3
  client (about 15 ms): a definition is now parsed once (the parsed program holds no evaluation
  state, which lives in each execution's environment) and the tasks share one Lambda client.
- SES. moto keeps every message sent; it now keeps the most recent KEEP_MESSAGES (the outbox keeps
  its own copies, bounded the same way, and writes every message to disk).
- DynamoDB answers. moto writes each attribute value of an answer through its generic,
  model-driven serializer, one member lookup at a time: tens of milliseconds per document item,
  which made reads the bottleneck under load. A value already in DynamoDB's wire form (S, N, BOOL,
  NULL, SS, NS, and M and L of those; B and BS still take the serializer's base64 path) is written as
  it is, which is what the serializer produces for it. Before that, moto turns the answer's values
  into plain ones with a function that tries five kinds of object on every string; it now takes the
  direct way for attribute values, maps and lists (binary still goes through moto's function).
- DynamoDB queries. moto answered a query by sorting every item of the table (comparing attribute
  values one Python call at a time), computed the size of each item it returned twice (a value's
  size copied every map under it, at each level), deep-copied the answer, and projected each item
  by turning the whole item into plain values once per attribute asked for: a query's cost grew with
  the table, the depth of its items and the length of its projection. A query now looks at the
  queried partition only, narrowed by its sort key condition (an index query: the items holding the
  index key's value), sorted by the keys' raw values when they are strings (moto's own sort then
  finds them in order); sizes are computed without copying, once per item and query; a projection
  of top-level names copies just those values (sets and binary still take moto's way); and the
  answer is the stored items themselves, which is safe because DynamoDB requests run one at a time
  (local.stack.serialize_dynamodb) and an answer is written out before the next request starts.
- Request routing. moto's server finds the service of each request by listing its own package
  folder (a directory listing and a stat per service) under a lock; the list is now read once."""

from __future__ import annotations

import copy
import functools
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import boto3

KEEP_EXECUTIONS = 200
KEEP_MESSAGES = 500

_installed: dict[str, Any] = {}  # what install() replaced, for uninstall()
_install_lock = threading.Lock()
_prune_lock = threading.Lock()


# Tracked model instances -------------------------------------------------------------------------

class WeakInstances:
    """Stands in for a model class's `instances_tracked` list: `append` and iteration as a list, but
    the instances are referenced weakly (by identity: models need not be hashable)."""

    def __init__(self, existing: Any = ()):
        self._refs: dict[int, weakref.ref] = {}
        for instance in existing:
            self.append(instance)

    def append(self, instance: Any) -> None:
        key = id(instance)
        refs = self._refs
        try:
            refs[key] = weakref.ref(instance, lambda _ref, key=key: refs.pop(key, None))
        except TypeError:  # a model that cannot be referenced weakly is not tracked
            pass

    def __iter__(self) -> Iterator[Any]:
        return iter([i for ref in list(self._refs.values()) if (i := ref()) is not None])

    def __len__(self) -> int:
        return len(self._refs)


def _track_instances_weakly() -> None:
    from moto.core.common_models import BaseModel

    original = BaseModel.__dict__["__new__"]
    new = original.__func__ if isinstance(original, staticmethod) else original

    def tracked_weakly(cls, *args: Any, **kwargs: Any):
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, WeakInstances):
            cls.instances_tracked = WeakInstances(tracked or ())
        return new(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(tracked_weakly)
    _installed["BaseModel.__new__"] = (BaseModel, "__new__", original)


# DynamoDB transactions ---------------------------------------------------------------------------

class _CopyExceptTables:
    """The `copy` module as moto.dynamodb.models sees it: a Table is not copied (transactions were
    the only place there that copied one), anything else is."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _named_items(backend: Any, transact_items: list[dict]) -> list[tuple[Any, Any, Any]]:
    """(table, hash key, range key or None) of each item the operations name. An operation whose
    table or key cannot be read is left out: moto refuses it before it writes anything."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    named = []
    for entry in transact_items:
        for op_type, op in entry.items():
            try:
                table = backend.get_table(op["TableName"])
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(attrs[table.hash_key_attr])
                range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            except Exception:
                continue
            named.append((table, hash_key, range_key))
    return named


def _item(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The stored item, or None, without adding an empty partition as a lookup by [] would."""
    partition = table.items.get(hash_key)
    if range_key is None or partition is None:
        return partition
    return partition.get(range_key)


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """Makes the table hold `item` (None: no item) under the key."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is not None:
        table.items[hash_key][range_key] = item
        return
    partition = table.items.get(hash_key)
    if partition is not None:
        partition.pop(range_key, None)
        if not partition:
            del table.items[hash_key]


def _snapshot_transactions() -> None:
    import moto.dynamodb.models as models

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        before = [(table, h, r, copy.deepcopy(_item(table, h, r)))
                  for table, h, r in _named_items(self, transact_items)]
        try:
            return original(self, transact_items)
        except BaseException:
            for table, h, r, item in reversed(before):
                _put_back(table, h, r, item)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items
    _installed["transact_write_items"] = (models.DynamoDBBackend, "transact_write_items", original)
    _installed["dynamodb copy"] = (models, "copy", models.copy)
    models.copy = _CopyExceptTables()


# DynamoDB answers --------------------------------------------------------------------------------

_WIRE_SCALARS = frozenset(("S", "N", "BOOL", "NULL", "SS", "NS"))


def wire_form(value: Any) -> bool:
    """Whether an AttributeValue is a dict already as DynamoDB's JSON has it, with no binary in it."""
    if type(value) is not dict or len(value) != 1:
        return False
    (tag, inner), = value.items()
    if tag in _WIRE_SCALARS:
        return True
    if tag == "M":
        return type(inner) is dict and all(wire_form(v) for v in inner.values())
    if tag == "L":
        return type(inner) is list and all(wire_form(v) for v in inner)
    return False


def plain_answer(value: Any, dynamo_type: type, slow: Any) -> Any:
    """moto's dynamo_to_dict (an answer's attribute values as {type: value} dicts, for the
    serializer) taking the direct way for what an answer mostly holds: maps and lists of items, and
    attribute values other than binary. Anything else goes to moto's own function (`slow`)."""
    kind = type(value)
    if kind is dynamo_type:
        tag, inner = value.type, value.value
        if tag == "M":
            return {"M": {k: plain_answer(v, dynamo_type, slow) for k, v in inner.items()}}
        if tag == "L":
            return {"L": [plain_answer(v, dynamo_type, slow) for v in inner]}
        if tag in ("S", "N", "BOOL", "NULL"):
            return {tag: inner}
        if tag in ("SS", "NS"):
            return {tag: list(inner)}
        return slow(value)
    if kind is list:
        return [plain_answer(v, dynamo_type, slow) for v in value]
    if isinstance(value, dict) and not hasattr(value, "to_json"):
        return {k: plain_answer(v, dynamo_type, slow) for k, v in value.items()}
    if kind in (str, int, bool) or value is None:
        return value
    return slow(value)


def _fast_attribute_values() -> None:
    import moto.dynamodb.responses as responses
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import DynamoType

    slow = responses.dynamo_to_dict
    responses.dynamo_to_dict = lambda value: plain_answer(value, DynamoType, slow)
    _installed["dynamo_to_dict"] = (responses, "dynamo_to_dict", slow)

    original = BaseJSONSerializer.__dict__["_serialize_type_structure"]

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and wire_form(value):
            self._default_serialize(serialized, value, shape, key)
            return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure
    _installed["_serialize_type_structure"] = (BaseJSONSerializer, "_serialize_type_structure", original)


# DynamoDB queries --------------------------------------------------------------------------------

_querying = threading.local()


def attribute_size(value: Any) -> int:
    """DynamoType.size without copying: the same bytes (numbers by their digits, strings and binary
    by their bytes, a map's keys plus its values, 1 for a boolean or null)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return _size(value, DynamoType)


def _size(value: Any, dynamo_type: type) -> int:
    if type(value) is not dynamo_type:
        value = dynamo_type(value)
    kind, inner = value.type, value.value
    if kind == "S" or kind == "B":
        return len(inner.encode() if type(inner) is str else inner)
    if kind == "M":
        return sum(len(k.encode()) + _size(v, dynamo_type) for k, v in inner.items())
    if kind == "L":
        return sum(_size(v, dynamo_type) for v in inner)
    if kind == "N":
        return len(str(inner))
    if kind in ("SS", "BS"):
        return sum(len(v.encode() if type(v) is str else v) for v in inner)
    if kind == "NS":
        return sum(len(str(v)) for v in inner)
    return 1  # BOOL, NULL


def _string_key(values: list) -> tuple | None:
    """The raw values of key attributes when they are all strings (they then sort as moto sorts the
    attribute values), else None."""
    if any(v is None or v.type != "S" for v in values):
        return None
    return tuple(v.value for v in values)


def presorted(items: list, key_of: Any) -> list | None:
    """`items` sorted by their string keys, or None when some key is not a string."""
    keys = [key_of(item) for item in items]
    if any(k is None for k in keys):
        return None
    order = sorted(range(len(items)), key=keys.__getitem__)
    return [items[i] for i in order]


class _QueryView:
    """A table as moto's Table.query reads it: all_items() holds only the candidates, and index
    results are sorted by their keys' raw values when these are strings (the same order as moto's
    sort, which compares attribute values one Python call at a time)."""

    def __init__(self, table: Any, candidates: list):
        self._table, self._candidates = table, candidates

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list:
        return self._candidates

    def _item_comes_before_dct(self, item: Any, start: dict, hash_key_attrs: list, range_key_attrs: list,
                               forward: bool) -> bool:
        """Whether an item comes before or at a page's start key, comparing raw strings."""
        names = self._table._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        mine = _string_key([item.attrs.get(n) for n in names])
        given = [start.get(n) for n in names]
        if mine is None or any(type(v) is not dict or set(v) != {"S"} for v in given):
            return self._table._item_comes_before_dct(item, start, hash_key_attrs, range_key_attrs, forward)
        for value, other in zip(mine, (v["S"] for v in given), strict=True):
            if value != other:
                return (value < other) == forward
        return True

    def sorted_items(self, hash_key_attrs: list, range_key_attrs: list, items: list) -> list:
        names = self._table._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        ordered = presorted(items, lambda item: _string_key([item.attrs.get(n) for n in names]))
        if ordered is None:
            return self._table.sorted_items(hash_key_attrs, range_key_attrs, items)
        items[:] = ordered
        return items


def _in_range(items: list, comparison: str, operands: list) -> list:
    """The items whose sort key meets the condition, by moto's comparison; with string keys and
    operands, that comparison is applied to the raw strings (which is what it compares for them)."""
    from moto.dynamodb.comparisons import get_comparison_func

    if all(o.type == "S" for o in operands) and all(i.range_key.type == "S" for i in items):
        test, values = get_comparison_func(comparison), [o.value for o in operands]
        return [i for i in items if test(i.range_key.value, *values)]
    return [i for i in items if i.range_key.compare(comparison, operands)]


def query_candidates(table: Any, hash_key: Any, index_name: str | None, hash_key_conditions: list | None,
                     range_comparison: str | None, range_objs: list) -> list:
    """The items a query can return: the partition of `hash_key` for the table (narrowed by the sort
    key condition, which moto checks again, and in sort key order when the keys are strings, so that
    moto's own sort finds them sorted), the items holding every hash condition's value for an index,
    in no particular order."""
    if index_name is None:
        partition = table.items.get(hash_key) if hash_key is not None else None
        if partition is None:
            return []
        if not table.range_key_attr:
            return [partition]
        candidates = list(partition.values())
        if range_comparison:
            candidates = _in_range(candidates, range_comparison, range_objs)
        return presorted(candidates, lambda item: _string_key([item.range_key])) or candidates
    conditions = hash_key_conditions or []
    candidates = []
    for partition in table.items.values():
        for item in (partition.values() if table.range_key_attr else (partition,)):
            attrs = item.attrs
            if all((v := attrs.get(name)) is not None and v == value for name, value in conditions):
                candidates.append(item)
    return candidates


def _projector(original: Any) -> Any:
    """Item.project, taking the direct way for top-level attribute names: moto turns the whole item
    into plain values once per name asked for (a query projecting 40 names copied each item 40 times)
    and back. The values are copied as they are, which is what that round trip gives back for all
    but sets (whose order it may change) and binary (which it decodes): those take moto's way."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        names = [path[0] for path in projection_expressions]
        if any(len(path) != 1 or "[" in path[0] for path in projection_expressions) or any(
                self.attrs[n].type in ("B", "SS", "NS", "BS") for n in names if n in self.attrs):
            return original(self, projection_expressions)
        result = Item.__new__(Item)
        result.hash_key, result.range_key = self.hash_key, self.range_key
        result.attrs = attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        for name in names:
            if name in self.attrs:
                dict.__setitem__(attrs, name, copy.deepcopy(self.attrs[name]))
        return result

    return project


class _CopyOutsideQueries:
    """The `copy` module as moto.dynamodb.models.table sees it: while a query runs in this thread,
    its answer (a list of items) is not deep-copied."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        if getattr(_querying, "active", False) and type(value) is list:
            return list(value)
        return copy.deepcopy(value, memo)


def _fast_queries() -> None:
    import moto.backends as backends
    import moto.dynamodb.models.table as table_module
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    original_query = table_module.Table.query

    def query(self, hash_key: Any, *args: Any, **kwargs: Any):
        range_comparison, range_objs = args[0], args[1]
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        candidates = query_candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"),
                                      range_comparison, range_objs)
        _querying.active, _querying.sizes = True, {}
        try:
            return original_query(_QueryView(self, candidates), hash_key, *args, **kwargs)
        finally:
            _querying.active, _querying.sizes = False, None

    original_item_size = Item.size

    def item_size(self) -> int:
        """Once per item and query (moto asks twice for each item it returns)."""
        sizes = getattr(_querying, "sizes", None)
        if sizes is None:
            return original_item_size(self)
        size = sizes.get(id(self))
        if size is None:
            size = sizes[id(self)] = original_item_size(self)
        return size

    table_module.Table.query = query
    _installed["Table.query"] = (table_module.Table, "query", original_query)
    _installed["table copy"] = (table_module, "copy", table_module.copy)
    table_module.copy = _CopyOutsideQueries()

    original_size = DynamoType.size
    DynamoType.size = attribute_size
    _installed["DynamoType.size"] = (DynamoType, "size", original_size)
    Item.size = item_size
    _installed["Item.size"] = (Item, "size", original_item_size)
    _installed["Item.project"] = (Item, "project", Item.project)
    Item.project = _projector(Item.project)

    original_modules = backends.list_of_moto_modules
    modules = frozenset(original_modules())
    backends.list_of_moto_modules = lambda: modules
    _installed["list_of_moto_modules"] = (backends, "list_of_moto_modules", original_modules)


# Step Functions ----------------------------------------------------------------------------------

def _finished(execution: Any) -> bool:
    status = getattr(execution, "exec_status", None)  # None: added, not started yet
    return status is not None and getattr(status, "value", status) != "RUNNING"


def _prune_executions(state_machine: Any, keep: int) -> None:
    """Drops all but the `keep` most recent finished executions (running ones always stay). Others
    may append meanwhile, so the dropped ones are removed one by one, not by rebuilding the list."""
    executions = state_machine.executions
    with _prune_lock:
        finished = [e for e in list(executions) if _finished(e)]
        for old in finished[:max(len(finished) - keep, 0)]:
            for i, e in enumerate(executions):
                if e is old:
                    del executions[i]
                    break


def _prune_threads() -> None:
    """moto's Step Functions engine lists every thread it starts and never reads the list."""
    from moto.stepfunctions.parser import utils

    utils.TMP_THREADS[:] = [t for t in list(utils.TMP_THREADS) if t.is_alive()]


def _bound_executions() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn: str, *args: Any, **kwargs: Any):
        _prune_executions(self.describe_state_machine(state_machine_arn), KEEP_EXECUTIONS)
        _prune_threads()
        return original(self, state_machine_arn, *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution
    _installed["start_execution"] = (StepFunctionsParserBackend, "start_execution", original)


def _parse_once() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint

    @functools.lru_cache(maxsize=16)
    def parsed(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self) -> Any:
        return parsed(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint
    _installed["_get_evaluation_entrypoint"] = (ExecutionWorker, "_get_evaluation_entrypoint", original)


def _shared_lambda_client() -> None:
    from botocore.config import Config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original = lambda_eval_utils.boto_client_for
    clients: dict[tuple, Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's own function ignores the credentials too; the port is read each time, as it does.
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
        key = (region, service, endpoint)
        with lock:
            if key not in clients:
                client = original(region, service, state_credentials)
                pool = Config(max_pool_connections=64)  # many executions call at once
                clients[key] = boto3.client(
                    service_name=service, region_name=region, aws_access_key_id="ak",
                    aws_secret_access_key="sk", endpoint_url=endpoint,
                    config=client.meta.config.merge(pool))
            return clients[key]

    lambda_eval_utils.boto_client_for = boto_client_for
    _installed["boto_client_for"] = (lambda_eval_utils, "boto_client_for", original)


# SES ---------------------------------------------------------------------------------------------

class RecentMessages(list):
    """moto's list of sent messages, keeping the last `keep`; `dropped` counts those let go."""

    def __init__(self, keep: int, existing: Any = ()):
        super().__init__()
        self.keep = keep
        self.dropped = 0
        self.lock = threading.Lock()
        for message in existing:
            self.append(message)

    def append(self, message: Any) -> None:
        with self.lock:
            super().append(message)
            if len(self) > self.keep:
                excess = len(self) - self.keep
                del self[:excess]
                self.dropped += excess

    def snapshot(self) -> tuple[int, list]:
        """(how many were dropped before the first one kept, the ones kept), consistent."""
        with self.lock:
            return self.dropped, list(self)


def bound_sent_messages(backend: Any, keep: int | None = None) -> None:
    """Makes an SES backend keep the last `keep` (default KEEP_MESSAGES) messages it sends."""
    sent = backend.sent_messages
    if not isinstance(sent, RecentMessages):
        backend.sent_messages = sent = RecentMessages(KEEP_MESSAGES, sent)
    if keep is not None:
        sent.keep = keep


def _bound_ses() -> None:
    from moto.ses.models import SESBackend

    original = SESBackend.__init__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        bound_sent_messages(self)

    SESBackend.__init__ = __init__
    _installed["SESBackend.__init__"] = (SESBackend, "__init__", original)


# -------------------------------------------------------------------------------------------------

def install() -> None:
    """Applies every change above (once; later calls do nothing)."""
    with _install_lock:
        if _installed:
            return
        _track_instances_weakly()
        _snapshot_transactions()
        _fast_attribute_values()
        _fast_queries()
        _bound_executions()
        _parse_once()
        _shared_lambda_client()
        _bound_ses()


def uninstall() -> None:
    """Puts moto back as it was (tests)."""
    with _install_lock:
        for owner, name, original in reversed(list(_installed.values())):
            setattr(owner, name, original)
        _installed.clear()


def installed() -> bool:
    return bool(_installed)
