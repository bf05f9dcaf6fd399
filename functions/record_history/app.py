"""Stream consumer: one audit-trail entry per committed change of an invoice, once per stream record."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.history import build_entry, record_change
from receivables.observability import logger
from receivables.settings import TableSettings, load
from receivables.stream_batch import process_stream_messages


def record_for_record(record: DynamoDBRecord) -> None:
    stream = record.dynamodb
    if stream is None or not stream.new_image or record.event_id is None:
        return
    committed = stream.approximate_creation_date_time
    entry = build_entry(
        record.event_id,
        stream.sequence_number or "0",
        int(committed) if committed is not None else None,
        stream.old_image or None,
        stream.new_image,
    )
    if entry is None:
        return
    written = record_change(load(TableSettings).table_name, entry)
    logger.info(
        "history recorded" if written else "history already recorded",
        extra={"invoice_id": entry["invoice_id"], "cause": entry["cause"]},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, record_for_record)
