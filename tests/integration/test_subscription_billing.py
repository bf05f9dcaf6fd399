"""A subscription's later periods are invoiced to the customer as the customer is then (issue #14): finance
changed the address after the subscription began, so the next period's invoice carries the new one,
while the invoice already issued keeps the address it was issued with (an issued invoice is a document).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from receivables.customers import update_customer
from receivables.invoices import get_invoice, invoice_id_for
from receivables.seller import load_seller_profile
from receivables.subscriptions.billing import bill_due_periods, period_order_id
from tests.integration.faults_support import invoke, table
from tests.support import load_event

NEW_ADDRESS = {"line1": "Neue Allee 7", "city": "Hamburg", "postal_code": "20095", "country": "DE"}


def _subscribe(system: Any, external_id: str) -> dict[str, Any]:
    request = load_event("subscriptions_api/create_subscription.json")
    body = json.loads(request["body"]) | {"external_id": external_id}
    body["customer"] = body["customer"] | {"email": f"{external_id.lower()}@example.de"}
    request |= {"body": json.dumps(body), "headers": request["headers"] | {"idempotency-key": external_id}}
    response = invoke(system, "SubscriptionsApiFunction", request)
    assert response["statusCode"] == 201, response
    return dict(json.loads(response["body"]))


def test_the_next_period_is_invoiced_to_the_address_finance_changed(local_system: Any) -> None:
    records = table(local_system)
    subscription = _subscribe(local_system, "SUB-MOVED")
    first = get_invoice(records, invoice_id_for(period_order_id(subscription["id"], 0)))
    update_customer(records, first["customer_id"], {"address": NEW_ADDRESS}, None, "finance@example.de")

    seller = load_seller_profile(local_system.resolver.refs["SellerProfileParameter"])
    issued = bill_due_periods(
        records, subscription["id"], date.fromisoformat(subscription["next_invoice_date"]), seller
    )

    assert len(issued) == 1
    second = get_invoice(records, invoice_id_for(period_order_id(subscription["id"], 1)))
    assert second["customer"]["address"] == NEW_ADDRESS
    assert second["customer"]["name"] == first["customer"]["name"]
    assert get_invoice(records, first["id"])["customer"]["address"]["city"] == "Berlin"  # as issued
