"""Unapplied money through the running system (issue #12, defect 9; docs/decisions/0023-invoice-ledger.md).

Finance sees money no invoice took (`GET /payments?status=unapplied`) and puts it on invoices
(`POST /payments/{id}/allocate`), once per Idempotency-Key. These tests do not move the clock: they share
the session's runtime and look only at their own orders, payments and customers.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
import requests

from receivables.tasks import task_id_for
from tests.conftest import RunningSystem
from tests.support import generic_signature_headers, load_event

pytestmark = pytest.mark.e2e


def _invoice(system: RunningSystem, external_id: str, email: str = "anna@example.de") -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["customer"] = body["customer"] | {"email": email}
    response = system.post_order(body, key=external_id)
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])


def _bank_payment_without_invoice(system: RunningSystem, event_id: str, amount: str) -> str:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "invoice_number": "NO-SUCH-INVOICE",
        "amount": amount,
        "payer": "Max Mustermann",
        "reference": "Rechnung Mai, danke",
    }
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"} | generic_signature_headers(raw, at=system.now())
    response = requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120)
    assert response.json()["result"] == "unapplied", response.text
    return f"generic:{event_id}"


def _unapplied(system: RunningSystem) -> dict[str, dict[str, Any]]:
    """Every page of the seller's unapplied money, by id."""
    found: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        page = system.get_json(
            "/payments", status="unapplied", limit=50, **({"next_token": token} if token else {})
        )
        found |= {item["id"]: item for item in page["items"]}
        token = page["next_token"]
        if not token:
            return found


def _completed_tasks(system: RunningSystem) -> set[str]:
    ids: set[str] = set()
    token = None
    while True:
        params = {"status": "completed", "limit": 200} | ({"next_token": token} if token else {})
        page = system.get_json("/tasks", **params)
        ids |= {task["id"] for task in page["items"]}
        token = page["next_token"]
        if not token:
            return ids


def _allocate(system: RunningSystem, money_id: str, key: str, *parts: tuple[str, str]) -> requests.Response:
    body = {"allocations": [{"invoice_id": invoice_id, "amount": amount} for invoice_id, amount in parts]}
    return requests.post(
        system.url(f"/payments/{money_id}/allocate"),
        json=body,
        headers={"x-api-key": system.api_key, "Idempotency-Key": key},
        timeout=120,
    )


