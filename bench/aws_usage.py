"""Counts what the in-process local runtime asks of AWS while it runs: a meter for the cost model.

Two hooks, both installed from here (local_runtime is not changed for them):
- every handler call is timed, wrapping `Function.entry_point` (inside the runtime's invocation lock, so a
  wait for another function's turn is not counted) and tagged with the function's memory size;
- every AWS API call a handler makes is seen through botocore events, registered as built-in handlers so
  that every session created afterwards has them (moto hooks into botocore the same way). Calls the
  runtime makes for itself (stream polling, the email and event views) happen outside a handler and are
  not counted.

DynamoDB request units are computed as DynamoDB bills them, from item sizes (moto's `Item.size()`: names
plus values) looked up in the emulated table before and after each write:
- reads: 4 KB units, half for eventually consistent, double in a transaction; a missing item still costs
  one unit; a Query or Scan costs the summed size of the items it read (returned items at their stored
  size, filtered-out items at the average size), rounded up once;
- writes: 1 KB units of the larger of the item before and after, at least one (a failed conditional
  write too), double in a transaction (a ConditionCheck included); plus one write per global secondary
  index the item enters, changes in or leaves (two when its index key changes), at the item's size, as
  every index of this table projects ALL.
"""

from __future__ import annotations

import io
import math
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from botocore.handlers import BUILTIN_HANDLERS

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024
S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjects", "ListObjectsV2", "CreateMultipartUpload"}
S3_GET_CLASS = {"GetObject", "HeadObject"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass(frozen=True)
class ItemState:
    """What the meter needs of a stored item: its size, its key in each index, and a fingerprint."""

    size: int
    index_keys: dict[str, tuple[str, ...] | None]
    fingerprint: int


Snapshot = ItemState | None


@dataclass
class ApiCall:
    service: str
    operation: str
    units: dict[str, float] = field(default_factory=dict)


@dataclass
class Invocation:
    logical_id: str
    memory_mb: int
    trigger: str
    seconds: float = 0.0
    log_bytes: int = 0  # what the handler wrote to stdout: its logs and EMF metrics, for CloudWatch Logs
    calls: list[ApiCall] = field(default_factory=list)

    def total(self, unit: str) -> float:
        return sum(call.units.get(unit, 0.0) for call in self.calls)

    @property
    def gb_seconds(self) -> float:
        return self.memory_mb / 1024 * self.seconds


def trigger_of(event: Any) -> str:
    """What invoked a function, judged from its event: http, authorizer, stream, schedule or step."""
    if not isinstance(event, dict):
        return "step"
    # EventBridge rules send a "Scheduled Event"; EventBridge Scheduler (ScheduleV2) sends the schedule's
    # Input, which template.yaml's schedules give `"source": "aws.scheduler"`.
    if event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.scheduler":
        return "schedule"
    if "Records" in event:
        return "stream"
    if event.get("type") == "REQUEST":
        return "authorizer"
    if "requestContext" in event:
        return "http"
    return "step"


class UsageMeter:
    """Records invocations and API calls while `installed()` is active."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.executions: list[str] = []  # Step Functions executions started by handlers
        self._current = threading.local()
        self._guard = threading.Lock()

    # ------------------------------------------------------------------ installing the hooks
    @contextmanager
    def installed(self) -> Iterator[UsageMeter]:
        from local_runtime.functions import Function

        original_entry_point = Function.entry_point
        meter = self

        def entry_point(self: Function) -> Any:
            handler = original_entry_point(self)
            function = self

            def timed(event: Any, context: Any) -> Any:
                invocation = Invocation(function.logical_id, function.memory_mb, trigger_of(event))
                caller, meter._current.invocation = meter.current(), invocation
                started = time.perf_counter()
                try:
                    return handler(event, context)
                finally:
                    invocation.seconds = time.perf_counter() - started
                    meter._current.invocation = caller  # None, unless a handler invoked another
                    with meter._guard:
                        meter.invocations.append(invocation)

            return timed

        # Every botocore session created from now on registers these handlers (moto hooks in the same
        # way); sessions made before keep none, so install before the local system starts.
        handlers: list[tuple[str, Any]] = [
            ("provide-client-params", self._before_call),
            ("after-call", self._after_call),
        ]
        BUILTIN_HANDLERS.extend(handlers)
        Function.entry_point = entry_point  # type: ignore[method-assign]
        # Loggers keep the stream they were created with: install before any handler module is imported.
        stdout, sys.stdout = sys.stdout, _CountingStream(sys.stdout, self)
        try:
            yield self
        finally:
            sys.stdout = stdout
            Function.entry_point = original_entry_point  # type: ignore[method-assign]
            for handler in handlers:
                BUILTIN_HANDLERS.remove(handler)

    def current(self) -> Invocation | None:
        invocation: Invocation | None = getattr(self._current, "invocation", None)
        return invocation

    def reset(self) -> None:
        with self._guard:
            self.invocations.clear()
            self.executions.clear()

    # ------------------------------------------------------------------ botocore events
    def _before_call(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.current() is None:
            return
        before: list[tuple[str, dict[str, Any], Snapshot]] = []
        if model.service_model.service_name == "dynamodb":
            for table, key, _multiplier in _written_keys(model.name, params):
                before.append((table, key, _snapshot(table, key)))
        context["bench_usage"] = (dict(params), before)

    def _after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        invocation = self.current()
        if invocation is None or "bench_usage" not in context:
            return
        params, before = context.pop("bench_usage")
        service, operation = model.service_model.service_name, model.name
        call = ApiCall(service, operation)
        if service == "dynamodb":
            call.units = _dynamodb_units(operation, params, parsed, before)
        elif service == "s3":
            if operation in S3_PUT_CLASS:
                call.units = {"s3_put": 1.0, "s3_bytes": float(_body_size(params.get("Body")))}
            elif operation in S3_GET_CLASS:
                call.units = {"s3_get": 1.0}
        elif service in ("ses", "sesv2") and operation.startswith("Send"):
            call.units = _email_units(params)
        elif service == "events" and operation == "PutEvents":
            chunks = sum(
                max(1, math.ceil(len(str(entry.get("Detail", ""))) / EVENTBRIDGE_CHUNK_BYTES))
                for entry in params.get("Entries", [])
            )
            call.units = {"events": float(chunks)}
        elif service == "stepfunctions" and operation == "StartExecution":
            if "executionArn" in parsed:
                with self._guard:
                    self.executions.append(parsed["executionArn"])
        elif service == "sns" and operation == "Publish":
            call.units = {"sns": 1.0}
        elif service == "secretsmanager":
            call.units = {"secrets_calls": 1.0}
        invocation.calls.append(call)

    # ------------------------------------------------------------------ after the run
    def state_transitions(self) -> int:
        """States entered by the Step Functions executions the handlers started (standard workflows bill
        each one as a state transition)."""
        client = boto3.client("stepfunctions")
        entered = 0
        for arn in self.executions:
            pages = client.get_paginator("get_execution_history").paginate(executionArn=arn)
            entered += sum(
                1 for page in pages for event in page["events"] if event["type"].endswith("StateEntered")
            )
        return entered


class _CountingStream(io.TextIOBase):
    """stdout that adds what a handler writes to its invocation's log bytes, then passes it on."""

    def __init__(self, target: TextIO, meter: UsageMeter) -> None:
        self._target, self._meter = target, meter

    def write(self, text: str) -> int:
        invocation = self._meter.current()
        if invocation is not None:
            invocation.log_bytes += len(text.encode(errors="replace"))
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()


# ---------------------------------------------------------------------- DynamoDB request units
def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from local_runtime.template import ACCOUNT_ID, REGION

    return dynamodb_backends[ACCOUNT_ID][REGION]


def _key_of(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    table = _backend().get_table(table_name)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names if name in item}


def _written_keys(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], float]]:
    """(table, key, unit multiplier) of every item a write operation touches."""
    if operation == "PutItem":
        return [(params["TableName"], _key_of(params["TableName"], params["Item"]), 1.0)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], 1.0)]
    if operation == "TransactWriteItems":
        touched = []
        for entry in params.get("TransactItems", []):
            kind, op = next(iter(entry.items()))
            key = _key_of(op["TableName"], op["Item"]) if kind == "Put" else op["Key"]
            touched.append((op["TableName"], key, 2.0))
        return touched
    if operation == "BatchWriteItem":
        touched = []
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    touched.append((table, _key_of(table, request["PutRequest"]["Item"]), 1.0))
                else:
                    touched.append((table, request["DeleteRequest"]["Key"], 1.0))
        return touched
    return []


