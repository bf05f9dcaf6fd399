"""Invoice issuance, rendering and sending on the emulated account: exactly once, gap-free."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3

from local_runtime.filters import matches
from local_runtime.queues import fan_out_event
from receivables.invoices import format_number, issue_invoice
from receivables.seller import SellerProfile
from tests.support import load_event


def _create_order(system: Any, external_id: str, key: str) -> dict[str, Any]:
    event = load_event("orders_api/create_order.json")
    event["body"] = event["body"].replace("SHOP-1001", external_id)
    event["headers"]["idempotency-key"] = key
    function = system.topology.functions.by_logical_id("OrdersApiFunction")
    response = system.topology.functions.invoke(function.name, event)
    assert response["statusCode"] == 201, response["body"]
    return json.loads(response["body"])


def _invoice_of(system: Any, order_id: str) -> dict[str, Any]:
    table = system.global_environment()["TABLE_NAME"]
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}
    )
    invoice_id = item["Item"]["invoice_id"]["S"]
    invoice = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"INVOICE#{invoice_id}"}, "sk": {"S": "INVOICE"}}
    )["Item"]
    return {key: next(iter(value.values())) for key, value in invoice.items()}


def test_redelivering_every_batch_three_times_keeps_one_invoice_pdf_and_email(local_system: Any) -> None:
    order = _create_order(local_system, "REDELIVER-1", "redeliver-1")
    assert local_system.settle()
    invoice = _invoice_of(local_system, order["id"])
    emails_before = [e for e in local_system.emails() if e.subject and invoice["number"] in e.subject]

    # when every consumer receives each record its queue took about this order or invoice, three more times
    (router,) = local_system.pump.consumers
    for source in local_system.topology.queue_sources:
        policy = local_system.topology.subscription_filters.get(source.queue_arn)
        if policy is None:
            continue  # a work queue a function fills (the subscription run's), not a stream consumer's
        records = [
            r
            for r in router.log
            if matches(policy, r)
            and order["id"].removeprefix("ord_") in json.dumps(r["dynamodb"].get("Keys", {}))
        ]
        for _ in range(3):
            if records:
                local_system.topology.functions.invoke(source.function_name, fan_out_event(records))
    assert local_system.settle()

    table = local_system.global_environment()["TABLE_NAME"]
    invoices = boto3.client("dynamodb").scan(
        TableName=table,
        FilterExpression="order_id = :o AND entity = :e",
        ExpressionAttributeValues={":o": {"S": order["id"]}, ":e": {"S": "invoice"}},
    )["Items"]
    assert len(invoices) == 1
    bucket = local_system.resolver.refs["DocumentsBucket"]
    versions = (
        boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=invoice["pdf_key"]).get("Versions", [])
    )
    assert len(versions) == 1
    emails_after = [e for e in local_system.emails() if e.subject and invoice["number"] in e.subject]
    assert len(emails_before) == 1
    assert len(emails_after) == 1


def test_concurrent_issuers_take_distinct_numbers_without_gaps(local_system: Any) -> None:
    table = local_system.global_environment()["TABLE_NAME"]
    template = _create_order(local_system, "NUMBERING-TEMPLATE", "numbering-template")
    assert local_system.settle()
    stored = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"ORDER#{template['id']}"}, "sk": {"S": "ORDER"}}
    )["Item"]
    from receivables.items import from_item, to_item

    orders = []
    for n in range(40):
        order = from_item(stored) | {
            "id": f"ord_concurrent{n:04d}",
            "pk": f"ORDER#ord_concurrent{n:04d}",
            "entity": "order_fixture",
        }
        order.pop("invoice_id", None)
        boto3.client("dynamodb").put_item(TableName=table, Item=to_item(order))
        orders.append(order)
    seller = SellerProfile.model_validate(
        {
            "seller_id": "concurrency-test",
            "name": "Test Seller",
            "address": {"line1": "A 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        }
    )
    numbers: list[str] = []
    lock = threading.Lock()

    def issue(batch: list[dict[str, Any]]) -> None:
        for order in batch:
            issued = issue_invoice(table, order, seller)
            with lock:
                numbers.append(issued.number)

    threads = [threading.Thread(target=issue, args=(orders[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    year = int(numbers[0].split("-")[0])
    assert sorted(numbers) == [format_number(year, n) for n in range(1, 41)]
