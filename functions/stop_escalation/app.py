"""Stream consumer: a payment or dispute ends the invoice's running escalation at once."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.escalation import stop_for
from receivables.invoices import get_invoice
from receivables.observability import logger
from receivables.settings import TableSettings, load
from receivables.stream_batch import process_stream_messages


def stop_for_record(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        return
    table = load(TableSettings).table_name
    invoice = get_invoice(table, image["id"])  # the current state, not the record's: it may be old
    reason = "disputed" if invoice.get("disputed") else f"invoice {invoice['status']}"
    if invoice.get("disputed") or invoice["status"] in ("paid", "void"):
        stopped = stop_for(table, invoice, reason)
        logger.info("escalation ended", extra={"invoice_id": invoice["id"], "was_running": stopped})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, stop_for_record)
