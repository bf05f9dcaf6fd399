"""What the customer receives about money (issue #12, defects 3 and 7; docs/decisions/0023-invoice-ledger.md):
a receipt for every part payment, a confirmation naming what was received and the credit kept, each
credit note with its PDF and no thank-you for an invoice a credit note settled, and a hosted page whose
sums add up. Each test looks only at its own invoice and its own emails (the runtime is shared).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import chromium, generic_signature_headers, load_event, non_white_fraction

pytestmark = pytest.mark.e2e


def _invoice(system: RunningSystem, external_id: str, locale: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["customer"] = body["customer"] | {"locale": locale, "email": f"{external_id.lower()}@example.de"}
    response = system.post_order(body, key=external_id)
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])  # 42.82 EUR: 2 × 19.99 − 10 % + 19 % VAT


def _emails_to(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in system.emails() if invoice["customer"]["email"] in e["to"]]


def _generic(system: RunningSystem, invoice: dict[str, Any], event_id: str, kind: str, amount: str) -> str:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "type": kind,
        "invoice_number": invoice["number"],
        "amount": amount,
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=system.now())
    response = requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


def _credit_note(system: RunningSystem, invoice: dict[str, Any], amount: str, key: str) -> dict[str, Any]:
    response = requests.post(
        system.url(f"/invoices/{invoice['id']}/credit-notes"),
        json={"amount": amount, "reason": "Returned goods"},
        headers={"x-api-key": system.api_key, "Idempotency-Key": key},  # the local key has scope finance
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _table(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"')[1].split("</table>")[0]


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")  # Babel puts a no-break space before the euro sign


def test_a_part_payment_gets_a_receipt_and_an_overpayment_a_confirmation_with_the_credit(
    running_system: RunningSystem,
) -> None:
    # given an invoice of 42.82 EUR to a German customer
    invoice = _invoice(running_system, "DOCS-RECEIPT", "de")

    # when the customer pays 20.00 (the bank delivers it twice), then 30.00
    assert _generic(running_system, invoice, "bank-docs-receipt-1", "payment.succeeded", "20.00") == "applied"
    assert (
        _generic(running_system, invoice, "bank-docs-receipt-1", "payment.succeeded", "20.00") == "duplicate"
    )
    running_system.settle()
    after_first = len(_emails_to(running_system, invoice))
    assert _generic(running_system, invoice, "bank-docs-receipt-2", "payment.succeeded", "30.00") == "applied"
    running_system.settle()

    # then one receipt naming the 20.00 received and the 22.82 still due, then one confirmation
    # naming the 30.00 received and the 7.18 kept as credit
    emails = _emails_to(running_system, invoice)
    assert [e["subject"] for e in emails] == [
        emails[0]["subject"],  # the invoice
        f"Teilzahlung erhalten: Rechnung {invoice['number']}",
        f"Zahlungsbestätigung für Rechnung {invoice['number']}",
    ], [e["subject"] for e in emails]
    assert after_first == 2  # the invoice and one receipt, however often the bank delivered the payment
    receipt, confirmation = _plain(emails[1]["text"]), _plain(emails[2]["text"])
    assert "20,00 €" in receipt
    assert "Offen sind noch 22,82 €" in receipt
    assert "vollständig bezahlt" not in receipt
    assert "Erhalten: 30,00 €" in confirmation
    assert "Guthaben auf Ihrem Kundenkonto: 7,18 €" in confirmation
    assert running_system.get_json(f"/invoices/{invoice['id']}")["status"] == "paid"


def test_a_credit_note_is_emailed_with_its_pdf_and_the_page_adds_up(
    running_system: RunningSystem, tmp_path: Path
) -> None:
    # given an English customer's invoice of 42.82 EUR, 30.00 of it paid
    invoice = _invoice(running_system, "DOCS-CREDIT", "en")
    assert _generic(running_system, invoice, "bank-docs-credit-1", "payment.succeeded", "30.00") == "applied"
    running_system.settle()

    # when finance credits the remaining 12.82 (which settles the invoice)
    note = _credit_note(running_system, invoice, "12.82", "docs-credit-note-1")
    running_system.settle()

    # then the customer got the credit note with its PDF, and no thank-you for a payment nobody made
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["account_amount_due"]) == ("paid", "0.00")
    emails = _emails_to(running_system, invoice)
    assert [e["subject"] for e in emails] == [
        emails[0]["subject"],  # the invoice
        f"Part payment received: invoice {invoice['number']}",
        emails[2]["subject"],
    ], [e["subject"] for e in emails]
    assert emails[2]["subject"].startswith(
        f"Credit note {note['number']} for invoice {invoice['number']} from "
    )
    credit_email = emails[2]
    assert credit_email["attachments"][0]["filename"] == f"{note['number']}.pdf"
    assert credit_email["attachments"][0]["content_type"] == "application/pdf"
    assert f"Invoice {invoice['number']} is now settled" in credit_email["text"]

    # and after a refund of 5.00 the hosted page lists the credit note and the refund, and its sums add up
    assert _generic(running_system, invoice, "bank-docs-credit-2", "payment.refunded", "5.00") == "applied"
    running_system.settle()
    dom, screenshot = chromium(invoice["hosted_url"], tmp_path)
    page = re.sub(r"\s+", " ", _plain(dom))
    assert note["number"] in page
    for label, amount in (
        ("Invoice total", "€42.82"),
        ("Paid", "-€30.00"),
        ("Refunded", "+€5.00"),
        ("Credit notes", "-€12.82"),
        ("Still to pay", "€5.00"),
    ):
        assert re.search(
            rf"<th scope=\"row\">{re.escape(label)}</th> ?<td class=\"num\">{re.escape(amount)}</td>", page
        ), label
    assert non_white_fraction(screenshot) > 0.01
    link = re.search(r'href="([^"]+/credit-notes/[^"]+/pdf)"', dom)
    assert link
    pdf = requests.get(link.group(1).replace("&amp;", "&"), timeout=120)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    (tmp_path / "credit-note.pdf").write_bytes(pdf.content)
    rendered = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "credit-note.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert note["number"] in rendered
    assert invoice["number"] in rendered


def test_every_email_links_the_customer_page_listing_invoices_payments_credit_notes_and_subscriptions(
    running_system: RunningSystem,
) -> None:
    """Issue #14: `GET /c/{token}` (the token in every email) shows everything the customer has."""
    system = running_system
    first = _invoice(system, "PORTAL-1", "de")
    email = first["customer"]["email"]
    body = load_event("http/create_order_body.json") | {"external_id": "PORTAL-2"}
    body["customer"] = body["customer"] | {"locale": "de", "email": email}
    second = system.invoice_of(system.post_order(body, key="PORTAL-2").json()["id"])
    subscription_body = load_event("http/create_subscription_body.json") | {"external_id": "PORTAL-SUB"}
    subscription_body["customer"] = subscription_body["customer"] | {"locale": "de", "email": email}
    response = requests.post(
        system.url("/subscriptions"),
        json=subscription_body,
        headers={"x-api-key": system.api_key, "Idempotency-Key": "PORTAL-SUB"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    system.pay_by_bank(first, "evt_portal_1", "42.82")
    note = _credit_note(system, second, "10.00", "portal-credit")
    system.settle()

    emails = _emails_to(system, first)
    links = {re.search(r"https?://\S+/c/[\w-]+", e["text"]).group(0) for e in emails}  # type: ignore[union-attr]
    assert len(emails) >= 4  # two invoices, the receipt, the credit note
    assert len(links) >= 2  # each invoice's emails carry its own token
    subscription_invoice = system.get_json("/invoices", subscription_id=response.json()["id"])["items"][0]

    for link in links:  # any of the customer's links opens the same account
        page = requests.get(link, timeout=120)
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "no-store"
        text = _plain(page.text)
        assert "Ihr Kundenkonto" in text
        tables = {
            name: _table(text, name) for name in ("invoices", "payments", "credit-notes", "subscriptions")
        }
        for invoice in (first, second, subscription_invoice):
            assert invoice["number"] in tables["invoices"]
        assert first["number"] in tables["payments"]
        assert "42,82 €" in tables["payments"]  # the bank payment on the first invoice
        assert note["number"] in tables["credit-notes"]
        assert "10,00 €" in tables["credit-notes"]
        assert "1 × Pro plan" in tables["subscriptions"]
        assert "monatlich" in tables["subscriptions"]

    unknown = requests.get(system.url("/c/not-a-real-token-at-all-000000000"), timeout=120)
    assert unknown.status_code == 404
