"""The document as EN 16931 CII XML, written with drafthorse (pinned; decisions/0036).

Field by field (BT numbers of EN 16931-1):
- header: number (BT-1), type code (BT-3: 380 invoice, 381 Rechnungskorrektur, 384 Stornorechnung), issue
  date (BT-2), notes (BT-22: the correction's reference and reason, the document's notes);
- seller (BG-4): name, address, VAT id (BT-31, scheme VA), tax number (BT-32, FC), commercial register
  (BT-30), email as electronic address (BT-34) and contact (BG-6: name, phone, email);
- buyer (BG-7): name, address, VAT id (BT-48), email as electronic address (BT-49); buyer reference (BT-10);
- the storefront's order id as sales order reference (BT-14), the supply date as delivery date (BT-72);
- per line (BG-25): position, SKU, description, quantity (unit C62), net price (BT-146), discount as a line
  allowance (BG-27, reason code 95), VAT category and rate (BT-151/152), line net (BT-131);
- VAT breakdown (BG-23) per category and rate as stored, with the VATEX code (BT-121) and the note the PDF
  prints (BT-120) for E, AE, K, G and O;
- payment: the invoice number as payment reference (BT-83), SEPA credit transfer to the seller's IBAN (BG-16),
  the terms the PDF prints (BT-20) and the due date (BT-9); totals (BG-22).

Amounts are the stored Decimals in the currency's minor unit (JPY 0 digits). EN 16931 allows at most two
decimals for amounts (BR-DEC-*), so a three-digit currency (BHD) is written with two where its last digit is
0 and otherwise cannot be an EN 16931 invoice: `missing_fields` names the amount.

Rules that shape the mapping: "not subject to VAT" (O) forbids the VAT ids of seller and buyer (BR-O-2..4),
a line rate (BR-O-5) and any other category on the invoice (BR-O-11), so the seller is identified by its
register entry (BR-CO-26) and keeps only its tax number (BT-32); the breakdown states rate 0, which
XRechnung requires (BR-DE-14) and EN 16931 allows; an intra-community
supply (K) needs the deliver-to country (BR-IC-12), the buyer's address; item prices are never negative
(BR-27), so a Stornorechnung's lines carry the negated quantity at the invoice's price.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal
from xml.etree import ElementTree

from receivables.documents import DocumentLine, InvoiceDocument, Party
from receivables.errors import FieldError, InvalidRequest
from receivables.money import minor_digits, quantize

EInvoiceFormat = Literal["zugferd", "xrechnung"]
FORMATS: tuple[EInvoiceFormat, ...] = ("zugferd", "xrechnung")
GUIDELINES: dict[EInvoiceFormat, str] = {
    "zugferd": "urn:cen.eu:en16931:2017",
    "xrechnung": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
TYPE_CODES = {"invoice": "380", "credit_note": "381", "cancellation": "384"}
_UNIT_ONE = "C62"  # UN/ECE Recommendation 20 "one": our quantities are counts or fractions of one
_SEPA_CREDIT_TRANSFER, _NOT_DEFINED = "58", "1"  # UNTDID 4461
_DISCOUNT = "95"  # UNTDID 5189 "Discount"
_EXEMPT_CATEGORIES = frozenset({"E", "AE", "K", "G", "O"})
_TWO_PLACES = Decimal("0.01")
_RSM = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}"
_RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
_UDT = "{urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100}"


class EInvoiceIncomplete(InvalidRequest):
    """The document lacks what the e-invoice's rules require; `errors` names each missing field."""

    title = "E-invoice incomplete"
    type_slug = "einvoice-incomplete"

    def __init__(self, errors: Iterable[FieldError], format_name: str) -> None:
        errors = list(errors)
        super().__init__(
            errors, f"The {format_name} e-invoice cannot be built: {len(errors)} required field(s) missing."
        )


