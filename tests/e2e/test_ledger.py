"""The invoice ledger's defects through the running system (issue #12; docs/decisions/0023-invoice-ledger.md).

Each test places its own order at the runtime's current (simulated) time, settles or moves the clock, and
then looks only at its own invoice and its own emails (other tests share the runtime).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem, start_runtime
from tests.support import generic_signature_headers, load_event

pytestmark = [pytest.mark.e2e, pytest.mark.long_module]


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A runtime of this module's own: these tests move the clock by months (to a write-off), which must
    not move the clock of the runtime other modules' tests share on this worker."""
    yield from start_runtime(tmp_path_factory)


def _order(system: RunningSystem, external_id: str, **line: Any) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["lines"] = [body["lines"][0] | line]
    response = system.post_order(body, key=external_id)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _emails_about(system: RunningSystem, number: str) -> list[str]:
    return [e["subject"] for e in system.emails() if number in e["subject"] or number in e["text"]]


def test_an_invoice_with_nothing_to_pay_is_paid_at_issue_and_never_dunned(
    running_system: RunningSystem,
) -> None:
    # given an order with a 100 % discount
    order = _order(running_system, "LEDGER-ZERO-1", discount_percent="100")
    assert order["totals"]["gross"] == "0.00"
    invoice = running_system.invoice_of(order["id"])

    # when the invoice is issued and two months pass
    running_system.advance_days(60)

    # then it was paid at issue, is on no dunning schedule, and only the invoice itself was emailed
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (invoice["status"], invoice["amount_due"], invoice["account_amount_due"]) == (
        "paid",
        "0.00",
        "0.00",
    )
    assert (after["status"], after["next_reminder_at"], after["reminders_sent"]) == ("paid", None, 0)
    assert running_system.get_json(f"/invoices/{invoice['id']}/escalation")["state"] == "none"
    assert len(_emails_about(running_system, invoice["number"])) == 1


def test_invoices_are_listed_newest_first_in_full_pages_per_status(running_system: RunningSystem) -> None:
    # given three invoices with nothing to pay (so all three are `paid`), issued one after the other
    ids = []
    for n in range(3):
        ids.append(
            running_system.invoice_of(
                _order(running_system, f"LEDGER-LIST-{n}", discount_percent="100")["id"]
            )["id"]
        )
        running_system.advance_days(1)

    # when finance pages through the paid invoices two at a time
    pages, token = [], None
    while True:
        params = {"status": "paid", "limit": 2} | ({"next_token": token} if token else {})
        page = running_system.get_json("/invoices", **params)
        pages.append(page["items"])
        token = page.get("next_token")
        if not token:
            break

    # then every page but the last is full, all are paid, and the newest comes first
    assert len(pages) >= 2
    assert all(len(items) == 2 for items in pages[:-1])
    listed = [item for items in pages for item in items]
    assert {item["status"] for item in listed} == {"paid"}
    created = [item["created_at"] for item in listed]
    assert created == sorted(created, reverse=True)
    ours = [item["id"] for item in listed if item["id"] in ids]
    assert ours == list(reversed(ids))


def _patch_customer(system: RunningSystem, customer_id: str, body: dict[str, Any]) -> None:
    response = requests.patch(
        system.url(f"/customers/{customer_id}"), json=body, headers={"x-api-key": system.api_key}, timeout=120
    )
    assert response.status_code == 200, response.text


def test_paying_what_the_reminder_asks_settles_fee_and_invoice_fee_booked_as_income_without_vat(
    running_system: RunningSystem,
) -> None:
    # given an invoice whose customer's reminders charge a 5.00 fee, reminded after its due date
    order = _order(running_system, "LEDGER-FEE-1")
    invoice = running_system.invoice_of(order["id"])
    fee_step = {"name": "reminder_1", "offset_days": 1, "template": "reminder", "late_fee_fixed": "5.00"}
    _patch_customer(running_system, order["customer_id"], {"dunning_overrides": {"steps": [fee_step]}})
    running_system.advance_days(16)
    reminded = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (reminded["late_fees"], reminded["fees_paid"]) == ("5.00", "0.00")
    asked = Decimal(reminded["account_amount_due"])
    assert asked == Decimal(invoice["total"]) + 5

    # when the customer pays exactly what the reminder asked for
    running_system.pay_by_bank(invoice, "evt_ledger_fee_1", str(asked))
    running_system.settle()

    # then fee and invoice are settled, nothing became customer credit, and the fee is income without VAT
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_due"], paid["fees_paid"], paid["account_amount_due"]) == (
        "paid",
        "0.00",
        "5.00",
        "0.00",
    )
    customer = running_system.get_json(f"/customers/{order['customer_id']}")
    assert customer["credit_balance"].get("EUR", "0.00") == "0.00"
    payment = [r for r in _journal_rows(running_system, invoice) if r["description"].startswith("Payment ")]
    assert {(r["account"], r["credit"]) for r in payment if r["credit"]} == {
        ("2700", "5.00"),
        ("1400", invoice["total"]),
    }


def _refund(system: RunningSystem, invoice: dict[str, Any], event_id: str, amount: str) -> None:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "type": "payment.refunded",
        "invoice_number": invoice["number"],
        "amount": amount,
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=system.now())
    response = requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
    assert response.json()["result"] == "applied", response.text


