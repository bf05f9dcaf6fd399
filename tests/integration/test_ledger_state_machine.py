"""Random sequences of what happens to an invoice - payments, refunds, credit notes, voids, disputes and
their resolution, time passing (reminders with fees and interest, the escalation, a payment plan offered and
accepted, collections, the write-off) and money after a write-off - in JPY, EUR and BHD, through the real
handlers on the emulated account; after every step the ledger's invariants hold (issue #12,
docs/decisions/0023-invoice-ledger.md).

Bounded in `make test`; `make soak` runs it at length (LEDGER_SOAK_EXAMPLES, LEDGER_SOAK_STEPS).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from receivables import clock
from receivables.items import from_item
from receivables.report_reads import aging_report, journal_entries
from tests.integration.faults_support import invoke, item, table
from tests.support import generic_signature_headers, load_event

pytestmark = pytest.mark.long_module

EXAMPLES = int(os.environ.get("LEDGER_SOAK_EXAMPLES", "3"))
STEPS = int(os.environ.get("LEDGER_SOAK_STEPS", "6"))
# Time passing runs every daily schedule for every invoice so far: jumps to the write-off (75 days) are
# the soak's; `make test` stays within the reminders, escalation and plan offer.
DAYS_PASSING = [1, 8, 30, 75] if os.environ.get("LEDGER_SOAK_EXAMPLES") else [1, 8, 30]
# currency → (unit price, minor unit)
CURRENCIES = {
    "EUR": ("19.99", Decimal("0.01")),
    "JPY": ("1999", Decimal(1)),
    "BHD": ("19.995", Decimal("0.001")),
}
_serial = itertools.count()
# Reminders of the customers this test creates charge a fee and state interest, so that paying, refunding
# and crediting meet open fees (§ 367 (1) BGB); the escalation and write-off follow the default policy.
FEE_STEPS = {
    "steps": [
        {"name": "reminder_1", "offset_days": 1, "template": "reminder", "late_fee_fixed": "2.5"},
        {
            "name": "reminder_2",
            "offset_days": 7,
            "template": "reminder",
            "late_fee_percent": "3",
            "interest": True,
        },
        {"name": "reminder_3", "offset_days": 14, "template": "final_reminder", "late_fee_fixed": "5"},
    ]
}


def _order_event(external_id: str, currency: str, quantity: int, discount: str) -> dict[str, Any]:
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = external_id
    body["currency"] = currency
    body["customer"]["email"] = f"{external_id.lower()}@example.org"  # one customer per example
    body["lines"] = [
        body["lines"][0]
        | {"unit_price": CURRENCIES[currency][0], "quantity": str(quantity), "discount_percent": discount}
    ]
    event["body"] = json.dumps(body)
    event["headers"]["idempotency-key"] = external_id
    event["headers"].pop("content-length", None)
    return dict(event)


def _generic_event(system: Any, body: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("payment_webhooks/stripe_payment_intent_succeeded.json"))
    raw = json.dumps(body)
    signed = generic_signature_headers(raw.encode(), at=int(system.clock.now().timestamp()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/webhooks/generic"
    event["routeKey"] = event["requestContext"]["routeKey"] = "POST /webhooks/generic"
    event["headers"] = {"content-type": "application/json"} | {k.lower(): v for k, v in signed.items()}
    event["body"] = raw
    return dict(event)


def _http_event(
    method: str, path: str, route: str, body: str, content_type: str, **params: str
) -> dict[str, Any]:
    """Another API Gateway request in the shape of the recorded sample (scopes `orders finance`)."""
    event = copy.deepcopy(load_event("accounting_api/update_customer.json"))
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = params
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "if-match"} | {
        "content-type": content_type
    }
    event["body"] = body
    return dict(event)


class InvoiceLedger(RuleBasedStateMachine):
    system: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.serial = next(_serial)
        self.invoice_id = ""
        self.currency = "EUR"

    # ------------------------------------------------------------------------------------------ helpers
    def _invoice(self) -> dict[str, Any]:
        found = item(self.system, f"INVOICE#{self.invoice_id}", "INVOICE")
        assert found is not None
        return found

    @staticmethod
    def _account_amount_due(invoice: dict[str, Any]) -> Decimal:
        fees_open = Decimal(invoice.get("late_fees", 0)) - Decimal(invoice.get("fees_paid", 0))
        return Decimal(invoice["amount_due"]) + fees_open

    def _amount(self, base: Decimal, percent: int) -> str:
        unit = CURRENCIES[self.currency][1]
        value = max((base * percent / 100).quantize(unit), unit)
        return format(value, "f")

    def _webhook(self, kind: str, amount: str) -> None:
        invoice = self._invoice()
        body = {
            "id": f"evt_ledger_sm_{self.serial}_{next(_serial)}",
            "type": kind,
            "invoice_id": invoice["id"],
            "amount": amount,
            "currency": self.currency,
            "method": "bank_transfer",
            "occurred_at": clock.iso(self.system.clock.now()),
        }
        response = invoke(self.system, "PaymentWebhooksFunction", _generic_event(self.system, body))
        assert response["statusCode"] == 200, response["body"]
        assert self.system.settle()

    # ------------------------------------------------------------------------------------------- rules
    @initialize(
        currency=st.sampled_from(sorted(CURRENCIES)),
        quantity=st.integers(min_value=1, max_value=3),
        discount=st.sampled_from(["0", "10", "100"]),
        fees=st.booleans(),
    )
    def issue(self, currency: str, quantity: int, discount: str, fees: bool) -> None:
        self.currency = currency
        external_id = f"LEDGER-SM-{os.getpid()}-{self.serial}"
        response = invoke(
            self.system, "OrdersApiFunction", _order_event(external_id, currency, quantity, discount)
        )
        assert response["statusCode"] == 201, response["body"]
        assert self.system.settle()
        order = item(self.system, f"ORDER#{json.loads(response['body'])['id']}", "ORDER")
        assert order is not None
        assert order.get("invoice_id")
        self.invoice_id = str(order["invoice_id"])
        if fees:
            customer_id = str(order["customer_id"])
            patch = _http_event(
                "PATCH",
                f"/customers/{customer_id}",
                "/customers/{customer_id}",
                json.dumps({"dunning_overrides": FEE_STEPS}),
                "application/json",
                customer_id=customer_id,
            )
            response = invoke(self.system, "AccountingApiFunction", patch)
            assert response["statusCode"] == 200, response["body"]

    @rule(percent=st.integers(min_value=1, max_value=150))
    def pay(self, percent: int) -> None:
        invoice = self._invoice()
        base = self._account_amount_due(invoice) or Decimal(invoice["total"]) or Decimal(1)
        self._webhook("payment.succeeded", self._amount(base, percent))

    @precondition(lambda self: self.invoice_id and Decimal(self._invoice()["amount_paid"]) > 0)
    @rule(percent=st.integers(min_value=1, max_value=120))
    def refund(self, percent: int) -> None:
        invoice = self._invoice()
        net_paid = Decimal(invoice["amount_paid"]) - Decimal(invoice["amount_refunded"])
        self._webhook("payment.refunded", self._amount(max(net_paid, Decimal(1)), percent))

    @precondition(
        lambda self: (
            self.invoice_id
            and self._invoice()["status"] != "void"
            and Decimal(self._invoice()["total"]) - Decimal(self._invoice().get("amount_credited", 0)) > 0
        )
    )
    @rule(percent=st.integers(min_value=1, max_value=100))
    def credit(self, percent: int) -> None:
        invoice = self._invoice()
        creditable = Decimal(invoice["total"]) - Decimal(invoice.get("amount_credited", 0))
        event = load_event("accounting_api/create_credit_note.json")
        event["rawPath"] = event["requestContext"]["http"]["path"] = (
            f"/invoices/{self.invoice_id}/credit-notes"
        )
        event["pathParameters"] = {"invoice_id": self.invoice_id}
        event["headers"]["idempotency-key"] = f"ledger-sm-{self.serial}-{next(_serial)}"
        rate = format(invoice["totals"]["tax_breakdown"][0]["rate"].normalize(), "f")
        event["body"] = json.dumps(
            {"amount": self._amount(creditable, percent), "tax_rate": rate, "reason": "Test"}
        )
        response = invoke(self.system, "AccountingApiFunction", event)
        assert response["statusCode"] in (201, 409, 422), response["body"]
        assert self.system.settle()

    @precondition(lambda self: self.invoice_id and self._invoice()["status"] == "open")
    @rule()
    def void(self) -> None:
        event = load_event("accounting_api/void_invoice.json")
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{self.invoice_id}/void"
        event["pathParameters"] = {"invoice_id": self.invoice_id}
        response = invoke(self.system, "AccountingApiFunction", event)
        assert response["statusCode"] in (200, 409), response["body"]
        assert self.system.settle()

    @rule(days=st.sampled_from(DAYS_PASSING))
    def time_passes(self, days: int) -> None:
        """The daily reminder runs, the escalation and its waits, up to the write-off, run as scheduled."""
        self.system.advance(timedelta(days=days))
        assert self.system.settle()

    @precondition(lambda self: self.invoice_id and self._invoice()["status"] in ("open", "partially_paid"))
    @rule()
    def dispute(self) -> None:
        token = self._invoice()["hosted_token"]
        event = _http_event(
            "POST",
            f"/i/{token}/dispute",
            "/i/{token}/dispute",
            "reason=Not+delivered",
            "application/x-www-form-urlencoded",
            token=token,
        )
        response = invoke(self.system, "HostedInvoiceFunction", event)
        # 409: disputed already, or the dispute window has closed
        assert response["statusCode"] in (200, 409), response["body"]
        assert self.system.settle()

    @precondition(lambda self: self.invoice_id and self._invoice().get("disputed"))
    @rule(outcome=st.sampled_from(["upheld", "rejected"]))
    def resolve_dispute(self, outcome: str) -> None:
        event = _http_event(
            "POST",
            f"/invoices/{self.invoice_id}/dispute/resolve",
            "/invoices/{invoice_id}/dispute/resolve",
            json.dumps({"outcome": outcome, "note": "Checked"}),
            "application/json",
            invoice_id=self.invoice_id,
        )
        response = invoke(self.system, "InvoicesApiFunction", event)
        assert response["statusCode"] == 200, response["body"]
        assert self.system.settle()

    @precondition(
        lambda self: self.invoice_id and (self._invoice().get("escalation") or {}).get("offer_token")
    )
    @rule()
    def accept_payment_plan(self) -> None:
        token = self._invoice()["escalation"]["offer_token"]
        event = _http_event(
            "POST",
            f"/payment-plans/{token}/accept",
            "/payment-plans/{token}/accept",
            "",
            "text/plain",
            token=token,
        )
        response = invoke(self.system, "PaymentPlansFunction", event)
        # 409: accepted already, or the offer closed (paid meanwhile, escalation moved on)
        assert response["statusCode"] in (200, 409), response["body"]
        assert self.system.settle()

    # -------------------------------------------------------------------------------------- invariants
    @invariant()
    def the_amounts_add_up_and_the_status_follows_them(self) -> None:
        if not self.invoice_id:
            return
        invoice = self._invoice()
        total, due = Decimal(invoice["total"]), Decimal(invoice["amount_due"])
        paid, refunded = Decimal(invoice["amount_paid"]), Decimal(invoice["amount_refunded"])
        credited = Decimal(invoice.get("amount_credited", 0))
        fees = Decimal(invoice.get("late_fees", 0)) - Decimal(invoice.get("fees_paid", 0))
        if invoice["status"] != "void":
            # a credit note beyond what is due (the invoice was paid) is the customer's credit, checked below
            assert due == max(total - paid + refunded - credited, Decimal(0))
        expected = (
            "void"
            if invoice["status"] == "void"
            else "paid"
            if due == 0
            else "uncollectible"
            if invoice["status"] == "uncollectible"
            else "partially_paid"
            if due < total - credited
            else "open"
        )
        assert invoice["status"] == expected
        assert Decimal(0) <= Decimal(invoice.get("fees_paid", 0)) <= Decimal(invoice.get("late_fees", 0))
        assert self._account_amount_due(invoice) == due + fees >= 0
        if due + fees == 0:  # nothing to pay: nothing to dun
            assert invoice["status"] in ("paid", "void")
            assert "gsi2pk" not in invoice, invoice
            assert invoice.get("next_reminder_at") is None, invoice

    @invariant()
    def the_customers_credit_is_what_overpayments_brought_less_what_refunds_took(self) -> None:
        if not self.invoice_id:
            return
        invoice = self._invoice()
        credit = item(self.system, f"CUSTOMER#{invoice['customer_id']}", f"CREDIT#{self.currency}")
        balance = Decimal(credit["balance"]) if credit else Decimal(0)
        client = boto3.client("dynamodb")
        pages = client.get_paginator("query").paginate(
            TableName=table(self.system),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"INVOICE#{self.invoice_id}"}},
            ConsistentRead=True,
        )
        records = [from_item(i) for page in pages for i in page["Items"]]
        surplus = sum((Decimal(r["surplus"]) for r in records if r.get("entity") == "payment"), Decimal(0))
        taken = sum(
            (Decimal(r["amount"]) - Decimal(r["applied"]) for r in records if r.get("entity") == "refund"),
            Decimal(0),
        )
        notes = client.query(
            TableName=table(self.system),
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CREDITNOTES#{self.invoice_id}"}},
        )["Items"]
        to_customer = sum((Decimal(from_item(n).get("credited_to_customer", 0)) for n in notes), Decimal(0))
        assert balance == surplus - taken + to_customer

    @invariant()
    def the_receivables_account_equals_the_aging_total(self) -> None:
        name = table(self.system)
        today = self.system.clock.now().date()
        entries = journal_entries(name, date(2000, 1, 1), today)
        for entry in entries:
            assert entry.balance == 0, entry
        aging = {report.currency: report for report in aging_report(name, today)}
        for currency in CURRENCIES:
            receivable = sum(
                (
                    line.debit - line.credit
                    for e in entries
                    if e.currency == currency
                    for line in e.lines
                    if line.role == "receivable"
                ),
                Decimal(0),
            )
            total = aging[currency].amount if currency in aging else Decimal(0)
            assert receivable == total, (currency, receivable, total)


def test_random_sequences_keep_the_ledger_consistent(local_system: Any) -> None:
    InvoiceLedger.system = local_system
    runner = InvoiceLedger.TestCase
    runner.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("LEDGER_SOAK_EXAMPLES") is None,
    )
    runner().runTest()
