"""Money no invoice took, as finance sees and allocates it (issue #12, defect 9; decisions/0023).

Two kinds of money wait for an invoice: a received payment the webhooks could not apply
(`unapplied_payment`, id `<provider>:<event id>`) and a customer's credit balance from overpayments and
credit notes (`customer_credit`, id `credit-<customer id>-<currency>`). Both are listed through one sparse
index (gsi1 `UNAPPLIED#<seller>`, oldest first), and both shrink only by a write conditioned on the amount
read, so money is never allocated twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from receivables import clock, money
from receivables.customers import read_customer
from receivables.errors import NotFound
from receivables.items import to_item
from receivables.pagination import filled_page
from receivables.payment_records import CREDIT_MONEY_PREFIX, credit_key, unapplied_key
from receivables.records import read

Source = Literal["unapplied_payment", "customer_credit"]
CUSTOMER_CREDIT_PROVIDER = "customer_credit"  # the `provider` of a payment made from customer credit


@dataclass(frozen=True)
class UnappliedMoney:
    id: str
    source: Source
    key: dict[str, str]
    currency: str
    remaining: Decimal
    received_at: str
    provider: str
    method: str
    customer_id: str | None = None  # customer credit: whose (it pays only that customer's invoices)
    invoice_id: str | None = None  # an unapplied payment: the invoice its event named, if any
    payer: str | None = None
    reference: str | None = None
    amount_received: Decimal | None = None
    reason: str | None = None
    tracks_remaining: bool = True  # records from before allocation carry no `remaining` yet


def _credit_parts(money_id: str) -> tuple[str, str] | None:
    customer_id, _, currency = money_id.removeprefix(CREDIT_MONEY_PREFIX).rpartition("-")
    return (customer_id, currency) if customer_id and len(currency) == 3 else None


def read_unapplied(table: str, money_id: str, seller_id: str) -> UnappliedMoney:
    """The money by its public id, read consistently; another seller's does not exist."""
    item: dict[str, Any] | None = None
    if money_id.startswith(CREDIT_MONEY_PREFIX):
        parts = _credit_parts(money_id)
        item = read(table, credit_key(*parts)) if parts else None
    else:
        provider, _, event_id = money_id.partition(":")
        item = read(table, unapplied_key(provider, event_id)) if provider and event_id else None
        if item is not None and item.get("entity") == "unapplied_pointer":
            item = read(table, {"pk": item["pk_record"], "sk": item["sk_record"]})
    found = _from_item(table, item) if item else None
    if found is None or (item or {}).get("seller_id", seller_id) != seller_id:
        raise NotFound(f"No unapplied payment {money_id}.")
    return found


def _from_item(table: str, item: dict[str, Any]) -> UnappliedMoney | None:
    if item.get("entity") == "customer_credit":
        customer_id = str(item.get("customer_id") or item["pk"].removeprefix("CUSTOMER#"))
        customer = read_customer(table, customer_id)
        return UnappliedMoney(
            id=f"{CREDIT_MONEY_PREFIX}{customer_id}-{item['currency']}",
            source="customer_credit",
            key={"pk": item["pk"], "sk": item["sk"]},
            currency=item["currency"],
            remaining=Decimal(item.get("balance", 0)),
            received_at=str(item.get("credited_at") or ""),
            provider=CUSTOMER_CREDIT_PROVIDER,
            method=CUSTOMER_CREDIT_PROVIDER,
            customer_id=customer_id,
            payer=str(customer["name"]) if customer else None,
            reference=f"Credit balance of customer {customer_id}",
        )
    if item.get("entity") != "unapplied_payment" or item.get("kind") != "payment":
        return None  # an unmatched refund is not money to allocate
    if item.get("amount") is None or not item.get("currency"):
        return None
    return UnappliedMoney(
        id=item["id"],
        source="unapplied_payment",
        key={"pk": item["pk"], "sk": item["sk"]},
        currency=item["currency"],
        remaining=Decimal(item.get("remaining", item["amount"])),
        received_at=item["occurred_at"],
        provider=item["provider"],
        method=str(item.get("method") or "unknown"),
        invoice_id=item.get("invoice_id"),
        payer=item.get("payer"),
        reference=item.get("reference") or item.get("payment_ref"),
        amount_received=Decimal(item["amount"]),
        reason=item.get("reason"),
        tracks_remaining="remaining" in item,
    )


def reduce_unapplied(table: str, unapplied: UnappliedMoney, amount: Decimal) -> dict[str, Any]:
    """The TransactWriteItems `Update` that takes `amount` off the money, only if it still holds what was
    read: a retried or concurrent allocation is cancelled here. Nothing left: off the listing."""
    field = "balance" if unapplied.source == "customer_credit" else "remaining"
    after = unapplied.remaining - amount
    values = {":after": after, ":at": clock.iso(clock.now())}
    if unapplied.tracks_remaining:
        condition = f"{field} = :before"
        values[":before"] = unapplied.remaining
    else:
        condition = "attribute_exists(pk) AND attribute_not_exists(remaining)"
    expression = f"SET {field} = :after, allocated_at = :at"
    if after == 0:
        expression += " REMOVE gsi1pk, gsi1sk"
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(unapplied.key),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
    }


def list_unapplied(
    table: str, seller_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[UnappliedMoney], dict[str, Any] | None]:
    """The seller's unapplied money, oldest first; every page but the last full (a zero credit balance,
    which stays on the index until credit grows again, is filtered out)."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "FilterExpression": "remaining > :zero OR balance > :zero",
        "ExpressionAttributeValues": to_item({":pk": f"UNAPPLIED#{seller_id}", ":zero": Decimal(0)}),
    }
    found, last = filled_page(request, limit, start)
    money_items = [m for m in (_from_item(table, item) for item in found) if m is not None]
    return money_items, last


def public_unapplied(unapplied: UnappliedMoney) -> dict[str, Any]:
    currency = unapplied.currency
    received = unapplied.amount_received
    return {
        "id": unapplied.id,
        "source": unapplied.source,
        "amount": money.format_amount(unapplied.remaining, currency),
        "currency": currency,
        "received_at": unapplied.received_at,
        "payer": unapplied.payer,
        "reference": unapplied.reference,
        "amount_received": money.format_amount(received, currency) if received is not None else None,
        "customer_id": unapplied.customer_id,
        "invoice_id": unapplied.invoice_id,
        "provider": None if unapplied.source == "customer_credit" else unapplied.provider,
        "method": None if unapplied.source == "customer_credit" else unapplied.method,
        "reason": unapplied.reason,
    }
