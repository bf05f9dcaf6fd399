"""The EN 16931 VAT categories this system decides and the exemption reason code (VATEX) each carries.

Pure constants: pricing (intake) and the documents read them without importing the rules or the rates.
"""

from __future__ import annotations

from typing import Final, Literal

from receivables.documents import VatCategory

SupplyType = Literal["goods", "services"]
# What the storefront may say about a line's rate; the category itself is decided (rules.py).
TaxCategory = Literal["standard", "reduced", "zero", "exempt"]

# BT-121, from the CEF VATEX code list. E: exemptions of Art. 132 VAT Directive (§ 4 Nr. 8-29 UStG), the
# only exempt supplies a storefront line can name ("exempt"); K, AE, G and O have a code of their own.
EXEMPTION_CODES: Final[dict[VatCategory, str]] = {
    "E": "VATEX-EU-132",
    "AE": "VATEX-EU-AE",
    "K": "VATEX-EU-IC",
    "G": "VATEX-EU-G",
    "O": "VATEX-EU-O",
}

# Every category but S charges no VAT on the invoice (Z is a rate of zero; the others owe none here).
CHARGED_CATEGORIES: Final = frozenset({"S"})


def exemption_code(category: VatCategory) -> str | None:
    return EXEMPTION_CODES.get(category)
