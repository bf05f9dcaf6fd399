"""The table stream's one reader: every record goes to the fan-out topic, in order, once per record.

Each consumer has its own FIFO queue subscribed to the topic with the filter that used to sit on its
own stream mapping (template.yaml holds the filters). Records of one table item travel in one message
group (the item's partition key), so every consumer sees an item's changes in the order the stream
committed them; the stream's event id is the deduplication id, so a re-published record inside SNS's
five-minute window reaches no queue twice (docs/decisions/0020-stream-fan-out.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from receivables import aws

# PublishBatch takes at most 10 entries per call.
_PUBLISH_BATCH_LIMIT = 10


class FanOutSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    fan_out_topic_arn: str


def message_group(record: dict[str, Any]) -> str:
    """The item's partition key: one group per invoice, order, credit note, outbox event, ..."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    pk = keys.get("pk", {}).get("S")
    if not pk:
        raise ValueError(f"stream record {record.get('eventID')} has no string partition key")
    return str(pk)[:128]


def route_records(topic_arn: str, records: Sequence[dict[str, Any]]) -> list[str]:
    """Publishes the records in stream order; returns the sequence numbers left to retry.

    Everything from the first record that was not accepted onwards is reported, never only the
    failed one: the stream mapping resumes from the lowest reported record, and a later record of
    the same item must not overtake it. Records published before the failure and re-published on
    the retry are dropped by SNS's deduplication.
    """
    for start in range(0, len(records), _PUBLISH_BATCH_LIMIT):
        chunk = records[start : start + _PUBLISH_BATCH_LIMIT]
        try:
            response = aws.client("sns").publish_batch(
                TopicArn=topic_arn,
                PublishBatchRequestEntries=[
                    {
                        "Id": str(index),
                        "Message": json.dumps(record, separators=(",", ":")),
                        "MessageGroupId": message_group(record),
                        "MessageDeduplicationId": str(record["eventID"]),
                    }
                    for index, record in enumerate(chunk)
                ],
            )
        except Exception:
            return _sequence_numbers(records[start:])
        failed = sorted(int(entry["Id"]) for entry in response.get("Failed", []))
        if failed:
            return _sequence_numbers(records[start + failed[0] :])
    return []


def _sequence_numbers(records: Sequence[dict[str, Any]]) -> list[str]:
    return [str(record["dynamodb"]["SequenceNumber"]) for record in records]
