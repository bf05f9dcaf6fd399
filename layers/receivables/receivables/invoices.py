"""Invoices: issued once per order with a gap-free number, then never edited (only their state moves).

Numbering: one counter item per seller and year. The counter increment and the invoice are written in
one transaction conditioned on the counter's previous value, so a number is consumed if and only if
its invoice exists: concurrent issuers retry with the next number, redeliveries find the invoice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from receivables import aws, clock, money
from receivables.documents import DocumentLine, InvoiceDocument, Party, PostalAddress, TaxLine
from receivables.dunning_index import first_action_fields
from receivables.errors import NotFound
from receivables.invoicing import store
from receivables.invoicing.model import INVOICE_ENTITY, Invoice
from receivables.items import to_item
from receivables.numbering import advance_counter, counter_key, last_number
from receivables.orders import order_key
from receivables.outbox import new_event
from receivables.pagination import filled_page
from receivables.records import put_new, read
from receivables.seller import SellerProfile
from receivables.tasks import FOLLOW_UP_QUEUE, NewTask, task_put

_MAX_NUMBERING_ATTEMPTS = 25


def token_key(token: str) -> dict[str, str]:
    return {"pk": f"HOSTED#{token}", "sk": "HOSTED"}


def invoice_number_key(seller_id: str, number: str) -> dict[str, str]:
    """Banks quote the invoice number, not our id; numbers are unique per seller."""
    return {"pk": f"INVOICENO#{seller_id}#{number}", "sk": "INVOICENO"}


def invoice_id_for(order_id: str) -> str:
    return "inv_" + order_id.removeprefix("ord_")


def format_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


@dataclass(frozen=True)
class IssuedInvoice:
    invoice_id: str
    number: str
    newly_issued: bool


def issue_invoice(table_name: str, order: dict[str, Any], seller: SellerProfile) -> IssuedInvoice:
    """Issues the order's invoice exactly once; a redelivered order returns the existing invoice."""
    client = aws.client("dynamodb")
    invoice_id = invoice_id_for(order["id"])
    now = clock.now()
    # A subscription period's invoice is dated to the period's start, even when billed late (0026).
    dated = order.get("invoice_date")
    issue_date = date.fromisoformat(dated) if dated else now.astimezone(seller.zone).date()
    counter = counter_key("INVOICE", seller.seller_id, issue_date.year)
    for _ in range(_MAX_NUMBERING_ATTEMPTS):
        existing = store.read_item(table_name, invoice_id)
        if existing is not None:
            return IssuedInvoice(invoice_id, existing["number"], newly_issued=False)
        last = last_number(table_name, counter)
        number = format_number(issue_date.year, last + 1)
        invoice = _invoice_record(invoice_id, number, order, seller, issue_date, now)
        nothing_to_pay = invoice["total"] <= 0
        if nothing_to_pay:  # a 100 % discount: paid at issue, never dunned (decisions/0023)
            invoice |= {"status": "paid", "paid_at": clock.iso(now)}
        else:
            invoice |= first_action_fields(
                invoice_id, date.fromisoformat(invoice["due_date"]), seller.dunning_policy
            )
        counter_update = advance_counter(table_name, counter, last)
        follow_up = NewTask(
            kind="follow_up",
            title=f"Follow up invoice {number} ({order['customer']['name']})",
            queue=FOLLOW_UP_QUEUE,
            due_date=date.fromisoformat(invoice["due_date"]) + timedelta(days=1),
            invoice_id=invoice_id,
            reason=f"invoice {number} issued",
        )
        event = new_event("invoice.issued", _issued_event_data(invoice), at=now)
        try:
            store.create(
                table_name,
                Invoice.from_item(invoice),
                lead=[counter_update],
                items=[
                    put_new(
                        table_name,
                        invoice_number_key(seller.seller_id, number)
                        | {"entity": "invoice_number", "invoice_id": invoice_id},
                    ),
                    put_new(
                        table_name,
                        token_key(invoice["hosted_token"])
                        | {"entity": "hosted_link", "invoice_id": invoice_id},
                    ),
                    {
                        "Update": {
                            "TableName": table_name,
                            "Key": to_item(order_key(order["id"])),
                            "UpdateExpression": "SET invoice_id = :id",
                            "ConditionExpression": (
                                "attribute_exists(pk) AND attribute_not_exists(invoice_id)"
                            ),
                            "ExpressionAttributeValues": to_item({":id": invoice_id}),
                        }
                    },
                    *([] if nothing_to_pay else [task_put(table_name, follow_up, cause_id=invoice_id)]),
                ],
                events=[event],
            )
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" not in reasons[:2]:
                raise  # neither the counter nor the invoice moved: retrying cannot help
            continue  # the number was taken meanwhile, or the invoice exists now: look again
        return IssuedInvoice(invoice_id, number, newly_issued=True)
    raise RuntimeError(f"could not number the invoice of order {order['id']} (contention)")


