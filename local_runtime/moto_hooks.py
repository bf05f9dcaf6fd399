"""Every place the local runtime touches moto's internals, and only here.

moto is pinned (requirements-dev.txt); a moto upgrade is a review of this one file:
- `LambdaFunction._invoke_lambda`: the single point where moto runs a Lambda function (from
  `lambda:Invoke`, Step Functions tasks and other moto-internal callers). We route it to our handlers.
- `DynamoDBBackend.transact_write_items`: moto writes each operation as it goes and, when the
  transaction is cancelled, restores a deep copy of the table. Its stream then carries records of
  writes that never committed, and the copy's new stream shard is one a reader no longer follows.
  We buffer a transaction's stream records, publish them only on commit, and keep the live shard.
- Step Functions' interpreter waits on the wall clock in four places: Wait states
  (`WaitFunction._wait_interval`, and `Timestamp._get_wait_seconds`, which even compares against a
  naive local `datetime.now()`), task timeouts (the `threading.Event` of `execute_state`), task-token
  and heartbeat waits (the Events of `eval.callback.callback`) and retry intervals (the `time` module
  of `retrier_decl`). All of them wait on the simulated clock instead (local_runtime/timeline.py).
- SES `sent_messages` and S3 `buckets`: read to show people what the system sent and stored.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.models import DynamoDBBackend
from moto.s3.models import s3_backends
from moto.ses.models import Message, RawMessage, ses_backends
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

from local_runtime.template import ACCOUNT_ID, REGION
from local_runtime.timeline import Timeline

# (function name, event) -> (response payload as JSON text, whether the function raised)
LambdaDispatcher = Callable[[str, Any], tuple[str, bool]]


def start_emulated_aws() -> Any:
    """Starts moto in this process with Step Functions' ASL interpreter switched on."""
    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    _publish_stream_records_on_commit_only()
    return mock


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _publish_stream_records_on_commit_only() -> None:
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        names = {op.get("TableName") for item in transact_items for op in item.values()} & set(self.tables)
        shards = {name: self.tables[name].stream_shard for name in names}
        pending: list[tuple[Any, Any, Any]] = []
        for shard in filter(None, shards.values()):
            shard.add = lambda old, new, shard=shard: pending.append((shard, old, new))  # type: ignore[method-assign,misc]
        try:
            _moto_transact_write_items(self, transact_items)
        finally:
            for name, live in shards.items():
                if live is not None:
                    del live.add
                    self.tables[name].stream_shard = live
        for target, old, new in pending:
            target.add(old, new)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def serve_s3_endpoint(host: str, port: int) -> Any:
    """moto's own HTTP server, sharing this process's emulated account: presigned URLs work in a
    browser, and `aws --endpoint-url` can look inside. Functions reach S3 through it as well."""
    from moto.server import ThreadedMotoServer

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

    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            timeline.sleep(wait_seconds, interrupted=lambda: not env.is_running())

    def timestamp_wait_seconds(self: Timestamp, env: Any) -> int:
        self.string.eval(env=env)
        text = env.stack.pop()
        moment = self._from_timestamp_string(timestamp=text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return int((moment.replace(tzinfo=UTC) - timeline.now()).total_seconds())

    class SimulatedEvent(threading.Event):
        """A threading.Event whose timed wait counts simulated seconds."""

        def wait(self, timeout: float | None = None) -> bool:
            if timeout is None:
                return super().wait()
            timeline.sleep(timeout, interrupted=self.is_set)
            return self.is_set()

    class _SimulatedTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            timeline.sleep(seconds)

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    Timestamp._get_wait_seconds = timestamp_wait_seconds  # type: ignore[method-assign]
    # Task timeouts and task-token/heartbeat waits block on Events these two modules create.
    setattr(execute_state, "threading", SimpleNamespace(Event=SimulatedEvent))  # noqa: B010
    setattr(callback, "threading", SimpleNamespace(Event=SimulatedEvent))  # noqa: B010
    setattr(retrier_decl, "time", _SimulatedTime)  # noqa: B010


def route_lambda_invocations(dispatch: LambdaDispatcher) -> None:
    def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        payload, errored = dispatch(self.function_name, event if event is not None else {})
        return payload, errored, ""

    LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    destinations: list[str]
    raw: str | None  # MIME text, when sent raw (with attachments)
    subject: str | None
    body: str | None


def sent_emails() -> list[SentEmail]:
    backend = ses_backends[ACCOUNT_ID][REGION]
    emails: list[SentEmail] = []
    for message in list(backend.sent_messages):
        if isinstance(message, RawMessage):
            destinations = list(message.destinations)
            emails.append(SentEmail(message.id, message.source, destinations, message.raw_data, None, None))
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


def lambda_error_payload(error: BaseException) -> str:
    """The JSON a Lambda function's unhandled exception produces, as Step Functions reads it."""
    return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []})
