"""E-invoices through the running functions: the route, the PDF's embedded XML and the XRechnung email.

The sample order is placed and carried through the stream; the XML the route returns is validated against
the official rules (tests/einvoice_rules.py) and compared with the XML inside the stored PDF and with what
the invoice API says.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import facturx
import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from receivables import document_store
from tests.einvoice_rules import schematron_failures, xsd_errors
from tests.support import REPOSITORY, load_event

SAMPLE_INVOICE = "inv_c060d9732b6f5c158fe6ec18b68018b6"
SAMPLE_CUSTOMER = "cus_dcc46d538724594a91ed3d9e66117e26"
LEITWEG_ID = "04011000-12345-34"
NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _order(system: Any, external_id: str = "SHOP-1001") -> str:
    """Places the sample order (under another external id when given); its invoice's id."""
    event = load_event("orders_api/create_order.json")
    if external_id != "SHOP-1001":
        event["body"] = event["body"].replace("SHOP-1001", external_id)
        event["headers"]["idempotency-key"] = f"order-{external_id}"
        del event["headers"]["content-length"]
    response = _invoke(system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return "inv_" + str(json.loads(response["body"])["id"]).removeprefix("ord_")


def _einvoice(system: Any, format_name: str | None, invoice_id: str = SAMPLE_INVOICE) -> Any:
    event = load_event("invoices_api/get_e_invoice.json")
    path = f"/invoices/{invoice_id}/e-invoice"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"invoice_id": invoice_id}
    if format_name is None:
        event["rawQueryString"], event["queryStringParameters"] = "", None
    else:
        event["rawQueryString"] = f"format={format_name}"
        event["queryStringParameters"] = {"format": format_name}
    return _invoke(system, "InvoicesApiFunction", event)


