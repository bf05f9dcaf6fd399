"""The words on an invoice, in German and English, and the legal note each VAT exemption carries.

Templates use `str.format` fields; values are formatted (money, dates) before they are filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from receivables.documents import InvoiceDocument, VatCategory


@dataclass(frozen=True)
class InvoiceLabels:
    invoice: str
    invoice_number: str
    issue_date: str
    supply_date: str
    due_date: str
    order_reference: str
    continued: str
    position: str
    description: str
    quantity: str
    unit_price: str
    discount: str
    tax_rate: str
    net: str
    subtotal: str
    tax_on_net: str  # {rate} {net}
    total_tax: str
    invoice_total: str
    amount_paid: str
    amount_due: str
    payment_terms: str  # {days} {due_date}
    payment_terms_immediate: str  # {due_date}
    pay_online: str  # {url}
    bank_details: str
    vat_id: str
    tax_number: str
    phone: str
    email: str
    page_of: str  # {page} {pages}
    credit_note: str
    credit_note_number: str
    credit_note_total: str
    corrects_invoice: str  # {number}
    corrects_invoice_dated: str  # {number} {date}
    cancellation: str
    cancellation_number: str
    cancellation_total: str
    cancels_invoice: str  # {number} {date}


LABELS: dict[str, InvoiceLabels] = {
    "de": InvoiceLabels(
        invoice="Rechnung",
        invoice_number="Rechnungsnummer",
        issue_date="Rechnungsdatum",
        supply_date="Leistungsdatum",
        due_date="Fälligkeitsdatum",
        order_reference="Ihre Bestellung",
        continued="Fortsetzung",
        position="Pos.",
        description="Beschreibung",
        quantity="Menge",
        unit_price="Einzelpreis",
        discount="Rabatt",
        tax_rate="USt.",
        net="Netto",
        subtotal="Zwischensumme (netto)",
        tax_on_net="Umsatzsteuer {rate} auf {net}",
        total_tax="Umsatzsteuer gesamt",
        invoice_total="Rechnungsbetrag",
        amount_paid="Bereits bezahlt",
        amount_due="Offener Betrag",
        payment_terms="Zahlbar innerhalb von {days} Tagen ohne Abzug bis {due_date}.",
        payment_terms_immediate="Zahlbar sofort ohne Abzug bis {due_date}.",
        pay_online="Online bezahlen: {url}",
        bank_details="Bankverbindung",
        vat_id="USt-IdNr.",
        tax_number="Steuernummer",
        phone="Tel.",
        email="E-Mail",
        page_of="Seite {page} von {pages}",
        credit_note="Rechnungskorrektur",  # "Gutschrift" is self-billing (§ 14 (2) UStG): decisions/0029
        credit_note_number="Korrekturnummer",
        credit_note_total="Korrekturbetrag",
        corrects_invoice="Rechnungskorrektur zu Rechnung {number}",
        corrects_invoice_dated="Rechnungskorrektur zu Rechnung {number} vom {date}",
        cancellation="Stornorechnung",
        cancellation_number="Stornonummer",
        cancellation_total="Stornobetrag",
        cancels_invoice="Storniert wird die Rechnung {number} vom {date} in voller Höhe.",
    ),
    "en": InvoiceLabels(
        invoice="Invoice",
        invoice_number="Invoice number",
        issue_date="Invoice date",
        supply_date="Date of supply",
        due_date="Due date",
        order_reference="Your order",
        continued="continued",
        position="No.",
        description="Description",
        quantity="Qty",
        unit_price="Unit price",
        discount="Discount",
        tax_rate="VAT",
        net="Net",
        subtotal="Subtotal (net)",
        tax_on_net="VAT {rate} on {net}",
        total_tax="Total VAT",
        invoice_total="Invoice total",
        amount_paid="Already paid",
        amount_due="Amount due",
        payment_terms="Payable within {days} days without deduction by {due_date}.",
        payment_terms_immediate="Payable immediately without deduction, by {due_date}.",
        pay_online="Pay online: {url}",
        bank_details="Bank details",
        vat_id="VAT ID",
        tax_number="Tax number",
        phone="Phone",
        email="Email",
        page_of="Page {page} of {pages}",
        credit_note="Credit note",
        credit_note_number="Credit note number",
        credit_note_total="Credit total",
        corrects_invoice="Correction of invoice {number}",
        corrects_invoice_dated="Correction of invoice {number} dated {date}",
        cancellation="Cancellation invoice",
        cancellation_number="Cancellation number",
        cancellation_total="Cancelled total",
        cancels_invoice="This cancels invoice {number} dated {date} in full.",
    ),
}


def labels_for(locale: str) -> InvoiceLabels:
    return LABELS.get(locale, LABELS["en"])


def document_title(document: InvoiceDocument) -> str:
    """ "Rechnung 2026-000001", "Rechnungskorrektur GS-2026-000001" or "Stornorechnung GS-2026-000002":
    the heading and the PDF's title."""
    labels = labels_for(document.locale)
    kinds = {"credit_note": labels.credit_note, "cancellation": labels.cancellation}
    return f"{kinds.get(document.document_kind, labels.invoice)} {document.number}"


