"""SES delivery feedback through the local runtime: SES's mailbox simulator addresses bounce, complain or
deliver; the configuration set's SNS topic reaches the email_feedback function as the template wires it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = pytest.mark.e2e


def _emailed_invoice(system: RunningSystem, external_id: str, email: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["customer"] = body["customer"] | {"email": email}
    order = system.post_order(body, key=external_id).json()
    system.settle()  # issued, rendered, emailed; SES reports on the email and the feedback is applied
    invoice = system.invoice_of(order["id"])
    return dict(system.get_json(f"/invoices/{invoice['id']}"))


def _tasks_of(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The invoice's open tasks, from every page (other tests leave many open tasks)."""
    tasks, token = [], None
    while True:
        paging = {"next_token": token} if token else {}
        page = system.get_json("/tasks", status="open", limit="100", **paging)
        tasks += [t for t in page["items"] if t["invoice_id"] == invoice["id"]]
        if not (token := page.get("next_token")):
            return tasks


def _emails_about(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in system.emails() if invoice["number"] in e["subject"]]


def test_a_bounced_invoice_email_is_marked_suppressed_and_handed_to_finance(
    running_system: RunningSystem,
) -> None:
    address = "bounce+e2e-feedback@simulator.amazonses.com"

    invoice = _emailed_invoice(running_system, "FEEDBACK-BOUNCE", address)

    assert invoice["email_status"] == "bounced"
    assert [e["to"] for e in _emails_about(running_system, invoice)] == [[address]]
    tasks = [t for t in _tasks_of(running_system, invoice) if t["kind"] == "email_bounced"]
    assert [t["title"] for t in tasks] == [f"Invoice {invoice['number']} could not be delivered to {address}"]
    assert tasks[0]["queue"] == "receivables-finance"

    # when: the invoice falls due and the reminders' days pass
    for _ in range(16):
        running_system.advance_days(1)

    # then: no reminder goes to the suppressed address, and the bounce still stands
    assert [e["to"] for e in _emails_about(running_system, invoice)] == [[address]]
    assert running_system.get_json(f"/invoices/{invoice['id']}")["email_status"] == "bounced"


def test_a_delivered_invoice_email_says_so(running_system: RunningSystem) -> None:
    invoice = _emailed_invoice(running_system, "FEEDBACK-SUCCESS", "success@simulator.amazonses.com")

    assert invoice["email_status"] == "delivered"
    assert not [t for t in _tasks_of(running_system, invoice) if t["kind"].startswith("email_")]


def test_a_complaint_outranks_the_delivery_before_it(running_system: RunningSystem) -> None:
    invoice = _emailed_invoice(running_system, "FEEDBACK-COMPLAINT", "complaint@simulator.amazonses.com")

    assert invoice["email_status"] == "complained"
    kinds = [t["kind"] for t in _tasks_of(running_system, invoice) if t["kind"].startswith("email_")]
    assert kinds == ["email_complaint"]
