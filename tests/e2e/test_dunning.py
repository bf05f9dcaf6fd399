"""Reminders and escalation through the local runtime, on its simulated clock.

Every test places its own order at the runtime's current (simulated) time and moves the clock forward;
other tests' invoices are dunned too, so each test looks only at its own invoice's emails.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.long_module]

POLICY_REMINDERS = [
    "Freundliche Erinnerung",  # courtesy, 3 days before due
    "Zahlungserinnerung",  # +1
    "Zahlungserinnerung",  # +7
    "Letzte Mahnung",  # +14
]
FINAL_NOTICE = "Letzte Aufforderung und Angebot einer Ratenzahlung"


def _invoice(system: RunningSystem, external_id: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    order = system.post_order(body, key=external_id).json()
    return system.invoice_of(order["id"])


def _dunning_subjects(system: RunningSystem, invoice: dict[str, Any]) -> list[str]:
    """Subjects of the emails about this invoice after the invoice email itself, in order sent."""
    subjects = [e["subject"] for e in system.emails() if invoice["number"] in e["subject"]]
    return [
        FINAL_NOTICE
        if FINAL_NOTICE in s
        else s.split(":")[0]
        if ":" in s
        else s.replace(f" {invoice['number']}", "")
        for s in subjects[1:]
    ]


def _days(system: RunningSystem, days: int, one_by_one: bool = True) -> None:
    for _ in range(days if one_by_one else 1):
        system.advance_days(1 if one_by_one else days)


def test_a_customer_who_never_pays_gets_the_policy_then_one_escalation_then_collections(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "DUN-NEVER")

    _days(running_system, 60)

    assert _dunning_subjects(running_system, invoice) == [*POLICY_REMINDERS, FINAL_NOTICE]
    after = running_system.get_json(f"/invoices/{invoice['id']}")
    assert after["in_collections"] is True
    assert after["reminders_sent"] == 4
    escalation = running_system.get_json(f"/invoices/{invoice['id']}/escalation")
    assert escalation["state"] == "collections"
    entered = [h["state"] for h in escalation["history"]]
    assert entered[:6] == [
        "Check the invoice",
        "Still owed?",
        "Create a collections task",
        "Notify the team",
        "Offer a payment plan",
        "Hand over to collections",
    ]
    tasks = running_system.get_json("/tasks", status="open", limit="200")["items"]
    kinds = sorted(t["kind"] for t in tasks if t["invoice_id"] == invoice["id"])
    assert kinds == ["collections", "collections_handover", "follow_up"]
    events = requests.get(running_system.url("/_local/events"), timeout=120).json()
    ours = [e["detail-type"] for e in events if e["detail"]["data"].get("invoice_id") == invoice["id"]]
    assert ours.count("invoice.escalated") == 1
    assert ours.count("invoice.sent_to_collections") == 1


def test_sixty_days_in_one_step_send_the_same_emails(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "DUN-JUMP")

    _days(running_system, 60, one_by_one=False)

    assert _dunning_subjects(running_system, invoice) == [*POLICY_REMINDERS, FINAL_NOTICE]


def test_a_payment_eight_days_after_due_stops_the_reminders_and_confirms(
    running_system: RunningSystem,
) -> None:
    invoice = _invoice(running_system, "DUN-PAID")  # due 14 days after issue

    _days(running_system, 22)  # courtesy (due −3), +1 and +7 have gone out
    running_system.pay_by_bank(invoice, "bank-dun-paid", invoice["total"])
    _days(running_system, 40)

    subjects = _dunning_subjects(running_system, invoice)
    assert subjects == [*POLICY_REMINDERS[:3], "Zahlungsbestätigung für Rechnung"]
    assert running_system.get_json(f"/invoices/{invoice['id']}/escalation")["state"] == "none"


def test_a_payment_during_the_escalation_ends_it(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "DUN-LATE-PAY")
    _days(running_system, 36)  # escalation started at +21 (day 35): the plan offer is waiting

    running_system.pay_by_bank(invoice, "bank-dun-late", invoice["total"])
    running_system.settle()

    escalation = running_system.get_json(f"/invoices/{invoice['id']}/escalation")
    assert escalation["state"] == "stopped"
    assert escalation["execution_status"] == "ABORTED"
    _days(running_system, 30)
    assert running_system.get_json(f"/invoices/{invoice['id']}")["in_collections"] is False


def test_a_dispute_pauses_dunning_until_it_is_resolved(running_system: RunningSystem) -> None:
    invoice = _invoice(running_system, "DUN-DISPUTE")
    _days(running_system, 12)  # courtesy sent (due −3 = day 11)
    disputed = requests.post(
        f"{invoice['hosted_url']}/dispute", data={"reason": "Falsche Menge"}, timeout=120
    )
    assert disputed.status_code == 200

    _days(running_system, 20)
    paused = _dunning_subjects(running_system, invoice)
    resolved = requests.post(
        running_system.url(f"/invoices/{invoice['id']}/dispute/resolve"),
        json={"outcome": "rejected", "note": "Lieferschein geprüft"},
        headers={"x-api-key": running_system.api_key},
        timeout=120,
    )
    _days(running_system, 2)
    answered = _dunning_subjects(running_system, invoice)
    _days(running_system, 14)  # past the date to pay by that the answer gave (resolved + 14 days' terms)

    assert paused == ["Freundliche Erinnerung"]
    assert resolved.status_code == 200
    # the customer is told, with a date to pay by, and gets no reminder before that date (decisions/0034)
    assert answered == ["Freundliche Erinnerung", "Ihr Einwand zur Rechnung"]
    # then catch-up: the latest due step, not a burst of the missed ones. By then (due +29) that is the
    # escalation (+21): the final notice with the payment-plan offer
    assert _dunning_subjects(running_system, invoice) == [*answered, FINAL_NOTICE]
