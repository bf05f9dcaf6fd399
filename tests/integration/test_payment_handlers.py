"""The payment functions on their sample events from events/, against the emulated account."""

from __future__ import annotations

import json
from typing import Any

from tests.support import load_event, stripe_signature


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _signed_webhook(system: Any) -> dict[str, Any]:
    """The sample webhook request, signed now (its recorded signature is older than Stripe's tolerance)."""
    event = load_event("payment_webhooks/stripe_payment_intent_succeeded.json")
    event["headers"]["stripe-signature"] = stripe_signature(
        event["body"].encode(), at=int(system.clock.now().timestamp())
    )
    return dict(event)


def test_the_recorded_sample_signature_is_too_old_to_be_accepted(local_system: Any) -> None:
    response = _invoke(
        local_system,
        "PaymentWebhooksFunction",
        load_event("payment_webhooks/stripe_payment_intent_succeeded.json"),
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"][0]["field"] == "Stripe-Signature"


def test_the_sample_payment_pays_the_sample_invoice_once(local_system: Any) -> None:
    created = _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    assert created["statusCode"] == 201
    assert local_system.settle()

    first = _invoke(local_system, "PaymentWebhooksFunction", _signed_webhook(local_system))
    replay = _invoke(local_system, "PaymentWebhooksFunction", _signed_webhook(local_system))
    assert local_system.settle()

    assert json.loads(first["body"])["result"] == "applied"
    assert json.loads(replay["body"])["result"] == "duplicate"
    invoice = json.loads(
        _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))["body"]
    )
    assert (invoice["status"], invoice["amount_due"]) == ("paid", "0.00")


def test_the_sample_payment_event_gets_one_confirmation_however_often_it_arrives(local_system: Any) -> None:
    # the sample invoice exists (the test above): its sample payment event pays it in full
    before = [e for e in local_system.emails() if "Zahlungsbest" in e.subject]

    responses = [
        _invoke(local_system, "NotifyPaidFunction", load_event("notify_paid/payment_received.json"))
        for _ in range(2)
    ]

    assert responses == [{"batchItemFailures": []}] * 2
    after = [e for e in local_system.emails() if "Zahlungsbest" in e.subject]
    assert len(after) == len(before) + 1
    assert "42,82" in after[-1].text
