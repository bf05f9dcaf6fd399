"""The daily subscription run reads what is due, not what is stored (issue #14, decisions/0026).

On the in-process local runtime: one real subscription is created through the API, then STORED
subscriptions are written straight into the emulated table: DUE copies of the real one with a period due
today, and the rest with their next invoice date months away, all on the sparse due index (gsi2,
`SUBDUE#<shard>`). `BillSubscriptionsFunction` runs once. Items read = the `ScannedCount` of every Query
it makes. Target: <= 110 items read for 100 due among 100,000 active.
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
TARGET_ITEMS = 110


def _stored_subscriptions(
    sample: dict[str, Any], today: date, stored: int, due: int
) -> Iterator[dict[str, Any]]:
    from receivables.items import to_item
    from receivables.subscriptions.store import due_index_keys, subscription_key

    for n in range(stored):
        subscription_id = f"sub_bulk{n:07d}"
        next_date = today if n < due else today + timedelta(days=2 + n % 360)  # never due today
        base = sample if n < due else {"entity": "subscription", "status": "active", "version": 1}
        yield to_item(
            base
            | subscription_key(subscription_id)
            | {"id": subscription_id, "next_invoice_date": next_date.isoformat()}
            | due_index_keys(subscription_id, next_date)
        )


def measure() -> list[Row]:
    from local_runtime.moto_hooks import seed_items_quietly
    from local_runtime.system import LocalSystem
    from receivables import aws
    from receivables.items import from_item, to_item
    from receivables.seller import load_seller_profile
    from receivables.subscriptions.store import subscription_key

    stored, due = (300, 3) if smoke() else (STORED, DUE)
    aws.reset_clients()
    system = LocalSystem(state_dir=Path(tempfile.mkdtemp(prefix="bench-subscriptions-"))).start()
    try:
        functions = system.topology.functions
        event = json.loads((REPOSITORY / "events/subscriptions_api/create_subscription.json").read_text())
        created = functions.invoke(functions.by_logical_id("SubscriptionsApiFunction").name, event)
        if created["statusCode"] != 201 or not system.settle():
            raise RuntimeError(f"the sample subscription was not created: {created}")
        table = system.global_environment()["TABLE_NAME"]
        key = subscription_key(json.loads(created["body"])["id"])
        sample = from_item(aws.client("dynamodb").get_item(TableName=table, Key=to_item(key))["Item"])
        seller = load_seller_profile(system.resolver.refs["SellerProfileParameter"])
        today = system.clock.now().astimezone(seller.zone).date()  # the run's day: the seller's
        seed_items_quietly(table, _stored_subscriptions(sample, today, stored, due))

        counts, reads, seconds = invoke_counting_reads(
            functions, "BillSubscriptionsFunction", "bill_subscriptions/scheduled.json"
        )
    finally:
        system.stop()
        aws.reset_clients()
    if counts.get("due") != due:
        raise RuntimeError(f"the run should have found {due} subscriptions due: {counts}")
    label = f"subscription run, {stored:,} active subscriptions"
    return [
        {
            "name": f"{label}: items read (Query ScannedCount)",
            "value": reads["scanned"],
            "unit": "items",
            "target": f"<= {TARGET_ITEMS} for {DUE} due",
            "ratio": round(reads["scanned"] / due, 2),
            "queries": reads["queries"],
        },
        {"name": f"{label}: due (one message each)", "value": int(counts["due"]), "unit": "subscriptions"},
        {"name": f"{label}: run time, {due} due", "value": round(seconds * 1000), "unit": "ms"},
    ]


def run() -> list[Row]:
    return run_isolated(__name__)
