"""The invoice's totals, payment terms and addresses as text: the same on the PDF, the page and in emails."""

from __future__ import annotations

from decimal import Decimal

from receivables.documents import InvoiceDocument, Party
from receivables.rendering import formatting as fmt
from receivables.rendering.labels import labels_for


def totals_rows(doc: InvoiceDocument) -> list[tuple[str, str, bool]]:
    """(label, amount, emphasised): net, tax per rate on its net, gross, and what is left to pay."""
    labels, locale = labels_for(doc.locale), doc.locale

    def money(amount: Decimal) -> str:
        return fmt.format_money(amount, doc.currency, locale)

    rows = [(labels.subtotal, money(doc.net), False)]
    for tax in doc.tax_breakdown:
        label = labels.tax_on_net.format(rate=fmt.format_percent(tax.rate, locale), net=money(tax.net))
        rows.append((label, money(tax.tax), False))
    if len(doc.tax_breakdown) > 1:
        rows.append((labels.total_tax, money(doc.tax), False))
    rows.append((labels.invoice_total, money(doc.gross), True))
    if doc.amount_paid:
        due = doc.amount_due if doc.amount_due is not None else doc.gross - doc.amount_paid
        rows.append((labels.amount_paid, money(-doc.amount_paid), False))
        rows.append((labels.amount_due, money(due), True))
    return rows


def payment_terms(doc: InvoiceDocument) -> str:
    labels = labels_for(doc.locale)
    terms = labels.payment_terms if doc.payment_terms_days > 0 else labels.payment_terms_immediate
    return terms.format(days=doc.payment_terms_days, due_date=fmt.format_date(doc.due_date, doc.locale))


def address_lines(party: Party, doc: InvoiceDocument) -> list[str]:
    """Name, street, city, the country when it is not the seller's, and the VAT id."""
    labels, address = labels_for(doc.locale), party.address
    lines = [party.name, address.line1, address.line2, f"{address.postal_code} {address.city}"]
    if address.country.upper() != doc.seller.address.country.upper():
        lines.append(fmt.format_country(address.country, doc.locale))
    if party.vat_id:
        lines.append(f"{labels.vat_id} {party.vat_id}")
    return [line for line in lines if line]
