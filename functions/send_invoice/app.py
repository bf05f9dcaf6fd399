"""Stream consumer: emails each invoice once its PDF is stored (exactly one email per invoice)."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Every record renders an email: jinja2 and Babel are imported during init, not in the first invocation
# (docs/decisions/0019-cold-start.md). The layer imports them lazily for the functions that send none.
import receivables.rendering.emails  # noqa: F401
from receivables import mailer
from receivables.invoice_delivery import email_invoice
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import SendSettings, load
from receivables.stream_batch import process_stream_messages


def send_for_record(record: DynamoDBRecord) -> None:
    invoice = record.dynamodb.new_image if record.dynamodb else None
    if not invoice:
        return
    settings = load(SendSettings)
    mailer.use_configuration_set(settings.ses_configuration_set)
    message_id = email_invoice(
        settings.table_name,
        settings.documents_bucket,
        settings.sender_address,
        settings.public_base_url,
        invoice["id"],
        load_seller_profile(settings.seller_profile_parameter),
    )
    logger.info(
        "invoice emailed" if message_id else "invoice email already sent", extra={"invoice_id": invoice["id"]}
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, send_for_record)
