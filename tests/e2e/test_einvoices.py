"""The e-invoice as the customer receives it (issue 13): the PDF attached to the invoice email is a
Factur-X hybrid whose `factur-x.xml` passes the EN 16931 rules and states what `GET /invoices/{id}` states.
"""

from __future__ import annotations

import email
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default
from io import BytesIO
from typing import Any

import requests
from lxml import etree
from pypdf import PdfReader

from tests.conftest import RunningSystem
from tests.einvoice_rules import schematron_failures, xsd_errors
from tests.support import load_event

RAM = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def _emailed_pdf(system: RunningSystem, number: str) -> bytes:
    """The invoice's PDF as attached to the email SES sent (the .eml `make run` keeps in its outbox)."""
    for path in sorted((system.state_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        for part in message.iter_attachments():
            if part.get_filename() == f"{number}.pdf":
                return bytes(part.get_payload(decode=True))
    raise AssertionError(f"no email carries {number}.pdf")


def _amount(xml: bytes, path: str) -> Decimal:
    (text,) = etree.fromstring(xml).xpath(f"{path}/text()", namespaces=RAM)
    return Decimal(text)


def test_the_emailed_pdf_embeds_a_valid_factur_x_xml_that_states_the_invoice(
    running_system: RunningSystem,
) -> None:
    body: dict[str, Any] = load_event("http/create_order_body.json") | {"external_id": "EINV-E2E-1"}
    order = running_system.post_order(body, key="einv-e2e-1").json()
    invoice = running_system.invoice_of(order["id"])

    attachments = PdfReader(BytesIO(_emailed_pdf(running_system, invoice["number"]))).attachments
    assert list(attachments) == ["factur-x.xml"]
    (xml,) = attachments["factur-x.xml"]

    assert xsd_errors(xml) == []
    assert schematron_failures(xml) == []
    assert _amount(xml, f"{SUMMATION}/ram:GrandTotalAmount") == Decimal(invoice["total"])
    assert _amount(xml, f"{SUMMATION}/ram:TaxBasisTotalAmount") == Decimal(invoice["net"])
    assert _amount(xml, f"{SUMMATION}/ram:TaxTotalAmount") == Decimal(invoice["tax"])
    assert _amount(xml, f"{SUMMATION}/ram:DuePayableAmount") == Decimal(invoice["amount_due"])
    # the route answers the same document
    route = requests.get(
        running_system.url(f"/invoices/{invoice['id']}/e-invoice"),
        headers={"x-api-key": running_system.api_key},
        timeout=120,
    )
    assert route.status_code == 200, route.text
    assert route.headers["content-type"].startswith("application/xml")
    assert route.content == xml
