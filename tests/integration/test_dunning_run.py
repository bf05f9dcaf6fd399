"""The dunning run on the emulated account: it reads what is due, not what is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import boto3

from local_runtime.moto_hooks import seed_items_quietly
from receivables import aws
from receivables.dunning_index import index_keys
from receivables.items import from_item, to_item
from tests.support import load_event

STORED, DUE = 100_000, 100


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _sample_invoice(system: Any) -> dict[str, Any]:
    created = _invoke(system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    assert created["statusCode"] == 201
    assert system.settle()
    table = system.global_environment()["TABLE_NAME"]
    order_id = json.loads(created["body"])["id"]
    key = {"pk": f"INVOICE#inv_{order_id.removeprefix('ord_')}", "sk": "INVOICE"}
    return from_item(boto3.client("dynamodb").get_item(TableName=table, Key=to_item(key))["Item"])


def _stored_invoices(sample: dict[str, Any], today: date) -> Iterator[dict[str, Any]]:
    """DUE copies of a real invoice overdue by ten days, and invoices whose next action is months away
    (lean: only what the index and a reader would look at, so seeding stays quick)."""
    for n in range(STORED):
        invoice_id = f"inv_bulk{n:07d}"
        if n < DUE:
            due_date, next_action = today - timedelta(days=10), today
            item = sample | {"number": f"BULK-{n:07d}"}
        else:
            due_date = today + timedelta(days=30 + n % 300)
            next_action = due_date - timedelta(days=3)
            item = {"entity": "invoice", "status": "open", "number": f"BULK-{n:07d}", "version": 1}
        yield to_item(
            item
            | {"pk": f"INVOICE#{invoice_id}", "sk": "INVOICE", "id": invoice_id}
            | {"due_date": due_date.isoformat(), "next_reminder_at": next_action.isoformat()}
            | index_keys(invoice_id, next_action)
        )


def test_a_run_over_100000_invoices_reads_only_the_100_that_are_due(local_system: Any) -> None:
    sample = _sample_invoice(local_system)
    table = local_system.global_environment()["TABLE_NAME"]
    today = local_system.clock.today()
    assert seed_items_quietly(table, _stored_invoices(sample, today)) == STORED
    reads = {"index_items_scanned": 0, "queries": 0}

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query" and parsed.get("ScannedCount") is not None:
            reads["index_items_scanned"] += parsed["ScannedCount"]
            reads["queries"] += 1

    client = aws.client("dynamodb")
    client.meta.events.register("after-call.dynamodb.Query", count)
    try:
        counts = _invoke(local_system, "RemindFunction", load_event("remind/scheduled.json"))
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count)

    assert counts["read"] == DUE
    assert counts["reminded"] == DUE  # catch-up: one reminder each (the latest due step), not a burst
    assert reads["index_items_scanned"] <= DUE + 10
    bulk_emails = [e for e in local_system.emails() if "BULK-" in e.subject]
    assert len(bulk_emails) == DUE
    assert {e.subject.split(":")[0] for e in bulk_emails} == {"Zahlungserinnerung"}
