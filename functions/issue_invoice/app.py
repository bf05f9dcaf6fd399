"""Stream consumer: issues the invoice (number, dates, follow-up task) for each new order."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.invoices import issue_invoice
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import SellerSettings, load
from receivables.stream_batch import process_stream_messages


def issue_for_record(record: DynamoDBRecord) -> None:
    order = record.dynamodb.new_image if record.dynamodb else None
    if not order:
        return
    settings = load(SellerSettings)
    issued = issue_invoice(settings.table_name, order, load_seller_profile(settings.seller_profile_parameter))
    logger.info(
        "invoice issued" if issued.newly_issued else "invoice already issued",
        extra={"order_id": order["id"], "invoice_id": issued.invoice_id, "number": issued.number},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, issue_for_record)
