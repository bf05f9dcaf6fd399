"""The VAT category is decided, not copied (decisions/0027), seen from outside: an Austrian business buying
goods from the German seller gets an intra-community supply (K) without VAT and the § 6a note on its PDF;
a German order that names another rate than the law's is refused naming the field."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = pytest.mark.e2e


def _order(external_id: str) -> dict[str, Any]:
    body: dict[str, Any] = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    return body


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_an_austrian_business_buying_goods_gets_a_tax_free_intra_community_supply(
    running_system: RunningSystem,
) -> None:
    # given an Austrian company with a valid VAT id; the storefront sends no tax rate
    body = _order("TAX-E2E-AT")
    body["customer"] |= {
        "email": "einkauf@wiener-handel.example",
        "name": "Wiener Handels GmbH",
        "address": {"line1": "Mariahilfer Straße 1", "city": "Wien", "postal_code": "1060", "country": "AT"},
        "vat_id": "ATU13585627",
    }
    del body["lines"][0]["tax_rate"]

    created = running_system.post_order(body, key="tax-e2e-at")

    assert created.status_code == 201, created.text
    invoice = running_system.invoice_of(created.json()["id"])
    assert (invoice["net"], invoice["tax"], invoice["total"]) == ("35.98", "0.00", "35.98")
    assert invoice["lines"][0]["vat_category"] == "K"
    assert invoice["lines"][0]["tax_rate"] == "0"
    assert invoice["tax_breakdown"] == [
        {"rate": "0", "net": "35.98", "tax": "0.00", "category": "K", "exemption_code": "VATEX-EU-IC"}
    ]
    running_system.settle()
    year = invoice["number"].split("-")[0]
    pdf = next((running_system.state_dir / "s3").glob(f"*/invoices/{year}/{invoice['number']}.pdf"))
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "§ 4 Nr. 1b i. V. m. § 6a UStG" in text  # the customer's locale is "de"
    assert "ATU13585627" in text


def test_a_german_order_with_another_rate_than_the_laws_is_refused_naming_the_field(
    running_system: RunningSystem,
) -> None:
    body = _order("TAX-E2E-DE-25")
    body["lines"][0]["tax_rate"] = "25"

    response = running_system.post_order(body, key="tax-e2e-de-25")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["lines[0].tax_rate"]
    assert "19" in errors[0]["message"]
    missing = running_system.get_json("/invoices", limit="200")["items"]
    assert all(invoice["external_id"] != "TAX-E2E-DE-25" for invoice in missing)
