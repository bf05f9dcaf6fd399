"""Every invoice and credit note PDF is a Factur-X / ZUGFeRD hybrid: PDF/A-3B with `factur-x.xml` inside.

The XML is read back with the `factur-x` package (akretion's reference implementation, an independent
reader) and the PDF's structure with pypdf: the associated file in the catalog (/AF) with
AFRelationship /Alternative, the embedded file's MIME type, the sRGB output intent, and the XMP packet with
the PDF/A identification and the Factur-X extension schema.
"""

from __future__ import annotations

import dataclasses
import io

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from receivables.einvoice import build_cii
from receivables.rendering.invoice_pdf import render_invoice_pdf
from receivables.rendering.samples import sample_invoice_document
from tests.einvoice_rules import schematron_failures, xsd_errors
from tests.unit.test_einvoice import SUITE

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def _xmp(reader: PdfReader) -> etree._Element:
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    return etree.fromstring(stream.get_data())


@pytest.fixture(scope="module")
def invoice_pdf() -> bytes:
    return render_invoice_pdf(sample_invoice_document(10))


def test_the_pdf_carries_the_documents_xml_which_passes_the_official_rules(invoice_pdf: bytes) -> None:
    name, xml = facturx.get_xml_from_pdf(invoice_pdf, check_xsd=False)

    assert name == "factur-x.xml"
    assert xml == build_cii(sample_invoice_document(10), "zugferd")
    assert facturx.get_flavor(etree.fromstring(xml)) == "factur-x"
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    assert xsd_errors(xml) == []
    assert schematron_failures(xml) == []


def test_the_xml_is_an_associated_file_of_the_document_as_its_alternative(invoice_pdf: bytes) -> None:
    catalog = PdfReader(io.BytesIO(invoice_pdf)).trailer["/Root"]

    (file_spec,) = [entry.get_object() for entry in catalog["/AF"]]
    assert file_spec["/F"] == "factur-x.xml"
    assert file_spec["/UF"] == "factur-x.xml"
    assert file_spec["/AFRelationship"] == "/Alternative"
    assert file_spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[0] == "factur-x.xml"


def test_it_declares_pdf_a_3b_with_an_srgb_output_intent(invoice_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(invoice_pdf))
    (intent,) = [entry.get_object() for entry in reader.trailer["/Root"]["/OutputIntents"]]
    xmp = _xmp(reader)

    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}part") == "3"
    assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}conformance") == "B"
    assert invoice_pdf.startswith(b"%PDF-1.7")


def test_the_xmp_names_the_factur_x_file_version_and_level_with_its_extension_schema(
    invoice_pdf: bytes,
) -> None:
    xmp = _xmp(PdfReader(io.BytesIO(invoice_pdf)))
    fx = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"

    assert xmp.findtext(f".//{fx}DocumentFileName") == "factur-x.xml"
    assert xmp.findtext(f".//{fx}DocumentType") == "INVOICE"
    assert xmp.findtext(f".//{fx}Version") == "1.0"
    assert xmp.findtext(f".//{fx}ConformanceLevel") == "EN 16931"
    schema = xmp.find(".//{http://www.aiim.org/pdfa/ns/schema#}namespaceURI")
    assert schema is not None
    assert schema.text == fx.strip("{}")
    properties = [e.text for e in xmp.iter("{http://www.aiim.org/pdfa/ns/property#}name")]
    assert properties == ["DocumentFileName", "DocumentType", "Version", "ConformanceLevel"]


@pytest.mark.parametrize("name", ["credit note (381)", "cancellation (384)", "K", "JPY"])
def test_corrections_and_other_documents_embed_their_own_xml(name: str) -> None:
    document = SUITE[name]
    _, xml = facturx.get_xml_from_pdf(render_invoice_pdf(document), check_xsd=False)

    assert xml == build_cii(document, "zugferd")


def test_a_document_in_another_script_embeds_the_xml_too() -> None:
    document = sample_invoice_document(3)
    document = dataclasses.replace(document, buyer=dataclasses.replace(document.buyer, name="株式会社テスト"))
    _, xml = facturx.get_xml_from_pdf(render_invoice_pdf(document), check_xsd=False)

    assert "株式会社テスト".encode() in xml
    assert schematron_failures(xml) == []


def test_the_same_invoice_renders_to_the_same_bytes() -> None:
    assert render_invoice_pdf(sample_invoice_document(10)) == render_invoice_pdf(sample_invoice_document(10))


def test_a_document_the_rules_refuse_is_still_issued_as_pdf_a_without_xml() -> None:
    """A seller profile without VAT id and tax number cannot make an EN 16931 invoice (BR-S-02)."""
    document = sample_invoice_document(3)
    seller = dataclasses.replace(document.seller, vat_id=None, tax_number=None)
    reader = PdfReader(io.BytesIO(render_invoice_pdf(dataclasses.replace(document, seller=seller))))

    assert "/AF" not in reader.trailer["/Root"]
    assert _xmp(reader).findtext(".//{http://www.aiim.org/pdfa/ns/id/}part") == "3"
