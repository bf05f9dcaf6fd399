"""Faults injected into the AWS calls the product makes, for fault-injection tests and local drills.

A fault hooks botocore's event system on one client - the product's clients come from
`receivables.aws.client(service)`, cached per process - so the code under test takes its real boto3
path and gets what AWS would answer: botocore raises the modelled exception (`ThrottlingException`,
`ProvisionedThroughputExceededException`, `ConditionalCheckFailedException`, ...) from the injected
error response, exactly as it does for a real one.

Where the hooks sit (docs/decisions/0016-fault-injection.md):
- An error is answered at `before-call`, outside botocore's retry loop: the caller sees what it would
  see once the SDK's own retries gave up (a throttle or an outage longer than `max_attempts`). Nothing
  reaches the emulated service.
- `reply_lost=True` lets the call through and raises at `after-call`: the service acted, the caller saw
  an error (a timeout after S3 stored the object, a 500 after SES accepted the message).
- `rendezvous` holds the first N matching calls until all N have arrived, then lets them go together:
  two concurrent deliveries are forced to both pass their reads before either writes.

Concurrency: `deliveries_held` pauses the stream reader and keeps every function the runtime invokes
waiting, so a test can put records into one batch or run its own deliveries first;
`run_concurrently` runs one function in several "containers" at once, each a fresh import of its
handler module, as Lambda runs concurrent invocations in separate environments.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError

from local_runtime.functions import Function, Functions, LambdaContext
from local_runtime.queues import message_body

if TYPE_CHECKING:
    from local_runtime.system import LocalSystem

Predicate = Callable[[dict[str, Any]], bool]

# HTTP status AWS answers each error code with (botocore only looks at >= 300 and the code).
_STATUS = {
    "InternalError": 500,
    "InternalFailure": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
    "SlowDown": 503,
}
_MARK = "local_runtime_fault"


@dataclass
class Fault:
    """One injected fault; `injected` counts the calls it failed, `calls` the matching calls seen."""

    operation: str
    code: str
    message: str
    times: int | None  # None: every matching call until `clear()`
    when: Predicate | None
    reply_lost: bool
    extra: dict[str, Any] = field(default_factory=dict)  # more of the error response
    injected: int = 0
    calls: int = 0
    active: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def clear(self) -> None:
        """The fault is over: later calls go through."""
        self.active = False

    def _claim(self, params: dict[str, Any]) -> bool:
        if self.when is not None and not self.when(params):
            return False
        with self._lock:
            self.calls += 1
            if not self.active or (self.times is not None and self.injected >= self.times):
                return False
            self.injected += 1
            return True

    def error_response(self) -> dict[str, Any]:
        status = _STATUS.get(self.code, 400)
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        } | self.extra


def product_client(service: str) -> Any:
    """The client the product's code uses for `service` (one per process, like a warm Lambda)."""
    from receivables import aws

    return aws.client(service)


def _event_name(client: Any, stage: str, operation: str) -> str:
    return f"{stage}.{client.meta.service_model.service_id.hyphenize()}.{operation}"


