"""S3 and DynamoDB failing under the invoicing and payment paths, and a poison record on the stream.

Faults are injected on the product's own boto3 clients (local_runtime/faults.py) and answer as AWS does
once the SDK's retries gave up. After each fault clears - by the stream's redelivery or the provider's
retry - every invoice has its PDF (one S3 version, the recorded checksum) and exactly one email, and
every payment is on its invoice exactly once.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from local_runtime import queues
from local_runtime.faults import deliveries_held, inject, mentions, stream_deliveries
from tests.integration.faults_support import (
    assert_invoiced_once,
    confirmations,
    create_order,
    dead_letters,
    events_of,
    generic_payment,
    invoice_of,
    invoke,
    item,
    order_request,
    payments_of,
    stream_record,
    stripe_payment,
    table,
)

THROTTLED = "The level of configured provisioned throughput for the table was exceeded."


def _is_invoice_pdf(params: dict[str, Any]) -> bool:
    return str(params.get("Key", "")).startswith("invoices/")


def test_s3_refusing_pdf_uploads_delays_rendering_and_each_invoice_keeps_one_pdf_and_one_email(
    local_system: Any,
) -> None:
    dead_letters(local_system)

    with inject(
        "s3", "PutObject", "SlowDown", times=3, when=_is_invoice_pdf, message="Reduce your request rate."
    ) as fault:
        orders = [create_order(local_system, f"S3-SLOWDOWN-{n}") for n in range(3)]
        assert local_system.settle()

    assert fault.injected == 3
    for order in orders:
        assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_a_pdf_upload_whose_reply_is_lost_is_not_stored_twice_and_its_checksum_is_recorded(
    local_system: Any,
) -> None:
    dead_letters(local_system)

    # S3 stores the PDF but the renderer sees a 500: the retry finds the object (If-None-Match)
    with inject("s3", "PutObject", "InternalError", times=1, when=_is_invoice_pdf, reply_lost=True) as fault:
        order = create_order(local_system, "S3-REPLY-LOST")
        assert local_system.settle()

    assert fault.injected == 1
    assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_throttled_writes_along_issue_render_and_send_leave_one_invoice_one_pdf_one_email(
    local_system: Any,
) -> None:
    dead_letters(local_system)
    code = "ProvisionedThroughputExceededException"

    with (
        # the invoice's numbering transaction, the PDF's record, the email's claim and its "sent" record
        inject("dynamodb", "TransactWriteItems", code, times=2, when=mentions("COUNTER#INVOICE")) as issue,
        inject("dynamodb", "TransactWriteItems", code, times=2, when=mentions("pdf_key")) as render,
        inject("dynamodb", "UpdateItem", code, times=2, when=mentions("SEND#invoice")) as claim,
        inject("dynamodb", "TransactWriteItems", code, times=1, when=mentions("SEND#invoice")) as record,
    ):
        orders = [create_order(local_system, f"DDB-THROTTLE-{n}") for n in range(2)]
        assert local_system.settle()

    assert [f.injected for f in (issue, render, claim, record)] == [2, 2, 2, 1]
    numbers = sorted(invoice_of(local_system, order)["number"] for order in orders)
    year, first = numbers[0].split("-")
    assert numbers[1] == f"{year}-{int(first) + 1:06d}"  # throttled numbering lost no number
    for order in orders:
        assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_a_throttled_order_write_answers_500_and_the_storefronts_retry_creates_the_order_once(
    local_system: Any,
) -> None:
    request = order_request("DDB-THROTTLE-ORDER")
    # DynamoDB cancels a throttled transaction with a ThrottlingError reason
    cancelled = {
        "CancellationReasons": [{"Code": "ThrottlingError", "Message": THROTTLED}] + [{"Code": "None"}] * 3
    }

    with inject(
        "dynamodb",
        "TransactWriteItems",
        "TransactionCanceledException",
        times=1,
        when=mentions("ORDERREF#"),
        response=cancelled,
    ) as fault:
        refused = invoke(local_system, "OrdersApiFunction", request)
        retried = invoke(local_system, "OrdersApiFunction", request)
    assert local_system.settle()

    assert fault.injected == 1
    assert refused["statusCode"] == 500
    assert json.loads(refused["body"])["type"] == "/problems/internal"
    assert retried["statusCode"] == 201, retried["body"]
    order_id = json.loads(retried["body"])["id"]
    orders = boto3.client("dynamodb").scan(
        TableName=table(local_system),
        FilterExpression="entity = :e AND external_id = :x",
        ExpressionAttributeValues={":e": {"S": "order"}, ":x": {"S": "DDB-THROTTLE-ORDER"}},
    )["Items"]
    assert len(orders) == 1
    assert_invoiced_once(local_system, order_id)


def test_throttled_payment_writes_fail_the_webhook_and_the_providers_retries_apply_each_payment_once(
    local_system: Any,
) -> None:
    orders = [create_order(local_system, f"DDB-THROTTLE-PAY-{n}") for n in range(2)]
    assert local_system.settle()
    stripe_invoice, bank_invoice = (invoice_of(local_system, order) for order in orders)
    deliveries = [
        stripe_payment(local_system, stripe_invoice, "evt_throttled_1", "pi_throttled_1", 4282),
        generic_payment(local_system, bank_invoice, "bank-throttled-1", "30.00"),
        generic_payment(local_system, bank_invoice, "bank-throttled-2", "12.82"),
    ]

    # every payment transaction is throttled twice: the provider sees a 500 and delivers again
    with inject(
        "dynamodb",
        "TransactWriteItems",
        "ThrottlingException",
        when=mentions("PROVIDEREVENT#"),
        message=THROTTLED,
    ) as fault:
        answers: list[list[Any]] = [[], [], []]
        for attempt in range(4):
            if attempt == 2:
                fault.clear()
            for index, request in enumerate(deliveries):
                response = invoke(local_system, "PaymentWebhooksFunction", request)
                answers[index].append((response["statusCode"], json.loads(response["body"]).get("result")))
    assert local_system.settle()

    assert fault.injected == 6
    for history in answers:  # two refusals, applied on the first retry after, then a duplicate
        assert history == [(500, None), (500, None), (200, "applied"), (200, "duplicate")]
    for invoice, paid in ((stripe_invoice, ["42.82"]), (bank_invoice, ["12.82", "30.00"])):
        now = invoice_of(local_system, invoice["order_id"])
        assert (now["status"], Decimal(now["amount_paid"]), Decimal(now["amount_due"])) == (
            "paid",
            Decimal("42.82"),
            Decimal(0),
        )
        assert sorted(str(p["amount"]) for p in payments_of(local_system, invoice["id"])) == paid
        assert events_of(local_system, invoice["id"])["payment.received"] == len(paid)
        assert events_of(local_system, invoice["id"])["invoice.paid"] == 1
        assert len(confirmations(local_system, invoice["number"])) == 1


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queue retries wait milliseconds instead of up to two seconds: same count, same order."""
    monkeypatch.setattr(queues, "RETRY_CAP_SECONDS", 0.02)


