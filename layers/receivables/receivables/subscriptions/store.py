"""The one writer of subscription items: create once, read, list, and every state change as a
version-conditioned write with its outbox event in the same transaction.

Item: `SUBSCRIPTION#<id>` / `SUBSCRIPTION`. Indexes: gsi1 (the storefront's, newest first), gsi3 (the
customer's), gsi4 (the storefront's by status) and, only while a period is waiting to be invoiced, the
sparse gsi2 `SUBDUE#<shard>` / `<next invoice date>#<id>` that the daily run queries (like dunning_index).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from receivables import aws, clock, money
from receivables.customers import storefront_upsert
from receivables.errors import Conflict, NotFound
from receivables.items import from_item, to_item
from receivables.orders import customer_id_for
from receivables.outbox import new_event, outbox_put
from receivables.records import put_new, read
from receivables.subscriptions.calendar import Interval, period, period_on, period_start

if TYPE_CHECKING:
    from receivables.intake import OrderLineIn
    from receivables.subscriptions.requests import SubscriptionRequest

SUBSCRIPTION_ENTITY = "subscription"
DUE_SHARDS = 4
_IDS = uuid.UUID("0b6c3f0e-2a53-4c1e-9a51-7d0f3c2b9e14")
_CUSTOMER_ATTEMPTS = 10
_CHANGE_ATTEMPTS = 10


def subscription_id_for(storefront_id: str, idempotency_key: str) -> str:
    return f"sub_{uuid.uuid5(_IDS, f'{storefront_id}|{idempotency_key}').hex}"


def subscription_key(subscription_id: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIPTION#{subscription_id}", "sk": "SUBSCRIPTION"}


def due_index_keys(subscription_id: str, on: date) -> dict[str, str]:
    shard = int(hashlib.sha256(subscription_id.encode()).hexdigest(), 16) % DUE_SHARDS
    return {"gsi2pk": f"SUBDUE#{shard}", "gsi2sk": f"{on.isoformat()}#{subscription_id}"}


def stored_lines(items: tuple[OrderLineIn, ...], currency: str) -> list[dict[str, Any]]:
    from receivables.subscriptions.requests import price_items

    priced = price_items(currency, items)
    return [
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
    ]


def create_subscription(
    table_name: str, request: SubscriptionRequest, storefront_id: str, idempotency_key: str, today: date
) -> dict[str, Any]:
    """Stores the subscription once (a retry with the same key finds it) and returns it."""
    now = clock.iso(clock.now())
    subscription_id = subscription_id_for(storefront_id, idempotency_key)
    customer_id = customer_id_for(request.customer.email)
    customer = {
        "email": request.customer.email,
        "name": request.customer.name,
        "locale": request.customer.locale,
        "vat_id": request.customer.vat_id,
        "address": request.customer.address.model_dump(exclude_none=True),
    }
    anchor = request.start_date or today
    record = (
        subscription_key(subscription_id)
        | {
            "entity": SUBSCRIPTION_ENTITY,
            "id": subscription_id,
            "storefront_id": storefront_id,
            "external_id": request.external_id,
            "customer_id": customer_id,
            "customer": customer,
            "currency": request.currency,
            "items": stored_lines(request.items, request.currency),
            "interval": request.interval,
            "interval_count": request.interval_count,
            "anchor_date": anchor.isoformat(),
            "payment_terms_days": request.payment_terms_days,
            "status": "active",
            "next_period": 0,  # the index of the next period to invoice (periods before it are done)
            "next_invoice_date": anchor.isoformat(),
            "pending_prorations": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "gsi1pk": f"SUBSCRIPTIONS#{storefront_id}",
            "gsi1sk": f"{now}#{subscription_id}",
            "gsi3pk": f"CUSTOMER#{customer_id}",
            "gsi3sk": f"SUBSCRIPTION#{now}#{subscription_id}",
        }
        | _status_keys(storefront_id, "active", now, subscription_id)
        | due_index_keys(subscription_id, anchor)
    )
    reservation = {
        "pk": f"SUBSCRIPTIONREF#{storefront_id}#{request.external_id}",
        "sk": "SUBSCRIPTIONREF",
        "entity": "subscription_reference",
        "subscription_id": subscription_id,
    }
    event = new_event("subscription.created", event_data(record))
    client = aws.client("dynamodb")
    for _ in range(_CUSTOMER_ATTEMPTS):
        try:
            client.transact_write_items(
                TransactItems=[
                    put_new(table_name, record),
                    put_new(table_name, reservation),
                    storefront_upsert(table_name, customer_id, customer, now),
                    outbox_put(table_name, event),
                ]
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [reason.get("Code") for reason in cancelled.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return get_subscription(table_name, subscription_id, storefront_id)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict(
                    f"external_id '{request.external_id}' was already used by another subscription."
                ) from cancelled
            if (
                len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed"
            ) or "TransactionConflict" in reasons:
                continue  # the customer changed meanwhile: read it again
            raise
        return record
    raise Conflict("The customer kept changing while creating this subscription; please retry.")


def read_subscription(table_name: str, subscription_id: str) -> dict[str, Any] | None:
    item = read(table_name, subscription_key(subscription_id))
    return item if item is not None and item.get("entity") == SUBSCRIPTION_ENTITY else None


def get_subscription(table_name: str, subscription_id: str, storefront_id: str) -> dict[str, Any]:
    """The subscription if it is the caller's; another storefront's does not exist for the caller."""
    item = read_subscription(table_name, subscription_id)
    if item is None or item["storefront_id"] != storefront_id:
        raise NotFound(f"No subscription {subscription_id}.")
    return item


def list_subscriptions(
    table_name: str,
    storefront_id: str,
    customer_id: str | None,
    status: str | None,
    limit: int,
    start: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Newest first, one index Query per page (the customer's, the status', or the storefront's)."""
    values: dict[str, Any] = {":sf": storefront_id}
    names: dict[str, str] = {}
    filters = ["storefront_id = :sf"]
    if customer_id:
        index, condition = "gsi3", "gsi3pk = :pk AND begins_with(gsi3sk, :kind)"
        values |= {":pk": f"CUSTOMER#{customer_id}", ":kind": "SUBSCRIPTION#"}
        if status:
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = status
    elif status:
        index, condition = "gsi4", "gsi4pk = :pk"
        values[":pk"] = f"SUBSCRIPTIONS#{storefront_id}#{status}"
    else:
        index, condition = "gsi1", "gsi1pk = :pk"
        values[":pk"] = f"SUBSCRIPTIONS#{storefront_id}"
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": index,
        "KeyConditionExpression": condition,
        "FilterExpression": " AND ".join(filters),
        "ExpressionAttributeValues": to_item(values),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    if start:
        request["ExclusiveStartKey"] = start
    found: list[dict[str, Any]] = []
    while True:
        page = aws.client("dynamodb").query(**request)
        found += [from_item(i) for i in page["Items"]]
        last = page.get("LastEvaluatedKey")
        if len(found) >= limit or last is None:
            break
        request["ExclusiveStartKey"] = last
    if len(found) > limit:
        found = found[:limit]
        last = to_item({name: found[-1][name] for name in ("pk", "sk", f"{index}pk", f"{index}sk")})
    return found, last


