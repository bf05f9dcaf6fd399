"""Voiding an invoice that nobody has paid: it stays (numbers are never reused), but asks for nothing.

Only an open, undisputed invoice without money on it can be voided; once money was applied the books
need a refund or a credit note instead, so that every amount stays traceable. The void is one
transaction: the invoice update conditioned on its `version` and status, and the `invoice.voided`
outbox event. See docs/decisions/0013-voids-credit-notes-history.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from receivables import aws, clock, money
from receivables.errors import Conflict
from receivables.invoices import get_invoice, invoice_key
from receivables.items import to_item
from receivables.outbox import new_event, outbox_put
from receivables.tasks import close_open_tasks_of_invoice

MAX_REASON_LENGTH = 500
_MAX_ATTEMPTS = 10


def check_voidable(invoice: dict[str, Any]) -> None:
    """Raises Conflict saying why this invoice cannot be voided."""
    number, status = invoice["number"], invoice["status"]
    if status == "void":
        raise Conflict(f"Invoice {number} is already void.")
    net_paid = Decimal(invoice.get("amount_paid", 0)) - Decimal(invoice.get("amount_refunded", 0))
    if net_paid != 0:
        raise Conflict(
            f"Invoice {number} has payments applied ({money.format_amount(net_paid, invoice['currency'])}): "
            "refund first or issue a credit note."
        )
    if status != "open":
        raise Conflict(f"Invoice {number} is {status}; only open invoices can be voided.")
    if invoice.get("disputed"):
        raise Conflict(f"Invoice {number} is disputed; resolve the dispute first.")


def void_invoice(table_name: str, invoice_id: str, reason: str | None, actor: str) -> dict[str, Any]:
    """Voids the invoice once; a second void (or any change that made it unvoidable) is a Conflict."""
    client = aws.client("dynamodb")
    for _ in range(_MAX_ATTEMPTS):
        invoice = get_invoice(table_name, invoice_id)
        check_voidable(invoice)
        now = clock.iso(clock.now())
        currency = invoice["currency"]
        event = new_event(
            "invoice.voided",
            {
                "invoice_id": invoice_id,
                "number": invoice["number"],
                "customer_id": invoice["customer_id"],
                "currency": currency,
                "amount_voided": money.format_amount(Decimal(invoice["amount_due"]), currency),
                "voided_at": now,
                "reason": reason,
                # Nothing was paid, so the void cancels the whole invoice: the books reverse each rate.
                "tax_breakdown": [
                    {
                        "rate": format(Decimal(t["rate"]).normalize(), "f"),
                        "net": money.format_amount(Decimal(t["net"]), currency),
                        "tax": money.format_amount(Decimal(t["tax"]), currency),
                    }
                    for t in invoice["totals"]["tax_breakdown"]
                ],
            },
        )
        values: dict[str, Any] = {
            ":void": "void",
            ":open": "open",
            ":false": False,
            ":now": now,
            ":zero": Decimal(0),
            ":by": actor,
            ":cause": f"voided: {reason}" if reason else "voided",
            ":version": invoice["version"],
            ":next": invoice["version"] + 1,
        }
        if reason:
            values[":reason"] = reason
        update = {
            "Update": {
                "TableName": table_name,
                "Key": to_item(invoice_key(invoice_id)),
                # A void invoice has no pending dunning action: it leaves the schedule's sparse index.
                "UpdateExpression": (
                    "SET #status = :void, voided_at = :now, voided_by = :by, amount_due = :zero, "
                    "updated_at = :now, changed_by = :by, change_cause = :cause, version = :next"
                    + (", void_reason = :reason" if reason else "")
                    + " REMOVE gsi2pk, gsi2sk, next_reminder_at"
                ),
                "ConditionExpression": "version = :version AND #status = :open AND disputed = :false",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item(values),
            }
        }
        try:
            client.transact_write_items(TransactItems=[update, outbox_put(table_name, event)])
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                continue  # it changed meanwhile: read it again, and say why if it is no longer voidable
            raise
        close_open_tasks_of_invoice(table_name, invoice_id, by=actor)
        return get_invoice(table_name, invoice_id)
    raise Conflict("The invoice kept changing while voiding it; reload and try again.")