def _invoice(system: Any, invoice_id: str = SAMPLE_INVOICE) -> dict[str, Any]:
    event = load_event("invoices_api/get_invoice.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}"
    event["pathParameters"] = {"invoice_id": invoice_id}
    response = _invoke(system, "InvoicesApiFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(response["body"]))


def _patch_customer(system: Any, body: dict[str, Any]) -> Any:
    event = load_event("accounting_api/update_customer.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/customers/{SAMPLE_CUSTOMER}"
    event["body"] = json.dumps(body)
    del event["headers"]["if-match"]
    return _invoke(system, "AccountingApiFunction", event)


def _stored_pdf(system: Any, number: str) -> bytes:
    bucket = system.topology.functions.by_logical_id("RenderInvoiceFunction").environment["DOCUMENTS_BUCKET"]
    key = document_store.invoice_pdf_key(number)
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _texts(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_the_route_returns_the_xml_the_pdf_embeds_and_it_states_what_the_api_states(
    local_system: Any,
) -> None:
    _order(local_system)

    response = _einvoice(local_system, None)
    invoice = _invoice(local_system)

    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Content-Type"] == "application/xml"
    xml = response["body"].encode()
    assert xsd_errors(xml) == []
    assert schematron_failures(xml) == []
    name, embedded = facturx.get_xml_from_pdf(_stored_pdf(local_system, invoice["number"]), check_xsd=False)
    assert (name, embedded) == ("factur-x.xml", xml)
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert _texts(xml, f"{summation}/ram:GrandTotalAmount") == [invoice["total"]]
    assert _texts(xml, f"{summation}/ram:TaxTotalAmount") == [invoice["tax"]]
    assert _texts(xml, f"{summation}/ram:TaxBasisTotalAmount") == [invoice["net"]]
    assert _texts(xml, "//ram:PaymentReference") == [invoice["number"]]
    assert _texts(xml, "//ram:SpecifiedTradePaymentTerms//*[local-name()='DateTimeString']") == [
        invoice["due_date"].replace("-", "")
    ]
    assert [
        (Decimal(rate), category)
        for rate, category in zip(
            _texts(
                xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
            ),
            _texts(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"),
            strict=True,
        )
    ] == [(Decimal(t["rate"]), t["category"]) for t in invoice["tax_breakdown"]]


def test_xrechnung_without_a_buyer_reference_is_a_problem_naming_it(local_system: Any) -> None:
    _order(local_system)

    response = _einvoice(local_system, "xrechnung")

    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"] == "application/problem+json"
    problem = json.loads(response["body"])
    assert problem["type"] == "/problems/einvoice-incomplete"
    assert [error["field"] for error in problem["errors"]] == ["customer.buyer_reference"]


def test_an_unknown_format_is_refused_naming_the_parameter(local_system: Any) -> None:
    _order(local_system)

    response = _einvoice(local_system, "ubl")

    assert response["statusCode"] == 422
    assert "format" in response["body"]


def test_choosing_xrechnung_needs_a_buyer_reference(local_system: Any) -> None:
    _order(local_system)

    response = _patch_customer(local_system, {"einvoice_format": "xrechnung"})

    assert response["statusCode"] == 422
    assert [e["field"] for e in json.loads(response["body"])["errors"]] == ["buyer_reference"]


def test_a_customer_on_xrechnung_gets_it_beside_the_pdf_and_from_the_route(local_system: Any) -> None:
    _order(local_system)
    patched = _patch_customer(local_system, {"einvoice_format": "xrechnung", "buyer_reference": LEITWEG_ID})
    assert patched["statusCode"] == 200, patched["body"]
    customer = json.loads(patched["body"])
    assert (customer["einvoice_format"], customer["buyer_reference"]) == ("xrechnung", LEITWEG_ID)
    assert local_system.settle()
    [updated] = [e["detail"] for e in local_system.events() if e["detail-type"] == "customer.updated"]
    schema = json.loads((REPOSITORY / "schemas/events/customer.updated.schema.json").read_text())
    Draft202012Validator(schema).validate(updated)
    assert updated["data"]["changed_fields"] == ["einvoice_format", "buyer_reference"]
    emails_before = len(local_system.emails())

    second = _invoice(local_system, _order(local_system, "SHOP-1002"))

    [email] = local_system.emails()[emails_before:]
    assert [(a["filename"], a["content_type"]) for a in email.attachments] == [
        (f"{second['number']}.pdf", "application/pdf"),
        (f"{second['number']}.xrechnung.xml", "application/xml"),
    ]
    response = _einvoice(local_system, "xrechnung", second["id"])
    assert response["statusCode"] == 200, response["body"]
    xml = response["body"].encode()
    assert _texts(xml, "//ram:BuyerReference") == [LEITWEG_ID]
    assert _texts(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    ]
    assert xsd_errors(xml) == []
    # Every CEN rule holds; the one Factur-X rule an XRechnung breaks is its (KoSIT) guideline id.
    assert [f.split(":")[0] for f in schematron_failures(xml)] == ["FX-SCH-A-000556"]
    _, embedded = facturx.get_xml_from_pdf(_stored_pdf(local_system, second["number"]), check_xsd=False)
    assert _texts(embedded, "//ram:BuyerReference") == [LEITWEG_ID]


def test_a_correction_for_a_customer_on_xrechnung_carries_its_own_xrechnung(local_system: Any) -> None:
    _order(local_system)
    patched = _patch_customer(local_system, {"einvoice_format": "xrechnung", "buyer_reference": LEITWEG_ID})
    assert patched["statusCode"] == 200, patched["body"]
    emails_before = len(local_system.emails())
    event = load_event("accounting_api/create_credit_note.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{SAMPLE_INVOICE}/credit-notes"

    response = _invoke(local_system, "AccountingApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert local_system.settle()

    note = json.loads(response["body"])
    [email] = local_system.emails()[emails_before:]
    assert [a["filename"] for a in email.attachments] == [
        f"{note['number']}.pdf",
        f"{note['number']}.xrechnung.xml",
    ]
    bucket = local_system.topology.functions.by_logical_id("RenderCreditNoteFunction").environment[
        "DOCUMENTS_BUCKET"
    ]
    key = f"credit-notes/{note['number'].split('-')[1]}/{note['number']}.pdf"
    pdf = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    _, embedded = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert _texts(embedded, "//*[local-name()='ExchangedDocument']/ram:TypeCode") == ["381"]
    assert _texts(embedded, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        note["invoice_number"]
    ]
    assert _texts(embedded, "//ram:BuyerReference") == [LEITWEG_ID]
    assert xsd_errors(embedded) == []
    assert schematron_failures(embedded) == []


CROSS_BORDER = {
    # (buyer address, VAT id, supply type) -> the category the system decides (decisions/0027)
    "K": (
        {"line1": "12 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
        "FR40303265045",
        "goods",
    ),
    "AE": (
        {"line1": "12 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
        "FR40303265045",
        "services",
    ),
    "G": (
        {"line1": "Bahnhofstrasse 1", "city": "Zürich", "postal_code": "8001", "country": "CH"},
        "CHE-116.281.710 MWST",
        "goods",
    ),
    "O": (
        {"line1": "Bahnhofstrasse 1", "city": "Zürich", "postal_code": "8001", "country": "CH"},
        "CHE-116.281.710 MWST",
        "services",
    ),
}


@pytest.mark.parametrize("category", list(CROSS_BORDER))
def test_a_cross_border_invoice_as_the_system_decided_it_passes_the_rules(
    local_system: Any, category: str
) -> None:
    address, vat_id, supply = CROSS_BORDER[category]
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = f"SHOP-{category}"
    body["customer"] |= {"email": f"{category.lower()}@example.com", "address": address, "vat_id": vat_id}
    body["lines"] = [
        {key: value for key, value in line.items() if key != "tax_rate"} | {"supply_type": supply}
        for line in body["lines"]
    ]
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), f"order-{category}"
    del event["headers"]["content-length"]
    response = _invoke(local_system, "OrdersApiFunction", event)
    assert response["statusCode"] == 201, response["body"]
    assert local_system.settle()
    invoice_id = "inv_" + str(json.loads(response["body"])["id"]).removeprefix("ord_")
    invoice = _invoice(local_system, invoice_id)
    assert [t["category"] for t in invoice["tax_breakdown"]] == [category]

    xml = _einvoice(local_system, "zugferd", invoice_id)["body"].encode()

    assert xsd_errors(xml) == []
    assert schematron_failures(xml) == []
    assert _texts(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReasonCode"
    ) == [invoice["tax_breakdown"][0]["exemption_code"]]
    _, embedded = facturx.get_xml_from_pdf(_stored_pdf(local_system, invoice["number"]), check_xsd=False)
    assert embedded == xml
