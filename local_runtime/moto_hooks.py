"""Every place the local runtime touches moto's internals, and only here.

moto is pinned (requirements-dev.txt); a moto upgrade is a review of this one file:
- `LambdaFunction._invoke_lambda`: the single point where moto runs a Lambda function (from
  `lambda:Invoke`, Step Functions tasks and other moto-internal callers). We route it to our handlers.
- `DynamoDBBackend.transact_write_items`: moto writes each operation as it goes and, when the
  transaction is cancelled, restores a deep copy of the table. Its stream then carries records of
  writes that never committed, the copy's new stream shard is one a reader no longer follows, and
  the copy costs O(table size) per transaction. We buffer a transaction's stream records (through
  `StreamShard.add`) and publish them only on commit, and roll back by restoring just the touched
  items (moto's module-level `copy` returns tables themselves).
  moto's backend is not thread-safe either (a rollback restores the whole table, losing concurrent
  writes), so the item operations and transactions run under one lock, as DynamoDB serialises them.
- Step Functions' interpreter waits on the wall clock in four places: Wait states
  (`WaitFunction._wait_interval`, and `Timestamp._get_wait_seconds`, which even compares against a
  naive local `datetime.now()`), task timeouts (the `threading.Event` of `execute_state`), task-token
  and heartbeat waits (the Events of `eval.callback.callback`) and retry intervals (the `time` module
  of `retrier_decl`). All of them wait on the simulated clock instead (local_runtime/timeline.py).
  `Execution.stop` (the interpreter's StopExecution) also wakes the execution's task-token waits.
- SES `sent_messages` and S3 `buckets`: read to show people what the system sent and stored.
- SNS `sms_messages` (SMS published to a phone number): read for `GET /_local/sms`; `SNSBackend.publish`
  is wrapped to note the (simulated) time each SMS went. `check_if_phone_number_is_opted_out` answers
  from the account's opt-out list (`opt_out_numbers`, where a STOP reply puts a number, as on SNS);
  moto's own answers "opted out" for any number ending in 99.
- SES `EmailResponse.send_raw_email` ignores `ConfigurationSetName`: we note it per message id, so the
  local event publishing (local_runtime/ses_feedback.py) knows which messages went through which set.
- SESv2 has no `PutSuppressedDestination`: a minimal one keeps the account's suppression list.
- SQS `Queue._messages`: counted, so the queue pump sees an empty queue without an API call (nine
  idle queues polled through boto3 a hundred times a second cost a core).
- `FilterPolicyMatcher._body_based_match` (SNS filter policies on the message body): moto refuses a
  match whenever an object the policy names is absent, so `{"OldImage": {"pdf_key": {"S": [{"exists":
  false}]}}}` never matches an invoice without a PDF. SNS filter policies and EventBridge patterns
  share one grammar, so the body is matched by `local_runtime.filters` (which the old stream mappings'
  FilterCriteria used), where an absent object still matches fields asked not to exist.
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as moto_dynamodb_models
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.s3.models import s3_backends
from moto.ses.models import Message, RawMessage, ses_backends
from moto.ses.responses import EmailResponse
from moto.sesv2.responses import SESV2Response
from moto.sns.models import SNSBackend, sns_backends
from moto.sns.utils import FilterPolicyMatcher
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

from local_runtime.filters import matches as pattern_matches
from local_runtime.template import ACCOUNT_ID, REGION
from local_runtime.timeline import Timeline

# (function name, event) -> (response payload as JSON text, whether the function raised)
LambdaDispatcher = Callable[[str, Any], tuple[str, bool]]


def start_emulated_aws(now: Callable[[], str] | None = None) -> Any:
    """Starts moto in this process with Step Functions' ASL interpreter switched on; `now` (the simulated
    clock, as an ISO instant) dates each SMS sent."""
    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    _note_sms_times(now or (lambda: ""))
    _answer_opt_outs_from_the_list()
    _note_configuration_sets()
    _keep_a_suppression_list()
    _serialise_item_operations()
    _publish_stream_records_on_commit_only()
    _match_sns_message_bodies_as_sns_does()
    return mock


def _match_sns_message_bodies_as_sns_does() -> None:
    def body_matches(self: FilterPolicyMatcher, message: dict[str, Any]) -> bool:
        return pattern_matches(self.filter_policy, message)

    setattr(FilterPolicyMatcher, "_body_based_match", body_matches)  # noqa: B010


_moto_transact_write_items = DynamoDBBackend.transact_write_items
_moto_stream_add = StreamShard.add
# moto's DynamoDB is not safe under threads: a cancelled transaction restores a copy of the whole table
# taken before it started (losing every write other threads made meanwhile), and two transactions can
# both pass the same condition. DynamoDB serialises conflicting writes; one lock over the item API does
# the same here (reentrant: a transaction calls put_item and update_item itself).
_TABLE_LOCK = threading.RLock()
_LOCKED_OPERATIONS = (
    "get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_write_item",
    "transact_get_items",
)  # fmt: skip
_transaction = threading.local()


def _serialise_item_operations() -> None:
    if getattr(DynamoDBBackend, "_serialised_by_local_runtime", False):
        return  # once per process: every emulated account shares the class
    DynamoDBBackend._serialised_by_local_runtime = True  # type: ignore[attr-defined]
    for name in _LOCKED_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _TABLE_LOCK:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, locked)


def _publish_stream_records_on_commit_only() -> None:
    def add(self: StreamShard, old: Any, new: Any) -> None:
        pending = getattr(_transaction, "pending", None)
        if pending is None:
            _moto_stream_add(self, old, new)
        else:
            pending.append((self, old, new))

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _TABLE_LOCK:
            before = [_current(self, item) for item in transact_items]
            _transaction.pending = []
            try:
                _moto_transact_write_items(self, transact_items)
            except BaseException:
                # Undo the operations moto applied before it found the failing one; their stream
                # records are still buffered and are dropped with the buffer.
                for table_name, key, previous in reversed(before):
                    _restore(self, table_name, key, previous)
                raise
            else:
                committed = _transaction.pending
            finally:
                _transaction.pending = None
            for shard, old, new in committed:
                _moto_stream_add(shard, old, new)

    StreamShard.add = add  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    # moto snapshots every table of a transaction with a deep copy to roll it back: O(table size) per
    # transaction, and the copy's stream shard is one no reader follows. The snapshot of the touched
    # items above replaces it, so moto's "copy" of a table is the table itself.
    table_preserving_copy = SimpleNamespace(
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo),
        copy=copy.copy,
    )
    setattr(moto_dynamodb_models, "copy", table_preserving_copy)  # noqa: B010 - not exported for mypy


def _current(backend: DynamoDBBackend, transact_item: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
    op_type, op = next(iter(transact_item.items()))
    table = backend.get_table(op["TableName"])
    if op_type == "Put":
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
    else:
        key = op["Key"]
    current = backend.get_item(op["TableName"], key)
    return op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"]) if current else None


def _restore(backend: DynamoDBBackend, table_name: str, key: dict[str, Any], previous: Any) -> None:
    if previous is None:
        backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, previous)


def serve_s3_endpoint(host: str, port: int) -> Any:
    """moto's own HTTP server, sharing this process's emulated account: presigned URLs work in a
    browser, and `aws --endpoint-url` can look inside. Functions reach S3 through it as well."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:  # moto's server only prints when the port is taken, and hangs
        # as moto's server itself binds: a port left in TIME_WAIT by the last `make run` is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"port {port} for the emulated AWS endpoint is taken; set AWS_PORT") from error
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def run_step_functions_on(timeline: Timeline) -> None:
    from datetime import UTC
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.callback import callback
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution import Execution as InterpretedExecution

    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            timeline.sleep(wait_seconds, interrupted=lambda: not env.is_running())

    def timestamp_wait_seconds(self: Timestamp, env: Any) -> int:
        self.string.eval(env=env)
        text = env.stack.pop()
        moment = self._from_timestamp_string(timestamp=text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        # rounded up: a Wait ends at its timestamp or after, never a fraction of a second before it
        return math.ceil((moment.replace(tzinfo=UTC) - timeline.now()).total_seconds())

    class SimulatedEvent(threading.Event):
        """A threading.Event whose timed wait counts simulated seconds."""

        parks = True

        def wait(self, timeout: float | None = None) -> bool:
            if timeout is None:
                return super().wait()
            timeline.sleep(timeout, interrupted=self.is_set, parks=self.parks)
            return self.is_set()

    class TaskTimeoutEvent(SimulatedEvent):
        """A Task state's timeout: the task runs meanwhile, so the execution is busy, not parked
        (counted as parked, `settle` returned while a Lambda task was still running)."""

        parks = False

    class _SimulatedTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            timeline.sleep(seconds)

    original_stop = InterpretedExecution.stop

    def stop(self: InterpretedExecution, stop_date: Any, error: str | None, cause: str | None) -> None:
        # StopExecution ends an execution at once on AWS; moto's interpreter only marks it stopped and
        # leaves a task-token wait asleep until its timeout. Wake the waits, as its own
        # CallbackEndpoint.interrupt_all is meant for.
        original_stop(self, stop_date, error, cause)
        worker = self.exec_worker
        if worker is not None and worker.env is not None:
            for endpoint in list(worker.env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()

    original_set_error = Environment.set_error

    def set_error(self: Environment, error: Any) -> None:
        # The woken wait surfaces as an error; a stopped execution stays ABORTED, as on AWS.
        if not isinstance(self.program_state(), ProgramStopped):
            original_set_error(self, error)

    InterpretedExecution.stop = stop  # type: ignore[method-assign]
    Environment.set_error = set_error  # type: ignore[method-assign]
    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    Timestamp._get_wait_seconds = timestamp_wait_seconds  # type: ignore[method-assign]
    # Task timeouts and task-token/heartbeat waits block on Events these two modules create.
    setattr(execute_state, "threading", SimpleNamespace(Event=TaskTimeoutEvent))  # noqa: B010
    # callback imports `Event` by name: the module's name is what must change (task-token waits park)
    setattr(callback, "Event", SimulatedEvent)  # noqa: B010
    setattr(retrier_decl, "time", _SimulatedTime)  # noqa: B010


def route_lambda_invocations(dispatch: LambdaDispatcher) -> None:
    def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        payload, errored = dispatch(self.function_name, event if event is not None else {})
        return payload, errored, ""

    LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]


_moto_send_raw_email = EmailResponse.send_raw_email
_CONFIGURATION_SETS: dict[str, str] = {}  # SES message id -> the configuration set it was sent through
SUPPRESSED_DESTINATIONS: dict[str, str] = {}  # address -> reason (BOUNCE, COMPLAINT)


def _note_configuration_sets() -> None:
    def send_raw_email(self: EmailResponse) -> Any:
        result = _moto_send_raw_email(self)
        configuration_set = self._get_param("ConfigurationSetName")
        if configuration_set:
            sent: dict[str, Any] = result.result  # type: ignore[assignment]  # {"MessageId": ...}
            _CONFIGURATION_SETS[sent["MessageId"]] = configuration_set
        return result

    EmailResponse.send_raw_email = send_raw_email  # type: ignore[method-assign]


_SMS_SENT_AT: dict[str, str] = {}  # SNS message id -> when it was published (simulated clock)
_moto_sns_publish = SNSBackend.publish


def _note_sms_times(now: Callable[[], str]) -> None:
    def publish(
        self: SNSBackend, message: str, arn: str | None, phone_number: str | None = None, **rest: Any
    ) -> str:
        message_id = _moto_sns_publish(self, message, arn, phone_number, **rest)
        if phone_number:
            _SMS_SENT_AT[message_id] = now()
        return message_id

    SNSBackend.publish = publish  # type: ignore[method-assign,assignment]


def _answer_opt_outs_from_the_list() -> None:
    def check_if_phone_number_is_opted_out(self: SNSBackend, number: str) -> bool:
        return number in self.opt_out_numbers

    SNSBackend.check_if_phone_number_is_opted_out = check_if_phone_number_is_opted_out  # type: ignore[method-assign]


@dataclass(frozen=True)
class SentSms:
    message_id: str
    to: str
    text: str
    sent_at: str


def sent_sms() -> list[SentSms]:
    """Every SMS SNS accepted for a phone number, in order."""
    backend = sns_backends[ACCOUNT_ID][REGION]
    return [
        SentSms(message_id, phone, text, _SMS_SENT_AT.get(message_id, ""))
        for message_id, (phone, text) in list(backend.sms_messages.items())
    ]


def opt_out_phone_number(number: str) -> None:
    """What SNS does when the phone answers STOP: the number joins the account's opt-out list."""
    numbers = sns_backends[ACCOUNT_ID][REGION].opt_out_numbers
    if number not in numbers:
        numbers.append(number)


def _keep_a_suppression_list() -> None:
    def put_suppressed_destination(self: SESV2Response) -> str:
        params = json.loads(self.body)
        SUPPRESSED_DESTINATIONS[str(params["EmailAddress"]).lower()] = str(params["Reason"])
        return "{}"

    SESV2Response.put_suppressed_destination = put_suppressed_destination  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    destinations: list[str]
    raw: str | None  # MIME text, when sent raw (with attachments)
    subject: str | None
    body: str | None
    configuration_set: str | None = None


def sent_emails(start: int = 0) -> list[SentEmail]:
    """Every message SES accepted, in order; from the `start`-th on (the list only grows)."""
    backend = ses_backends[ACCOUNT_ID][REGION]
    emails: list[SentEmail] = []
    for message in list(backend.sent_messages[start:]):
        if isinstance(message, RawMessage):
            destinations = list(message.destinations)
            emails.append(
                SentEmail(
                    message.id,
                    message.source,
                    destinations,
                    message.raw_data,
                    None,
                    None,
                    _CONFIGURATION_SETS.get(message.id),
                )
            )
        elif isinstance(message, Message):
            destinations = [a for values in message.destinations.values() for a in values]
            emails.append(
                SentEmail(message.id, message.source, destinations, None, message.subject, message.body)
            )
    return emails


def stored_objects() -> Iterator[tuple[str, str, str, bytes]]:
    """(bucket, key, etag, body) of the latest version of every object in every bucket."""
    for bucket in list(s3_backends[ACCOUNT_ID]["aws"].buckets.values()):
        for key in list(bucket.keys.values()):
            if getattr(key, "is_latest", True) and hasattr(key, "value"):
                yield bucket.name, key.name, key.etag, key.value


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int


def latest_objects() -> Iterator[StoredObject]:
    """The latest version of every object in every bucket, without its body (bucket notifications)."""
    for bucket in list(s3_backends[ACCOUNT_ID]["aws"].buckets.values()):
        for key in list(bucket.keys.values()):
            if getattr(key, "is_latest", True) and hasattr(key, "value"):
                version = getattr(key, "version_id", None)
                yield StoredObject(
                    bucket.name,
                    key.name,
                    None if version in (None, "null") else str(version),
                    key.etag,
                    key.size,
                )


def lambda_error_payload(error: BaseException) -> str:
    """The JSON a Lambda function's unhandled exception produces, as Step Functions reads it."""
    return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []})


def seed_items_quietly(table_name: str, items: Iterable[dict[str, Any]]) -> int:
    """Writes items (DynamoDB JSON) straight into the emulated table, without stream records.

    For bulk data that only read-cost measurements need (100,000 stored invoices): no consumer should
    see it, and the boto3 path would take minutes. Everything the product does still goes through boto3.
    """
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(table_name)
    shard, table.stream_shard = table.stream_shard, None
    count = 0
    try:
        with _TABLE_LOCK:
            for item in items:
                table.put_item(item)
                count += 1
    finally:
        table.stream_shard = shard
    return count


def messages_in_queue(queue_name: str) -> int:
    """Messages the queue holds, visible, delayed or in flight, read without an API call."""
    return len(sqs_backends[ACCOUNT_ID][REGION].get_queue(queue_name)._messages)
