"""Payments through the local runtime: signed provider webhooks applied once, confirmation, refunds."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import generic_signature_headers, load_event, stripe_signature

pytestmark = pytest.mark.e2e


def _invoice(system: RunningSystem, external_id: str, unit_price: str = "19.99") -> dict[str, Any]:
    body = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    body["lines"][0]["unit_price"] = unit_price
    order = system.post_order(body, key=external_id).json()
    return system.invoice_of(order["id"])


def _stripe_event(name: str, invoice: dict[str, Any], event_id: str, **object_fields: Any) -> bytes:
    event = copy.deepcopy(load_event(f"stripe/{name}.json"))
    event["id"] = event_id
    event["data"]["object"]["metadata"]["invoice_id"] = invoice["id"]
    event["data"]["object"].update(object_fields)
    return json.dumps(event).encode()


def _post_stripe(system: RunningSystem, body: bytes, signature: str | None = None) -> requests.Response:
    signature = signature or stripe_signature(body, at=system.now())
    headers = {"content-type": "application/json", "Stripe-Signature": signature}
    return requests.post(system.url("/webhooks/stripe"), data=body, headers=headers, timeout=120)


def _post_generic(
    system: RunningSystem, invoice: dict[str, Any], event_id: str, amount: str
) -> requests.Response:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "invoice_number": invoice["number"],
        "amount": amount,
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=system.now())
    return requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)


def _confirmations(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for e in system.emails() if invoice["number"] in e["subject"] and "Zahlungsbest" in e["subject"]
    ]


def test_a_signed_full_payment_marks_the_invoice_paid_confirms_once_and_closes_its_tasks(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "PAY-FULL")
    body = _stripe_event(
        "payment_intent.succeeded", invoice, "evt_full_1", id="pi_full_1", amount_received=4282
    )

    response = _post_stripe(running_system, body)

    assert response.status_code == 200, response.text
    running_system.settle()
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", "42.82", "0.00")
    assert len(_confirmations(running_system, invoice)) == 1
    tasks = running_system.get_json("/tasks", status="open", limit="200")["items"]
    assert not [t for t in tasks if t["invoice_id"] == invoice["id"]]
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert [(p["kind"], p["amount"], p["status"]) for p in payments] == [("payment", "42.82", "applied")]
    events = requests.get(running_system.url("/_local/events"), timeout=120).json()
    types = [e["detail-type"] for e in events if e["detail"]["data"].get("invoice_id") == invoice["id"]]
    assert types.count("payment.received") == 1
    assert types.count("invoice.paid") == 1


def test_two_partial_payments_pay_the_invoice_and_the_first_leaves_the_rest_due(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "PAY-PARTIAL")

    first = _post_generic(running_system, invoice, "bank-partial-1", "20.00")
    after_first = running_system.get_json(f"/invoices/{invoice['id']}")
    second = _post_generic(running_system, invoice, "bank-partial-2", "22.82")
    running_system.settle()

    assert (first.status_code, second.status_code) == (200, 200)
    assert (after_first["status"], after_first["amount_due"]) == ("partially_paid", "22.82")
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", "42.82", "0.00")
    assert len(_confirmations(running_system, invoice)) == 1


def test_one_event_delivered_ten_times_at_once_is_one_payment(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "PAY-REPLAY")
    body = _stripe_event(
        "payment_intent.succeeded", invoice, "evt_replay", id="pi_replay", amount_received=1000
    )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: _post_stripe(running_system, body), range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["result"] for r in responses) == ["applied"] + ["duplicate"] * 9
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert len(payments) == 1
    assert running_system.get_json(f"/invoices/{invoice['id']}")["amount_paid"] == "10.00"


def test_fifty_concurrent_partial_payments_add_up_exactly(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "PAY-FIFTY", unit_price="1000.00")  # 2 x 1000 -10 % +19 % = 2142.00
    amounts = [f"{n}.{n:02d}" for n in range(1, 51)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(
            pool.map(
                lambda pair: _post_generic(running_system, invoice, f"bank-fifty-{pair[0]}", pair[1]),
                enumerate(amounts),
            )
        )

    assert [r.status_code for r in responses] == [200] * 50
    total = sum((Decimal(a) for a in amounts), Decimal(0))
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert after["amount_paid"] == str(total)
    assert Decimal(after["amount_due"]) == Decimal(after["total"]) - total
    assert after["status"] == "partially_paid"


@pytest.mark.parametrize(
    "tamper",
    ["forged", "body-changed", "stale", "missing-header"],
)
def test_a_bad_signature_is_a_400_and_records_nothing(running_system: RunningSystem, tamper: str) -> None:
    invoice = _invoice(running_system, f"PAY-SIG-{tamper}")
    body = _stripe_event("payment_intent.succeeded", invoice, f"evt_sig_{tamper}", id=f"pi_sig_{tamper}")
    signature = {
        "forged": stripe_signature(body, "whsec_attacker", at=running_system.now()),
        "body-changed": stripe_signature(body.replace(b"4282", b"1"), at=running_system.now()),
        "stale": stripe_signature(body, at=running_system.now() - 301),
        "missing-header": "",
    }[tamper]
    headers = {"content-type": "application/json"} | ({"Stripe-Signature": signature} if signature else {})

    response = requests.post(running_system.url("/webhooks/stripe"), data=body, headers=headers, timeout=120)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "Stripe-Signature"
    assert running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"] == []
    assert running_system.get_json(f"/invoices/{invoice['id']}")["status"] == "open"


def test_malformed_json_with_a_valid_signature_is_a_400_problem(running_system: RunningSystem) -> None:
    body = b'{"id": "evt_broken", "type": "payment_intent.succeeded", "data": '

    response = _post_stripe(running_system, body)
    again = _post_stripe(running_system, b'{"id": "evt_half", "type": "payment_intent.succeeded"}')

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "not valid JSON"}]
    assert again.status_code == 400
    assert {e["field"] for e in again.json()["errors"]} == {"created", "data"}


def test_a_refund_reopens_the_amount_and_an_overpayment_becomes_customer_credit(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "PAY-REFUND")
    pay = _stripe_event("payment_intent.succeeded", invoice, "evt_over", id="pi_over", amount_received=5000)
    refund = json.loads(_stripe_event("charge.refunded", invoice, "evt_refund_1", payment_intent="pi_over"))
    refund["data"]["object"]["amount_refunded"] = 1000  # cumulative: 10.00 of the 50.00 charge

    assert _post_stripe(running_system, pay).status_code == 200
    overpaid = running_system.get_json(f"/invoices/{invoice['id']}")
    customer = running_system.get_json(f"/customers/{invoice['customer_id']}")
    assert _post_stripe(running_system, json.dumps(refund).encode()).status_code == 200
    assert _post_stripe(running_system, json.dumps(refund).encode()).json()["result"] == "duplicate"

    assert (overpaid["status"], overpaid["amount_due"]) == ("paid", "0.00")
    assert Decimal(customer["credit_balance"]["EUR"]) >= Decimal("7.18")
    refunded = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (refunded["status"], refunded["amount_paid"], refunded["amount_due"]) == (
        "partially_paid",
        "32.82",
        "10.00",
    )
    kinds = [p["kind"] for p in running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]]
    assert kinds == ["payment", "refund"]


def test_a_payment_in_another_currency_is_kept_unapplied_for_a_person(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "PAY-USD")
    body = _stripe_event("payment_intent.succeeded", invoice, "evt_usd", id="pi_usd", currency="usd")

    response = _post_stripe(running_system, body)

    assert response.json()["result"] == "unapplied"
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_due"]) == ("open", "42.82")
    payments = running_system.get_json(f"/invoices/{invoice['id']}/payments")["items"]
    assert [(p["status"], p["currency"]) for p in payments] == [("unapplied", "USD")]
    tasks = running_system.get_json("/tasks", status="open", limit="200")["items"]
    assert any(t["kind"] == "unapplied_payment" and t["invoice_id"] == invoice["id"] for t in tasks)


def test_a_chargeback_flags_the_invoice_and_a_lost_one_takes_the_money_back(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "PAY-CHARGEBACK")
    pay = _stripe_event("payment_intent.succeeded", invoice, "evt_cb_pay", id="pi_cb", amount_received=4282)
    opened = json.loads(
        _stripe_event("charge.dispute.created", invoice, "evt_cb_open", payment_intent="pi_cb")
    )
    closed = json.loads(
        _stripe_event("charge.dispute.closed", invoice, "evt_cb_lost", payment_intent="pi_cb")
    )

    assert _post_stripe(running_system, pay).json()["result"] == "applied"
    assert _post_stripe(running_system, json.dumps(opened).encode()).json()["result"] == "applied"
    disputed = running_system.get_json(f"/invoices/{invoice['id']}")
    lost_response = _post_stripe(running_system, json.dumps(closed).encode())
    assert lost_response.json()["result"] == "applied", lost_response.text

    assert disputed["disputed"] is True
    lost = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (lost["disputed"], lost["status"], lost["amount_due"]) == (False, "open", "42.82")
