"""Bank statements through the running system (issue #15; docs/decisions/0030-bank-statement-matching.md).

A camt.053 with five entries - an exact reference, a loosely typed one, one transfer for two invoices, an
unknown payer and a debit - imported twice changes nothing the second time; the unknown payer waits as
unapplied money with a finance task, and allocating it settles the invoice finance names. An MT940 put
in the documents bucket under statements/ is imported by the S3 notification, and its line that the
camt.053 already brought is not applied again.
"""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from lxml import etree

from receivables.tasks import task_id_for
from tests.conftest import RunningSystem
from tests.support import REPOSITORY, load_event

pytestmark = pytest.mark.e2e
CAMT = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NS = {"c": CAMT}


def _invoices(system: RunningSystem, external_ids: list[str]) -> list[dict[str, Any]]:
    """All orders placed first, then one settle issues, renders and emails their invoices together."""
    order_ids = []
    for external_id in external_ids:
        body = load_event("http/create_order_body.json") | {"external_id": external_id}
        response = system.post_order(body, key=external_id)
        assert response.status_code == 201, response.text
        order_ids.append(response.json()["id"])
    return [system.invoice_of(order_id) for order_id in order_ids]


def _camt(entries: list[dict[str, str | None]]) -> bytes:
    """The German-bank sample (events/bank_statements) with these entries in place of its own."""
    root = etree.fromstring((REPOSITORY / "events/bank_statements/camt053_001_08.xml").read_bytes())
    statement = root.find("c:BkToCstmrStmt/c:Stmt", NS)
    model = statement.find("c:Ntry", NS)
    for old in statement.findall("c:Ntry", NS):
        statement.remove(old)
    for entry in entries:
        ntry = copy.deepcopy(model)
        for amount in ntry.iter(f"{{{CAMT}}}Amt"):
            amount.text = entry["amount"]
        for indicator in ntry.iter(f"{{{CAMT}}}CdtDbtInd"):
            indicator.text = entry.get("indicator") or "CRDT"
        reference = ntry.find("c:AcctSvcrRef", NS)
        if entry.get("ref"):
            reference.text = entry["ref"]
        else:
            ntry.remove(reference)
        ntry.find(".//c:RmtInf/c:Ustrd", NS).text = entry["text"]
        ntry.find(".//c:Dbtr/c:Pty/c:Nm", NS).text = entry.get("payer") or "Anna Schmidt GmbH"
        statement.append(ntry)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _import(system: RunningSystem, body: bytes, key: str) -> dict[str, Any]:
    response = requests.post(
        system.url("/bank-statements"),
        data=body,
        headers={"x-api-key": system.api_key, "Idempotency-Key": key, "content-type": "application/xml"},
        timeout=300,
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def _unapplied(system: RunningSystem) -> dict[str, dict[str, Any]]:
    """Every page of the seller's unapplied money, by id."""
    found: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        paging = {"next_token": token} if token else {}
        page = system.get_json("/payments", status="unapplied", limit=200, **paging)
        found |= {item["id"]: item for item in page["items"]}
        token = page["next_token"]
        if not token:
            return found


def _ledgers(system: RunningSystem, invoices: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    system.settle()
    found = [system.get_json(f"/invoices/{invoice['id']}") for invoice in invoices]
    return [(i["status"], i["amount_paid"], i["account_amount_due"]) for i in found]


def test_a_statement_imported_twice_applies_each_entry_once_and_the_unknown_payer_waits_for_finance(
    running_system: RunningSystem,
) -> None:
    run = uuid.uuid4().hex[:8]
    exact, loose, first_of_two, second_of_two, named_later, from_s3 = _invoices(
        running_system, [f"BANK-{n}-{run}" for n in range(6)]
    )
    assert exact["account_amount_due"] == "42.82"
    loose_number = loose["number"].replace("-", "")  # 2026000123
    statement = _camt(
        [
            {"amount": "42.82", "ref": f"{run}0001", "text": f"RE {exact['number']}"},
            {"amount": "42.82", "ref": None, "text": f"Rg.-Nr. {loose_number} / Kd 77"},
            {
                "amount": "85.64",
                "ref": f"{run}0003",
                "text": f"Rechnungen {second_of_two['number']} und {first_of_two['number']}",
            },
            {
                "amount": "42.82",
                "ref": f"{run}0004",
                "text": "Abschlag Projekt Nord",
                "payer": "Nordlicht Design UG",
            },
            {"amount": "19.99", "ref": f"{run}0005", "text": "RUECKLASTSCHRIFT MD01", "indicator": "DBIT"},
        ]
    )
    invoices = [exact, loose, first_of_two, second_of_two, named_later]

    # when the statement is imported, and then again (as the bank's next download brings it)
    once = _import(running_system, statement, f"camt-{run}-1")
    after_once = _ledgers(running_system, invoices)
    twice = _import(running_system, statement, f"camt-{run}-2")
    after_twice = _ledgers(running_system, invoices)

    # then the second import applied nothing, and said so
    assert {k: once[k] for k in ("entries", "matched", "unmatched", "already_recorded")} == {
        "entries": 5,
        "matched": 3,
        "unmatched": 1,
        "already_recorded": 0,
    }
    assert (twice["entries"], twice["matched"], twice["unmatched"], twice["already_recorded"]) == (5, 3, 1, 5)
    assert after_once == after_twice
    assert after_once[:4] == [("paid", "42.82", "0.00")] * 4
    assert after_once[4] == ("open", "0.00", "42.82")

    # and each entry shows how it was matched, the same in both imports
    items = running_system.get_json(f"/bank-statements/{once['id']}")["items"]
    again = running_system.get_json(f"/bank-statements/{twice['id']}")["items"]
    assert [i["match"] for i in items] == [i["match"] for i in again]
    assert [(i["match"]["how"], i["match"]["invoice_id"], i["match"]["confidence"]) for i in items] == [
        ("reference", exact["id"], "1.00"),
        ("reference", loose["id"], "0.90"),
        ("reference", first_of_two["id"], "1.00"),  # number order, whatever order the payer typed
        ("none", None, "0"),
        ("none", None, "0"),
    ]
    assert [(a["invoice_id"], a["amount"]) for a in items[2]["allocations"]] == [
        (first_of_two["id"], "42.82"),
        (second_of_two["id"], "42.82"),
    ]
    assert [i["direction"] for i in items] == ["credit"] * 4 + ["debit"]
    assert items[4]["unapplied_payment_id"] is None  # a debit is recorded, never money to allocate
    payments = running_system.get_json(f"/invoices/{exact['id']}/payments")["items"]
    assert [(p["provider"], p["method"], p["amount"]) for p in payments] == [
        ("bank", "bank_transfer", "42.82")
    ]

    # the unknown payer: unapplied money and a finance task naming candidates
    money_id = items[3]["unapplied_payment_id"]
    listed = _unapplied(running_system)[money_id]
    assert (listed["amount"], listed["payer"], listed["method"]) == (
        "42.82",
        "Nordlicht Design UG",
        "bank_transfer",
    )
    tasks = running_system.get_json("/tasks", status="open", limit="200")["items"]
    task = next(t for t in tasks if t["id"] == task_id_for("unapplied_payment", money_id))
    assert "candidates:" in task["reason"]
    assert task["queue"] == "receivables-finance"

    # when finance allocates it to the invoice it was for
    allocated = requests.post(
        running_system.url(f"/payments/{money_id}/allocate"),
        json={"allocations": [{"invoice_id": named_later["id"], "amount": "42.82"}]},
        headers={"x-api-key": running_system.api_key, "Idempotency-Key": f"allocate-{run}"},
        timeout=120,
    )
    assert allocated.status_code == 200, allocated.text
    assert _ledgers(running_system, [named_later]) == [("paid", "42.82", "0.00")]

    # an MT940 of the same day dropped in the bucket: its line the camt.053 brought is not applied again
    mt940 = (REPOSITORY / "events/bank_statements/mt940_sparkasse.sta").read_text(encoding="latin-1")
    mt940 = (
        mt940.replace("CR1190,00", "CR42,82")
        .replace("CR250,00", "CR42,82")
        .replace("2026112300012345", f"{run}0001")
        .replace("RE 2026-000123", f"RE {exact['number']}")
        .replace("2026112300012399", f"{run}0006")
        .replace("Abschlag Projekt Nord", f"RE {from_s3['number']}")
        .replace("2026112300012347", f"{run}0007")
    )
    s3 = boto3.client("s3", **running_system.emulated_aws())
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "documentsbucket" in b["Name"])
    s3.put_object(Bucket=bucket, Key=f"statements/local-storefront/{run}.sta", Body=mt940.encode("latin-1"))
    ledgers = _ledgers(running_system, [exact, from_s3])
    assert ledgers[0] == ("paid", "42.82", "0.00")
    assert ledgers[1] == ("paid", "42.82", "0.00")
    assert sum(
        Decimal(p["amount"]) for p in running_system.get_json(f"/invoices/{exact['id']}/payments")["items"]
    ) == Decimal("42.82")