def missing_fields(document: InvoiceDocument, format_name: EInvoiceFormat) -> list[FieldError]:
    """What EN 16931 (and for XRechnung the German CIUS, BR-DE-*) requires and the document lacks."""
    seller, buyer, errors = document.seller, document.buyer, []
    categories = {line.vat_category for line in document.lines} | {t.category for t in document.tax_breakdown}
    not_subject = "O" in categories
    if not_subject and categories != {"O"}:  # BR-O-11, BR-O-12
        errors.append(
            FieldError("lines", "Lines not subject to VAT (O) need an invoice of their own (BR-O-11)")
        )
    if not_subject and not seller.register:  # BR-O-2 drops the VAT id, BR-CO-26 needs an identifier
        errors.append(
            FieldError("seller.register", "Needed to identify the seller on an O invoice (BR-CO-26)")
        )
    if not not_subject and not (seller.vat_id or seller.tax_number):  # BR-S-02, BR-E-02, BR-CO-26, BR-DE-16
        errors.append(
            FieldError("seller.vat_id", "A VAT id or tax number of the seller is required (BR-S-02)")
        )
    if categories & {"K", "AE", "G"} and not seller.vat_id:  # BR-IC-02, BR-AE-02, BR-G-02
        errors.append(
            FieldError("seller.vat_id", "The seller's VAT id is required for K, AE and G (BR-IC-02)")
        )
    if categories & {"K", "AE"} and not buyer.vat_id:  # BR-IC-02, BR-AE-02
        errors.append(FieldError("customer.vat_id", "The buyer's VAT id is required for K and AE (BR-IC-02)"))
    if minor_digits(document.currency) > 2:
        errors += [
            FieldError(name, f"{value} {document.currency} has more than two decimals (EN 16931 BR-DEC)")
            for name, value in _amounts(document)
            if quantize(value, document.currency) != value.quantize(_TWO_PLACES)
        ]
    if format_name == "xrechnung":
        if not document.buyer_reference:
            errors.append(
                FieldError("customer.buyer_reference", "XRechnung requires the Leitweg-ID (BR-DE-15)")
            )
        if not seller.email:
            errors.append(
                FieldError("seller.email", "XRechnung requires the seller's email (BR-DE-7, BT-34)")
            )
        if not seller.phone:
            errors.append(FieldError("seller.phone", "XRechnung requires the seller's phone (BR-DE-6)"))
        if document.document_kind == "invoice" and not seller.iban:
            errors.append(FieldError("seller.iban", "XRechnung requires payment instructions (BR-DE-1)"))
    return list(dict.fromkeys(errors))


def build_cii(document: InvoiceDocument, format_name: EInvoiceFormat) -> bytes:
    """The CII XML (UTF-8 bytes); EInvoiceIncomplete (a 422 at the API) when a required field is missing."""
    errors = missing_fields(document, format_name)
    if errors:
        raise EInvoiceIncomplete(errors, format_name)
    return _Builder(document, format_name).xml()


def _amounts(document: InvoiceDocument) -> Iterable[tuple[str, Decimal]]:
    yield "net", document.net
    yield "tax", document.tax
    yield "gross", document.gross
    for index, line in enumerate(document.lines):
        yield f"lines[{index}].net", line.net
        yield f"lines[{index}].discount", _line_base(line, document.currency) - line.net
    for index, tax in enumerate(document.tax_breakdown):
        yield f"tax_breakdown[{index}].net", tax.net
        yield f"tax_breakdown[{index}].tax", tax.tax


def _line_base(line: DocumentLine, currency: str) -> Decimal:
    """Quantity × price before the discount, rounded like the line's net (BT-137)."""
    return quantize(line.quantity * line.unit_price, currency)


def _plain(value: Decimal) -> Decimal:
    """The value without exponent notation (str(Decimal) may give "1E+3")."""
    return Decimal(format(value, "f"))


def _text(value: Decimal) -> str:
    return format(value, "f")


def _sub(parent: ElementTree.Element, tag: str, text: str | None = None) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, _RAM + tag)
    if text is not None:
        element.text = text
    return element


