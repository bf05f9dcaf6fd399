"""Credit notes (Gutschrift / Rechnungskorrektur): partial corrections of an issued invoice.

An issued invoice is never edited (docs/decisions/0009); a correction is a document of its own, with its
own gap-free number range per seller and year (`GS-2026-000001`), that reduces what the invoice asks for.
One transaction writes the counter (conditioned on its previous value, like invoice numbers), the credit
note (`attribute_not_exists`), the invoice's new balance (conditioned on its `version`), customer credit
when the invoice was already paid beyond what is now due, and the outbox events. So a number exists if
and only if its credit note does, and the invoice's `amount_credited` is the sum of its credit notes.
See docs/decisions/0013-voids-credit-notes-history.md.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from receivables import aws, clock, document_store, money
from receivables.credit_note_pricing import CreditNoteRequest as CreditNoteRequest  # the route's body
from receivables.credit_note_pricing import PricedCredit, price_credit_note, settle_credit
from receivables.documents import InvoiceDocument
from receivables.errors import Conflict
from receivables.invoices import days_to_pay, get_invoice, to_document
from receivables.invoicing import store
from receivables.invoicing.ledger import Balance, balance_of, status_for
from receivables.invoicing.model import Invoice
from receivables.invoicing.store import Decision
from receivables.items import from_item, to_item
from receivables.numbering import advance_counter, counter_key, last_number
from receivables.outbox import DomainEvent, new_event
from receivables.payment_records import credit_update
from receivables.pricing import format_rate
from receivables.records import put_new, read
from receivables.seller import SellerProfile

CREDIT_NOTE_ENTITY = "credit_note"
# A credit note corrects part of an invoice ("Rechnungskorrektur"); a void's document cancels all of it
# ("Stornorechnung", cancellations.py). Both are credit notes in one number range (decisions/0029).
CORRECTION, CANCELLATION = "correction", "cancellation"
_MAX_ATTEMPTS = 25
_IDS = uuid.UUID("2b0f6a51-7c7e-4f44-8f61-1d9c3e5a7b20")


def credit_note_key(credit_note_id: str) -> dict[str, str]:
    return {"pk": f"CREDITNOTE#{credit_note_id}", "sk": "CREDITNOTE"}


def credit_note_id_for(storefront_id: str, invoice_id: str, idempotency_key: str) -> str:
    """Derived from the request's Idempotency-Key: a retry after a crash finds the same credit note."""
    return f"cn_{uuid.uuid5(_IDS, f'{storefront_id}|{invoice_id}|{idempotency_key}').hex}"


def format_credit_note_number(year: int, sequence: int) -> str:
    return f"GS-{year}-{sequence:06d}"


def credit_note_pdf_key(number: str) -> str:
    year = number.split("-")[1]
    return f"credit-notes/{year}/{number}.pdf"


