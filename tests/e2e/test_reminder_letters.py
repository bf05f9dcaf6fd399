"""A reminder that charges a fee carries its letter (Mahnung) as a PDF, through the running system
(docs/decisions/0029-document-titles-and-reminder-letters.md). The test uses a customer of its own, since
it gives that customer a fee-charging reminder schedule, and looks only at its own invoice's emails."""

from __future__ import annotations

import email
import email.policy
import subprocess
from decimal import Decimal

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = [pytest.mark.e2e]


def test_a_reminder_that_charges_a_fee_carries_a_letter_naming_the_invoice_the_fee_and_the_new_total(
    running_system: RunningSystem,
) -> None:
    # given an unpaid invoice due at once, of a customer whose first reminder (a day after due) charges 5.00
    body = load_event("http/create_order_body.json") | {"external_id": "LETTER-1", "payment_terms_days": 0}
    body["customer"] = body["customer"] | {"email": "letters.fee@example.org"}
    order = running_system.post_order(body, key="LETTER-1").json()
    invoice = running_system.invoice_of(order["id"])
    fee_step = {"name": "reminder_1", "offset_days": 1, "template": "reminder", "late_fee_fixed": "5.00"}
    patched = requests.patch(
        running_system.url(f"/customers/{order['customer_id']}"),
        json={"dunning_overrides": {"steps": [fee_step]}},
        headers={"x-api-key": running_system.api_key},
        timeout=120,
    )
    assert patched.status_code == 200, patched.text

    # when the clock passes that reminder's day and a 07:00 dunning run after it
    running_system.advance_days(2)

    # then the reminder email carries one letter, which names the invoice, the fee and the new total
    reminded = running_system.get_json(f"/invoices/{invoice['id']}")
    assert reminded["late_fees"] == "5.00"
    letter_name = f"Mahnung-{invoice['number']}-reminder_1.pdf"
    [reminder] = [
        e for e in running_system.emails() if any(a["filename"] == letter_name for a in e["attachments"])
    ]
    assert invoice["number"] in reminder["subject"]
    assert [a["content_type"] for a in reminder["attachments"]] == ["application/pdf"]
    # the runtime keeps every sent message as an .eml file in its outbox (`make run` says where)
    sent = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((running_system.state_dir / "outbox").glob("*.eml"))
    ]
    [pdf] = [
        part.get_payload(decode=True)
        for message in sent
        for part in message.iter_attachments()
        if part.get_filename() == letter_name
    ]
    shown = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    text = " ".join(shown.stdout.decode().replace("\xa0", " ").split())
    total = Decimal(invoice["total"])
    assert f"Mahnung {invoice['number']}" in text
    assert f"Offener Betrag der Rechnung {invoice['number']}" in text
    assert "Mahngebühr (pauschal 5,00 €) 5,00 €" in text
    assert f"Neuer Gesamtbetrag {total + 5:.2f} €".replace(".", ",") in text
    assert reminded["account_amount_due"] == f"{total + 5:.2f}"
