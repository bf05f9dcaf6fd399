"""Voids, credit notes, customer records and the audit trail through the local runtime's HTTP port."""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event, stripe_signature

pytestmark = pytest.mark.e2e


def _invoice(system: RunningSystem, external_id: str, email: str = "records@example.de") -> dict[str, Any]:
    body = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    body["customer"]["email"] = email
    response = system.post_order(body, key=f"records-{external_id}")
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])


def _call(
    system: RunningSystem, method: str, path: str, body: Any = None, **headers: str
) -> requests.Response:
    return requests.request(
        method, system.url(path), json=body, headers={"x-api-key": system.api_key} | headers, timeout=120
    )


def _credit(
    system: RunningSystem, invoice: dict[str, Any], key: str, body: dict[str, Any]
) -> requests.Response:
    return _call(system, "POST", f"/invoices/{invoice['id']}/credit-notes", body, **{"Idempotency-Key": key})


def _pay(system: RunningSystem, invoice: dict[str, Any], event_id: str, minor_units: int) -> None:
    event = load_event("stripe/payment_intent.succeeded.json")
    event["id"] = event_id
    event["data"]["object"] |= {"id": f"pi_{event_id}", "amount_received": minor_units}
    event["data"]["object"]["metadata"]["invoice_id"] = invoice["id"]
    raw = json.dumps(event).encode()
    headers = {"content-type": "application/json", "Stripe-Signature": stripe_signature(raw, at=system.now())}
    assert (
        requests.post(system.url("/webhooks/stripe"), data=raw, headers=headers, timeout=120).status_code
        == 200
    )


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_a_credit_note_gets_a_pdf_that_names_the_invoice_it_corrects(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "REC-PDF")

    created = _credit(running_system, invoice, "rec-pdf", {"amount": "11.90", "reason": "Ein Widget fehlte"})
    assert created.status_code == 201, created.text
    running_system.settle()
    listed = [
        n for n in running_system.get_json(f"/invoices/{invoice['id']}/credit-notes")["items"] if n["pdf_url"]
    ]
    assert listed, "the credit note has no PDF after the system settled"

    pdf = requests.get(listed[0]["pdf_url"], timeout=120)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert f"Rechnungskorrektur {created.json()['number']}" in text  # not "Gutschrift": § 14 (2) UStG
    assert f"Rechnungskorrektur zu Rechnung {invoice['number']} vom " in text
    assert "Ein Widget fehlte" in text
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (after["status"], after["amount_due"]) == ("open", "30.92")


def test_concurrent_credit_notes_get_distinct_numbers_and_a_retried_request_counts_once(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "REC-CONCURRENT")
    keys = [f"rec-concurrent-{n % 6}" for n in range(12)]  # six distinct requests, each sent twice

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda key: _credit(running_system, invoice, key, {"amount": "1.19", "reason": key}), keys
            )
        )

    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    notes = running_system.get_json(f"/invoices/{invoice['id']}/credit-notes")
    numbers = [n["number"] for n in notes["items"]]
    assert len(numbers) == len(set(numbers)) == 6
    assert notes["amount_credited"] == "7.14"
    assert running_system.get_json(f"/invoices/{invoice['id']}")["amount_due"] == str(
        Decimal("42.82") - Decimal("7.14")
    )


def test_a_void_is_refused_once_money_arrived_and_the_trail_tells_the_whole_story(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "REC-TRAIL")
    _pay(running_system, invoice, "evt_rec_trail", 1000)

    refused = _call(running_system, "POST", f"/invoices/{invoice['id']}/void", {"reason": "storno"})
    credited = _credit(running_system, invoice, "rec-trail", {"amount": "32.82", "reason": "Rest erlassen"})
    running_system.settle()

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert credited.status_code == 201
    history = running_system.get_json(f"/invoices/{invoice['id']}/history")["items"]
    assert [(h["actor"], h["cause"]) for h in history] == [
        ("system", "issued"),
        ("system", "PDF rendered"),
        ("system", "invoice emailed"),
        ("stripe", "payment_intent.succeeded evt_rec_trail"),
        ("local-storefront", f"credit note {credited.json()['number']} issued"),
    ]
    assert history[-1]["changes"]["status"] == {"old": "partially_paid", "new": "paid"}
    assert history[-1]["changes"]["amount_credited"] == {"old": "0.00", "new": "32.82"}


def test_a_voided_invoice_shows_in_its_trail_and_asks_for_nothing(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "REC-VOID")

    voided = _call(running_system, "POST", f"/invoices/{invoice['id']}/void", {"reason": "Doppelt bestellt"})
    twice = _call(running_system, "POST", f"/invoices/{invoice['id']}/void")
    running_system.settle()

    assert (voided.status_code, twice.status_code) == (200, 409)
    assert (voided.json()["status"], voided.json()["amount_due"]) == ("void", "0.00")
    last = running_system.get_json(f"/invoices/{invoice['id']}/history")["items"][-1]
    assert (last["actor"], last["cause"]) == ("local-storefront", "voided: Doppelt bestellt")


def test_a_customer_update_is_versioned_and_leaves_issued_invoices_alone(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "REC-CUSTOMER", email="records-customer@example.de")
    path = f"/customers/{invoice['customer_id']}"
    version = running_system.get_json(path)["version"]

    moved = _call(
        running_system,
        "PATCH",
        path,
        {
            "address": {"line1": "Am Hafen 3", "city": "Hamburg", "postal_code": "20457"},
            "phone": "+49 40 1234567",
        },
        **{"If-Match": f'"{version}"'},
    )
    stale = _call(running_system, "PATCH", path, {"name": "Zu spät GmbH"}, **{"If-Match": f'"{version}"'})

    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] == f'"{version + 1}"'
    assert stale.status_code == 412
    customer = running_system.get_json(path)
    assert (customer["address"]["city"], customer["phone"], customer["reminder_channel"]) == (
        "Hamburg",
        "+49401234567",
        "email",
    )
    assert running_system.get_json(f"/invoices/{invoice['id']}")["customer"]["address"]["city"] == "Berlin"