def _snapshot(table_name: str, key: dict[str, Any]) -> Snapshot:
    try:
        item = _backend().get_item(table_name, key)
    except Exception:  # an invalid key: the call itself will fail and be counted as one unit
        return None
    if item is None:
        return None
    table = _backend().get_table(table_name)
    indexes: dict[str, tuple[str, ...] | None] = {}
    for index in table.global_indexes:
        values = [item.attrs.get(name) for name in index.schema_key_attrs]
        indexes[index.name] = None if any(v is None for v in values) else tuple(str(v.value) for v in values)
    return ItemState(int(item.size()), indexes, hash(repr(sorted(item.to_json()["Attributes"].items()))))


def _stored_size(table_name: str, item: dict[str, Any]) -> int | None:
    key = _key_of(table_name, item)
    snapshot = _snapshot(table_name, key) if key else None
    return snapshot.size if snapshot else None


def _write_units(before: Snapshot, after: Snapshot, multiplier: float) -> float:
    size = max(before.size if before else 0, after.size if after else 0)
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES)) * multiplier
    if before == after:
        return units  # a failed condition (or a no-op) writes nothing to the indexes
    old_indexes = before.index_keys if before else {}
    new_indexes = after.index_keys if after else {}
    for name in set(old_indexes) | set(new_indexes):
        old_key, new_key = old_indexes.get(name), new_indexes.get(name)
        if old_key is None and new_key is None:
            continue
        index_size = after.size if after else size
        writes = 2 if old_key is not None and new_key is not None and old_key != new_key else 1
        units += writes * max(1, math.ceil(index_size / WRITE_UNIT_BYTES))
    return units