def _status_keys(storefront_id: str, status: str, created_at: str, subscription_id: str) -> dict[str, str]:
    return {"gsi4pk": f"SUBSCRIPTIONS#{storefront_id}#{status}", "gsi4sk": f"{created_at}#{subscription_id}"}


def with_status(item: dict[str, Any], status: str) -> dict[str, Any]:
    return (
        item
        | {"status": status}
        | _status_keys(item["storefront_id"], status, item["created_at"], item["id"])
    )


def with_next_invoice(item: dict[str, Any], next_date: date | None) -> dict[str, Any]:
    """The item with its next invoice date, on the sparse due index only while one is pending."""
    changed = {k: v for k, v in item.items() if k not in ("gsi2pk", "gsi2sk", "next_invoice_date")}
    if next_date is None:
        return changed
    return changed | {"next_invoice_date": next_date.isoformat()} | due_index_keys(item["id"], next_date)


Decide = Callable[[dict[str, Any]], tuple[dict[str, Any], str | None, list[dict[str, Any]]] | None]


def change(table_name: str, subscription_id: str, decide: Decide) -> dict[str, Any]:
    """Applies `decide(current) -> (after, event type or None, extra transaction items)` under the version
    check; None means nothing to change. Returns the stored subscription."""
    client = aws.client("dynamodb")
    for _ in range(_CHANGE_ATTEMPTS):
        current = read_subscription(table_name, subscription_id)
        if current is None:
            raise NotFound(f"No subscription {subscription_id}.")
        decision = decide(current)
        if decision is None:
            return current
        after, event_type, extra = decision
        after = after | {"version": int(current["version"]) + 1, "updated_at": clock.iso(clock.now())}
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table_name,
                    "Item": to_item(after),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": to_item({":v": current["version"]}),
                }
            },
            *extra,
        ]
        if event_type:
            writes.append(outbox_put(table_name, new_event(event_type, event_data(after))))
        try:
            client.transact_write_items(TransactItems=writes)
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"] or "TransactionConflict" in reasons:
                continue  # changed meanwhile (another request, the billing run): decide again
            raise
        return after
    raise Conflict(f"Subscription {subscription_id} kept changing; please retry.")