@pytest.mark.usefixtures("quick_retries")
def test_a_poison_order_record_goes_to_the_dead_letter_queue_and_the_rest_of_its_batch_is_invoiced(
    local_system: Any,
) -> None:
    dead_letters(local_system)
    issuer = local_system.topology.functions.by_logical_id("IssueInvoiceFunction").name
    poison_id = "ord_poison0000000000000000000000"
    with stream_deliveries(local_system) as deliveries:
        with deliveries_held(local_system):  # the orders reach the issuer in one batch
            before = [create_order(local_system, f"POISON-BATCH-{n}") for n in range(2)]
            # an order the issuer can never read (no customer, lines or totals): it fails every time
            boto3.client("dynamodb").put_item(
                TableName=table(local_system),
                Item={
                    "pk": {"S": f"ORDER#{poison_id}"},
                    "sk": {"S": "ORDER"},
                    "entity": {"S": "order"},
                    "id": {"S": poison_id},
                    "currency": {"S": "EUR"},
                },
            )
            after = [create_order(local_system, f"POISON-BATCH-{n}") for n in range(2, 4)]
        assert local_system.settle()

    poison = stream_record(local_system, "IssueInvoiceFunction", poison_id)["dynamodb"]["SequenceNumber"]
    batch = [stream_record(local_system, "IssueInvoiceFunction", order) for order in before + after]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
    issued = [d for d in deliveries if d.function_name == issuer]
    # the first delivery carried the whole batch and reported only the poison message as failed: the
    # other orders are other message groups, so nothing holds them back
    assert issued[0].sequence_numbers == [*sequences[:2], poison, *sequences[2:]]
    assert len(issued[0].outcome["batchItemFailures"]) == 1
    # then the poison message alone until the queue's maxReceiveCount (11) is used up; nothing else again
    assert [d.sequence_numbers for d in issued[1:]] == [[poison]] * 10
    for order in before + after:
        assert_invoiced_once(local_system, order)
    assert (item(local_system, f"ORDER#{poison_id}", "ORDER") or {}).get("invoice_id") is None
    letters = dead_letters(local_system)
    assert [letter.function_name for letter in letters] == [issuer]
    assert letters[0].body["dynamodb"]["SequenceNumber"] == poison  # the record itself, ready to redrive