def _read_units(total_bytes: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    if transactional:
        return units * 2.0
    return units * (1.0 if consistent else 0.5)


def _dynamodb_units(
    operation: str,
    params: dict[str, Any],
    parsed: dict[str, Any],
    before: list[tuple[str, dict[str, Any], Snapshot]],
) -> dict[str, float]:
    table = params.get("TableName", "")
    consistent = bool(params.get("ConsistentRead"))
    if operation in DYNAMODB_WRITES or operation in ("TransactWriteItems", "BatchWriteItem"):
        multipliers = [m for _, _, m in _written_keys(operation, params)]
        wru = 0.0
        for (table_name, key, old), multiplier in zip(before, multipliers, strict=True):
            wru += _write_units(old, _snapshot(table_name, key), multiplier)
        return {"wru": wru}
    if operation == "GetItem":
        size = _stored_size(table, params["Key"]) or 0
        return {"rru": _read_units(size, consistent)}
    if operation == "BatchGetItem":
        rru = 0.0
        for table_name, request in params.get("RequestItems", {}).items():
            for key in request.get("Keys", []):
                rru += _read_units(_stored_size(table_name, key) or 0, bool(request.get("ConsistentRead")))
        return {"rru": rru}
    if operation == "TransactGetItems":
        rru = 0.0
        for entry in params.get("TransactItems", []):
            get = entry["Get"]
            rru += _read_units(_stored_size(get["TableName"], get["Key"]) or 0, True, transactional=True)
        return {"rru": rru}
    if operation in ("Query", "Scan"):
        sizes = [_stored_size(table, item) or _plain_size(item) for item in parsed.get("Items", [])]
        filtered_out = max(0, int(parsed.get("ScannedCount", len(sizes))) - len(sizes))
        average = sum(sizes) / len(sizes) if sizes else WRITE_UNIT_BYTES
        total = sum(sizes) + filtered_out * average
        return {"rru": _read_units(int(total), consistent), "items_read": float(len(sizes) + filtered_out)}
    return {}


def _plain_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (names plus values), from its DynamoDB JSON."""

    def value_size(value: dict[str, Any]) -> int:
        kind, content = next(iter(value.items()))
        if kind == "M":
            return sum(len(k.encode()) + value_size(v) for k, v in content.items())
        if kind == "L":
            return sum(value_size(v) for v in content)
        if kind in ("SS", "NS", "BS"):
            return sum(len(str(v).encode()) for v in content)
        if kind in ("BOOL", "NULL"):
            return 1
        return len(content) if isinstance(content, bytes) else len(str(content).encode())

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# ---------------------------------------------------------------------- other services
def _body_size(body: Any) -> int:
    if isinstance(body, bytes | bytearray | str):
        return len(body)
    return 0


def _email_units(params: dict[str, Any]) -> dict[str, float]:
    """SES bills each recipient as one message, plus the data sent (attachments included)."""
    if "RawMessage" in params:
        data = params["RawMessage"].get("Data", b"")
        recipients = len(params.get("Destinations", [])) or 1
    else:
        content = params.get("Content", params.get("Message", {}))
        data = str(content).encode()
        destination = params.get("Destination", {})
        recipients = sum(len(destination.get(k, [])) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
    return {"emails": float(max(1, recipients)), "email_bytes": float(len(data))}
