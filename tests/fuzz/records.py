"""What "nothing half-written" means for the receivables table, checked over every item after a run.

Once the system has settled: every order has its invoice; every invoice has its PDF in S3 and exactly
one invoice email (its send claim is finished, not stuck "sending"); an invoice's paid amount is the sum
of its payments less refunds (as applied); no idempotency record is left in progress.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

_deserialize = TypeDeserializer().deserialize


def _items(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += [{k: _deserialize(v) for k, v in item.items()} for item in page["Items"]]
    return items


def half_written_records(system: Any) -> list[str]:
    environment = system.topology.functions.by_logical_id("OrdersApiFunction").environment
    items = _items(environment["TABLE_NAME"])
    bucket = _documents_bucket(system)
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_entity.setdefault(str(item.get("entity")), []).append(item)
    invoices = {i["id"]: i for i in by_entity.get("invoice", [])}
    problems: list[str] = []

    for order in by_entity.get("order", []):
        if order.get("invoice_id") not in invoices:
            problems.append(f"order {order['id']} has no invoice")

    stored = _stored_keys(bucket)
    emailed = Counter(
        attachment["filename"].removesuffix(".pdf")
        for email in system.emails()
        for attachment in email.attachments
        if attachment["content_type"] == "application/pdf"
    )
    claims = {(i["pk"], i["sk"]): i for i in by_entity.get("send_claim", [])}
    paid: Counter[str] = Counter()
    for payment in by_entity.get("payment", []):
        paid[payment["invoice_id"]] += Decimal(payment["applied"])
    for refund in by_entity.get("refund", []):
        paid[refund["invoice_id"]] -= Decimal(refund["applied"])

    for invoice in invoices.values():
        name = f"invoice {invoice['number']}"
        if invoice.get("pdf_key") not in stored:
            problems.append(f"{name} has no PDF")
        if invoice["status"] != "void" and emailed[invoice["number"]] != 1:
            problems.append(f"{name} was emailed {emailed[invoice['number']]} times")
        claim = claims.get((f"INVOICE#{invoice['id']}", "SEND#invoice"))
        if claim is not None and claim.get("state") == "sending":
            problems.append(f"{name}: its email claim is stuck in 'sending'")
        net_paid = Decimal(invoice["amount_paid"]) - Decimal(invoice["amount_refunded"])
        if net_paid != paid[invoice["id"]]:
            problems.append(
                f"{name}: net paid {net_paid} but its payments and refunds net {paid[invoice['id']]}"
            )

    idempotency_table = environment["IDEMPOTENCY_TABLE_NAME"]
    for record in _items(idempotency_table):
        if record.get("status") == "INPROGRESS":
            problems.append(f"idempotency record {record.get('id')} left in progress")
    return problems


def _documents_bucket(system: Any) -> str:
    environment = system.topology.functions.by_logical_id("RenderInvoiceFunction").environment
    return str(environment["DOCUMENTS_BUCKET"])


def _stored_keys(bucket: str) -> set[str]:
    client = boto3.client("s3")
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys |= {item["Key"] for item in page.get("Contents", [])}
    return keys
