"""DynamoDB stream delivery as Lambda's event source mapping does it.

moto's own stream-to-Lambda delivery runs inside `put_item` (re-entrant), so we never register event
source mappings with moto; instead one pump thread reads the streams through the `dynamodbstreams`
API and feeds each consumer asynchronously: filtered, in order, in batches of the configured size,
honouring `batchItemFailures`, bisecting failed batches, retrying, and sending exhausted batches to
the on-failure destination.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from local_runtime.filters import matches_any
from local_runtime.functions import FunctionFailed
from local_runtime.provision import StreamSource
from local_runtime.template import ACCOUNT_ID, REGION

Invoke = Callable[[str, Any], Any]
# A failed batch waits before its retry, doubling from the base up to the cap. Lambda documents no
# figures; tests that exhaust the retries (poison records) may shorten the wait, never the count.
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 2.0


def _lambda_shape(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """moto's record as Lambda delivers it: epoch seconds, the source ARN, and JSON-safe values."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | set | tuple):
            return [plain(v) for v in value]
        return value

    shaped: dict[str, Any] = plain(
        {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": data,
            "eventSourceARN": stream_arn,
        }
    )
    return shaped


class StreamLog:
    """Everything each stream has carried so far, read with the dynamodbstreams API."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self._iterators: dict[tuple[str, str], str | None] = {}
        self._client = boto3.client("dynamodbstreams")

    def follow(self, stream_arn: str) -> None:
        self.records.setdefault(stream_arn, [])

    def poll(self) -> int:
        added = 0
        for stream_arn, records in self.records.items():
            shards = self._client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                key = (stream_arn, shard["ShardId"])
                if key not in self._iterators:
                    self._iterators[key] = self._client.get_shard_iterator(
                        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
                iterator = self._iterators[key]
                while iterator:
                    page = self._client.get_records(ShardIterator=iterator, Limit=1000)
                    iterator = page.get("NextShardIterator")
                    records += [_lambda_shape(r, stream_arn) for r in page["Records"]]
                    added += len(page["Records"])
                    if not page["Records"]:
                        break
                self._iterators[key] = iterator
        return added


@dataclass
class StreamConsumer:
    source: StreamSource
    log: list[dict[str, Any]]
    position: int = 0
    attempts: int = 0
    batch_cap: int = 0
    retry_at: float = 0.0
    delivered: int = 0
    sent_to_failure_destination: int = field(default=0)

    @property
    def pending(self) -> bool:
        return self.position < len(self.log)

    def step(self, invoke: Invoke) -> bool:
        """Delivers at most one batch; returns whether there was anything to do."""
        while self.pending and not matches_any(self.source.filters, self.log[self.position]):
            self.position += 1  # filtered out: Lambda drops these without invoking
        if not self.pending or time.monotonic() < self.retry_at:
            return False
        batch = self._next_batch()
        try:
            response = invoke(self.source.function_name, {"Records": batch})
        except FunctionFailed:
            self._failed(batch, len(batch))
            return True
        failures = (response or {}).get("batchItemFailures") if self.source.report_item_failures else None
        if failures:
            failed_ids = {f.get("itemIdentifier") for f in failures}
            first = next(
                (i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed_ids), None
            )
            if first is None:  # unknown identifiers: Lambda treats the whole batch as failed
                first = 0
            self._advance_over(batch[:first])
            self._failed(batch[first:], len(batch) - first)
            return True
        self._advance_over(batch)
        self.attempts, self.batch_cap = 0, 0
        return True

    def _next_batch(self) -> list[dict[str, Any]]:
        limit = self.batch_cap or self.source.batch_size
        batch: list[dict[str, Any]] = []
        index = self.position
        while index < len(self.log) and len(batch) < limit:
            if matches_any(self.source.filters, self.log[index]):
                batch.append(self.log[index])
            index += 1
        return batch

    def _advance_over(self, delivered: list[dict[str, Any]]) -> None:
        for record in delivered:
            self.position = self.log.index(record, self.position) + 1
            self.delivered += 1

    def _failed(self, batch: list[dict[str, Any]], size: int) -> None:
        if self.source.bisect_on_error and size > 1:
            self.batch_cap = max(1, size // 2)  # splitting does not count as a retry
            return
        self.attempts += 1
        exhausted = 0 <= self.source.maximum_retry_attempts < self.attempts
        if exhausted:
            self._send_to_failure_destination(batch)
            self._advance_over(batch)
            self.attempts, self.batch_cap = 0, 0
            return
        self.retry_at = time.monotonic() + min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**self.attempts)

    def _send_to_failure_destination(self, batch: list[dict[str, Any]]) -> None:
        self.sent_to_failure_destination += len(batch)
        if not self.source.on_failure_arn:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.source.function_name}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": "shardId-local",
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(batch),
                "streamArn": self.source.stream_arn,
            },
        }
        name = self.source.on_failure_arn.rsplit(":", 1)[-1]
        sqs = boto3.client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody=json.dumps(message)
        )


class StreamPump:
    """One thread: read every stream, then give each consumer one batch; repeat."""

    def __init__(self, sources: list[StreamSource], invoke: Invoke) -> None:
        self._invoke = invoke
        self._log = StreamLog()
        for source in sources:
            self._log.follow(source.stream_arn)
        self.consumers = [StreamConsumer(s, self._log.records[s.stream_arn]) for s in sources]
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._idle_rounds = 0
        self._thread = threading.Thread(target=self._run, name="stream-pump", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace_seconds: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout=grace_seconds)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._log.poll() > 0
                for consumer in self.consumers:
                    busy = consumer.step(self._invoke) or busy
                waiting = any(c.pending for c in self.consumers)
            except Exception as error:  # keep delivering; the failure is visible in health
                self.error = error
                busy, waiting = False, False
            with self._idle:
                self._idle_rounds = 0 if busy or waiting else self._idle_rounds + 1
                self._idle.notify_all()
            if not busy:
                time.sleep(0.01)

    def wait_until_idle(self, timeout: float) -> bool:
        """True once every record written so far has been delivered (or given up on)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            self._idle_rounds = 0  # two full rounds must pass after this call
            while self._idle_rounds < 2:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive:
                    return False
                self._idle.wait(remaining)
        return True
