"""Stream consumer: renders each new credit note to PDF, stores it in S3, and emails it to the customer,
each once. A retry after a failed email finds the PDF stored and only sends (docs/decisions/0023)."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Every record renders a PDF and an email: the renderers (fpdf2, jinja2) are imported during init, not in
# the first invocation (docs/decisions/0019-cold-start.md). The layer imports them lazily elsewhere.
import receivables.rendering.emails
import receivables.rendering.invoice_pdf  # noqa: F401
from receivables import mailer
from receivables.credit_note_delivery import email_credit_note
from receivables.credit_notes import render_and_store_credit_note_pdf
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import SendSettings, load
from receivables.stream_batch import process_stream_messages


def render_and_send_for_record(record: DynamoDBRecord) -> None:
    credit_note = record.dynamodb.new_image if record.dynamodb else None
    if not credit_note:
        return
    settings = load(SendSettings)
    mailer.use_configuration_set(settings.ses_configuration_set)
    seller = load_seller_profile(settings.seller_profile_parameter)
    rendered = render_and_store_credit_note_pdf(
        settings.table_name, settings.documents_bucket, credit_note["id"], seller
    )
    message_id = email_credit_note(
        settings.table_name,
        settings.documents_bucket,
        settings.sender_address,
        settings.public_base_url,
        credit_note["id"],
        seller,
    )
    logger.info(
        "credit note rendered" if rendered else "credit note already rendered",
        extra={"credit_note_id": credit_note["id"], "emailed": message_id is not None},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, render_and_send_for_record)