@contextmanager
def inject(
    service: str,
    operation: str,
    code: str,
    *,
    times: int | None = None,
    when: Predicate | None = None,
    message: str | None = None,
    reply_lost: bool = False,
    response: dict[str, Any] | None = None,
) -> Iterator[Fault]:
    """Fails the product's `service.operation` calls with `code` (the first `times`, or all until
    `clear()`/exit), optionally only calls whose API parameters satisfy `when`. `response` adds to the
    error response (a transaction's `CancellationReasons`)."""
    client = product_client(service)
    fault = Fault(operation, code, message or f"injected {code}", times, when, reply_lost, response or {})

    mark_key = f"{_MARK}_{id(fault)}"  # several faults may watch one operation

    def mark(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if fault._claim(params):
            context[mark_key] = True

    def answer(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not context.get(mark_key) or fault.reply_lost:
            return None
        response = fault.error_response()
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        return AWSResponse("https://fault.local/", status, HTTPHeaders(), None), response

    def lose_reply(context: dict[str, Any], **_: Any) -> None:
        if context.get(mark_key) and fault.reply_lost:
            if fault.code == "ReadTimeout":
                raise ReadTimeoutError(endpoint_url=client.meta.endpoint_url)
            raise client.exceptions.from_code(fault.code)(fault.error_response(), operation)

    handlers = [
        (_event_name(client, "before-parameter-build", operation), mark),
        (_event_name(client, "before-call", operation), answer),
        (_event_name(client, "after-call", operation), lose_reply),
    ]
    for event, handler in handlers:
        client.meta.events.register(event, handler)
    try:
        yield fault
    finally:
        for event, handler in handlers:
            client.meta.events.unregister(event, handler)


@dataclass
class Rendezvous:
    parties: int
    barrier: threading.Barrier
    arrived: int = 0
    met: bool = False  # all parties arrived together: the race really happened
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@contextmanager
def rendezvous(
    service: str, operation: str, *, parties: int = 2, when: Predicate | None = None, timeout: float = 10.0
) -> Iterator[Rendezvous]:
    """The first `parties` matching calls wait for each other, then proceed at the same moment."""
    client = product_client(service)
    meeting = Rendezvous(parties, threading.Barrier(parties, timeout=timeout))

    def hold(params: dict[str, Any], **_: Any) -> None:
        if when is not None and not when(params):
            return
        with meeting._lock:
            if meeting.arrived >= parties:
                return
            meeting.arrived += 1
        meeting.barrier.wait()
        meeting.met = True

    event = _event_name(client, "before-parameter-build", operation)
    client.meta.events.register(event, hold)
    try:
        yield meeting
    finally:
        client.meta.events.unregister(event, hold)


def mentions(*fragments: str) -> Predicate:
    """A `when` predicate: the call's parameters mention every fragment (keys, ids, values)."""

    def matches(params: dict[str, Any]) -> bool:
        text = repr(params)
        return all(fragment in text for fragment in fragments)

    return matches


@contextmanager
def deliveries_held(system: LocalSystem) -> Iterator[None]:
    """Stream records written meanwhile are read and delivered together afterwards (one batch to the
    router, whose messages then reach each consumer's queue before the consumer polls it, as after a
    backlog), and no function runs except those this thread invokes."""
    log = system.pump._log
    log.poll = lambda: 0  # type: ignore[method-assign]
    try:
        system.pump.wait_until_idle(10)  # a read that was under way has been delivered
        system.queues.wait_until_idle(10)
        with system.topology.functions._lock:
            yield
    finally:
        del log.poll  # the class's method again


def run_concurrently(functions: Functions, logical_id: str, events: list[Any]) -> list[Any]:
    """Invokes the function once per event, all at once, each in its own fresh "container".

    Returns each invocation's response, or the exception it raised.
    """
    function = functions.by_logical_id(logical_id)
    handlers = [_fresh_container(function, n) for n in range(len(events))]
    results: list[Any] = [None] * len(events)

    def run(index: int) -> None:
        context = LambdaContext(function.name, function.memory_mb, function.timeout_seconds)
        try:
            with functions.environment_of(function):
                results[index] = handlers[index](events[index], context)
        except Exception as error:  # reported to the caller, as Lambda reports a function error
            results[index] = error

    with functions._lock:
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(events))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return results


def _fresh_container(function: Function, number: int) -> Any:
    module_name, _, attribute = function.handler.rpartition(".")
    path = function.code_dir / (module_name.replace(".", "/") + ".py")
    name = f"_lambda_{function.logical_id}_container_{number}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, attribute)


@dataclass(frozen=True)
class Delivery:
    function_name: str
    sequence_numbers: list[str]
    outcome: Any  # the response, or the exception the function raised


@contextmanager
def stream_deliveries(system: LocalSystem) -> Iterator[list[Delivery]]:
    """Every batch of stream records a function is handed meanwhile, in order, with its outcome: the
    router's batches from the stream pump and each consumer's batches from its queue (the stream
    records the messages carry, with the messages' ids in the outcome)."""
    seen = list[Delivery]()
    pumps: list[Any] = [system.pump, system.queues]
    delivers = [pump._invoke for pump in pumps]

    def watching(deliver: Any) -> Any:
        def watched(name: str, event: Any) -> Any:
            numbers = [_stream_record(r)["dynamodb"]["SequenceNumber"] for r in event["Records"]]
            try:
                outcome = deliver(name, event)
            except Exception as error:
                seen.append(Delivery(name, numbers, error))
                raise
            seen.append(Delivery(name, numbers, outcome))
            return outcome

        return watched

    for pump, deliver in zip(pumps, delivers, strict=True):
        pump._invoke = watching(deliver)
    try:
        yield seen
    finally:
        for pump, deliver in zip(pumps, delivers, strict=True):
            pump._invoke = deliver


def _stream_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record, or the one a fan-out queue message carries."""
    return message_body(record) if "body" in record else record
