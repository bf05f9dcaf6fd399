"""SQS delivery as Lambda's event source mapping does it.

One pump thread polls every queue a function is mapped to (`Type: SQS` events in the template) and
invokes the function with a batch of up to `BatchSize` messages. Messages the function handled are
deleted; failed ones (`batchItemFailures`, or all of them when the function raised) stay in flight and
become visible again after a retry delay, and once a message has been received `maxReceiveCount`
times, moto's own redrive moves it to the queue's dead-letter queue on the next receive, as SQS does.

The retry delay is the one liberty taken: on AWS a failed message waits for the queue's visibility
timeout (minutes here: six times the function's timeout). Locally it waits the stream pump's doubling
delay (`RETRY_BASE_SECONDS` up to `RETRY_CAP_SECONDS`), so a poison message reaches its dead-letter
queue in seconds; the number of deliveries is the template's. Messages are received with a long
visibility timeout so moto's wall clock never hands a message back on its own.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_runtime.functions import FunctionFailed
from local_runtime.moto_hooks import messages_in_queue
from local_runtime.provision import QueueSource
from local_runtime.template import ACCOUNT_ID, REGION

Invoke = Callable[[str, Any], Any]
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 2.0
_RECEIVE_LIMIT = 10  # SQS returns at most 10 messages per ReceiveMessage
_HELD_VISIBILITY_SECONDS = 12 * 3600  # the runtime hands failed messages back itself, see above


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One received message as Lambda hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@dataclass
class QueueConsumer:
    source: QueueSource
    url: str
    # receipt handle -> monotonic time at which the failed message becomes visible again
    held: dict[str, float] = field(default_factory=dict)
    deliveries: int = 0

    def step(self, invoke: Invoke, sqs: Any) -> bool:
        """Releases due retries and delivers at most one batch; returns whether it did anything."""
        released = self._release_due(sqs)
        if not messages_in_queue(self.source.queue_name):
            return released
        messages = self._receive(sqs)
        if not messages:
            return released
        records = [lambda_record(m, self.source.queue_arn) for m in messages]
        self.deliveries += 1
        try:
            response = invoke(self.source.function_name, {"Records": records})
        except FunctionFailed:
            failed = {m["MessageId"] for m in messages}
        else:
            reported = (response or {}).get("batchItemFailures") if self.source.report_item_failures else None
            failed = {f.get("itemIdentifier") for f in reported or []}
            if not failed <= {m["MessageId"] for m in messages}:
                failed = {m["MessageId"] for m in messages}  # unknown identifiers: Lambda fails the batch
        for message in messages:
            if message["MessageId"] in failed:
                attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**attempts)
                self.held[message["ReceiptHandle"]] = time.monotonic() + delay
            else:
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _receive(self, sqs: Any) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.source.batch_size:
            page = sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(_RECEIVE_LIMIT, self.source.batch_size - len(messages)),
                VisibilityTimeout=_HELD_VISIBILITY_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not page:
                break
            messages += page
        return messages

    def _release_due(self, sqs: Any) -> bool:
        now = time.monotonic()
        due = [handle for handle, at in self.held.items() if at <= now]
        for handle in due:
            del self.held[handle]
            sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=handle, VisibilityTimeout=0)
        return bool(due)

    def pending(self) -> bool:
        """Messages waiting, in flight or held for a retry."""
        return bool(self.held) or messages_in_queue(self.source.queue_name) > 0


class QueuePump:
    """One thread: give each mapped queue's function one batch; repeat."""

    def __init__(self, sources: list[QueueSource], invoke: Invoke, serialised: threading.RLock) -> None:
        self._invoke = invoke
        # Held from receive to delete, as the function invocations' lock: a receive never sees half of
        # what a running function (the router mid-publish) is still sending.
        self._serialised = serialised
        self._sqs = boto3.client("sqs")
        self.consumers = [
            QueueConsumer(s, self._sqs.get_queue_url(QueueName=s.queue_name)["QueueUrl"]) for s in sources
        ]
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._idle_rounds = 0
        self._thread = threading.Thread(target=self._run, name="queue-pump", daemon=True)
        self.error: BaseException | None = None

    @property
    def deliveries(self) -> int:
        return sum(c.deliveries for c in self.consumers)

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
                busy = False
                for consumer in self.consumers:
                    with self._serialised:
                        busy = consumer.step(self._invoke, self._sqs) or busy
                waiting = busy or any(c.pending() for c in self.consumers)
            except Exception as error:  # keep delivering; the failure is visible in health
                self.error = error
                busy, waiting = False, False
            with self._idle:
                self._idle_rounds = 0 if busy or waiting else self._idle_rounds + 1
                self._idle.notify_all()
            if not busy:
                time.sleep(0.01)

    def wait_until_idle(self, timeout: float) -> bool:
        """True once every mapped queue is empty, nothing is in flight and no retry is held."""
        deadline = time.monotonic() + timeout
        with self._idle:
            self._idle_rounds = 0  # two full rounds must pass after this call
            while self._idle_rounds < 2:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive:
                    return False
                self._idle.wait(remaining)
        return True


def message_body(record: dict[str, Any]) -> Any:
    """The JSON body of a Lambda SQS record (the fan-out's messages carry one stream record each)."""
    return json.loads(record["body"])


def fan_out_event(records: list[dict[str, Any]], queue_arn: str | None = None) -> dict[str, Any]:
    """The SQS event a consumer's queue mapping delivers for these table-stream records: each record is
    one message body, in the item's message group, deduplicated by the stream's event id, as the
    router publishes it (for tests and `events/` samples that hand a consumer records directly)."""
    arn = queue_arn or f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:receivables-dev-consumer.fifo"
    event_records = []
    for index, record in enumerate(records):
        body = json.dumps(record, separators=(",", ":"))
        created = int(record.get("dynamodb", {}).get("ApproximateCreationDateTime") or 0) * 1000
        event_records.append(
            {
                "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/{record['eventID']}")),
                "receiptHandle": f"local-{record['eventID']}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(created),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": str(created),
                    "SequenceNumber": f"{18800000000000000000 + index}",
                    "MessageGroupId": record["dynamodb"]["Keys"]["pk"]["S"],
                    "MessageDeduplicationId": record["eventID"],
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": event_records}
