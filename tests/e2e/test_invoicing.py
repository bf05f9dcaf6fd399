"""From order to invoice, PDF, email, follow-up task and hosted page, through the local runtime."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import chromium, load_event, non_white_fraction

pytestmark = pytest.mark.e2e


def _order(external_id: str, lines: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = load_event("http/create_order_body.json")
    body["external_id"] = external_id
    if lines > 1:
        body["lines"] = [
            {
                "sku": f"SKU-{n}",
                "description": f"Artikel Nummer {n} – Größe M",
                "quantity": "1",
                "unit_price": "10.00",
                "tax_rate": "19" if n % 3 else "7",
                # The system decides the rate (issue 13): a 7 % line says it is a reduced-rate item.
                **({} if n % 3 else {"tax_category": "reduced"}),
            }
            for n in range(lines)
        ]
    return body


def _get(system: RunningSystem, path: str, **params: Any) -> Any:
    response = requests.get(
        system.url(path), headers={"x-api-key": system.api_key}, params=params, timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


def _invoice_for(system: RunningSystem, order_id: str) -> dict[str, Any]:
    return system.invoice_of(order_id)


def _mirrored_pdf(system: RunningSystem, invoice: dict[str, Any]) -> Path:
    """The PDF as `make run` mirrors it to .local/s3 (settling mirrors S3 into the state directory)."""
    system.settle()
    year = invoice["number"].split("-")[0]
    pattern = f"*/invoices/{year}/{invoice['number']}.pdf"
    pdf = next((system.state_dir / "s3").glob(pattern), None)
    assert pdf, f"no PDF mirrored for {invoice['number']}"
    return pdf


def _pdf_text(system: RunningSystem, invoice: dict[str, Any], *args: str) -> str:
    pdf = _mirrored_pdf(system, invoice)
    return subprocess.run(
        ["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_an_order_becomes_a_numbered_invoice_with_pdf_and_one_email(running_system: RunningSystem) -> None:
    order = running_system.post_order(_order("INV-E2E-1"), key="inv-e2e-1").json()

    invoice = _invoice_for(running_system, order["id"])

    assert re.fullmatch(r"\d{4}-\d{6}", invoice["number"])
    assert invoice["status"] == "open"
    assert (invoice["total"], invoice["amount_due"]) == ("42.82", "42.82")
    text = _pdf_text(running_system, invoice)
    assert invoice["number"] in text
    assert "Anna Schmidt GmbH" in text
    assert "42,82 €" in text
    emails = [
        e
        for e in requests.get(running_system.url("/_local/emails"), timeout=120).json()
        # The invoice's own email carries its PDF; a correction naming the same number (another
        # seller's, or a credit note "zu Rechnung …") is not it.
        if any(a["filename"] == f"{invoice['number']}.pdf" for a in e["attachments"])
        and e["to"] == ["anna@example.de"]
    ]
    assert len(emails) == 1
    assert emails[0]["attachments"] == [
        {
            "filename": f"{invoice['number']}.pdf",
            "content_type": "application/pdf",
            "size": emails[0]["attachments"][0]["size"],
        }
    ]
    assert emails[0]["attachments"][0]["size"] > 1000
    assert invoice["hosted_url"] in emails[0]["text"]
    pdf = requests.get(invoice["pdf_url"], timeout=120)
    assert pdf.content.startswith(b"%PDF")


def test_concurrent_orders_get_distinct_gap_free_numbers(running_system: RunningSystem) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(
            pool.map(lambda n: running_system.post_order(_order(f"BULK-{n}"), key=f"bulk-{n}"), range(200))
        )
    assert all(r.status_code == 201 for r in responses)
    running_system.settle()

    numbers: list[str] = []
    token = None
    while True:
        page = _get(running_system, "/invoices", limit="200", **({"next_token": token} if token else {}))
        numbers += [i["number"] for i in page["items"]]
        token = page["next_token"]
        if not token:
            break
    ours = {_get(running_system, f"/orders/{r.json()['id']}")["invoice_id"] for r in responses}
    assert len(ours) == 200
    # every number of each year, none twice, none skipped (other modules' tests may have moved the shared
    # runtime's clock into the next year, which starts again at 1)
    serials_by_year: dict[str, list[int]] = {}
    for number in numbers:
        year, serial = number.rsplit("-", 1)
        serials_by_year.setdefault(year, []).append(int(serial))
    for year, serials in serials_by_year.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), year


def test_a_300_line_invoice_spans_pages_with_the_header_repeated(
    running_system: RunningSystem, tmp_path: Path
) -> None:
    order = running_system.post_order(_order("INV-LONG", lines=300), key="inv-long").json()
    assert order["totals"]["gross"] == str(
        (Decimal("2000.00") * Decimal("1.19") + Decimal("1000.00") * Decimal("1.07")).quantize(
            Decimal("0.01")
        )
    )

    invoice = _invoice_for(running_system, order["id"])

    pages = _pdf_text(running_system, invoice).split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 5
    assert all("Beschreibung" in page for page in pages)
    pdf = _mirrored_pdf(running_system, invoice)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    assert non_white_fraction(next(tmp_path.glob("page*.png"))) > 0.01


def test_the_follow_up_task_is_listed_and_closes_once(running_system: RunningSystem) -> None:
    order = running_system.post_order(_order("INV-TASK"), key="inv-task").json()
    invoice = _invoice_for(running_system, order["id"])

    tasks = [
        t
        for t in _get(running_system, "/tasks", status="open", limit="200")["items"]
        if t["invoice_id"] == invoice["id"]
    ]
    assert len(tasks) == 1
    assert tasks[0]["due_date"] > invoice["due_date"]
    headers = {"x-api-key": running_system.api_key}
    done = requests.post(
        running_system.url(f"/tasks/{tasks[0]['id']}/complete"),
        json={"note": "called"},
        headers=headers,
        timeout=120,
    )
    again = requests.post(
        running_system.url(f"/tasks/{tasks[0]['id']}/complete"), headers=headers, timeout=120
    )

    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    assert again.status_code == 409


def test_the_hosted_page_loads_in_a_browser_and_links_the_pdf(
    running_system: RunningSystem, tmp_path: Path
) -> None:
    order = running_system.post_order(_order("INV-HOSTED"), key="inv-hosted").json()
    invoice = _invoice_for(running_system, order["id"])

    dom, screenshot = chromium(invoice["hosted_url"], tmp_path)

    assert invoice["number"] in dom
    assert "42,82" in dom
    assert non_white_fraction(screenshot) > 0.01
    pdf_link = re.search(r'href="([^"]+/pdf)"', dom)
    assert pdf_link
    pdf = requests.get(pdf_link.group(1).replace("&amp;", "&"), timeout=120)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert requests.get(running_system.url("/i/not-a-real-token"), timeout=120).status_code == 404


def test_a_customer_dispute_flags_the_invoice_and_creates_a_task(running_system: RunningSystem) -> None:
    order = running_system.post_order(_order("INV-DISPUTE"), key="inv-dispute").json()
    invoice = _invoice_for(running_system, order["id"])

    posted = requests.post(
        f"{invoice['hosted_url']}/dispute", data={"reason": "Nur 1 Widget geliefert"}, timeout=120
    )
    twice = requests.post(f"{invoice['hosted_url']}/dispute", data={"reason": "nochmal"}, timeout=120)

    assert posted.status_code == 200
    assert twice.status_code == 409
    disputed = _get(running_system, f"/invoices/{invoice['id']}")
    assert disputed["disputed"] is True
    tasks = _get(running_system, "/tasks", status="open", limit="200")["items"]
    assert any(t["kind"] == "dispute" and t["invoice_id"] == invoice["id"] for t in tasks)
    running_system.settle()
    events = [
        e
        for e in requests.get(running_system.url("/_local/events"), timeout=120).json()
        if e["detail-type"] == "invoice.disputed" and e["detail"]["data"]["invoice_id"] == invoice["id"]
    ]
    assert len(events) == 1
