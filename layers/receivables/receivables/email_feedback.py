"""SES delivery feedback: an invoice email bounced, drew a complaint or was delivered (docs/decisions/0021).

SES publishes an event per message and recipient to the configuration set's SNS topic, at least once. Each
event is applied idempotently:
- the invoice's `email_status` moves up `sent` < `delivered` < `complained` < `bounced`, never down (a late
  delivery report cannot hide a bounce), through the invoice store (`mark_invoice_email_status`);
- a permanent bounce or a complaint suppresses the address, in our table (every send checks it) and on the
  SES account's suppression list, and opens one finance task per message and kind.
A transient bounce (mailbox full, SES gave up retrying) changes nothing: the next email may arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from receivables import aws, clock
from receivables.errors import NotFound
from receivables.invoices import get_invoice
from receivables.invoicing import store
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.items import from_item, to_item
from receivables.sending import sent_email_key
from receivables.suppression import suppression_put
from receivables.tasks import FINANCE_QUEUE, NewTask, task_put

EmailStatus = Literal["sent", "delivered", "complained", "bounced"]
# Each status may replace only those before it.
_RANK: dict[str, int] = {"sent": 0, "delivered": 1, "complained": 2, "bounced": 3}


class _Recipient(BaseModel):
    email_address: str = Field(alias="emailAddress")


class _Mail(BaseModel):
    message_id: str = Field(alias="messageId")
    destination: list[str] = []


class _Bounce(BaseModel):
    bounce_type: str = Field(alias="bounceType")  # Permanent, Transient, Undetermined
    bounce_sub_type: str = Field("", alias="bounceSubType")
    bounced_recipients: list[_Recipient] = Field(alias="bouncedRecipients")


class _Complaint(BaseModel):
    complained_recipients: list[_Recipient] = Field(alias="complainedRecipients")


class _Delivery(BaseModel):
    recipients: list[str] = []


class SesEvent(BaseModel):
    """An SES event-publishing record (the `Message` of the SNS notification), the fields we use."""

    model_config = ConfigDict(extra="ignore")

    event_type: Literal["Bounce", "Complaint", "Delivery"] = Field(alias="eventType")
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Delivery | None = None


class UnknownMessage(Exception):
    """No email of ours has this SES message id (yet): the notification is retried, then dead-lettered."""


@dataclass(frozen=True)
class FeedbackOutcome:
    invoice_id: str
    purpose: str
    status: EmailStatus | None  # None: nothing to record (a transient bounce)
    suppressed: tuple[str, ...]


def apply_feedback(table: str, event: SesEvent) -> FeedbackOutcome:
    sent = _sent_email(table, event.mail.message_id)
    invoice_id, purpose = sent["invoice_id"], sent["purpose"]
    status, addresses, reason = _classify(event)
    if status is None:
        return FeedbackOutcome(invoice_id, purpose, None, ())
    if purpose == "invoice":  # email_status tells the invoice email's fate; reminders only suppress
        mark_invoice_email_status(table, invoice_id, status, clock.iso(clock.now()))
    if reason is not None:
        for address in addresses:
            _suppress(table, invoice_id, event, address, reason)
    return FeedbackOutcome(invoice_id, purpose, status, tuple(addresses) if reason else ())


def mark_invoice_email_status(table: str, invoice_id: str, status: EmailStatus, at: str) -> bool:
    """Moves the invoice's `email_status` up to `status`; False if it already was there or beyond."""

    def decide(current: Invoice) -> Decision | None:
        if _RANK.get(current.get("email_status") or "", -1) >= _RANK[status]:
            return None  # a late or repeated report never moves the status down or twice
        return Decision(after=current.with_attributes(email_status=status, email_status_at=at))

    try:
        changed = store.change(
            table, invoice_id, decide, changed_by="email", change_cause=f"invoice email {status}"
        )
    except NotFound:
        return False
    return changed is not None


def _classify(event: SesEvent) -> tuple[EmailStatus | None, list[str], str | None]:
    """(status, the recipients concerned, suppression reason or None)."""
    if event.event_type == "Delivery":
        recipients = event.delivery.recipients if event.delivery else event.mail.destination
        return "delivered", list(recipients), None
    if event.event_type == "Complaint" and event.complaint:
        return "complained", [r.email_address for r in event.complaint.complained_recipients], "COMPLAINT"
    if event.event_type == "Bounce" and event.bounce and event.bounce.bounce_type != "Transient":
        return "bounced", [r.email_address for r in event.bounce.bounced_recipients], "BOUNCE"
    return None, [], None


def _sent_email(table: str, message_id: str) -> dict[str, str]:
    response = aws.client("dynamodb").get_item(
        TableName=table, Key=to_item(sent_email_key(message_id)), ConsistentRead=True
    )
    if "Item" not in response:
        raise UnknownMessage(message_id)
    return {key: str(value) for key, value in from_item(response["Item"]).items()}


def _suppress(table: str, invoice_id: str, event: SesEvent, address: str, reason: str) -> None:
    """Our suppression record and the finance task together (once per message and kind), then SES's list."""
    client = aws.client("dynamodb")
    at = clock.iso(clock.now())
    invoice = get_invoice(table, invoice_id)
    undelivered = reason == "BOUNCE"
    task = NewTask(
        kind="email_bounced" if undelivered else "email_complaint",
        title=(
            f"Invoice {invoice['number']} could not be delivered to {address}"
            if undelivered
            else f"{address} marked an email about invoice {invoice['number']} as spam"
        ),
        queue=FINANCE_QUEUE,
        due_date=clock.today() + timedelta(days=1),
        invoice_id=invoice_id,
        reason=f"SES {event.event_type.lower()}"
        + (f" ({event.bounce.bounce_type}/{event.bounce.bounce_sub_type})" if event.bounce else ""),
    )
    try:
        client.transact_write_items(
            TransactItems=[
                suppression_put(table, address, reason, invoice_id, event.mail.message_id, at),
                task_put(table, task, f"{event.mail.message_id}#{address.lower()}"),
            ]
        )
    except client.exceptions.TransactionCanceledException as error:
        codes = {r.get("Code") for r in error.response.get("CancellationReasons", [])}
        if "ConditionalCheckFailed" not in codes:
            raise  # the task exists: this event was applied before (SES's list is set again below)
    aws.client("sesv2").put_suppressed_destination(EmailAddress=address, Reason=reason)