# ------------------------------------------------------------------------------------ issuing
def issue_credit_note(
    table_name: str,
    invoice_id: str,
    request: CreditNoteRequest,
    seller: SellerProfile,
    credit_note_id: str,
    actor: str,
) -> dict[str, Any]:
    """Issues the credit note once (a retry with the same id returns the stored one); the stored item."""
    client = aws.client("dynamodb")
    for _ in range(_MAX_ATTEMPTS):
        existing = read(table_name, credit_note_key(credit_note_id))
        if existing is not None:
            return existing
        invoice = get_invoice(table_name, invoice_id)
        if invoice["status"] == "void":
            raise Conflict(f"Invoice {invoice['number']} is void: there is nothing left to correct.")
        currency = invoice["currency"]
        before = balance_of(invoice)
        priced = price_credit_note(
            request,
            currency,
            [Decimal(t["rate"]) for t in invoice["totals"]["tax_breakdown"]],
            before.total - before.credited,
        )
        now = clock.now()
        issue_date = now.astimezone(seller.zone).date()
        counter = counter_key("CREDITNOTE", invoice["seller_id"], issue_date.year)
        last = last_number(table_name, counter)
        number = format_credit_note_number(issue_date.year, last + 1)
        after, to_customer = settle_credit(before, priced.gross)
        status = status_for(after, invoice["status"])
        note = _credit_note_record(credit_note_id, number, invoice, request, priced, issue_date, actor)
        note["credited_to_customer"] = to_customer
        credited = _credited_invoice(invoice, after, status)
        note["invoice_account_amount_due"] = credited.account_amount_due  # the credit note email says it
        events = _events(note, invoice, after, status, to_customer)
        decision = Decision(
            after=credited,
            events=events,
            items=[credit_update(table_name, invoice, to_customer)] if to_customer > 0 else [],
            lead=[advance_counter(table_name, counter, last), put_new(table_name, note)],
        )
        try:
            store.commit(
                table_name,
                Invoice.from_item(invoice),
                decision,
                changed_by=actor,
                change_cause=f"credit note {number} issued",
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons[:3] or "TransactionConflict" in reasons:
                continue  # a number taken, the note written by a concurrent retry, or the invoice moved
            raise
        return from_item(to_item(note))
    raise RuntimeError(f"could not issue credit note {credit_note_id} (contention)")


def _credit_note_record(
    credit_note_id: str,
    number: str,
    invoice: dict[str, Any],
    request: CreditNoteRequest,
    priced: PricedCredit,
    issue_date: date,
    actor: str,
) -> dict[str, Any]:
    # A correction carries the VAT category of what it corrects: the invoice's, by rate (decisions/0027).
    vat_by_rate: dict[Decimal, dict[str, Any]] = {}
    for entry in invoice["totals"]["tax_breakdown"]:
        code = {"exemption_code": entry["exemption_code"]} if entry.get("exemption_code") else {}
        vat_by_rate.setdefault(Decimal(entry["rate"]), {"category": entry.get("category", "S")} | code)
    return credit_note_key(credit_note_id) | {
        "entity": CREDIT_NOTE_ENTITY,
        "id": credit_note_id,
        "number": number,
        "seller_id": invoice["seller_id"],
        "storefront_id": invoice["storefront_id"],
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "invoice_issue_date": invoice["issue_date"],  # the reference names number and date (§ 31 (5) UStDV)
        "kind": CORRECTION,
        "order_id": invoice.get("order_id"),
        "external_id": invoice.get("external_id"),
        "customer_id": invoice["customer_id"],
        "customer": invoice["customer"],  # the buyer as invoiced: a correction addresses the same party
        "currency": priced.currency,
        # Shaped like invoice lines (sku, discount) so the invoice's document builder reads them.
        "lines": [
            {
                "sku": "",
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": Decimal(0),
                "tax_rate": line.tax_rate,
                "net": line.net,
                "vat_category": vat_by_rate.get(line.tax_rate, {}).get("category", "S"),
            }
            for line in priced.lines
        ],
        "totals": {
            "net": priced.net,
            "tax": priced.tax,
            "gross": priced.gross,
            "tax_breakdown": [
                {"rate": t.rate, "net": t.net, "tax": t.tax} | vat_by_rate.get(t.rate, {})
                for t in priced.tax_breakdown
            ],
        },
        "gross": priced.gross,
        "reason": request.reason,
        "form": "lines" if request.lines is not None else "amount",
        "issue_date": issue_date.isoformat(),
        "supply_date": invoice["supply_date"],
        "created_at": clock.iso(clock.now()),
        "created_by": actor,
        "version": 1,
        # Listable under its invoice (gsi1) and beside the customer's invoices and orders (gsi3).
        "gsi1pk": f"CREDITNOTES#{invoice['id']}",
        "gsi1sk": number,
        "gsi3pk": f"CUSTOMER#{invoice['customer_id']}",
        "gsi3sk": f"CREDITNOTE#{issue_date.isoformat()}#{credit_note_id}",
    }


def _events(
    note: dict[str, Any], invoice: dict[str, Any], after: Balance, status: str, to_customer: Decimal
) -> list[DomainEvent]:
    currency = note["currency"]

    def amount(value: Decimal) -> str:
        return money.format_amount(value, currency)

    totals = note["totals"]
    events = [
        new_event(
            "credit_note.issued",
            {
                "credit_note_id": note["id"],
                "number": note["number"],
                "invoice_id": invoice["id"],
                "invoice_number": invoice["number"],
                "customer_id": invoice["customer_id"],
                "currency": currency,
                "net": amount(totals["net"]),
                "tax": amount(totals["tax"]),
                "gross": amount(totals["gross"]),
                "tax_breakdown": [
                    {"rate": format_rate(t["rate"]), "net": amount(t["net"]), "tax": amount(t["tax"])}
                    for t in totals["tax_breakdown"]
                ],
                "issue_date": note["issue_date"],
                "amount_due": amount(max(after.due, Decimal(0))),
                "reason": note["reason"],
            },
        )
    ]
    if to_customer > 0:
        events.append(
            new_event(
                "credit.created",
                {
                    "customer_id": invoice["customer_id"],
                    "currency": currency,
                    "amount": amount(to_customer),
                    "source": "credit_note",
                    "invoice_id": invoice["id"],
                    "payment_id": None,
                    "credit_note_id": note["id"],
                },
            )
        )
    if status == "paid" and invoice["status"] != "paid":
        paid_at = clock.iso(clock.now())
        events.append(
            new_event(
                "invoice.paid",
                {
                    "invoice_id": invoice["id"],
                    "number": invoice["number"],
                    "customer_id": invoice["customer_id"],
                    "currency": currency,
                    "total": amount(after.total),
                    "paid_at": paid_at,
                    "days_to_pay": days_to_pay(invoice),
                },
            )
        )
    return events


def _credited_invoice(invoice: dict[str, Any], after: Balance, status: str) -> Invoice:
    now = clock.iso(clock.now())
    sets: dict[str, Any] = {
        "amount_credited": after.credited,
        "amount_due": max(after.due, Decimal(0)),
        "status": status,
        "updated_at": now,
    }
    if status == "paid" and invoice["status"] != "paid":
        sets["paid_at"] = now
    return Invoice.from_item(invoice).with_attributes(**sets)


# ------------------------------------------------------------------------------------ reads
def get_credit_note(table_name: str, credit_note_id: str) -> dict[str, Any] | None:
    item = read(table_name, credit_note_key(credit_note_id))
    return item if item is not None and item.get("entity") == CREDIT_NOTE_ENTITY else None


def list_credit_notes(table_name: str, invoice_id: str) -> list[dict[str, Any]]:
    """The invoice's credit notes in number order."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": f"CREDITNOTES#{invoice_id}"}),
    }
    items: list[dict[str, Any]] = []
    while True:
        page = aws.client("dynamodb").query(**request)
        items += [from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def public_credit_note(item: dict[str, Any], pdf_url: str | None) -> dict[str, Any]:
    currency = item["currency"]

    def amount(value: Any) -> str:
        return money.format_amount(Decimal(value), currency)

    totals = item["totals"]
    return {
        "id": item["id"],
        "number": item["number"],
        "invoice_id": item["invoice_id"],
        "invoice_number": item["invoice_number"],
        "customer_id": item["customer_id"],
        "currency": currency,
        "net": amount(totals["net"]),
        "tax": amount(totals["tax"]),
        "gross": amount(totals["gross"]),
        "tax_breakdown": [
            {"rate": format_rate(t["rate"]), "net": amount(t["net"]), "tax": amount(t["tax"])}
            for t in totals["tax_breakdown"]
        ],
        "lines": [
            {
                "description": line["description"],
                "quantity": format_rate(line["quantity"]),
                "unit_price": amount(line["unit_price"]),
                "tax_rate": format_rate(line["tax_rate"]),
                "net": amount(line["net"]),
            }
            for line in item["lines"]
        ],
        "credited_to_customer": amount(item.get("credited_to_customer", 0)),
        "reason": item["reason"],
        "kind": item.get("kind", CORRECTION),
        "invoice_issue_date": item.get("invoice_issue_date"),
        "issue_date": item["issue_date"],
        "created_at": item["created_at"],
        "created_by": item["created_by"],
        "pdf_url": pdf_url,
        "pdf_sha256": item.get("pdf_sha256"),
    }


# ------------------------------------------------------------------------------------ the PDF
def credit_note_document(item: dict[str, Any], seller: SellerProfile) -> InvoiceDocument:
    """The credit note as the invoice renderer's view model: document_kind "credit_note", or
    "cancellation" for a void's Stornorechnung, with the corrected invoice's number and date."""
    gross = item["totals"]["gross"]
    # The invoice's builder reads the same fields; a credit note has no terms and nothing paid on it.
    as_invoice = item | {
        "due_date": item["issue_date"],
        "payment_terms_days": 0,
        "amount_paid": Decimal(0),
        "amount_refunded": Decimal(0),
        "amount_due": gross,
        "external_id": item.get("external_id"),
    }
    document = to_document(as_invoice, seller)
    single_line_is_reason = len(item["lines"]) == 1 and item["lines"][0]["description"] == item["reason"]
    return dataclasses.replace(
        document,
        amount_due=None,
        document_kind="cancellation" if item.get("kind") == CANCELLATION else "credit_note",
        corrects_invoice=item["invoice_number"],
        corrects_invoice_date=date.fromisoformat(item["invoice_issue_date"])
        if item.get("invoice_issue_date")
        else None,
        notes=() if single_line_is_reason else (item["reason"],),
    )


def render_and_store_credit_note_pdf(
    table_name: str, bucket: str, credit_note_id: str, seller: SellerProfile
) -> bool:
    """Renders and stores the PDF once; False when the credit note already has one (or is unknown)."""
    from receivables.einvoice.records import customer_preferences, warn_if_not_einvoice, with_buyer_reference
    from receivables.rendering.invoice_pdf import render_invoice_pdf  # heavy: only the renderer pays

    item = get_credit_note(table_name, credit_note_id)
    if item is None or item.get("pdf_key"):
        return False
    # The embedded Factur-X XML carries the customer's buyer reference (BT-10) like the invoice's.
    document = with_buyer_reference(
        credit_note_document(item, seller), customer_preferences(table_name, item)
    )
    warn_if_not_einvoice(document)
    pdf = render_invoice_pdf(document)
    stored = document_store.store_once(bucket, credit_note_pdf_key(item["number"]), pdf)
    client = aws.client("dynamodb")
    try:
        client.update_item(
            TableName=table_name,
            Key=to_item(credit_note_key(credit_note_id)),
            UpdateExpression="SET pdf_key = :key, pdf_sha256 = :sha, pdf_rendered_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(pdf_key)",
            ExpressionAttributeValues=to_item(
                {":key": stored.key, ":sha": stored.sha256, ":now": clock.iso(clock.now())}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False  # a concurrent attempt recorded the same object first
    return True
