""" "Pay now" on the hosted invoice page: a Stripe PaymentIntent for what the invoice asks today.

The page completes the PaymentIntent with Stripe.js; the money is applied only when Stripe's webhook says
it succeeded (payments.record), never here. One PaymentIntent per invoice, method and amount: a double
click, a reload or a second tab gets the same one back (our record of it, and Stripe's idempotency key for
two requests racing), and a changed amount (a partial payment, a reminder fee) gets a new one.
docs/decisions/0037-stripe-pay-now.md
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from receivables import aws, clock, money
from receivables.errors import Conflict, FieldError, InvalidRequest
from receivables.invoicing.model import Invoice
from receivables.items import to_item
from receivables.records import read
from receivables.stripe_api import StripeClient

PayMethod = Literal["card", "sepa_debit"]
PAY_METHODS: tuple[PayMethod, ...] = ("card", "sepa_debit")
PAYABLE_STATUSES = ("open", "partially_paid", "paid", "uncollectible")  # paid: fees may still be open
# A PaymentIntent in these states can still be paid; any other (succeeded, processing, canceled) cannot.
_REUSABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


class NothingToPay(Conflict):
    pass


class PaymentInProgress(Conflict):
    pass


@dataclass(frozen=True)
class PaymentStart:
    payment_intent: str
    client_secret: str
    amount: Decimal
    currency: str


def offered_methods(seller_methods: tuple[str, ...] | list[str], currency: str) -> list[PayMethod]:
    """The seller's methods that can pay this invoice: SEPA Direct Debit collects euros only."""
    return [m for m in PAY_METHODS if m in seller_methods and (m != "sepa_debit" or currency == "EUR")]


def amount_to_pay(item: dict[str, Any]) -> Decimal:
    invoice = Invoice.from_item(item)
    if invoice.status not in PAYABLE_STATUSES:
        return Decimal(0)
    return max(invoice.account_amount_due, Decimal(0))


def intent_key(invoice_id: str, method: str, currency: str, minor: int) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": f"PAYINTENT#stripe#{method}#{currency}#{minor}"}


def start_payment(
    table: str, item: dict[str, Any], method: str, offered: list[PayMethod], stripe: StripeClient
) -> PaymentStart:
    if method not in offered:
        raise InvalidRequest(
            [FieldError("method", f"Input should be one of: {', '.join(offered) or 'none'} for this invoice")]
        )
    currency = item["currency"]
    due = amount_to_pay(item)
    if due <= 0:
        raise NothingToPay(f"Invoice {item['number']} has nothing left to pay.")
    minor = money.to_minor_units(due, currency)
    key = intent_key(item["id"], method, currency, minor)
    known = read(table, key)
    if known is not None:
        intent = stripe.retrieve_payment_intent(known["payment_intent"])
        if intent.get("status") in _REUSABLE:
            return _start(intent, due, currency)
        if intent.get("status") in ("processing", "succeeded"):
            # Paid or being debited: the webhook applies it; a second payment now would pay twice.
            raise PaymentInProgress(
                f"A payment of {money.format_amount(due, currency)} {currency} on invoice {item['number']} "
                "is already being processed."
            )
    intent = stripe.create_payment_intent(
        amount=minor,
        currency=currency,
        payment_method_types=[method],
        # What the webhook handler reads to find the invoice (provider_events.parse_stripe).
        metadata={"invoice_id": item["id"], "invoice_number": item["number"]},
        # Per invoice, method and amount (and a canceled predecessor): Stripe answers a second request
        # within 24 h with the first one's PaymentIntent, so two racing clicks pay through one.
        idempotency_key=f"pay-{item['id']}-{method}-{currency}-{minor}"
        + (f"-after-{known['payment_intent']}" if known else ""),
    )
    winner = _remember(table, key, item, intent["id"], known)
    if winner != intent["id"]:  # another request recorded its PaymentIntent first: both answer with that one
        intent = stripe.retrieve_payment_intent(winner)
    return _start(intent, due, currency)


def _start(intent: dict[str, Any], due: Decimal, currency: str) -> PaymentStart:
    return PaymentStart(
        payment_intent=intent["id"], client_secret=intent["client_secret"], amount=due, currency=currency
    )


def _remember(
    table: str, key: dict[str, str], item: dict[str, Any], intent_id: str, known: dict[str, Any] | None
) -> str:
    """Records which PaymentIntent pays this invoice, method and amount (only a canceled one is replaced);
    the one recorded, which is another request's when that request got there first."""
    client = aws.client("dynamodb")
    condition, values = "attribute_not_exists(pk)", {}
    if known is not None:
        condition, values = "payment_intent = :known", {":known": known["payment_intent"]}
    record = key | {
        "entity": "payment_intent",
        "invoice_id": item["id"],
        "provider": "stripe",
        "payment_intent": intent_id,
        "created_at": clock.iso(clock.now()),
    }
    request: dict[str, Any] = {"TableName": table, "Item": to_item(record), "ConditionExpression": condition}
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    try:
        client.put_item(**request)
    except client.exceptions.ConditionalCheckFailedException:
        recorded = read(table, key)
        return str(recorded["payment_intent"]) if recorded else intent_id
    return intent_id
