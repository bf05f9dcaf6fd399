"""Gap-free numbering: how many invoices per second one seller's counter sustains, and that none is lost.

Measured: as tests/integration/test_concurrent_issuers_take_distinct_numbers_without_gaps does, on the
in-process local runtime (moto, whose item operations the runtime serialises as DynamoDB serialises
conflicting writes): one order is created through the orders function, then ORDERS copies of it are
issued by THREADS threads at once, all for one seller, each through the product's issuer
(`receivables.invoices.issue_invoice`: a consistent read of the counter, then one TransactWriteItems with
the counter's conditional update from `receivables/numbering.py`, the invoice and its companions; a lost
race re-reads and retries). While the threads run, the runtime's invocation lock is held, so no stream
consumer renders or emails the new invoices meanwhile: the figure is the numbering path alone. An issue
that gives up after the issuer's retry budget is issued again, as the queue would redeliver it, and
counted. Afterwards the numbers must be exactly 1..ORDERS: `gaps` and `duplicates` rows, both to be 0.

Model (AWS): the counter is one item, so every number of a seller and year is a conditional write to one
item. Optimistic concurrency lets one contender win per round trip, so one seller is bounded by
1 / (consistent GetItem + TransactWriteItems latency); with DynamoDB's typical in-region latencies
(MODEL_READ_MS, MODEL_TRANSACTION_MS, assumed, not measured here) that is the model row. The item's own
write limit (1,000 WCU/s per partition, 2 WCU per transactional write of the small counter item: 500/s) is
higher, so latency, not capacity, is the bound; more Lambda concurrency for one seller only adds lost races.
Target: >= 50 invoices/s for one seller, no gap.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.isolated import REPOSITORY, Row, run_isolated, smoke

ORDERS, THREADS = 400, 8
TARGET_PER_SECOND = 50
MODEL_READ_MS, MODEL_TRANSACTION_MS = 4.0, 12.0  # DynamoDB in-region, typical single-digit/low-double ms
PARTITION_WCU_PER_SECOND, WCU_PER_COUNTER_WRITE = 1000, 2  # one item lives in one partition; transactions 2x


def _orders(system: Any, count: int) -> list[dict[str, Any]]:
    """`count` copies of one order created through the orders function, stored, each not yet invoiced."""
    from receivables import aws
    from receivables.items import from_item, to_item

    functions = system.topology.functions
    event = json.loads((REPOSITORY / "events/orders_api/create_order.json").read_text())
    created = functions.invoke(functions.by_logical_id("OrdersApiFunction").name, event)
    if created["statusCode"] != 201 or not system.settle():
        raise RuntimeError(f"the sample order was not created: {created}")
    table = system.global_environment()["TABLE_NAME"]
    order_id = json.loads(created["body"])["id"]
    key = {"pk": f"ORDER#{order_id}", "sk": "ORDER"}
    stored = from_item(aws.client("dynamodb").get_item(TableName=table, Key=to_item(key))["Item"])
    orders = []
    for n in range(count):
        order = stored | {"id": f"ord_numbering{n:05d}", "pk": f"ORDER#ord_numbering{n:05d}"}
        order |= {"entity": "order_fixture"}  # not an order the stream router acts on
        order.pop("invoice_id", None)
        aws.client("dynamodb").put_item(TableName=table, Item=to_item(order))
        orders.append(order)
    return orders


def measure() -> list[Row]:
    from local_runtime.system import LocalSystem
    from receivables import aws
    from receivables.invoices import issue_invoice
    from receivables.seller import SellerProfile

    orders_count, threads = (16, 4) if smoke() else (ORDERS, THREADS)
    aws.reset_clients()
    system = LocalSystem(state_dir=Path(tempfile.mkdtemp(prefix="bench-numbering-"))).start()
    try:
        table = system.global_environment()["TABLE_NAME"]
        orders = _orders(system, orders_count)
        seller = SellerProfile.model_validate(
            {
                "seller_id": "bench-numbering",
                "name": "Bench Seller",
                "address": {"line1": "A 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            }
        )
        numbers: list[str] = []
        attempts = {"transactions": 0, "redelivered": 0}
        lock = threading.Lock()

        def count_transaction(**_: Any) -> None:
            with lock:
                attempts["transactions"] += 1

        client = aws.client("dynamodb")  # cached: the one client every thread's issuer uses
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", count_transaction)

        def issue(batch: list[dict[str, Any]]) -> None:
            for order in batch:
                while True:
                    try:
                        issued = issue_invoice(table, order, seller)
                        break
                    except RuntimeError:  # the retry budget ran out under contention: the queue redelivers
                        with lock:
                            attempts["redelivered"] += 1
                with lock:
                    numbers.append(issued.number)

        workers = [threading.Thread(target=issue, args=(orders[i::threads],)) for i in range(threads)]
        with system.topology.functions.lock:  # no consumer runs meanwhile: numbering alone is timed
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - started
        client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", count_transaction)
    finally:
        system.stop()
        aws.reset_clients()

    sequences = [int(number.split("-")[1]) for number in numbers]
    distinct = set(sequences)
    gaps = len(set(range(1, orders_count + 1)) - distinct)
    duplicates = len(sequences) - len(distinct)
    model = 1000 / (MODEL_READ_MS + MODEL_TRANSACTION_MS)
    capacity = PARTITION_WCU_PER_SECOND / WCU_PER_COUNTER_WRITE
    label = f"numbering, one seller, {orders_count} invoices by {threads} threads"
    rate = orders_count / seconds
    return [
        {
            "name": f"{label}: invoices/s (moto, laptop)",
            "value": round(rate, 1),
            "unit": "inv/s",
            "target": f">= {TARGET_PER_SECOND}/s",
            "ratio": round(rate / TARGET_PER_SECOND, 2),
            "transactions": attempts["transactions"],
        },
        {
            "name": f"{label}: gaps in 1..{orders_count}",
            "value": gaps,
            "unit": "numbers",
            "target": "0",
        },
        {"name": f"{label}: duplicate numbers", "value": duplicates, "unit": "numbers", "target": "0"},
        {
            "name": f"{label}: lost races (transactions per invoice)",
            "value": round(attempts["transactions"] / orders_count, 2),
            "unit": "tx/inv",
            "redelivered": attempts["redelivered"],
        },
        {
            "name": (
                f"numbering model (AWS): 1 / (GetItem {MODEL_READ_MS:g} ms + TransactWriteItems"
                f" {MODEL_TRANSACTION_MS:g} ms), item limit {capacity:.0f}/s"
            ),
            "value": round(min(model, capacity), 1),
            "unit": "inv/s",
            "target": f">= {TARGET_PER_SECOND}/s",
            "ratio": round(min(model, capacity) / TARGET_PER_SECOND, 2),
        },
    ]


def run() -> list[Row]:
    return run_isolated(__name__)