def current_period(item: dict[str, Any], today: date) -> dict[str, str]:
    anchor = date.fromisoformat(item["anchor_date"])
    interval: Interval = item["interval"]
    p = period_on(anchor, interval, int(item["interval_count"]), today)
    return {"start": p.start.isoformat(), "end": p.end.isoformat()}


def next_period_start(item: dict[str, Any], index: int) -> date:
    return period_start(
        date.fromisoformat(item["anchor_date"]), item["interval"], int(item["interval_count"]), index
    )


def invoiced_period(item: dict[str, Any], index: int) -> dict[str, str]:
    p = period(date.fromisoformat(item["anchor_date"]), item["interval"], int(item["interval_count"]), index)
    return {"start": p.start.isoformat(), "end": p.end.isoformat()}


def event_data(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "subscription_id": item["id"],
        "customer_id": item["customer_id"],
        "external_id": item["external_id"],
        "status": item["status"],
        "next_invoice_date": item.get("next_invoice_date"),
    }


def public_subscription(item: dict[str, Any], today: date) -> dict[str, Any]:
    """The contract's subscription resource."""
    currency = item["currency"]
    return {
        "id": item["id"],
        "status": item["status"],
        "external_id": item["external_id"],
        "customer_id": item["customer_id"],
        "customer": item["customer"],
        "currency": currency,
        "items": [
            {
                "sku": line["sku"],
                "description": line["description"],
                "quantity": format(line["quantity"].normalize(), "f"),
                "unit_price": money.format_amount(line["unit_price"], currency),
                "tax_rate": format(line["tax_rate"].normalize(), "f"),
                "discount_percent": format(line["discount_percent"].normalize(), "f"),
                "net": money.format_amount(line["net"], currency),
            }
            for line in item["items"]
        ],
        "interval": item["interval"],
        "interval_count": int(item["interval_count"]),
        "start_date": item["anchor_date"],
        "payment_terms_days": int(item["payment_terms_days"]),
        "current_period": current_period(item, today),
        "next_invoice_date": item.get("next_invoice_date"),
        "next_period": int(item["next_period"]),
        "cancel_at": item.get("cancel_at"),
        "ends_on": item.get("ends_on"),
        "created_at": item["created_at"],
    }


def period_key(subscription_id: str, index: int) -> dict[str, str]:
    """The subscription's record of a billed period: GET /invoices?subscription_id= reads these."""
    return {"pk": f"SUBSCRIPTION#{subscription_id}", "sk": f"PERIOD#{index:06d}"}


def billed_invoice_ids(
    table: str, subscription_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[str], dict[str, Any] | None]:
    """The subscription's invoices, newest period first: a Query of its period records."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :period)",
        "ExpressionAttributeValues": to_item(
            {":pk": f"SUBSCRIPTION#{subscription_id}", ":period": "PERIOD#"}
        ),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        request["ExclusiveStartKey"] = start
    page = aws.client("dynamodb").query(**request)
    return [from_item(i)["invoice_id"] for i in page["Items"]], page.get("LastEvaluatedKey")
