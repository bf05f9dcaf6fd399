"""Where payments, refunds and customer credit live in the table, and how they are read and shown."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables import aws, clock, money
from receivables.items import from_item, to_item
from receivables.records import put_new

if TYPE_CHECKING:  # annotations only: the webhook parsers' pydantic models stay out of other functions
    from receivables.provider_events import ProviderEvent

PROVIDER_EVENT_RETENTION = timedelta(days=30)  # providers retry for up to 3 days (Stripe)


def payment_key(invoice_id: str, provider: str, payment_ref: str) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": f"PAYMENT#{provider}#{payment_ref}"}


def payment_ref_key(provider: str, payment_ref: str) -> dict[str, str]:
    return {"pk": f"PAYREF#{provider}#{payment_ref}", "sk": "PAYREF"}


def provider_event_key(provider: str, event_id: str) -> dict[str, str]:
    return {"pk": f"PROVIDEREVENT#{provider}#{event_id}", "sk": "PROVIDEREVENT"}


def credit_key(customer_id: str, currency: str) -> dict[str, str]:
    return {"pk": f"CUSTOMER#{customer_id}", "sk": f"CREDIT#{currency}"}


def unapplied_key(provider: str, event_id: str) -> dict[str, str]:
    """Where unapplied money is found by its id: the record itself, or (when the event named an invoice,
    whose partition keeps the record beside its payments) a pointer to it."""
    return {"pk": f"UNAPPLIED#{provider}#{event_id}", "sk": "UNAPPLIED"}


def unapplied_listing_keys(seller_id: str, received_at: str, money_id: str) -> dict[str, str]:
    """The sparse listing of money waiting for an invoice (gsi1): only records with something left carry
    it, so `GET /payments?status=unapplied` is a Query; allocating the last of it removes the keys."""
    return {"gsi1pk": f"UNAPPLIED#{seller_id}", "gsi1sk": f"{received_at}#{money_id}"}


def unapplied_record_puts(
    table: str, event: ProviderEvent, invoice_id: str | None, reason: str, seller_id: str, now: str
) -> list[dict[str, Any]]:
    """The record of money (or a refund) no invoice took, and its pointer when it sits on an invoice.

    Received money (not an unmatched refund) keeps `remaining`, what is still to allocate, and is listed.
    """
    money_id = f"{event.provider}:{event.event_id}"
    lookup = unapplied_key(event.provider, event.event_id)
    key = {"pk": f"INVOICE#{invoice_id}", "sk": f"UNAPPLIED#{event.provider}#{event.event_id}"}
    record = (key if invoice_id else lookup) | {
        "entity": "unapplied_payment",
        "id": money_id,
        "kind": event.kind,
        "invoice_id": invoice_id,
        "seller_id": seller_id,
        "provider": event.provider,
        "payment_ref": event.payment_ref,
        "method": event.method,
        "payer": event.payer,
        "reference": event.reference or event.invoice_number or event.invoice_id or event.payment_ref,
        "currency": event.currency,
        "amount": event.amount,
        "reason": reason,
        "occurred_at": event.occurred_at,
        "recorded_at": now,
    }
    if event.kind == "payment" and event.amount and event.currency:
        record |= unapplied_listing_keys(seller_id, now, money_id)
        record["remaining"] = event.amount
    puts = [put_new(table, record)]
    if invoice_id:
        pointer = {"entity": "unapplied_pointer", "pk_record": key["pk"], "sk_record": key["sk"]}
        puts.append(put_new(table, lookup | pointer))
    return puts


def failed_payment_puts(
    table: str, event: ProviderEvent, invoice: dict[str, Any], now: str
) -> list[dict[str, Any]]:
    """A payment attempt the provider declined: shown in the invoice's history, with the provider's reason."""
    return [
        put_new(
            table,
            {"pk": f"INVOICE#{invoice['id']}", "sk": f"FAILEDPAYMENT#{event.provider}#{event.event_id}"}
            | {
                "entity": "failed_payment",
                "id": f"{event.provider}:{event.event_id}",
                "kind": "payment",
                "invoice_id": invoice["id"],
                "customer_id": invoice["customer_id"],
                "provider": event.provider,
                "payment_ref": event.payment_ref,
                "method": event.method,
                "currency": event.currency,
                "amount": event.amount,
                "reason": event.reason,
                "occurred_at": event.occurred_at,
                "recorded_at": now,
            },
        )
    ]


def list_invoice_payments(table: str, invoice_id: str) -> list[dict[str, Any]]:
    """An invoice's payments, refunds, unapplied money and failed attempts (declined cards), oldest first."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "entity IN (:payment, :refund, :unapplied, :failed)",
        "ExpressionAttributeValues": to_item(
            {
                ":pk": f"INVOICE#{invoice_id}",
                ":payment": "payment",
                ":refund": "refund",
                ":unapplied": "unapplied_payment",
                ":failed": "failed_payment",
            }
        ),
    }
    while True:
        page = aws.client("dynamodb").query(**request)
        items += [from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["occurred_at"], i["recorded_at"]))


