"""A subscription's later periods are invoiced to the customer as the customer is then (issue #14): finance
changed the address after the subscription began, so the next period's invoice carries the new one,
while the invoice already issued keeps the address it was issued with (an issued invoice is a document).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from receivables.customers import update_customer
from receivables.errors import NotFound
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


def _period_invoices(records: str, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's invoices in period order, up to the first period not invoiced."""
    invoices: list[dict[str, Any]] = []
    while True:
        try:
            invoices.append(
                get_invoice(records, invoice_id_for(period_order_id(subscription_id, len(invoices))))
            )
        except NotFound:
            return invoices


def test_a_95_day_jump_bills_the_same_periods_as_95_daily_runs(local_system: Any) -> None:
    records = table(local_system)
    seller = load_seller_profile(local_system.resolver.refs["SellerProfileParameter"])
    jumped, stepped = _subscribe(local_system, "SUB-JUMP"), _subscribe(local_system, "SUB-STEP")
    start = date.fromisoformat(jumped["current_period"]["start"])

    bill_due_periods(records, jumped["id"], start + timedelta(days=95), seller)
    for day in range(1, 96):
        bill_due_periods(records, stepped["id"], start + timedelta(days=day), seller)

    def as_billed(invoice: dict[str, Any]) -> tuple[Any, ...]:
        lines = [(line["description"], line["net"]) for line in invoice["lines"]]
        return invoice["period"], invoice["issue_date"], invoice["total"], lines

    by_jump, by_day = _period_invoices(records, jumped["id"]), _period_invoices(records, stepped["id"])
    assert len(by_jump) == 4  # periods 0-3: 4 Dec, 4 Jan, 4 Feb, 4 Mar; the next starts on day 120
    assert [as_billed(i) for i in by_jump] == [as_billed(i) for i in by_day]
    for invoices in (by_jump, by_day):  # numbered in period order, consecutive within each year's sequence
        numbers = [tuple(int(part) for part in i["number"].split("-")) for i in invoices]
        assert numbers == sorted(numbers)
        assert [year for year, _ in numbers] == [2026, 2027, 2027, 2027]
        assert [serial for _, serial in numbers[1:]] == list(range(numbers[1][1], numbers[1][1] + 3))