class _Builder:
    def __init__(self, document: InvoiceDocument, format_name: EInvoiceFormat) -> None:
        self.doc = document
        self.format_name = format_name
        categories = {line.vat_category for line in document.lines}
        categories |= {tax.category for tax in document.tax_breakdown}
        self.not_subject = "O" in categories
        self.intra_community = "K" in categories
        # A Stornorechnung prints the invoice's amounts negated; its prices stay positive (BR-27).
        self.sign = Decimal(-1) if document.document_kind == "cancellation" else Decimal(1)

    def amount(self, value: Decimal) -> Decimal:
        """Minor units of the currency, at most two decimals (checked by missing_fields)."""
        rounded = quantize(value, self.doc.currency)
        if minor_digits(self.doc.currency) > 2:
            rounded = rounded.quantize(_TWO_PLACES)
        return _plain(rounded)

    def xml(self) -> bytes:
        from drafthorse.models.document import Document  # heavy-ish: only e-invoice paths import it

        doc, cii = self.doc, Document()
        cii.context.guideline_parameter.id = GUIDELINES[self.format_name]
        cii.header.id = doc.number
        cii.header.type_code = TYPE_CODES[doc.document_kind]
        cii.header.issue_date_time = doc.issue_date
        for text in self._notes():
            self._note(cii.header.notes, text)
        self._agreement(cii.trade.agreement)
        self._delivery(cii.trade.delivery)
        self._settlement(cii.trade.settlement)
        root = cii.to_etree()
        transaction = root.find(_RSM + "SupplyChainTradeTransaction")
        assert transaction is not None
        for index, line in enumerate(doc.lines):  # the lines come first in the transaction (XSD order)
            transaction.insert(index, self._line(line))
        # One pass of ElementTree over the tree: drafthorse's `Document.serialize` writes, re-parses and
        # pretty-prints it twice more (and validates against drafthorse's older XSDs when asked), which
        # doubled the time of an invoice PDF. The XML is validated in the tests (XSD and schematron).
        xml: bytes = ElementTree.tostring(root, "utf-8", xml_declaration=True)
        return xml

    def _notes(self) -> list[str]:
        from receivables.rendering.labels import correction_reference

        doc = self.doc
        notes = [correction_reference(doc)] if doc.document_kind != "invoice" else []
        return notes + list(doc.notes)

    @staticmethod
    def _note(container: Any, text: str) -> None:
        from drafthorse.models.note import IncludedNote

        note = IncludedNote()
        note.content = text
        container.add(note)

    # -------------------------------------------------------------------------------- parties
    def _agreement(self, agreement: Any) -> None:
        doc = self.doc
        if doc.buyer_reference:
            agreement.buyer_reference = doc.buyer_reference
        seller = doc.seller
        self._party(agreement.seller, seller)
        if seller.register:
            agreement.seller.legal_organization.id = ("", seller.register)
        if seller.tax_number:  # BT-32: allowed with O too (BR-O-2 names only VAT identifiers)
            self._tax_registration(agreement.seller, "FC", seller.tax_number)
        if seller.vat_id and not self.not_subject:
            self._tax_registration(agreement.seller, "VA", seller.vat_id)
        if seller.email:
            agreement.seller.electronic_address.uri_ID = ("EM", seller.email)
        if self.format_name == "xrechnung" or seller.phone:  # BG-6, mandatory in XRechnung (BR-DE-2)
            contact = agreement.seller.contact
            contact.person_name = seller.name
            if seller.phone:
                contact.telephone.number = seller.phone
            if seller.email:
                contact.email.address = seller.email
        self._party(agreement.buyer, doc.buyer)
        if doc.buyer.vat_id and not self.not_subject:
            self._tax_registration(agreement.buyer, "VA", doc.buyer.vat_id)
        if doc.buyer.email:
            agreement.buyer.electronic_address.uri_ID = ("EM", doc.buyer.email)
        if doc.order_reference:
            agreement.seller_order.issuer_assigned_id = doc.order_reference

    @staticmethod
    def _party(target: Any, party: Party) -> None:
        target.name = party.name
        address = party.address
        target.address.line_one = address.line1
        if address.line2:
            target.address.line_two = address.line2
        target.address.postcode = address.postal_code
        target.address.city_name = address.city
        target.address.country_id = address.country.upper()

    @staticmethod
    def _tax_registration(target: Any, scheme: str, identifier: str) -> None:
        from drafthorse.models.party import TaxRegistration

        target.tax_registrations.add(TaxRegistration(id=(scheme, identifier.replace(" ", ""))))

    def _delivery(self, delivery: Any) -> None:
        delivery.event.occurrence = self.doc.supply_date
        if self.intra_community:  # BR-IC-12: the deliver-to country; goods go to the buyer's address
            self._party(delivery.ship_to, self.doc.buyer)

    # -------------------------------------------------------------------------------- lines
    def _line(self, line: DocumentLine) -> ElementTree.Element:
        """One IncludedSupplyChainTradeLineItem, written with ElementTree in the XSD's element order.

        The lines are the part of the document that grows, and drafthorse's objects cost 0.14 ms a line
        (a 300-line invoice took 40 ms more to render); this takes a tenth of that. The tests validate
        every line against the XSD and schematron as for the rest of the document.
        """
        currency = self.doc.currency
        item = ElementTree.Element(_RAM + "IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "AssociatedDocumentLineDocument"), "LineID", str(line.position))
        product = _sub(item, "SpecifiedTradeProduct")
        if line.sku:
            _sub(product, "SellerAssignedID", line.sku)
        _sub(product, "Name", line.description)
        agreement = _sub(item, "SpecifiedLineTradeAgreement")
        _sub(_sub(agreement, "NetPriceProductTradePrice"), "ChargeAmount", _text(abs(line.unit_price)))
        quantity = _sub(
            _sub(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", _text(line.quantity * self.sign)
        )
        quantity.set("unitCode", _UNIT_ONE)
        settlement = _sub(item, "SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ApplicableTradeTax")
        _sub(tax, "TypeCode", "VAT")
        _sub(tax, "CategoryCode", line.vat_category)
        if line.vat_category != "O":  # BR-O-5: no rate on a line not subject to VAT
            _sub(tax, "RateApplicablePercent", _text(line.tax_rate))
        if line.discount_percent:  # BG-27: the discount as a line allowance on quantity x price
            base = _line_base(line, currency)
            allowance = _sub(settlement, "SpecifiedTradeAllowanceCharge")
            indicator = _sub(allowance, "ChargeIndicator")
            ElementTree.SubElement(indicator, _UDT + "Indicator").text = "false"
            _sub(allowance, "CalculationPercent", _text(line.discount_percent))
            # Signed like the line's net: a Stornorechnung's negated quantity gives a negated basis.
            _sub(allowance, "BasisAmount", _text(self.amount(base)))
            _sub(allowance, "ActualAmount", _text(self.amount(base - line.net)))
            _sub(allowance, "ReasonCode", _DISCOUNT)
            _sub(allowance, "Reason", "Rabatt" if self.doc.locale == "de" else "Discount")
        summation = _sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "LineTotalAmount", _text(self.amount(line.net)))
        return item

    # -------------------------------------------------------------------------------- settlement
    def _settlement(self, settlement: Any) -> None:
        from drafthorse.models.accounting import ApplicableTradeTax
        from drafthorse.models.payment import PaymentMeans, PaymentTerms

        from receivables.rendering.labels import EXEMPTION_NOTES

        doc, invoice = self.doc, self.doc.document_kind == "invoice"
        settlement.currency_code = doc.currency
        if invoice:
            settlement.payment_reference = doc.number  # bank matching finds invoices by their number
        means = PaymentMeans()
        if invoice and doc.seller.iban:
            means.type_code = _SEPA_CREDIT_TRANSFER
            means.payee_account.iban = doc.seller.iban.replace(" ", "")
            if doc.seller.bank_name:
                means.payee_account.account_name = doc.seller.name
            if doc.seller.bic:
                means.payee_institution.bic = doc.seller.bic
        else:  # a correction is refunded or set off, not paid to the seller
            means.type_code = _NOT_DEFINED
        settlement.payment_means.add(means)
        notes = EXEMPTION_NOTES.get(doc.locale, EXEMPTION_NOTES["en"])
        for entry in doc.tax_breakdown:
            tax = ApplicableTradeTax()
            tax.calculated_amount = self.amount(entry.tax)
            tax.type_code = "VAT"
            if entry.category in _EXEMPT_CATEGORIES:
                tax.exemption_reason = notes[entry.category]
            tax.basis_amount = self.amount(entry.net)
            tax.category_code = entry.category
            if entry.exemption_code:
                tax.exemption_reason_code = entry.exemption_code
            tax.rate_applicable_percent = _plain(entry.rate)  # 0 for O (BR-DE-14 wants it stated)
            settlement.trade_tax.add(tax)
        terms = PaymentTerms()
        terms.description = self._terms_text()
        if invoice:
            terms.due = doc.due_date
        settlement.terms.add(terms)
        summation = settlement.monetary_summation
        summation.line_total = self.amount(sum((line.net for line in doc.lines), Decimal(0)))
        summation.tax_basis_total = self.amount(doc.net)
        summation.tax_total = (self.amount(doc.tax), doc.currency)
        summation.grand_total = self.amount(doc.gross)
        # The document as issued: what is paid later is the ledger's business, not the invoice's.
        summation.prepaid_total = self.amount(Decimal(0))
        summation.due_amount = self.amount(doc.gross)
        if doc.corrects_invoice:  # BG-3, BT-25/BT-26: the invoice this corrects or cancels
            settlement.invoice_referenced_document.issuer_assigned_id = doc.corrects_invoice
            if doc.corrects_invoice_date:
                settlement.invoice_referenced_document.issue_date_time = doc.corrects_invoice_date

    def _terms_text(self) -> str:
        from receivables.rendering.summary import payment_terms

        doc = self.doc
        if doc.document_kind == "invoice":
            return payment_terms(doc)
        if doc.locale == "de":
            return f"Der Betrag wird mit der Rechnung {doc.corrects_invoice} verrechnet oder erstattet."
        return f"The amount is set off against invoice {doc.corrects_invoice} or refunded."