def test_an_invoice_reopened_by_a_refund_is_dunned_again(running_system: RunningSystem) -> None:
    # given an invoice paid before its due date, which the dunning runs since have taken off their schedule
    invoice = running_system.invoice_of(_order(running_system, "LEDGER-REOPEN-1")["id"])
    running_system.pay_by_bank(invoice, "evt_ledger_reopen_pay", invoice["total"])
    running_system.advance_days(20)
    paid = running_system.get_json(f"/invoices/{invoice['id']}")
    assert (paid["status"], paid["next_reminder_at"]) == ("paid", None)

    # when part of the payment is refunded after the due date, and a day passes
    _refund(running_system, invoice, "evt_ledger_reopen_refund", "10.00")
    running_system.settle()
    reopened = running_system.get_json(f"/invoices/{invoice['id']}")
    running_system.advance_days(1)

    # then it is back on the dunning schedule and the customer is reminded of what is due again
    assert (reopened["status"], reopened["amount_due"]) == ("partially_paid", "10.00")
    assert reopened["next_reminder_at"] is not None
    reminded = running_system.get_json(f"/invoices/{invoice['id']}")
    assert reminded["reminders_sent"] >= 1
    assert any(
        "Zahlungserinnerung" in subject for subject in _emails_about(running_system, invoice["number"])
    )


def _customer_order(system: RunningSystem, external_id: str, line1: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["customer"] = body["customer"] | {"email": "erika.ledger6@example.org", "name": "Erika Ledger"}
    body["customer"]["address"] = body["customer"]["address"] | {"line1": line1}
    response = system.post_order(body, key=external_id)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_finance_edits_stick_until_the_storefront_changes_a_field_and_reminders_go_to_current_contacts(
    running_system: RunningSystem,
) -> None:
    # given a customer's first order, and finance correcting the billing email and the name
    first = _customer_order(running_system, "LEDGER-CUSTOMER-1", "Altstraße 1")
    invoice = running_system.invoice_of(first["id"])
    edits = {"email": "billing.ledger6@example.org", "name": "Erika Ledger (Buchhaltung)"}
    _patch_customer(running_system, first["customer_id"], edits)

    # when the storefront sends the same customer data again with the next order
    _customer_order(running_system, "LEDGER-CUSTOMER-2", "Altstraße 1")
    running_system.settle()
    after_same = running_system.get_json(f"/customers/{first['customer_id']}")

    # and the first invoice falls due and is reminded
    running_system.advance_days(16)
    reminders = [
        e
        for e in running_system.emails()
        if invoice["number"] in e["subject"] and "Zahlungserinnerung" in e["subject"]
    ]

    # and then the storefront sends a changed address
    _customer_order(running_system, "LEDGER-CUSTOMER-3", "Neustraße 2")
    running_system.settle()
    after_move = running_system.get_json(f"/customers/{first['customer_id']}")

    # then finance's edits stuck, the reminder went to the current address, the storefront's change
    # propagated, and the issued invoice still shows what it printed
    assert {k: after_same[k] for k in edits} == edits
    assert reminders
    assert reminders[0]["to"] == ["billing.ledger6@example.org"]
    assert {k: after_move[k] for k in edits} == edits
    assert after_move["address"]["line1"] == "Neustraße 2"
    printed = running_system.get_json(f"/invoices/{invoice['id']}")["customer"]
    assert (printed["email"], printed["address"]["line1"]) == ("erika.ledger6@example.org", "Altstraße 1")


def _journal_rows(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, str]]:
    today = requests.get(system.url("/_local/clock"), timeout=10).json()["now"][:10]
    journal = requests.get(
        system.url("/exports/journal"),
        params={"from": invoice["issue_date"], "to": today},
        headers={"x-api-key": system.api_key},
        timeout=120,
    ).text
    return [r for r in csv.DictReader(io.StringIO(journal)) if invoice["number"] in r["description"]]


def test_a_write_off_corrects_the_vat_and_money_after_it_is_a_recovery(running_system: RunningSystem) -> None:
    # given an invoice nobody pays, through reminders, the final notice and collections to the write-off
    invoice = running_system.invoice_of(_order(running_system, "LEDGER-WRITEOFF-1")["id"])
    total = Decimal(invoice["total"])
    vat = Decimal(invoice["tax"])
    running_system.advance_days(150)
    uncollectible = running_system.get_json(f"/invoices/{invoice['id']}")
    assert uncollectible["status"] == "uncollectible"
    written_off = [r for r in _journal_rows(running_system, invoice) if "written off" in r["description"]]
    # reminder fees the dunning charged on the way (how many steps fell due depends on the calendar)
    fees_due = Decimal(uncollectible["account_amount_due"]) - Decimal(uncollectible["amount_due"])

    # when the customer pays it after all, with the fees
    running_system.pay_by_bank(invoice, "evt_ledger_recovery_1", uncollectible["account_amount_due"])
    running_system.settle()
    recovered = [r for r in _journal_rows(running_system, invoice) if r["description"].startswith("Payment")]

    # then the write-off took the VAT back off the liability and booked only the net as loss (§ 17 (2) UStG),
    # and the late payment owes the VAT again and reverses the loss, without touching the receivable again
    assert {(r["account"], r["debit"]) for r in written_off if r["debit"]} == {
        ("1776", format(vat, "f")),
        ("2400", format(total - vat, "f")),
    }
    # (the fees first, § 367 (1) BGB: income without VAT)
    assert {(r["account"], r["credit"]) for r in recovered if r["credit"]} == {
        ("1776", format(vat, "f")),
        ("2400", format(total - vat, "f")),
    } | ({("2700", format(fees_due, "f"))} if fees_due else set())
    assert running_system.get_json(f"/invoices/{invoice['id']}")["status"] == "paid"
