"""Stream consumer: renders each new invoice to PDF and stores it in S3, once."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Every record renders a PDF: the renderer (fpdf2) is imported during init, not in the first invocation
# (docs/decisions/0019-cold-start.md). The layer imports it lazily for the functions that do not render.
import receivables.rendering.invoice_pdf  # noqa: F401
from receivables.invoice_delivery import render_and_store_pdf
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import RenderSettings, load
from receivables.stream_batch import process_stream_messages


def render_for_record(record: DynamoDBRecord) -> None:
    invoice = record.dynamodb.new_image if record.dynamodb else None
    if not invoice:
        return
    settings = load(RenderSettings)
    seller = load_seller_profile(settings.seller_profile_parameter)
    render_and_store_pdf(settings.table_name, settings.documents_bucket, invoice["id"], seller)
    logger.info("invoice rendered", extra={"invoice_id": invoice["id"]})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, render_for_record)
