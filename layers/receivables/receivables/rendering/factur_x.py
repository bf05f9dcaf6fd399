"""Makes the invoice PDF a Factur-X / ZUGFeRD hybrid: PDF/A-3B with the CII XML inside (decisions/0036).

fpdf2 writes it while rendering (no second pass through a PDF parser): `enforce_compliance="PDF/A-3B"` adds
the sRGB output intent and refuses anything PDF/A forbids, `embed_file` writes `factur-x.xml` as an
associated file of the document (catalog /AF, AFRelationship /Alternative: the XML is the same invoice in
another form), and the XMP packet below names the PDF/A part and conformance and carries the Factur-X
extension schema (its namespace, the document's file name, type, version and conformance level), as the
Factur-X 1.0 / ZUGFeRD 2.x specification requires of the hybrid.

The XMP is written here, not synthesised by fpdf2, because fpdf2 stamps the modification date with the
current time: these PDFs must be the same bytes for the same invoice (decisions/0004).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from html import escape
from typing import Any

from receivables.documents import InvoiceDocument

FACTUR_X_FILENAME = "factur-x.xml"
FACTUR_X_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTUR_X_VERSION = "1.0"
FACTUR_X_LEVEL = "EN 16931"
PDFA = "PDF/A-3B"

_EXTENSION_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def embed_factur_x(pdf: Any, document: InvoiceDocument, xml: bytes | None, title: str, subject: str) -> None:
    """Sets the XMP packet and, when there is one, embeds the XML (an FPDF made with enforce_compliance)."""
    created = datetime.combine(document.issue_date, time(), tzinfo=UTC)
    if xml is not None:
        pdf.embed_file(
            bytes=xml,
            basename=FACTUR_X_FILENAME,
            desc="Factur-X/ZUGFeRD invoice (EN 16931)",
            mime_type="text/xml",
            associated_file_relationship="Alternative",
            modification_date=created,
            compress=True,
        )
    pdf.set_xmp_metadata(
        xmp_packet(
            title=title,
            author=document.seller.name,
            subject=subject,
            created=created,
            with_factur_x=xml is not None,
        )
    )


def xmp_packet(*, title: str, author: str, subject: str, created: datetime, with_factur_x: bool) -> str:
    """The x:xmpmeta element (fpdf2 wraps it in the xpacket processing instructions)."""
    stamp = created.isoformat(timespec="seconds")
    descriptions = [
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>",
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt>'
        "</dc:description></rdf:Description>",
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreatorTool>receivables</xmp:CreatorTool><xmp:CreateDate>{stamp}</xmp:CreateDate>"
        f"<xmp:ModifyDate>{stamp}</xmp:ModifyDate><xmp:MetadataDate>{stamp}</xmp:MetadataDate>"
        "</rdf:Description>",
    ]
    if with_factur_x:
        properties = "".join(
            '<rdf:li rdf:parseType="Resource">'
            f"<pdfaProperty:name>{name}</pdfaProperty:name>"
            "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
            "<pdfaProperty:category>external</pdfaProperty:category>"
            f"<pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
            for name, description in _EXTENSION_PROPERTIES
        )
        descriptions += [
            '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
            ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
            ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
            '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
            "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
            f"<pdfaSchema:namespaceURI>{FACTUR_X_NAMESPACE}</pdfaSchema:namespaceURI>"
            "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
            f"<pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>"
            "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>",
            f'<rdf:Description rdf:about="" xmlns:fx="{FACTUR_X_NAMESPACE}">'
            f"<fx:DocumentType>INVOICE</fx:DocumentType>"
            f"<fx:DocumentFileName>{FACTUR_X_FILENAME}</fx:DocumentFileName>"
            f"<fx:Version>{FACTUR_X_VERSION}</fx:Version>"
            f"<fx:ConformanceLevel>{FACTUR_X_LEVEL}</fx:ConformanceLevel></rdf:Description>",
        ]
    body = "".join(descriptions)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{body}</rdf:RDF></x:xmpmeta>'
    )
