"""The consumers' side of the stream fan-out: SQS records that carry one table-stream record each.

Every stream consumer receives, from its own FIFO queue, the stream records its subscription's filter
let through (docs/decisions/0020-stream-fan-out.md). This is the one batch skeleton they share:
unwrap each message into the typed stream record the domain callback always received, run the
callback per record, and answer with the failed messages only (`ReportBatchItemFailures`). A failed
message fails the rest of its message group in this batch (the same table item), so a later change
of an item never overtakes an earlier one; other items go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

StreamRecordHandler = Callable[[DynamoDBRecord], None]


def stream_record_of(message: SQSRecord) -> DynamoDBRecord:
    """The table-stream record a fan-out message carries (the router publishes it as the raw body)."""
    return DynamoDBRecord(json.loads(message.body))


def process_stream_messages(
    event: dict[str, Any], context: LambdaContext, handle: StreamRecordHandler
) -> PartialItemFailureResponse:
    # One processor per invocation: it holds the batch's state, and nothing else may share it.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)

    def handle_message(record: SQSRecord) -> None:  # Powertools passes it by the name `record`
        handle(stream_record_of(record))

    return process_partial_response(
        event=event, record_handler=handle_message, processor=processor, context=context
    )