def public_payment(item: dict[str, Any]) -> dict[str, Any]:
    currency = item.get("currency")

    def amount(value: Any) -> str | None:
        return money.format_amount(Decimal(value), currency) if value is not None and currency else None

    status = {
        "payment": "applied",
        "refund": "applied",
        "unapplied_payment": "unapplied",
        "failed_payment": "failed",
    }[item["entity"]]
    if status == "unapplied" and item.get("remaining") is not None and Decimal(item["remaining"]) == 0:
        status = "allocated"  # finance put all of it on invoices (receivables.allocations)
    return {
        "id": item["id"],
        "kind": item["kind"],
        "status": status,
        "provider": item["provider"],
        "method": item.get("method"),
        "currency": currency,
        "amount": amount(item.get("amount")),
        "applied": amount(item.get("applied")),
        "refunded": amount(item.get("refunded")),
        "unapplied": amount(item.get("remaining")),
        "reason": item.get("reason"),
        "occurred_at": item["occurred_at"],
        "recorded_at": item["recorded_at"],
    }


def customer_credits(table: str, customer_id: str) -> dict[str, Decimal]:
    page = aws.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :credit)",
        ExpressionAttributeValues=to_item({":pk": f"CUSTOMER#{customer_id}", ":credit": "CREDIT#"}),
    )
    return {item["currency"]: Decimal(item["balance"]) for item in (from_item(i) for i in page["Items"])}


# ------------------------------------------------------------------- provider events, once each
class Retry(Exception):
    """The invoice changed between read and write: read again."""


def transact_once(table: str, event: ProviderEvent, items: list[dict[str, Any]]) -> None:
    client = aws.client("dynamodb")
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException as cancelled:
        raise_for(cancelled)


def raise_for(cancelled: Any) -> None:
    """The provider event's record comes first in every transaction: its failure means a replay."""
    reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
    if reasons and reasons[0] == "ConditionalCheckFailed":
        raise AlreadyRecorded from cancelled
    if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
        raise Retry from cancelled
    raise cancelled


class AlreadyRecorded(Exception):
    """The provider event was recorded by an earlier or concurrent delivery."""


def provider_event_put(
    table: str, event: ProviderEvent, result: str, invoice_id: str | None
) -> dict[str, Any]:
    expires_at = int((clock.now() + PROVIDER_EVENT_RETENTION).timestamp())
    return put_new(
        table,
        provider_event_key(event.provider, event.event_id)
        | {
            "entity": "provider_event",
            "provider": event.provider,
            "event_type": event.event_type,
            "result": result,
            "invoice_id": invoice_id,
            "received_at": clock.iso(clock.now()),
            "expires_at": expires_at,
        },
    )


def credit_update(table: str, invoice: dict[str, Any], change: Decimal) -> dict[str, Any]:
    """The customer's credit balance moves by `change`. Credit that grows is listed as allocatable money
    (gsi1, newest credit last); a listed balance at zero is skipped by the listing's filter."""
    currency, customer_id = invoice["currency"], invoice["customer_id"]
    values: dict[str, Any] = {":entity": "customer_credit", ":currency": currency, ":change": change}
    expression = "SET entity = :entity, currency = :currency"
    if change > 0 and invoice.get("seller_id"):
        now = clock.iso(clock.now())
        listing = unapplied_listing_keys(invoice["seller_id"], now, credit_money_id(customer_id, currency))
        values |= {
            ":customer": customer_id,
            ":seller": invoice["seller_id"],
            ":at": now,
            ":gsi1pk": listing["gsi1pk"],
            ":gsi1sk": listing["gsi1sk"],
        }
        expression += (
            ", customer_id = :customer, seller_id = :seller, credited_at = :at,"
            " gsi1pk = :gsi1pk, gsi1sk = :gsi1sk"
        )
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(credit_key(customer_id, currency)),
            "UpdateExpression": f"{expression} ADD balance :change",
            "ExpressionAttributeValues": to_item(values),
        }
    }


CREDIT_MONEY_PREFIX = "credit-"


def credit_money_id(customer_id: str, currency: str) -> str:
    """A customer's credit balance as allocatable money: `credit-<customer id>-<currency>`."""
    return f"{CREDIT_MONEY_PREFIX}{customer_id}-{currency}"


def payment_refunded_update(
    table: str, invoice_id: str, event: ProviderEvent, payment: dict[str, Any], amount: Decimal
) -> dict[str, Any]:
    assert event.payment_ref is not None
    before = Decimal(payment.get("refunded", 0))
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(payment_key(invoice_id, event.provider, event.payment_ref)),
            "UpdateExpression": "SET refunded = :after",
            "ConditionExpression": "refunded = :before",
            "ExpressionAttributeValues": to_item({":after": before + amount, ":before": before}),
        }
    }
