"""The words of the reminder letter (Mahnung), German and English; `str.format` fields, values formatted."""

from __future__ import annotations

LETTER_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Mahnung",
        "title_final": "Letzte Mahnung",
        "letter_date": "Datum",
        "invoice_number": "Rechnungsnummer",
        "invoice_date": "Rechnungsdatum",
        "due_date": "Fällig seit",
        "salutation": "Sehr geehrte Damen und Herren,",
        "intro": "unsere Rechnung {number} vom {invoice_date} über {total} war am {due_date} fällig. "
        "Bis heute haben wir keinen vollständigen Zahlungseingang festgestellt. Sie befinden sich "
        "damit in Verzug (§ 286 BGB). Wir berechnen Ihnen deshalb:",
        "column_item": "Posten",
        "column_amount": "Betrag",
        "open_invoice": "Offener Betrag der Rechnung {number} vom {invoice_date}",
        "fees_before": "Offene Mahngebühren und Zinsen aus früheren Mahnungen",
        "reminder_fee": "Mahngebühr",
        "fee_fixed": "pauschal {fixed}",
        "fee_percent": "{percent} von {principal}",
        "lump_sum": "Verzugspauschale nach § 288 Abs. 5 BGB",
        "interest": "Verzugszinsen: {rate} p. a. ({base} Basiszinssatz + {points} Prozentpunkte, {section}) "
        "auf {principal} für {days} Tage vom {first_day} bis {last_day}",
        "section_business": "§ 288 Abs. 2 BGB",
        "section_consumer": "§ 288 Abs. 1 BGB",
        "new_total": "Neuer Gesamtbetrag",
        "deadline": "Bitte überweisen Sie den Gesamtbetrag von {total} bis zum {pay_by} auf unser "
        "Konto{bank}, Verwendungszweck {number}.",
        "bank": " {bank_name} IBAN {iban}",
        "interest_note": "Die Zinsen sind einfache Zinsen für jeden Tag des Verzugs "
        "(tatsächliche Tage / 365).",
        "already_paid": "Sollten Sie die Zahlung inzwischen veranlasst haben, betrachten Sie dieses "
        "Schreiben bitte als gegenstandslos.",
        "closing": "Mit freundlichen Grüßen",
        "vat_id": "USt-IdNr.",
        "page_of": "Seite {page} von {pages}",
    },
    "en": {
        "title": "Payment reminder",
        "title_final": "Final payment reminder",
        "letter_date": "Date",
        "invoice_number": "Invoice number",
        "invoice_date": "Invoice date",
        "due_date": "Due since",
        "salutation": "Dear Sir or Madam,",
        "intro": "our invoice {number} dated {invoice_date} for {total} was due on {due_date}. We have not "
        "received full payment to date, so payment is in default (§ 286 German Civil Code, BGB). We "
        "therefore charge:",
        "column_item": "Item",
        "column_amount": "Amount",
        "open_invoice": "Amount open on invoice {number} dated {invoice_date}",
        "fees_before": "Unpaid fees and interest from earlier reminders",
        "reminder_fee": "Reminder fee",
        "fee_fixed": "flat {fixed}",
        "fee_percent": "{percent} of {principal}",
        "lump_sum": "Flat-rate default charge (§ 288 (5) BGB)",
        "interest": "Default interest: {rate} a year ({base} base rate + {points} percentage points, "
        "{section}) on {principal} for {days} days from {first_day} to {last_day}",
        "section_business": "§ 288 (2) BGB",
        "section_consumer": "§ 288 (1) BGB",
        "new_total": "New total",
        "deadline": "Please transfer the total of {total} by {pay_by} to our account{bank}, "
        "quoting {number}.",
        "bank": " {bank_name} IBAN {iban}",
        "interest_note": "Interest is simple interest for each day of default (actual days / 365).",
        "already_paid": "If you have paid in the meantime, please disregard this letter.",
        "closing": "Yours faithfully",
        "vat_id": "VAT ID",
        "page_of": "Page {page} of {pages}",
    },
}


def letter_words(locale: str) -> dict[str, str]:
    return LETTER_WORDS.get(locale, LETTER_WORDS["en"])
