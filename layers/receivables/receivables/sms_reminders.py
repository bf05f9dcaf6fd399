"""Reminders by SMS: scheduled with the reminder email, sent in the customer's daytime, once per step.

The dunning run, while it sends a step's reminder email, starts one execution of the SMS reminder state
machine (statemachine/sms_reminder.asl.json) named after the invoice and step: a second start (an
overlapping run, a retry) is refused by Step Functions. The execution waits until `send_at` - now, or
08:00 where the customer is when the run falls in the quiet hours (receivables.sms) - and then invokes
`send_sms_reminder`, which sends through `sending.send_once` with purpose `sms#<step>`: a retried task
finds the step sent and sends nothing. At that moment it looks again: an invoice paid or disputed
overnight, a customer who went back to email only or answered STOP (SNS's opt-out list, which SNS keeps
for the account) gets nothing. The execution input names the invoice, step and the reminder's subject;
the phone number and the pay link are read when sending, so the execution history holds neither.
docs/decisions/0035-sms-reminders.md
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal
from zoneinfo import ZoneInfo

from receivables import aws, clock, sms
from receivables.customers import read_customer
from receivables.invoices import get_invoice, hosted_url
from receivables.invoicing.model import OPEN_STATUSES
from receivables.sending import send_once

SMS_CHANNEL = "email_and_sms"
WAIT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # what a Wait state's TimestampPath accepts
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

SmsOutcome = Literal["sent", "already_sent", "no_longer_owed", "not_wanted", "opted_out"]


class ReminderNotRecorded(Exception):
    """The step's email is not recorded yet (the run is still sending it, or it failed): the state
    machine retries, so the SMS never goes without its email."""


def wants_sms(customer: dict[str, Any] | None) -> bool:
    if customer is None:
        return False
    return customer.get("reminder_channel") == SMS_CHANNEL and bool(customer.get("phone"))


def execution_name(invoice_id: str, step: str) -> str:
    """One execution per invoice and step: Step Functions refuses a second start under the same name."""
    return _NAME_UNSAFE.sub("_", f"sms-{invoice_id}-{step}")[:80]


def schedule_sms(
    state_machine_arn: str,
    table: str,
    invoice: dict[str, Any],
    step: str,
    description: str,
    seller_zone: ZoneInfo,
) -> bool:
    """Starts the step's SMS execution if the customer chose SMS; True if it was (or had been) started."""
    customer = read_customer(table, invoice["customer_id"])
    if not wants_sms(customer):
        return False
    assert customer is not None
    moment = sms.send_at(clock.now(), str(customer["phone"]), seller_zone)
    execution_input = {
        "invoice_id": invoice["id"],
        "step": step,
        "send_at": moment.astimezone(UTC).strftime(WAIT_FORMAT),
        "description": description,
    }
    client = aws.client("stepfunctions")
    with contextlib.suppress(client.exceptions.ExecutionAlreadyExists):
        client.start_execution(
            stateMachineArn=state_machine_arn,
            name=execution_name(invoice["id"], step),
            input=json.dumps(execution_input),
        )
    return True


@dataclass(frozen=True)
class SmsRequest:
    invoice_id: str
    step: str
    description: str


def send_sms_reminder(table: str, base_url: str, request: SmsRequest) -> SmsOutcome:
    """Sends the step's SMS unless it went already or no longer should."""
    invoice = get_invoice(table, request.invoice_id)
    if request.step not in invoice.get("reminder_steps", []):
        raise ReminderNotRecorded(f"reminder {request.step} of {request.invoice_id} is not recorded yet")
    if invoice["status"] not in OPEN_STATUSES or invoice.get("disputed"):
        return "no_longer_owed"
    customer = read_customer(table, invoice["customer_id"])
    if not wants_sms(customer):
        return "not_wanted"
    assert customer is not None
    phone = str(customer["phone"])
    client = aws.client("sns")
    if client.check_if_phone_number_is_opted_out(phoneNumber=phone)["isOptedOut"]:
        return "opted_out"
    text = sms.reminder_text(request.description, hosted_url(base_url, invoice))

    def send() -> str:
        response = client.publish(
            PhoneNumber=phone,
            Message=text,
            # transactional: delivered with priority, also to numbers that block promotional SMS
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
        return str(response["MessageId"])

    sent = send_once(table, request.invoice_id, f"sms#{request.step}", send)
    return "sent" if sent else "already_sent"
