"""Every place the local runtime touches moto's internals, and only here.

moto is pinned (requirements-dev.txt); a moto upgrade is a review of this one file:
- `LambdaFunction._invoke_lambda`: the single point where moto runs a Lambda function (from
  `lambda:Invoke`, Step Functions tasks and other moto-internal callers). We route it to our handlers.
- `DynamoDBBackend.transact_write_items`: moto writes each operation as it goes and, when the
  transaction is cancelled, restores a deep copy of the table. Its stream then carries records of
  writes that never committed, and the copy's new stream shard is one a reader no longer follows.
  We buffer a transaction's stream records, publish them only on commit, and keep the live shard.
- SES `sent_messages` and S3 `buckets`: read to show people what the system sent and stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.models import DynamoDBBackend
from moto.s3.models import s3_backends
from moto.ses.models import Message, RawMessage, ses_backends

from local_runtime.template import ACCOUNT_ID, REGION

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
            shard.add = lambda old, new, shard=shard: pending.append((shard, old, new))
        try:
            _moto_transact_write_items(self, transact_items)
        finally:
            for name, shard in shards.items():
                if shard is not None:
                    del shard.add
                    self.tables[name].stream_shard = shard
        for shard, old, new in pending:
            shard.add(old, new)

    DynamoDBBackend.transact_write_items = transact_write_items


def route_lambda_invocations(dispatch: LambdaDispatcher) -> None:
    def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        payload, errored = dispatch(self.function_name, event if event is not None else {})
        return payload, errored, ""

    LambdaFunction._invoke_lambda = invoke


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
