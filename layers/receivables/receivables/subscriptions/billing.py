"""Each due period's invoice, exactly once, through the order path (docs/decisions/0026-subscriptions.md).

A period is billed by writing an order-like record with a deterministic id (from `SUB#<id>#<index>`,
create-only) in the same transaction that moves the subscription to its next period (version-checked).
The order's invoice is then issued by the same `issue_invoice` the order stream uses (and which finds it
issued when the stream delivers the record), so number, PDF, email, task and dunning follow as for any
order. Missed periods are billed one after the other, in order, each dated to its period's start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from receivables import aws, clock
from receivables.intake import OrderLineIn
from receivables.invoices import IssuedInvoice, invoice_id_for, issue_invoice
from receivables.items import from_item, to_item
from receivables.orders import order_key
from receivables.pricing import stored_tax_entry
from receivables.records import put_new, read
from receivables.seller import SellerProfile
from receivables.subscriptions import store
from receivables.subscriptions.calendar import describe, period
from receivables.subscriptions.requests import price_items

_IDS = uuid.UUID("5d1e2a9c-7b3f-4e08-8c61-2f4a9b0d6e73")


def period_order_id(subscription_id: str, index: int) -> str:
    return f"ord_{uuid.uuid5(_IDS, f'SUB#{subscription_id}#{index}').hex}"


def due_subscription_ids(table: str, today: date) -> Iterator[str]:
    """Subscriptions with a period to invoice today or earlier: a Query per shard of the sparse index."""
    client = aws.client("dynamodb")
    for shard in range(store.DUE_SHARDS):
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :shard AND gsi2sk <= :until",
            "ExpressionAttributeValues": to_item(
                {":shard": f"SUBDUE#{shard}", ":until": f"{today.isoformat()}~"}
            ),
        }
        while True:
            page = client.query(**request)
            yield from (from_item(item)["id"] for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _is_due(subscription: dict[str, Any], today: date) -> bool:
    next_date = subscription.get("next_invoice_date")
    if subscription["status"] != "active" or next_date is None:
        return False
    return date.fromisoformat(next_date) <= today


def period_order(subscription: dict[str, Any], index: int) -> dict[str, Any]:
    """The order-like record that bills period `index`: items named with the period, then prorations."""
    billed = period(
        date.fromisoformat(subscription["anchor_date"]),
        subscription["interval"],
        int(subscription["interval_count"]),
        index,
    )
    currency = subscription["currency"]
    locale = subscription["customer"].get("locale", "en")
    lines = [
        line | {"description": f"{line['description']} – {describe(billed, locale)}"}
        for line in subscription["items"]
    ] + list(subscription.get("pending_prorations") or [])
    priced = price_items(
        currency,
        [OrderLineIn.model_construct(**{k: v for k, v in line.items() if k != "net"}) for line in lines],
    )
    now = clock.iso(clock.now())
    order_id = period_order_id(subscription["id"], index)
    return order_key(order_id) | {
        "entity": "order",
        "id": order_id,
        "status": "received",
        "storefront_id": subscription["storefront_id"],
        "external_id": f"{subscription['external_id']}/{index + 1}",
        "customer_id": subscription["customer_id"],
        "customer": subscription["customer"],
        "currency": currency,
        "payment_terms_days": int(subscription["payment_terms_days"]),
        "lines": [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
                "discount_percent": line.discount_percent,
                "net": line.net,
                "vat_category": line.vat_category,
            }
            for line in priced.lines
        ],
        "totals": {
            "net": priced.net,
            "tax": priced.tax,
            "gross": priced.gross,
            "tax_breakdown": [stored_tax_entry(t) for t in priced.tax_breakdown],
        },
        "subscription_id": subscription["id"],
        "period": {"start": billed.start.isoformat(), "end": billed.end.isoformat()},
        "invoice_date": billed.start.isoformat(),  # issued on (dated to) the period's start
        "created_at": now,
        "gsi3pk": f"CUSTOMER#{subscription['customer_id']}",
        "gsi3sk": f"ORDER#{now}#{order_id}",
    }


def bill_due_periods(
    table: str, subscription_id: str, today: date, seller: SellerProfile
) -> list[IssuedInvoice]:
    """Bills every period of the subscription that started by `today`, in order; safe to repeat."""
    issued: list[IssuedInvoice] = []
    while True:
        subscription = store.read_subscription(table, subscription_id)
        if subscription is None or not _is_due(subscription, today):
            return issued
        index = int(subscription["next_period"])
        order = period_order(subscription, index)

        def decide(current: dict[str, Any], index: int = index, order: dict[str, Any] = order) -> Any:
            if not _is_due(current, today) or int(current["next_period"]) != index:
                return None  # billed meanwhile (a redelivery, the API's own call): look again
            after = store.with_next_invoice(
                current | {"next_period": index + 1, "pending_prorations": []},
                store.next_period_start(current, index + 1),
            )
            pointer = store.period_key(subscription_id, index) | {
                "entity": "subscription_period",
                "subscription_id": subscription_id,
                "order_id": order["id"],
                "invoice_id": invoice_id_for(order["id"]),
                "period": order["period"],
            }
            return after, None, [put_new(table, order), put_new(table, pointer)]

        store.change(table, subscription_id, decide)
        written = read(table, order_key(order["id"]))
        if written is not None:  # ours, or a concurrent biller's: issue it now, so numbers follow periods
            issued.append(issue_invoice(table, written, seller))
