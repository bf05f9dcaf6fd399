"""SES throttled or down while invoices and payment confirmations go out: each is still sent exactly once.

Faults are injected on the product's own SES client (local_runtime/faults.py): the code takes its real
boto3 path and gets SES's error after the SDK's retries gave up. The stream redelivers; once SES is
back, every email goes out once and nothing is left in the dead-letter queue.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from local_runtime import queues
from local_runtime.faults import inject
from tests.integration.faults_support import (
    assert_invoiced_once,
    confirmations,
    create_order,
    dead_letters,
    events_of,
    generic_payment,
    invoice_emails,
    invoice_of,
    invoke,
    item,
    items_under,
    payments_of,
    stripe_payment,
)
from tests.support import eventually

SES_THROTTLED = "Maximum sending rate exceeded."


def _rendered(system: Any, order_id: str) -> bool:
    order = item(system, f"ORDER#{order_id}", "ORDER") or {}
    invoice = item(system, f"INVOICE#{order.get('invoice_id')}", "INVOICE") or {}
    return bool(invoice.get("pdf_key"))


def test_ses_throttling_while_invoices_are_issued_delays_but_never_loses_or_doubles_an_email(
    local_system: Any,
) -> None:
    dead_letters(local_system)

    with inject("ses", "SendRawEmail", "Throttling", times=3, message=SES_THROTTLED) as fault:
        orders = [create_order(local_system, f"SES-THROTTLE-{n}") for n in range(4)]
        assert local_system.settle()

    assert fault.injected == 3
    assert fault.calls == 4 + 3  # each throttled email was tried once more, then sent
    for order in orders:
        assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_an_ses_outage_holds_invoice_emails_back_until_ses_is_back_then_each_goes_out_once(
    local_system: Any,
) -> None:
    dead_letters(local_system)

    with inject("ses", "SendRawEmail", "ServiceUnavailable", message="Service unavailable") as outage:
        orders = [create_order(local_system, f"SES-OUTAGE-{n}") for n in range(3)]
        # every invoice issued and rendered, its email refused, then refused again on redelivery
        eventually(lambda: outage.injected >= 5 and all(_rendered(local_system, o) for o in orders))
        during = [invoice_of(local_system, order) for order in orders]
        outage.clear()
        assert local_system.settle()

    assert [invoice.get("email_sent_at") for invoice in during] == [None] * 3
    assert outage.calls == outage.injected + 3
    for order in orders:
        assert_invoiced_once(local_system, order)
    assert dead_letters(local_system) == []


def test_payment_confirmations_survive_an_ses_outage_and_payments_are_applied_exactly_once(
    local_system: Any,
) -> None:
    # given two invoices, emailed; the second is paid in two parts
    orders = [create_order(local_system, f"SES-PAID-{n}") for n in (1, 2)]
    assert local_system.settle()
    first, second = (invoice_of(local_system, order) for order in orders)
    dead_letters(local_system)
    before = len(local_system.emails())

    # when SES is down while the payments arrive
    with inject("ses", "SendRawEmail", "ServiceUnavailable") as outage:
        answers = [
            invoke(local_system, "PaymentWebhooksFunction", request)
            for request in (
                stripe_payment(local_system, first, "evt_ses_outage_1", "pi_ses_outage_1", 4282),
                generic_payment(local_system, second, "bank-ses-outage-1", "20.00"),
                generic_payment(local_system, second, "bank-ses-outage-2", "22.82"),
            )
        ]
        eventually(lambda: outage.injected >= 4)
        assert len(local_system.emails()) == before  # nothing went out meanwhile
        outage.clear()
        assert local_system.settle()

    # then each payment is on its invoice once, each gets one email (a part payment its receipt), and
    # each paid invoice is confirmed once
    assert [(a["statusCode"], json.loads(a["body"])["result"]) for a in answers] == [(200, "applied")] * 3
    for invoice, paid in ((first, ["42.82"]), (second, ["20.00", "22.82"])):
        now = invoice_of(local_system, invoice["order_id"])
        assert (now["status"], Decimal(now["amount_paid"]), Decimal(now["amount_due"])) == (
            "paid",
            Decimal("42.82"),
            Decimal(0),
        )
        assert sorted(str(p["amount"]) for p in payments_of(local_system, invoice["id"])) == paid
        assert len(confirmations(local_system, invoice["number"])) == 1
        assert events_of(local_system, invoice["id"])["invoice.paid"] == 1
        assert events_of(local_system, invoice["id"])["payment.received"] == len(paid)
        assert events_of(local_system, invoice["id"])["invoice.payment_confirmed"] == len(paid)
        assert len(invoice_emails(local_system, invoice["number"])) == 1
        claims = [
            claim
            for claim in items_under(local_system, f"INVOICE#{invoice['id']}")
            if claim["sk"].startswith("SEND#payment-receipt#")
        ]
        assert [claim["state"] for claim in claims] == ["sent"] * len(paid)
    assert dead_letters(local_system) == []


def test_an_ses_reply_lost_after_sending_keeps_the_claim_so_the_email_is_not_sent_twice(
    local_system: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "RETRY_CAP_SECONDS", 0.02)  # the retries run out in a second
    dead_letters(local_system)

    # SES accepts the message but the sender times out reading the reply: it may have gone out
    with inject("ses", "SendRawEmail", "ReadTimeout", times=1, reply_lost=True) as fault:
        order = create_order(local_system, "SES-REPLY-LOST")
        assert local_system.settle()

    invoice = invoice_of(local_system, order)
    assert fault.injected == 1
    assert len(invoice_emails(local_system, invoice["number"])) == 1  # never sent a second time
    claim = item(local_system, f"INVOICE#{invoice['id']}", "SEND#invoice")
    assert claim is not None
    assert claim["state"] == "sending"  # kept: only its lease can free it (docs/decisions/0008)
    assert invoice.get("email_sent_at") is None
    letters = dead_letters(local_system)  # the unknown outcome goes to a person, alarmed
    sender = local_system.topology.functions.by_logical_id("SendInvoiceFunction").name
    assert [letter.function_name for letter in letters] == [sender]
    assert letters[0].body["dynamodb"]["Keys"]["pk"]["S"] == f"INVOICE#{invoice['id']}"
