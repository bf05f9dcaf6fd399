"""Pay now through the running system and its Stripe stand-in (localstripe): the page's PaymentIntent, paid
at the stand-in as Stripe.js would, comes back as Stripe's signed webhook and pays the invoice once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from receivables.rendering.messages import messages_for
from tests.conftest import RunningSystem
from tests.support import BrowserPage, eventually, load_event, stripe_signature

pytestmark = pytest.mark.e2e


def _invoice(system: RunningSystem) -> dict[str, Any]:
    body = load_event("http/create_order_body.json")
    body["external_id"] = f"PAYNOW-{uuid.uuid4().hex}"
    order = system.post_order(body, key=body["external_id"]).json()
    return system.invoice_of(order["id"])


def _stripe(system: RunningSystem) -> dict[str, str]:
    response = requests.get(system.url("/_local/stripe"), timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _pay_now(system: RunningSystem, invoice: dict[str, Any], method: str = "card") -> dict[str, Any]:
    response = requests.post(invoice["hosted_url"] + "/pay", json={"method": method}, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _pay_at_stripe(system: RunningSystem, payment_intent: str, payment_method: str) -> requests.Response:
    """What Stripe.js does with the customer's card: attach it to the PaymentIntent, then confirm."""
    stripe = _stripe(system)
    auth = {"Authorization": f"Bearer {stripe['secret_key']}"}
    url = f"{stripe['api_base']}/v1/payment_intents/{payment_intent}"
    attached = requests.post(url, data={"payment_method": payment_method}, headers=auth, timeout=120)
    assert attached.status_code == 200, attached.text
    return requests.post(f"{url}/confirm", headers=auth, timeout=120)


def _stripe_events(system: RunningSystem, event_type: str, payment_intent: str) -> list[dict[str, Any]]:
    """The stand-in's events about the PaymentIntent, every page of them (other tests add their own)."""
    stripe = _stripe(system)
    auth = {"Authorization": f"Bearer {stripe['secret_key']}"}
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = requests.get(f"{stripe['api_base']}/v1/events", params=params, headers=auth, timeout=120)
        assert page.status_code == 200, page.text
        events += page.json()["data"]
        if not page.json()["has_more"]:
            break
        params["starting_after"] = events[-1]["id"]
    return [e for e in events if e["type"] == event_type and e["data"]["object"]["id"] == payment_intent]


def _confirmations(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for e in system.emails() if invoice["number"] in e["subject"] and "Zahlungsbest" in e["subject"]
    ]


def test_paying_by_card_at_stripe_pays_the_invoice_once_with_one_confirmation(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system)
    intent = _pay_now(running_system, invoice)

    confirmed = _pay_at_stripe(running_system, intent["payment_intent"], "pm_card_visa")
    running_system.settle()  # waits for the stand-in's webhooks, then for what they started

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "succeeded"
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", "42.82", "0.00")
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert [(p["provider"], p["amount"], p["status"]) for p in payments] == [("stripe", "42.82", "applied")]
    assert len(_confirmations(running_system, invoice)) == 1


def test_the_same_stripe_webhook_delivered_again_changes_nothing(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system)
    intent = _pay_now(running_system, invoice)
    _pay_at_stripe(running_system, intent["payment_intent"], "pm_card_visa")
    running_system.settle()
    [succeeded] = _stripe_events(running_system, "payment_intent.succeeded", intent["payment_intent"])

    body = json.dumps(succeeded).encode()
    headers = {
        "content-type": "application/json",
        "Stripe-Signature": stripe_signature(body, at=running_system.now()),
    }
    again = requests.post(running_system.url("/webhooks/stripe"), data=body, headers=headers, timeout=120)
    running_system.settle()

    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert [p["amount"] for p in payments] == ["42.82"]
    assert running_system.get_json(f"/invoices/{invoice['id']}")["amount_paid"] == "42.82"
    assert len(_confirmations(running_system, invoice)) == 1


def test_nothing_is_left_to_pay_now_once_paid(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system)
    intent = _pay_now(running_system, invoice)
    _pay_at_stripe(running_system, intent["payment_intent"], "pm_card_visa")
    running_system.settle()

    response = requests.post(invoice["hosted_url"] + "/pay", json={"method": "card"}, timeout=120)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_declined_card_pays_nothing_and_the_page_says_why(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system)
    intent = _pay_now(running_system, invoice)

    # 4000 0000 0000 0341: attaches, then the charge is declined (pm_card_chargeCustomerFail). localstripe
    # declines 4000 0000 0000 0002 only when it is attached to a customer, which a PaymentIntent never does.
    declined = _pay_at_stripe(running_system, intent["payment_intent"], "pm_card_chargeCustomerFail")
    running_system.settle()

    assert declined.status_code == 402, declined.text
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_paid"], after["amount_due"]) == ("open", "0.00", "42.82")
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert [(p["status"], p["amount"], p["provider"]) for p in payments] == [("failed", "42.82", "stripe")]
    reason = payments[0]["reason"]
    assert reason
    assert not _confirmations(running_system, invoice)
    page = requests.get(invoice["hosted_url"], timeout=120)
    assert 'id="pay-last-failure"' in page.text
    assert reason in page.text


def _pay_on_the_page(invoice: dict[str, Any], card_number: str, out_dir: Path) -> str:
    """The customer opens the invoice's page, chooses the card, types its number and pays: what the page
    then says (German: the sample customer's locale)."""
    texts = messages_for("de")
    with BrowserPage(out_dir) as page:
        page.open(invoice["hosted_url"])
        page.evaluate("document.querySelector('button[data-method=\"card\"]').click()")
        # A browser cannot be settled: eventually()'s default bound is for a hung test, not a speed guess.
        eventually(lambda: page.evaluate("!!document.getElementById('localstripe-card-number')"))
        page.evaluate(
            f"document.getElementById('localstripe-card-number').value = {json.dumps(card_number)};"
            "document.getElementById('pay-submit').click()"
        )
        return str(
            eventually(
                lambda: (shown := page.text("#pay-message")) not in ("", texts["pay_processing"]) and shown
            )
        )


def test_a_customer_pays_by_card_on_the_invoice_page(running_system: RunningSystem, tmp_path: Path) -> None:
    invoice = _invoice(running_system)

    said = _pay_on_the_page(invoice, "4242424242424242", tmp_path)
    running_system.settle()

    assert said == messages_for("de")["pay_succeeded"]
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_due"]) == ("paid", "0.00")
    assert len(_confirmations(running_system, invoice)) == 1


def test_a_declined_card_on_the_invoice_page_says_why_and_pays_nothing(
    running_system: RunningSystem, tmp_path: Path
) -> None:
    invoice = _invoice(running_system)

    said = _pay_on_the_page(invoice, "4000000000000341", tmp_path)
    running_system.settle()

    assert said == messages_for("de")["pay_failed"].format(reason="Your card was declined.")
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_due"]) == ("open", "42.82")
    assert not _confirmations(running_system, invoice)
