"""Stream consumer: an invoice became paid - one confirmation email, its open tasks closed.

The `invoice.paid` and `payment.received` events were already committed with the payment (outbox).
A running escalation checks the invoice's status at each step and ends itself once it is paid or
disputed; the escalation issue adds the immediate stop here (docs/decisions/0011-payments.md).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Every record renders an email: jinja2 and Babel are imported during init, not in the first invocation
# (docs/decisions/0019-cold-start.md). The layer imports them lazily for the functions that send none.
import receivables.rendering.emails  # noqa: F401
from receivables import mailer
from receivables.invoice_delivery import confirm_payment
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import NotifySettings, load
from receivables.stream_batch import process_stream_messages
from receivables.tasks import close_open_tasks_of_invoice


def confirm_for_record(record: DynamoDBRecord) -> None:
    invoice = record.dynamodb.new_image if record.dynamodb else None
    if not invoice:
        return
    settings = load(NotifySettings)
    mailer.use_configuration_set(settings.ses_configuration_set)
    message_id = confirm_payment(
        settings.table_name,
        settings.sender_address,
        settings.public_base_url,
        invoice["id"],
        int(invoice["version"]),
        load_seller_profile(settings.seller_profile_parameter),
    )
    closed = close_open_tasks_of_invoice(settings.table_name, invoice["id"], by="payment")
    logger.info(
        "payment confirmed" if message_id else "payment confirmation already sent",
        extra={"invoice_id": invoice["id"], "tasks_closed": closed},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, confirm_for_record)
