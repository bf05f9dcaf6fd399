"""Two deliveries of the same work at the same moment: conditional writes let exactly one take effect.

Lambda may run a redelivered stream batch while the first attempt is still running, and providers retry
webhooks while the first delivery is in flight. Each race here runs the real handler in two "containers"
at once (`run_concurrently`), and a rendezvous on the product's boto3 client holds both at the contested
write until both have read the same state - the worst interleaving, every time (`meeting.met`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from local_runtime.faults import deliveries_held, mentions, rendezvous, run_concurrently
from local_runtime.queues import fan_out_event
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
    payments_of,
    stream_record,
    stripe_payment,
)


def _failures(result: Any) -> list[Any]:
    """The records a stream invocation asks Lambda to retry (all of them when the function raised)."""
    if isinstance(result, BatchProcessingError):  # Powertools raises when every record failed
        return ["the whole batch"]
    assert not isinstance(result, BaseException), result
    return list(result["batchItemFailures"])


def test_one_order_record_delivered_twice_at_once_issues_one_invoice_and_takes_one_number(
    local_system: Any,
) -> None:
    functions = local_system.topology.functions
    with deliveries_held(local_system):
        order = create_order(local_system, "RACE-ISSUE")
        record = stream_record(local_system, "IssueInvoiceFunction", order)
        # both issuers read the counter before either commits its number
        with rendezvous("dynamodb", "TransactWriteItems", when=mentions("COUNTER#INVOICE")) as meeting:
            results = run_concurrently(functions, "IssueInvoiceFunction", [fan_out_event([record])] * 2)
    assert local_system.settle()
    after = create_order(local_system, "RACE-ISSUE-NEXT")
    assert local_system.settle()

    assert meeting.met
    assert [_failures(r) for r in results] == [[], []]  # the loser found the winner's invoice
    invoice, next_invoice = invoice_of(local_system, order), invoice_of(local_system, after)
    year, sequence = invoice["number"].split("-")
    assert next_invoice["number"] == f"{year}-{int(sequence) + 1:06d}"  # no number lost
    counter = item(local_system, f"COUNTER#INVOICE#{invoice['seller_id']}#{year}", "COUNTER")
    assert counter is not None
    assert counter["last"] == int(sequence) + 1
    assert events_of(local_system, invoice["id"])["invoice.issued"] == 1
    assert_invoiced_once(local_system, order)


def test_one_invoice_record_rendered_twice_at_once_stores_one_pdf_version(local_system: Any) -> None:
    functions = local_system.topology.functions
    with deliveries_held(local_system):
        order = create_order(local_system, "RACE-RENDER")
        invoke(
            local_system,
            "IssueInvoiceFunction",
            fan_out_event([stream_record(local_system, "IssueInvoiceFunction", order)]),
        )
        invoice = invoice_of(local_system, order)
        record = stream_record(local_system, "RenderInvoiceFunction", invoice["id"])
        # both renderers stored (or found) the PDF before either records its key
        with rendezvous("dynamodb", "TransactWriteItems", when=mentions("pdf_key")) as meeting:
            results = run_concurrently(functions, "RenderInvoiceFunction", [fan_out_event([record])] * 2)
    assert local_system.settle()

    assert meeting.met
    assert [_failures(r) for r in results] == [[], []]
    assert_invoiced_once(local_system, order)


def test_one_pdf_record_delivered_twice_at_once_sends_one_email(local_system: Any) -> None:
    functions = local_system.topology.functions
    with deliveries_held(local_system):
        order = create_order(local_system, "RACE-SEND")
        invoke(
            local_system,
            "IssueInvoiceFunction",
            fan_out_event([stream_record(local_system, "IssueInvoiceFunction", order)]),
        )
        invoice = invoice_of(local_system, order)
        rendered = stream_record(local_system, "RenderInvoiceFunction", invoice["id"])
        invoke(local_system, "RenderInvoiceFunction", fan_out_event([rendered]))
        record = stream_record(local_system, "SendInvoiceFunction", invoice["id"])
        # both senders read the unsent invoice, then claim the email at the same moment
        with rendezvous("dynamodb", "UpdateItem", when=mentions("SEND#invoice")) as meeting:
            results = run_concurrently(functions, "SendInvoiceFunction", [fan_out_event([record])] * 2)
    assert local_system.settle()

    assert meeting.met
    # the loser found the winner's claim: still sending (it asks for a retry, which finds the email
    # sent) or already sent (it is done)
    assert sorted(len(_failures(r)) for r in results) in ([0, 0], [0, 1])
    assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_one_webhook_event_posted_twice_at_once_is_applied_once(local_system: Any) -> None:
    order = create_order(local_system, "RACE-WEBHOOK")
    assert local_system.settle()
    invoice = invoice_of(local_system, order)
    request = stripe_payment(local_system, invoice, "evt_race_same", "pi_race_same", 4282)

    with rendezvous(
        "dynamodb", "TransactWriteItems", when=mentions("PROVIDEREVENT#stripe#evt_race_same")
    ) as meeting:
        results = run_concurrently(local_system.topology.functions, "PaymentWebhooksFunction", [request] * 2)
    assert local_system.settle()

    assert meeting.met
    assert sorted((r["statusCode"], json.loads(r["body"])["result"]) for r in results) == [
        (200, "applied"),
        (200, "duplicate"),
    ]
    paid = invoice_of(local_system, order)
    assert (paid["status"], Decimal(paid["amount_paid"])) == ("paid", Decimal("42.82"))
    assert [Decimal(p["amount"]) for p in payments_of(local_system, invoice["id"])] == [Decimal("42.82")]
    assert events_of(local_system, invoice["id"])["payment.received"] == 1
    assert len(confirmations(local_system, invoice["number"])) == 1


def test_two_payments_for_one_invoice_at_once_both_count(local_system: Any) -> None:
    order = create_order(local_system, "RACE-TWO-PAYMENTS")
    assert local_system.settle()
    invoice = invoice_of(local_system, order)
    requests = [
        generic_payment(local_system, invoice, "bank-race-1", "10.00"),
        generic_payment(local_system, invoice, "bank-race-2", "12.50"),
    ]

    # both read the invoice at the same version; the loser's transaction is cancelled and re-applied
    with rendezvous(
        "dynamodb", "TransactWriteItems", when=mentions(invoice["id"], "PROVIDEREVENT#")
    ) as meeting:
        results = run_concurrently(local_system.topology.functions, "PaymentWebhooksFunction", requests)
    assert local_system.settle()

    assert meeting.met
    assert [(r["statusCode"], json.loads(r["body"])["result"]) for r in results] == [(200, "applied")] * 2
    after = invoice_of(local_system, order)
    assert (after["status"], Decimal(after["amount_paid"]), Decimal(after["amount_due"])) == (
        "partially_paid",
        Decimal("22.50"),
        Decimal("20.32"),
    )
    assert after["version"] == invoice["version"] + 2
    assert sorted(Decimal(p["amount"]) for p in payments_of(local_system, invoice["id"])) == [
        Decimal("10.00"),
        Decimal("12.50"),
    ]
    assert events_of(local_system, invoice["id"])["payment.received"] == 2


def test_one_paid_record_delivered_twice_at_once_sends_one_confirmation(local_system: Any) -> None:
    order = create_order(local_system, "RACE-CONFIRM")
    assert local_system.settle()
    invoice = invoice_of(local_system, order)
    functions = local_system.topology.functions
    with deliveries_held(local_system):
        paid = invoke(
            local_system,
            "PaymentWebhooksFunction",
            generic_payment(local_system, invoice, "bank-race-confirm", "42.82"),
        )
        assert json.loads(paid["body"])["result"] == "applied"
        record = stream_record(local_system, "NotifyPaidFunction", invoice["id"], "payment.received")
        with rendezvous("dynamodb", "UpdateItem", when=mentions("SEND#payment-receipt")) as meeting:
            results = run_concurrently(functions, "NotifyPaidFunction", [fan_out_event([record])] * 2)
    assert local_system.settle()

    assert meeting.met
    assert sorted(len(_failures(r)) for r in results) in ([0, 0], [0, 1])
    assert len(confirmations(local_system, invoice["number"])) == 1
    assert events_of(local_system, invoice["id"])["invoice.payment_confirmed"] == 1
    assert dead_letters(local_system) == []
