"""A realistic invoice document for tests, previews and the PDF benchmark.

Deterministic: the same arguments always give the same document, so rendered PDFs compare byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from receivables.documents import (
    DocumentLine,
    InvoiceDocument,
    Locale,
    Party,
    PostalAddress,
    Seller,
    TaxLine,
)
from receivables.money import quantize

_CURRENCY = "EUR"

# (sku, description, unit price, tax rate): books and food at the reduced rate, the rest at the standard rate.
_CATALOGUE: tuple[tuple[str, str, Decimal, Decimal], ...] = (
    ("BUE-1001", "Bürostuhl „Ergo Plus“ mit Armlehnen, schwarz", Decimal("249.00"), Decimal("19")),
    ("PAP-2040", "Kopierpapier A4, 80 g/m², 500 Blatt", Decimal("4.79"), Decimal("19")),
    ("BCH-0815", "Fachbuch „Umsatzsteuer in der Praxis“, 12. Auflage", Decimal("39.90"), Decimal("7")),
    ("KAF-0250", "Kaffeebohnen Espresso, 1 kg", Decimal("18.50"), Decimal("7")),
    (
        "MON-2701",
        "Monitor 27 Zoll, 2560 × 1440, höhenverstellbar, inkl. HDMI- und DisplayPort-Kabel, "
        "3 Jahre Vor-Ort-Garantie mit Austausch am nächsten Werktag",
        Decimal("329.00"),
        Decimal("19"),
    ),
    ("SRV-STD", "Installation und Einrichtung vor Ort (Stundensatz)", Decimal("95.00"), Decimal("19")),
    ("KAB-0003", "USB-C-Kabel 2 m", Decimal("12.99"), Decimal("19")),
    ("ZTG-0052", "Zeitschriften-Abonnement „Büro & Recht“ (Quartal)", Decimal("27.00"), Decimal("7")),
)
_QUANTITIES = tuple(Decimal(quantity) for quantity in ("1", "2", "10", "2.5", "3", "12"))
_DISCOUNTS = (
    Decimal("0"),
    Decimal("0"),
    Decimal("5"),
    Decimal("0"),
    Decimal("10"),
    Decimal("0"),
    Decimal("2.5"),
)

SAMPLE_SELLER = Seller(
    name="Muster Handel GmbH",
    address=PostalAddress(line1="Müller Straße 12", postal_code="80331", city="München", country="DE"),
    vat_id="DE811907980",
    email="rechnung@muster-handel.de",
    tax_number="143/123/45678",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    bank_name="Commerzbank",
    phone="+49 89 1234567",
    website="www.muster-handel.de",
    register="Amtsgericht München HRB 123456",
)

SAMPLE_BUYER = Party(
    name="Anna Schmidt GmbH",
    address=PostalAddress(
        line1="Friedrichstraße 123",
        line2="Aufgang B, 3. OG",
        postal_code="10117",
        city="Berlin",
        country="DE",
    ),
    vat_id="DE136695976",
    email="buchhaltung@anna-schmidt.de",
)


def sample_lines(count: int) -> tuple[DocumentLine, ...]:
    lines = []
    for index in range(count):
        sku, description, unit_price, tax_rate = _CATALOGUE[index % len(_CATALOGUE)]
        quantity = _QUANTITIES[index % len(_QUANTITIES)]
        discount = _DISCOUNTS[index % len(_DISCOUNTS)]
        net = quantize(quantity * unit_price * (100 - discount) / 100, _CURRENCY)
        lines.append(
            DocumentLine(
                position=index + 1,
                sku=sku,
                description=description,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                tax_rate=tax_rate,
                net=net,
            )
        )
    return tuple(lines)


def tax_breakdown(lines: tuple[DocumentLine, ...]) -> tuple[TaxLine, ...]:
    """Tax per rate on the rate's net sum, as §14(4) Nr. 8 UStG asks; highest rate first."""
    net_per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        net_per_rate[line.tax_rate] += line.net
    return tuple(
        TaxLine(rate=rate, net=net, tax=quantize(net * rate / 100, _CURRENCY))
        for rate, net in sorted(net_per_rate.items(), reverse=True)
    )


def sample_invoice_document(lines: int = 10, locale: Locale = "de") -> InvoiceDocument:
    document_lines = sample_lines(lines)
    taxes = tax_breakdown(document_lines)
    net = sum((line.net for line in taxes), Decimal("0.00"))
    tax = sum((line.tax for line in taxes), Decimal("0.00"))
    issue_date = date(2026, 11, 8)
    return InvoiceDocument(
        number="RE-2026-000123",
        locale=locale,
        currency=_CURRENCY,
        issue_date=issue_date,
        supply_date=date(2026, 11, 6),
        due_date=issue_date + timedelta(days=14),
        payment_terms_days=14,
        seller=SAMPLE_SELLER,
        buyer=SAMPLE_BUYER,
        lines=document_lines,
        tax_breakdown=taxes,
        net=net,
        tax=tax,
        gross=net + tax,
        amount_due=net + tax,
        order_reference="PO-4711",
        hosted_url="https://pay.muster-handel.de/i/RE-2026-000123",
    )