def correction_title(kind: str, locale: str) -> str:
    """A stored credit note's title by its kind: "Rechnungskorrektur" (correction) or "Stornorechnung"."""
    labels = labels_for(locale)
    return labels.cancellation if kind == "cancellation" else labels.credit_note


def correction_number_label(document: InvoiceDocument) -> str:
    labels = labels_for(document.locale)
    cancellation = document.document_kind == "cancellation"
    return labels.cancellation_number if cancellation else labels.credit_note_number


def correction_total_label(document: InvoiceDocument) -> str:
    labels = labels_for(document.locale)
    return labels.cancellation_total if document.document_kind == "cancellation" else labels.credit_note_total


def correction_reference(document: InvoiceDocument) -> str:
    """The original invoice's number and date (§ 14 (4) Nr. 4 UStG, § 31 (5) UStDV) a correction names."""
    from receivables.rendering.formatting import format_date  # babel: only the renderers pay for it

    labels, number = labels_for(document.locale), document.corrects_invoice or ""
    dated = document.corrects_invoice_date
    on = format_date(dated, document.locale) if dated else ""
    if document.document_kind == "cancellation":
        return labels.cancels_invoice.format(number=number, date=on)
    if dated is None:  # notes issued before the date was recorded
        return labels.corrects_invoice.format(number=number)
    return labels.corrects_invoice_dated.format(number=number, date=on)


# The note an invoice without VAT must carry (§ 14a UStG; Art. 226 Nr. 11 and 11a VAT Directive), one per
# category on the invoice, in the document's language. The category is decided per line (receivables.tax).
EXEMPTION_NOTES: dict[str, dict[VatCategory, str]] = {
    "de": {
        "AE": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG, "
        "Art. 196 MwStSystRL): Die Umsatzsteuer schuldet der Leistungsempfänger.",
        "K": "Steuerfreie innergemeinschaftliche Lieferung nach § 4 Nr. 1b i. V. m. § 6a UStG "
        "(Art. 138 MwStSystRL).",
        "G": "Steuerfreie Ausfuhrlieferung nach § 4 Nr. 1a i. V. m. § 6 UStG (Art. 146 MwStSystRL).",
        "O": "Nicht im Inland steuerbare Leistung: Leistungsort beim Leistungsempfänger (§ 3a Abs. 2 UStG).",
        "E": "Steuerfreie Leistung nach § 4 UStG (Art. 132 MwStSystRL).",
    },
    "en": {
        "AE": "Reverse charge: the recipient is liable for the VAT (§ 13b UStG, Art. 196 VAT Directive).",
        "K": "VAT-exempt intra-Community supply of goods (§ 4 Nr. 1b and § 6a UStG, Art. 138 VAT Directive).",
        "G": "VAT-exempt export delivery (§ 4 Nr. 1a and § 6 UStG, Art. 146 VAT Directive).",
        "O": "Not taxable in Germany: supplied where the recipient is established (§ 3a (2) UStG).",
        "E": "VAT-exempt supply under § 4 UStG (Art. 132 VAT Directive).",
    },
}


def exemption_notes(document: InvoiceDocument) -> list[str]:
    """The legal notes of the document's VAT categories, in the order they first appear on it."""
    notes = EXEMPTION_NOTES.get(document.locale, EXEMPTION_NOTES["en"])
    categories = [line.vat_category for line in document.lines] + [t.category for t in document.tax_breakdown]
    return [notes[category] for category in dict.fromkeys(categories) if category in notes]
