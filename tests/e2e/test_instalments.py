"""Payment plans after acceptance through the running system (issue #12, defect 2;
docs/decisions/0023-invoice-ledger.md): each instalment reminded with its own figures, a missed instalment
ending the plan into collections, a plan paid in full ending settled.

The default policy escalates at due + 21 days (day 35 after issue); the final notice offers three instalments
due 7, 37 and 67 days later; an instalment may stay unpaid 7 days (the policy's `plan_grace_days`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from receivables.rendering.formatting import format_money
from tests.conftest import RunningSystem, start_runtime
from tests.support import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.long_module]

FINAL_NOTICE = "Letzte Aufforderung und Angebot einer Ratenzahlung"


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A runtime of this module's own: these tests move the clock by months."""
    yield from start_runtime(tmp_path_factory)


def _today(system: RunningSystem) -> date:
    return datetime.fromtimestamp(system.now(), UTC).date()


def _advance_to(system: RunningSystem, day: date) -> None:
    """Moves the simulated clock to `day` (past its morning dunning run), settling every moment on the way."""
    system.advance_days((day - _today(system)).days + 1)


def _subjects_about(system: RunningSystem, number: str) -> list[str]:
    return [e["subject"] for e in system.emails() if number in e["subject"]]


def _invoice_on_a_plan(
    system: RunningSystem, external_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An unpaid invoice driven to the final notice, whose plan the customer accepts by its link."""
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    invoice = system.invoice_of(system.post_order(body, key=external_id).json()["id"])
    system.advance_days(36)  # escalation at due + 21: the final notice with the plan offer is out
    notice = next(
        e for e in system.emails() if invoice["number"] in e["subject"] and FINAL_NOTICE in e["subject"]
    )
    plan_url = re.search(r"(http://\S+/payment-plans/[\w-]+)", notice["text"])
    assert plan_url
    assert requests.get(plan_url.group(1), timeout=120).status_code == 200  # the offer's page
    accepted = requests.post(f"{plan_url.group(1)}/accept", timeout=120)
    system.settle()
    assert accepted.status_code == 200, accepted.text
    escalation = system.get_json(f"/invoices/{invoice['id']}/escalation")
    assert (escalation["state"], escalation["payment_plan"]["state"]) == ("payment_plan", "active")
    instalments = escalation["payment_plan"]["instalments"]
    assert len(instalments) == 3
    assert sum(Decimal(i["amount"]) for i in instalments) == Decimal(invoice["total"])
    return invoice, instalments


def test_a_missed_instalment_ends_the_plan_and_hands_the_invoice_to_collections(
    running_system: RunningSystem,
) -> None:
    # given an accepted plan whose first instalment the customer pays by bank
    invoice, instalments = _invoice_on_a_plan(running_system, "PLAN-MISSED")
    first, second, third = instalments
    running_system.pay_by_bank(invoice, "bank-plan-missed-1", first["amount"])
    running_system.settle()  # its receipt has gone out
    plan_emails_before = len(_subjects_about(running_system, invoice["number"]))

    # when the second instalment falls due and stays unpaid
    second_due = date.fromisoformat(second["due_date"])
    _advance_to(running_system, date.fromordinal(second_due.toordinal() + 1))

    # then its due-soon notice and its reminder went out, each once, naming instalment 2 and its figures
    plan_emails = [
        e for e in running_system.emails() if invoice["number"] in e["subject"] and "Rate " in e["subject"]
    ]
    assert [e["subject"] for e in plan_emails] == [
        f"Rate 2 von 3 zu Rechnung {invoice['number']} wird am {second_due:%d.%m.%Y} fällig",
        f"Erinnerung: Rate 2 von 3 zu Rechnung {invoice['number']}",
    ]
    reminder = plan_emails[-1]["text"].replace("\xa0", " ")
    amount = format_money(Decimal(second["amount"]), invoice["currency"], "de").replace("\xa0", " ")
    paid = format_money(Decimal(first["amount"]), invoice["currency"], "de").replace("\xa0", " ")
    assert f"Rate 2 von 3: {amount}" in reminder
    assert f"Fällig am: {second_due:%d.%m.%Y}" in reminder
    assert f"Bisher auf den Ratenplan gezahlt: {paid}" in reminder
    assert len(_subjects_about(running_system, invoice["number"])) == plan_emails_before + 2

    # when its grace period of 7 days passes
    _advance_to(running_system, date.fromordinal(second_due.toordinal() + 8))

    # then the plan is defaulted and the escalation went on into collections
    escalation = running_system.get_json(f"/invoices/{invoice['id']}/escalation")
    assert (escalation["state"], escalation["payment_plan"]["state"]) == ("collections", "defaulted")
    assert escalation["execution_status"] == "RUNNING"  # waiting before the write-off
    entered = [h["state"] for h in escalation["history"]]
    assert entered[-4:] == [
        "Check the payment plan",
        "Plan kept?",
        "Hand over to collections",
        "Wait before writing off",
    ]
    assert running_system.get_json(f"/invoices/{invoice['id']}")["in_collections"] is True
    tasks = running_system.get_json("/tasks", status="open", limit="200")["items"]
    handover = [t for t in tasks if t["invoice_id"] == invoice["id"] and t["kind"] == "collections_handover"]
    assert len(handover) == 1
    history = running_system.get_json(f"/invoices/{invoice['id']}/history")["items"]
    assert any(h["cause"].startswith("payment plan defaulted: instalment 2 of 3") for h in history)
    events = requests.get(running_system.url("/_local/events"), timeout=120).json()
    ours = [e["detail"] for e in events if e["detail"]["data"].get("invoice_id") == invoice["id"]]
    defaulted = [e["data"] for e in ours if e["type"] == "invoice.payment_plan_defaulted"]
    assert [(d["instalment"], d["paid_on_plan"]) for d in defaulted] == [(2, first["amount"])]
    assert third["number"] == 3  # never reminded: the plan ended before its notice


def test_a_plan_paid_in_full_ends_settled_without_further_reminders(running_system: RunningSystem) -> None:
    # given an accepted plan, the first two instalments paid at once, early
    invoice, instalments = _invoice_on_a_plan(running_system, "PLAN-PAID")
    first, second, third = instalments
    early = Decimal(first["amount"]) + Decimal(second["amount"])
    running_system.pay_by_bank(invoice, "bank-plan-paid-1", str(early))

    # when the second instalment's due date passes, then the third is paid and its check comes
    second_due = date.fromisoformat(second["due_date"])
    _advance_to(running_system, date.fromordinal(second_due.toordinal() + 1))
    reminded_meanwhile = [s for s in _subjects_about(running_system, invoice["number"]) if "Rate " in s]
    running_system.pay_by_bank(invoice, "bank-plan-paid-2", third["amount"])
    _advance_to(running_system, date.fromordinal(date.fromisoformat(third["due_date"]).toordinal() + 8))

    # then the overpayment covered instalment 2 (no notice, no reminder), the invoice is paid and the
    # escalation ended settled
    assert reminded_meanwhile == []
    assert running_system.get_json(f"/invoices/{invoice['id']}")["status"] == "paid"
    escalation = running_system.get_json(f"/invoices/{invoice['id']}/escalation")
    assert (escalation["state"], escalation["payment_plan"]["state"]) == ("plan_paid", "paid")
    assert escalation["execution_status"] == "SUCCEEDED"
    assert escalation["history"][-1]["state"] == "Plan paid"
    after_notice = _subjects_about(running_system, invoice["number"])
    after_notice = after_notice[next(i for i, s in enumerate(after_notice) if FINAL_NOTICE in s) + 1 :]
    # only the receipt of the early part payment and the confirmation of the last one
    assert after_notice == [
        f"Teilzahlung erhalten: Rechnung {invoice['number']}",
        f"Zahlungsbestätigung für Rechnung {invoice['number']}",
    ]
