"""The daily dunning run reads what is due, not what is stored: items read beside invoices due.

As tests/integration/test_dunning_run.py does, on the in-process local runtime: one real invoice is
issued through the order pipeline, then STORED invoices are written straight into the emulated table
(no stream records): DUE copies of the real one, ten days overdue, and the rest with their next dunning
action months away. `RemindFunction` runs once. Items read = the `ScannedCount` of every Query it makes
(DynamoDB bills a Query by what it scans, not by what it returns). Target: items read <= 1.1x the
invoices due. The run's wall time is reported beside it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.isolated import REPOSITORY, Row, invoke_counting_reads, run_isolated, smoke

STORED, DUE = 100_000, 100
TARGET_RATIO = 1.1


def _stored_invoices(sample: dict[str, Any], today: date, stored: int, due: int) -> Iterator[dict[str, Any]]:
    from receivables.dunning_index import index_keys
    from receivables.items import to_item

    for n in range(stored):
        invoice_id = f"inv_bulk{n:07d}"
        if n < due:
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


def measure() -> list[Row]:
    from local_runtime.moto_hooks import seed_items_quietly
    from local_runtime.system import LocalSystem
    from receivables import aws
    from receivables.items import from_item, to_item

    stored, due = (300, 3) if smoke() else (STORED, DUE)
    aws.reset_clients()
    system = LocalSystem(state_dir=Path(tempfile.mkdtemp(prefix="bench-dunning-"))).start()
    try:
        functions = system.topology.functions
        event = json.loads((REPOSITORY / "events/orders_api/create_order.json").read_text())
        created = functions.invoke(functions.by_logical_id("OrdersApiFunction").name, event)
        if created["statusCode"] != 201 or not system.settle():
            raise RuntimeError(f"the sample order was not invoiced: {created}")
        table = system.global_environment()["TABLE_NAME"]
        order_id = json.loads(created["body"])["id"]
        key = {"pk": f"INVOICE#inv_{order_id.removeprefix('ord_')}", "sk": "INVOICE"}
        sample = from_item(aws.client("dynamodb").get_item(TableName=table, Key=to_item(key))["Item"])
        seed_items_quietly(table, _stored_invoices(sample, system.clock.today(), stored, due))

        counts, reads, seconds = invoke_counting_reads(functions, "RemindFunction", "remind/scheduled.json")
    finally:
        system.stop()
        aws.reset_clients()
    if counts.get("reminded") != due:
        raise RuntimeError(f"the run should have reminded {due} invoices: {counts}")
    label = f"dunning run, {stored:,} invoices stored"
    return [
        {
            "name": f"{label}: items read (Query ScannedCount)",
            "value": reads["scanned"],
            "unit": "items",
            "target": f"<= {TARGET_RATIO}x due",
            "ratio": round(reads["scanned"] / due, 2),
            "queries": reads["queries"],
        },
        {"name": f"{label}: invoices due (reminded)", "value": int(counts["reminded"]), "unit": "invoices"},
        {"name": f"{label}: run time, {due} reminders", "value": round(seconds * 1000), "unit": "ms"},
    ]


def run() -> list[Row]:
    return run_isolated(__name__)
