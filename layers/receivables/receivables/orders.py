"""Order intake: store a validated, priced order with its customer, exactly once.

One DynamoDB transaction writes the order, the storefront's external-id reservation, the customer
(created or updated) and the `order.received` outbox event, so a rejected or failed request leaves
nothing behind. The order id derives from the storefront and its Idempotency-Key: a retry after a
crash between the write and the idempotency record finds the same order instead of creating a twin.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from receivables import aws, clock, money
from receivables.customers import storefront_upsert
from receivables.errors import Conflict, NotFound
from receivables.items import from_item, to_item
from receivables.outbox import new_event, outbox_put

if TYPE_CHECKING:
    # Only for annotations: intake's models and validators (email, country, VAT) cost cold-start time in
    # every function that needs nothing here but a key (invoices imports order_key).
    from receivables.intake import OrderRequest
    from receivables.pricing import PricedOrder

_IDS = uuid.UUID("6f1c8f43-8f0e-4d55-9a43-3c1f0d8a3b10")
_CUSTOMER_ATTEMPTS = 10


def order_id_for(storefront_id: str, idempotency_key: str) -> str:
    return f"ord_{uuid.uuid5(_IDS, f'{storefront_id}|{idempotency_key}').hex}"


def customer_id_for(email: str) -> str:
    """One customer per email address (case-insensitive): repeated orders update the same record."""
    return f"cus_{uuid.uuid5(_IDS, email.casefold()).hex}"


def order_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": "ORDER"}


def priced_lines_and_totals(priced: PricedOrder) -> dict[str, Any]:
    """An order record's `lines` and `totals` as stored: what the invoice is issued from."""
    from receivables.pricing import stored_tax_entry

    return {
        "lines": [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
                "discount_percent": line.discount_percent,
                "net": line.net,
                "vat_category": line.vat_category,  # decided (decisions/0027)
            }
            for line in priced.lines
        ],
        "totals": {
            "net": priced.net,
            "tax": priced.tax,
            "gross": priced.gross,
            "tax_breakdown": [stored_tax_entry(t) for t in priced.tax_breakdown],
        },
    }


def accept_order(
    table_name: str, order: OrderRequest, priced: PricedOrder, storefront_id: str, idempotency_key: str
) -> dict[str, Any]:
    """Stores the order once and returns the 201 body."""
    # the caller (orders_api) has imported pricing already
    from receivables.pricing import totals_json

    now = clock.iso(clock.now())
    order_id = order_id_for(storefront_id, idempotency_key)
    customer_id = customer_id_for(str(order.customer.email))
    customer = _customer_snapshot(order)
    record = order_key(order_id) | {
        "entity": "order",
        "id": order_id,
        "status": "received",
        "storefront_id": storefront_id,
        "external_id": order.external_id,
        "customer_id": customer_id,
        "customer": customer,
        "currency": order.currency,
        "payment_terms_days": order.payment_terms_days,
        **priced_lines_and_totals(priced),
        "created_at": now,
        "gsi3pk": f"CUSTOMER#{customer_id}",
        "gsi3sk": f"ORDER#{now}",
    }
    reservation = {
        "pk": f"ORDERREF#{storefront_id}#{order.external_id}",
        "sk": "ORDERREF",
        "entity": "order_reference",
        "order_id": order_id,
    }
    event = new_event(
        "order.received",
        {"order_id": order_id, "customer_id": customer_id, "external_id": order.external_id}
        | totals_json(priced),
    )
    client = aws.client("dynamodb")
    for _ in range(_CUSTOMER_ATTEMPTS):
        customer_update = storefront_upsert(table_name, customer_id, customer, now)
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table_name,
                            "Item": to_item(record),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": table_name,
                            "Item": to_item(reservation),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    customer_update,
                    outbox_put(table_name, event),
                ]
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [reason.get("Code") for reason in cancelled.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return created_body(get_order(table_name, order_id, storefront_id))
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise Conflict(
                    f"external_id '{order.external_id}' was already used by another order of this storefront."
                ) from cancelled
            if (
                len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed"
            ) or "TransactionConflict" in reasons:
                continue  # the customer changed meanwhile (finance, another order): read it again
            raise
        return created_body(_public_order(from_item(to_item(record))))
    raise Conflict("The customer kept changing while placing this order; please retry.")


def get_order(table_name: str, order_id: str, storefront_id: str) -> dict[str, Any]:
    """The order as its storefront sees it; another storefront's order does not exist for the caller."""
    response = aws.client("dynamodb").get_item(TableName=table_name, Key=to_item(order_key(order_id)))
    item = from_item(response["Item"]) if "Item" in response else None
    if item is None or item["storefront_id"] != storefront_id:
        raise NotFound(f"No order {order_id}.")
    return _public_order(item)


def created_body(order: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "status", "customer_id", "external_id", "totals", "created_at")
    return {key: order[key] for key in keys}


def _customer_snapshot(order: OrderRequest) -> dict[str, Any]:
    customer = order.customer
    return {
        "email": str(customer.email),
        "name": customer.name,
        "locale": customer.locale,
        "vat_id": customer.vat_id,
        "address": customer.address.model_dump(exclude_none=True),
    }


def _public_order(item: dict[str, Any]) -> dict[str, Any]:
    currency = item["currency"]

    def amount(value: Any) -> str:
        return money.format_amount(value, currency)

    totals = item["totals"]
    order = {
        "id": item["id"],
        "status": item["status"],
        "external_id": item["external_id"],
        "customer_id": item["customer_id"],
        "customer": item["customer"],
        "currency": currency,
        "payment_terms_days": int(item["payment_terms_days"]),
        "lines": [
            {
                "sku": line["sku"],
                "description": line["description"],
                "quantity": _plain(line["quantity"]),
                "unit_price": amount(line["unit_price"]),
                "tax_rate": _plain(line["tax_rate"]),
                "discount_percent": _plain(line["discount_percent"]),
                "net": amount(line["net"]),
                "vat_category": line.get("vat_category", "S"),  # decided (decisions/0027)
            }
            for line in item["lines"]
        ],
        "totals": {
            "currency": currency,
            "net": amount(totals["net"]),
            "tax": amount(totals["tax"]),
            "gross": amount(totals["gross"]),
            "tax_breakdown": [
                {"rate": _plain(t["rate"]), "net": amount(t["net"]), "tax": amount(t["tax"])}
                | {"category": t.get("category", "S"), "exemption_code": t.get("exemption_code")}
                for t in totals["tax_breakdown"]
            ],
        },
        "created_at": item["created_at"],
    }
    if item.get("invoice_id"):
        order["invoice_id"] = item["invoice_id"]
    return order


def _plain(value: Any) -> str:
    """A quantity or percentage without exponent or trailing zeros: 2, 0.5, 19, 5.5."""
    return format(value.normalize(), "f")
