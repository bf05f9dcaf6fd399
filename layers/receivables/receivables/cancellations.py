"""The void's document: a Stornorechnung that cancels the whole invoice with every amount negated.

A void never edits or deletes the issued invoice (GoBD, § 14 (4) UStG); it issues a document of its own, which
names the cancelled invoice's number and date (§ 31 (5) UStDV). That document is a credit note of kind
"cancellation": same number range, same item shape, same pipeline (the stream renders it to PDF, stores it in
S3 and emails it once; the hosted page lists it and `GET /i/{token}/credit-notes/{id}/pdf` serves it). Its id
is derived from the invoice's, so an invoice has at most one, and it is written in the void's own transaction
(docs/decisions/0029-document-titles-and-reminder-letters.md).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.credit_notes import (
    CANCELLATION,
    CREDIT_NOTE_ENTITY,
    credit_note_key,
    format_credit_note_number,
)

_IDS = uuid.UUID("6d3c1f0e-9a57-4b2e-8c41-5e7a0b9d2f63")


def cancellation_id_for(invoice_id: str) -> str:
    """One cancellation per invoice: a second void finds the same id taken (and the invoice already void)."""
    return f"cn_{uuid.uuid5(_IDS, invoice_id).hex}"


def cancellation_record(
    invoice: dict[str, Any],
    year_sequence: tuple[int, int],
    issue_date: date,
    reason: str | None,
    actor: str,
    now: str,
) -> dict[str, Any]:
    """The Stornorechnung's item: the invoice's lines and totals negated, to the buyer as invoiced."""
    year, sequence = year_sequence
    number = format_credit_note_number(year, sequence)
    note_id = cancellation_id_for(invoice["id"])
    totals = invoice["totals"]

    def negated(value: Any) -> Decimal:
        return -Decimal(value)

    return credit_note_key(note_id) | {
        "entity": CREDIT_NOTE_ENTITY,
        "kind": CANCELLATION,
        "id": note_id,
        "number": number,
        "seller_id": invoice["seller_id"],
        "storefront_id": invoice["storefront_id"],
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "invoice_issue_date": invoice["issue_date"],
        "order_id": invoice.get("order_id"),
        "external_id": invoice.get("external_id"),
        "customer_id": invoice["customer_id"],
        "customer": invoice["customer"],
        "currency": invoice["currency"],
        "lines": [
            {
                "sku": line.get("sku", ""),
                "description": line["description"],
                "quantity": Decimal(line["quantity"]),
                "unit_price": negated(line["unit_price"]),
                "discount_percent": Decimal(line.get("discount_percent", 0)),
                "tax_rate": Decimal(line["tax_rate"]),
                "net": negated(line["net"]),
            }
            for line in invoice["lines"]
        ],
        "totals": {
            "net": negated(totals["net"]),
            "tax": negated(totals["tax"]),
            "gross": negated(totals["gross"]),
            "tax_breakdown": [
                {"rate": Decimal(t["rate"]), "net": negated(t["net"]), "tax": negated(t["tax"])}
                for t in totals["tax_breakdown"]
            ],
        },
        "gross": negated(totals["gross"]),
        "reason": reason or "",
        "form": "cancellation",
        "credited_to_customer": Decimal(0),
        "invoice_account_amount_due": Decimal(0),
        "issue_date": issue_date.isoformat(),
        "supply_date": invoice["supply_date"],
        "created_at": now,
        "created_by": actor,
        "version": 1,
        "gsi1pk": f"CREDITNOTES#{invoice['id']}",
        "gsi1sk": number,
        "gsi3pk": f"CUSTOMER#{invoice['customer_id']}",
        "gsi3sk": f"CREDITNOTE#{issue_date.isoformat()}#{note_id}",
    }