def _invoice_record(
    invoice_id: str,
    number: str,
    order: dict[str, Any],
    seller: SellerProfile,
    issue_date: date,
    now: datetime,
) -> dict[str, Any]:
    terms = int(order["payment_terms_days"])
    supply_date = clock.local_day(order["created_at"], seller.zone)
    if order.get("period"):  # a subscription period: supplied from its first day (decisions/0026)
        supply_date = date.fromisoformat(order["period"]["start"])
    gross = order["totals"]["gross"]
    billed = (
        {"subscription_id": order["subscription_id"], "period": order["period"]}
        if order.get("period")
        else {}
    )
    return billed | {
        "entity": INVOICE_ENTITY,
        "id": invoice_id,
        "number": number,
        "seller_id": seller.seller_id,
        "storefront_id": order["storefront_id"],
        "order_id": order["id"],
        "external_id": order["external_id"],
        "customer_id": order["customer_id"],
        "customer": order["customer"],  # as issued: later address changes never alter an issued invoice
        "currency": order["currency"],
        "lines": order["lines"],
        "totals": order["totals"],
        "total": gross,
        "amount_paid": Decimal(0),
        "amount_refunded": Decimal(0),
        "amount_due": gross,
        "status": "open",
        "disputed": False,
        "in_collections": False,
        "issue_date": issue_date.isoformat(),
        "supply_date": supply_date.isoformat(),
        "due_date": (issue_date + timedelta(days=terms)).isoformat(),
        "payment_terms_days": terms,
        "hosted_token": secrets.token_urlsafe(24),  # 192 bits: the hosted page's only credential
        "reminders_sent": 0,
        "version": 1,
        "created_at": clock.iso(now),
        "gsi1pk": f"INVOICES#{order['storefront_id']}",
        "gsi1sk": f"{clock.iso(now)}#{invoice_id}",  # newest first by the instant, not the day
        "gsi3pk": f"CUSTOMER#{order['customer_id']}",
        "gsi3sk": f"INVOICE#{clock.iso(now)}#{invoice_id}",
    }


def _issued_event_data(invoice: dict[str, Any]) -> dict[str, Any]:
    currency = invoice["currency"]
    totals = invoice["totals"]
    return {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "order_id": invoice["order_id"],
        "customer_id": invoice["customer_id"],
        "currency": currency,
        "net": money.format_amount(totals["net"], currency),
        "tax": money.format_amount(totals["tax"], currency),
        "gross": money.format_amount(totals["gross"], currency),
        "tax_breakdown": [
            {
                "rate": format(t["rate"].normalize(), "f"),
                "net": money.format_amount(t["net"], currency),
                "tax": money.format_amount(t["tax"], currency),
                "category": t.get("category", "S"),
            }
            for t in totals["tax_breakdown"]
        ],
        "issue_date": invoice["issue_date"],
        "due_date": invoice["due_date"],
    } | ({"subscription_id": invoice["subscription_id"]} if invoice.get("subscription_id") else {})


# ---------------------------------------------------------------------------------------------- reads
def get_invoice(table_name: str, invoice_id: str) -> dict[str, Any]:
    item = store.read_item(table_name, invoice_id)
    if item is None or item.get("entity") != INVOICE_ENTITY:
        raise NotFound(f"No invoice {invoice_id}.")
    return item


