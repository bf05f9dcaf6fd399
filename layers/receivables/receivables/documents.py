"""What a person reads on an invoice: the one view model the PDF, the emails and the hosted page share.

Built from the stored invoice by the invoices module; renderers never read DynamoDB items.
Amounts are Decimals already quantized to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Locale = Literal["de", "en"]
# Corrections are drawn like an invoice, with their own title and words: a credit note correcting an
# invoice is a "Rechnungskorrektur" (never "Gutschrift", which § 14 (2) UStG reserves for self-billing), a
# void's document a "Stornorechnung" (docs/decisions/0029-document-titles-and-reminder-letters.md).
DocumentKind = Literal["invoice", "credit_note", "cancellation"]
# EN 16931 VAT category codes (UNTDID 5305 subset, BT-118/BT-151): standard, zero, exempt, reverse
# charge, intra-community supply, export, outside the scope of VAT.
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None


@dataclass(frozen=True)
class Party:
    name: str
    address: PostalAddress
    vat_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Seller(Party):
    tax_number: str | None = None  # Steuernummer, when there is no VAT id
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    phone: str | None = None
    website: str | None = None
    register: str | None = None  # e.g. "Amtsgericht Berlin HRB 12345"


@dataclass(frozen=True)
class DocumentLine:
    position: int
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal  # percent, e.g. Decimal("19")
    net: Decimal  # after discount, quantized
    vat_category: VatCategory = "S"


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    net: Decimal
    tax: Decimal
    category: VatCategory = "S"
    exemption_code: str | None = None  # VATEX code (BT-121) for E, AE, K, G and O


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    locale: Locale
    currency: str
    issue_date: date
    supply_date: date
    due_date: date
    payment_terms_days: int
    seller: Seller
    buyer: Party
    lines: tuple[DocumentLine, ...]
    tax_breakdown: tuple[TaxLine, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    amount_paid: Decimal = Decimal(0)
    amount_due: Decimal | None = None
    order_reference: str | None = None
    hosted_url: str | None = None
    account_url: str | None = None  # the customer page: all their invoices, payments and subscriptions
    notes: tuple[str, ...] = field(default_factory=tuple)
    document_kind: DocumentKind = "invoice"
    corrects_invoice: str | None = None  # a correction: the number of the invoice it corrects
    corrects_invoice_date: date | None = None  # ... and that invoice's date (§ 31 (5) UStDV)
    buyer_reference: str | None = None  # BT-10, e.g. the Leitweg-ID of a German public buyer (XRechnung)