def _fields(response: requests.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [error["field"] for error in response.json()["errors"]]


def test_a_bank_payment_for_no_invoice_is_listed_and_allocated_across_two_invoices_once(
    running_system: RunningSystem,
) -> None:
    run = uuid.uuid4().hex[:8]
    first = _invoice(running_system, f"UNAPPLIED-A-{run}")
    second = _invoice(running_system, f"UNAPPLIED-B-{run}")
    assert (first["account_amount_due"], second["account_amount_due"]) == ("42.82", "42.82")

    # given 60.00 from a bank that names no invoice of ours
    money_id = _bank_payment_without_invoice(running_system, f"evt_unapplied_{run}", "60.00")
    listed = _unapplied(running_system)[money_id]
    assert {k: listed[k] for k in ("amount", "currency", "payer", "reference", "source")} == {
        "amount": "60.00",
        "currency": "EUR",
        "payer": "Max Mustermann",
        "reference": "Rechnung Mai, danke",
        "source": "unapplied_payment",
    }
    assert listed["received_at"].endswith("Z")

    # when finance asks for more than one invoice is owed, and for more than the money holds
    assert _fields(_allocate(running_system, money_id, f"over-{run}", (first["id"], "42.83"))) == [
        "allocations[0].amount"
    ]
    too_much = _allocate(
        running_system, money_id, f"sum-{run}", (first["id"], "42.82"), (second["id"], "17.19")
    )
    assert _fields(too_much) == ["allocations[1].amount"]

    # and then allocates all of it across the two invoices
    key = f"allocate-{run}"
    allocated = _allocate(running_system, money_id, key, (first["id"], "42.82"), (second["id"], "17.18"))
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["amount"] == "0.00"

    # then both invoices moved, the money is off the list, and a replay applies nothing twice
    replayed = _allocate(running_system, money_id, key, (first["id"], "42.82"), (second["id"], "17.18"))
    assert (replayed.status_code, replayed.json()) == (200, allocated.json())
    reused = _allocate(running_system, money_id, key, (first["id"], "42.82"))
    assert reused.status_code == 409, reused.text
    running_system.settle()
    after_first = running_system.get_json(f"/invoices/{first['id']}")
    after_second = running_system.get_json(f"/invoices/{second['id']}")
    assert (after_first["status"], after_first["amount_paid"], after_first["account_amount_due"]) == (
        "paid",
        "42.82",
        "0.00",
    )
    assert (after_second["status"], after_second["amount_paid"], after_second["account_amount_due"]) == (
        "partially_paid",
        "17.18",
        "25.64",
    )
    assert money_id not in _unapplied(running_system)
    assert task_id_for("unapplied_payment", money_id) in _completed_tasks(running_system)
    # each customer hears what the allocation did: the paid invoice a confirmation, the other a receipt
    subjects = [e["subject"] for e in running_system.emails()]
    assert subjects.count(f"Zahlungsbestätigung für Rechnung {after_first['number']}") == 1
    assert subjects.count(f"Teilzahlung erhalten: Rechnung {after_second['number']}") == 1

    # and the journal books the 60.00 once, from the bank to the receivables, each document balanced
    journal = requests.get(
        running_system.url("/exports/journal"), headers={"x-api-key": running_system.api_key}, timeout=120
    )
    assert journal.status_code == 200, journal.text
    documents = {f"generic:{allocated.json()['allocation_id']}-{n}" for n in (0, 1)}
    rows = [row for row in csv.DictReader(io.StringIO(journal.text)) if row["document"] in documents]
    booked = {
        (row["account"], side): sum(Decimal(r[side] or 0) for r in rows if r["account"] == row["account"])
        for row in rows
        for side in ("debit", "credit")
    }
    assert booked[("1200", "debit")] == booked[("1400", "credit")] == Decimal("60.00")
    assert sum(Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in rows) == 0


def test_an_overpayments_customer_credit_is_allocated_to_the_customers_next_invoice(
    running_system: RunningSystem,
) -> None:
    run = uuid.uuid4().hex[:8]
    email = f"credit-{run}@example.de"
    overpaid = _invoice(running_system, f"CREDIT-A-{run}", email)
    running_system.pay_by_bank(overpaid, f"evt_overpaid_{run}", "50.00")  # 7.18 more than owed
    running_system.settle()
    customer_id = overpaid["customer_id"]
    assert running_system.get_json(f"/customers/{customer_id}")["credit_balance"] == {"EUR": "7.18"}
    next_invoice = _invoice(running_system, f"CREDIT-B-{run}", email)

    # given the credit on finance's list of unapplied money
    money_id = f"credit-{customer_id}-EUR"
    listed = _unapplied(running_system)[money_id]
    assert (listed["amount"], listed["source"], listed["customer_id"]) == (
        "7.18",
        "customer_credit",
        customer_id,
    )

    # when finance puts it on the customer's next invoice
    allocated = _allocate(running_system, money_id, f"credit-{run}", (next_invoice["id"], "7.18"))
    assert allocated.status_code == 200, allocated.text
    running_system.settle()

    # then the invoice took it, the credit is spent and no longer listed, and none is left to allocate again
    after = running_system.get_json(f"/invoices/{next_invoice['id']}")
    assert (after["status"], after["amount_paid"], after["account_amount_due"]) == (
        "partially_paid",
        "7.18",
        "35.64",
    )
    assert running_system.get_json(f"/customers/{customer_id}")["credit_balance"] == {"EUR": "0.00"}
    assert money_id not in _unapplied(running_system)
    # (the customer is told the credit was set against the invoice, not thanked for a new payment)
    told = [
        e
        for e in running_system.emails()
        if e["subject"] == f"Guthaben verrechnet: Rechnung {after['number']}"
    ]
    assert len(told) == 1
    assert "7,18" in told[0]["text"]
    again = _allocate(running_system, money_id, f"credit-again-{run}", (next_invoice["id"], "0.01"))
    assert _fields(again) == ["allocations[0].amount"]