def get_invoice_by_token(table_name: str, token: str) -> dict[str, Any]:
    link = read(table_name, token_key(token)) if token else None
    if link is None:
        raise NotFound("This invoice link is not valid.")
    return get_invoice(table_name, link["invoice_id"])


def list_invoices(
    table_name: str,
    storefront_id: str,
    status: str | None,
    customer_id: str | None,
    limit: int,
    start: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A storefront's invoices, newest first, every page but the last full.

    By status through the per-status index (gsi4), by customer through the customer's index (gsi3);
    both filters at once read the customer's index and keep reading until the page is full.
    """
    filters, values, names = ["storefront_id = :sf"], {":sf": storefront_id}, {}
    if customer_id:
        index = "gsi3"
        request: dict[str, Any] = {"KeyConditionExpression": "gsi3pk = :pk AND begins_with(gsi3sk, :inv)"}
        values |= {":pk": f"CUSTOMER#{customer_id}", ":inv": "INVOICE#"}
        if status:
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = status
    elif status:
        index = "gsi4"
        request = {"KeyConditionExpression": "gsi4pk = :pk"}
        values[":pk"] = f"INVOICES#{storefront_id}#{status}"
    else:
        index = "gsi1"
        request = {"KeyConditionExpression": "gsi1pk = :pk"}
        values[":pk"] = f"INVOICES#{storefront_id}"
    request |= {
        "TableName": table_name,
        "IndexName": index,
        "FilterExpression": " AND ".join(filters),
        "ExpressionAttributeValues": to_item(values),
        "ScanIndexForward": False,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    return filled_page(request, limit, start)


# ------------------------------------------------------------------------------------- presentation
def get_own_invoice(table_name: str, invoice_id: str, storefront_id: str) -> dict[str, Any]:
    """The invoice, if it belongs to the caller's storefront; another storefront's does not exist."""
    invoice = get_invoice(table_name, invoice_id)
    if invoice["storefront_id"] != storefront_id:
        raise NotFound(f"No invoice {invoice_id}.")
    return invoice


def days_to_pay(invoice: dict[str, Any]) -> int:
    """Whole days from issuing the invoice until now. Counted between instants: today's UTC date less the
    seller-local issue date went negative in the hours when the seller's day is ahead of UTC's."""
    issued = clock.parse(invoice["created_at"])
    return (clock.now() - issued).days


def public_invoice(item: dict[str, Any], pdf_url: str | None, hosted_url: str) -> dict[str, Any]:
    """The contract's invoice resource."""
    currency = item["currency"]

    def amount(value: Any) -> str:
        return money.format_amount(Decimal(value), currency)

    totals = item["totals"]
    return {
        "id": item["id"],
        "number": item["number"],
        "status": item["status"],
        "disputed": bool(item.get("disputed")),
        "in_collections": bool(item.get("in_collections")),
        "currency": currency,
        "total": amount(item["total"]),
        "net": amount(totals["net"]),
        "tax": amount(totals["tax"]),
        "tax_breakdown": [
            {"rate": format(t["rate"].normalize(), "f"), "net": amount(t["net"]), "tax": amount(t["tax"])}
            # EN 16931 category and VATEX code (decisions/0027); records from before them are all "S"
            | {"category": t.get("category", "S"), "exemption_code": t.get("exemption_code")}
            for t in totals["tax_breakdown"]
        ],
        "amount_paid": amount(item["amount_paid"] - item.get("amount_refunded", 0)),
        "amount_due": amount(item["amount_due"]),
        "amount_credited": amount(item.get("amount_credited", 0)),  # credit notes (credit_notes.py)
        "voided_at": item.get("voided_at"),
        "void_reason": item.get("void_reason"),
        "issue_date": item["issue_date"],
        "supply_date": item["supply_date"],
        "due_date": item["due_date"],
        "payment_terms_days": int(item["payment_terms_days"]),
        "order_id": item["order_id"],
        "external_id": item["external_id"],
        "customer_id": item["customer_id"],
        "customer": item["customer"],
        "lines": [
            {
                "sku": line["sku"],
                "description": line["description"],
                "quantity": format(line["quantity"].normalize(), "f"),
                "unit_price": amount(line["unit_price"]),
                "discount_percent": format(line["discount_percent"].normalize(), "f"),
                "tax_rate": format(line["tax_rate"].normalize(), "f"),
                "net": amount(line["net"]),
                "vat_category": line.get("vat_category", "S"),
            }
            for line in item["lines"]
        ],
        "pdf_url": pdf_url,
        "pdf_sha256": item.get("pdf_sha256"),
        "hosted_url": hosted_url,
        "email_sent_at": item.get("email_sent_at"),
        # SES's feedback (receivables.email_feedback) moves it on from "sent"; null before the email went out
        "email_status": item.get("email_status") or ("sent" if item.get("email_sent_at") else None),
        "reminders_sent": int(item.get("reminders_sent", 0)),
        "reminder_steps": list(item.get("reminder_steps", [])),
        # Late fees are their own documents on the account; the invoice's own amounts never change.
        "late_fees": amount(item.get("late_fees", 0)),
        "fees_paid": amount(item.get("fees_paid", 0)),
        "account_amount_due": amount(Invoice.from_item(item).account_amount_due),
        "next_reminder_at": item.get("next_reminder_at"),
        "created_at": item["created_at"],
        "subscription_id": item.get("subscription_id"),
        "period": item.get("period"),
    }


def hosted_url(base_url: str, item: dict[str, Any]) -> str:
    return f"{base_url.rstrip('/')}/i/{item['hosted_token']}"


def customer_page_url(invoice_url: str, item: dict[str, Any]) -> str:
    """The customer page opened with this invoice's token (`/c/<token>` beside `/i/<token>`)."""
    return invoice_url.removesuffix(f"/i/{item['hosted_token']}") + f"/c/{item['hosted_token']}"


def to_document(item: dict[str, Any], seller: SellerProfile, hosted: str | None = None) -> InvoiceDocument:
    """The view model every renderer (PDF, email, hosted page) reads."""
    customer = item["customer"]
    address = customer["address"]
    lines = tuple(
        DocumentLine(
            position=index,
            sku=line["sku"],
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            discount_percent=Decimal(line["discount_percent"]),
            tax_rate=Decimal(line["tax_rate"]),
            net=Decimal(line["net"]),
            vat_category=line.get("vat_category", "S"),
        )
        for index, line in enumerate(item["lines"], start=1)
    )
    totals = item["totals"]
    return InvoiceDocument(
        number=item["number"],
        locale=customer.get("locale", "en"),
        currency=item["currency"],
        issue_date=date.fromisoformat(item["issue_date"]),
        supply_date=date.fromisoformat(item["supply_date"]),
        due_date=date.fromisoformat(item["due_date"]),
        payment_terms_days=int(item["payment_terms_days"]),
        seller=seller.as_party(),
        buyer=Party(
            name=customer["name"],
            address=PostalAddress(
                line1=address["line1"],
                line2=address.get("line2"),
                city=address["city"],
                postal_code=address["postal_code"],
                country=address["country"],
            ),
            vat_id=customer.get("vat_id"),
            email=customer.get("email"),
        ),
        lines=lines,
        tax_breakdown=tuple(
            TaxLine(
                rate=t["rate"],
                net=t["net"],
                tax=t["tax"],
                category=t.get("category", "S"),
                exemption_code=t.get("exemption_code"),
            )
            for t in totals["tax_breakdown"]
        ),
        net=Decimal(totals["net"]),
        tax=Decimal(totals["tax"]),
        gross=Decimal(totals["gross"]),
        amount_paid=Decimal(item["amount_paid"]) - Decimal(item.get("amount_refunded", 0)),
        amount_due=Decimal(item["amount_due"]),
        order_reference=item["external_id"],
        hosted_url=hosted,
        account_url=customer_page_url(hosted, item) if hosted else None,
    )
