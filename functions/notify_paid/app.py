"""Queue consumer of three outbox events: `payment.received` - one receipt or payment confirmation email
per applied payment; `invoice.paid` - the invoice's open follow-up tasks closed; `invoice.dispute_resolved`
- one email answering the customer's dispute (upheld or rejected; receivables.dispute_answers).

Keyed on the payment's event rather than on the invoice becoming paid: every payment gets its email
(a part payment its receipt), and an invoice settled by a credit note gets no thank-you
(docs/decisions/0023-invoice-ledger.md, "Receipts and credit notes to the customer"). A running
escalation checks the invoice's status at each step and ends itself once it is paid or disputed.
The dispute answer is sent here, beside the receipts, because this consumer already sends the customer
emails that outbox events ask for (docs/decisions/0034-postal-codes-and-dispute-answers.md).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Most records render an email: jinja2 and Babel are imported during init, not in the first invocation
# (docs/decisions/0019-cold-start.md). The layer imports them lazily for the functions that send none.
import receivables.rendering.emails  # noqa: F401
from receivables import mailer
from receivables.dispute_answers import send_dispute_answer
from receivables.observability import logger
from receivables.outbox import OUTBOX_ENTITY, event_from_outbox_image
from receivables.payment_receipts import send_payment_receipt
from receivables.seller import load_seller_profile
from receivables.settings import NotifySettings, load
from receivables.stream_batch import process_stream_messages
from receivables.tasks import close_open_tasks_of_invoice

# The customer emails an outbox event asks for: (sender, log line when sent, log line when not).
CUSTOMER_EMAILS = {
    "payment.received": (
        send_payment_receipt,
        "payment receipt sent",
        "payment receipt already sent (or address suppressed)",
    ),
    "invoice.dispute_resolved": (
        send_dispute_answer,
        "dispute answer sent",
        "no dispute answer sent (sent already, suppressed or a chargeback)",
    ),
}


def notify_for_record(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or image.get("entity") != OUTBOX_ENTITY:
        return  # an invoice record queued before this consumer read outbox events: the payment's own event
    event = event_from_outbox_image(image)
    settings = load(NotifySettings)
    invoice_id = event.data["invoice_id"]
    if event.type == "invoice.paid":
        closed = close_open_tasks_of_invoice(settings.table_name, invoice_id, by="payment")
        logger.info("invoice paid", extra={"invoice_id": invoice_id, "tasks_closed": closed})
        return
    if event.type not in CUSTOMER_EMAILS:
        return
    send, sent, not_sent = CUSTOMER_EMAILS[event.type]
    mailer.use_configuration_set(settings.ses_configuration_set)
    seller = load_seller_profile(settings.seller_profile_parameter)
    result = send(settings.table_name, settings.sender_address, settings.public_base_url, event, seller)
    logger.info(sent if result else not_sent, extra={"invoice_id": invoice_id, "event_id": event.id})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream_messages(event, context, notify_for_record)
