"""The reporting functions on their sample events from events/ (the files `sam local invoke -e` uses)."""

from __future__ import annotations

import base64
import csv
import io
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.support import load_event

STREAM_SAMPLES = [
    "invoice_issued",
    "payment_received",
    "payment_refunded",
    "credit_note_issued",
    "invoice_voided",
]
REPORT_SAMPLES = ["aging", "dso", "payment_trends_by_method", "customer_statement"]


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


@pytest.fixture(scope="module")
def sample_order(local_system: Any) -> dict[str, Any]:
    """The order the samples refer to (its invoice and customer ids are deterministic)."""
    response = _invoke(local_system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    assert response["statusCode"] == 201, response["body"]
    assert local_system.settle()
    return dict(json.loads(response["body"]))


def _reports(system: Any) -> dict[str, Any]:
    return {
        name: _invoke(system, "ReportsApiFunction", load_event(f"reports_api/{name}.json"))
        for name in REPORT_SAMPLES
    }


def test_the_stream_samples_belong_to_the_sample_order(sample_order: dict[str, Any]) -> None:
    invoice_id = "inv_" + sample_order["id"].removeprefix("ord_")
    for name in STREAM_SAMPLES:
        record = json.loads(load_event(f"project_aggregates/{name}.json")["Records"][0]["body"])
        envelope = json.loads(record["dynamodb"]["NewImage"]["event"]["S"])
        assert envelope["data"]["invoice_id"] == invoice_id, name
        assert envelope["data"]["customer_id"] == sample_order["customer_id"], name
        assert record["dynamodb"]["NewImage"]["event_type"]["S"] == envelope["type"], name


def test_each_stream_sample_is_projected_once(local_system: Any, sample_order: dict[str, Any]) -> None:
    for name in STREAM_SAMPLES:
        response = _invoke(
            local_system, "ProjectAggregatesFunction", load_event(f"project_aggregates/{name}.json")
        )
        assert response == {"batchItemFailures": []}, name
    after_first = _reports(local_system)

    for name in STREAM_SAMPLES:  # redelivered: counted already
        response = _invoke(
            local_system, "ProjectAggregatesFunction", load_event(f"project_aggregates/{name}.json")
        )
        assert response == {"batchItemFailures": []}, name

    assert _reports(local_system) == after_first
    statement = json.loads(after_first["customer_statement"]["body"])
    kinds = [line["kind"] for line in statement["currencies"][0]["lines"]]
    assert {"payment", "refund", "credit_note", "void"} <= set(kinds)


def test_the_report_samples_answer_json_csv_and_problems(
    local_system: Any, sample_order: dict[str, Any]
) -> None:
    for name, response in _reports(local_system).items():
        assert response["statusCode"] == 200, (name, response["body"])
        assert response["headers"]["Content-Type"] == "application/json", name
    as_csv = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/aging_csv.json"))
    journal = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/journal_export.json"))
    bad = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/aging_bad_as_of.json"))

    assert as_csv["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv["body"].splitlines()[0] == "as_of,currency,bucket,amount,count"
    assert journal["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert bad["statusCode"] == 422
    assert json.loads(bad["body"])["errors"][0]["field"] == "as_of"


def test_the_nightly_sample_writes_the_day_once(local_system: Any, sample_order: dict[str, Any]) -> None:
    for name in STREAM_SAMPLES:
        _invoke(local_system, "ProjectAggregatesFunction", load_event(f"project_aggregates/{name}.json"))

    first = _invoke(local_system, "ExportJournalFunction", load_event("export_journal/nightly.json"))
    again = _invoke(local_system, "ExportJournalFunction", load_event("export_journal/nightly.json"))

    # fired 2026-12-01 02:00 UTC: exports Berlin's November 30, the day of the sample void
    assert (first["day"], first["key"], first["created"]) == (
        "2026-11-30",
        "exports/journal/2026/2026-11-30.csv",
        True,
    )
    assert again["created"] is False
    bucket = local_system.resolver.refs["DocumentsBucket"]
    s3 = boto3.client("s3")
    versions = s3.list_object_versions(Bucket=bucket, Prefix=first["key"]).get("Versions", [])
    assert len(versions) == 1
    rows = list(
        csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=first["key"])["Body"].read().decode()))
    )
    assert [(r["account"], r["debit"], r["credit"]) for r in rows] == [
        ("2400", "15.92", ""),
        ("1400", "", "15.92"),
    ]
    assert sum(Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in rows) == 0


def _datev_rows(response: dict[str, Any]) -> list[list[str]]:
    body = (
        base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"].encode()
    )
    return list(csv.reader(io.StringIO(body.decode("cp1252"), newline=""), delimiter=";"))


def test_the_datev_batch_books_what_the_journal_books(
    local_system: Any, sample_order: dict[str, Any]
) -> None:
    # given: every sample event projected (an invoice, a payment, a refund, a credit note, a void)
    for name in STREAM_SAMPLES:
        _invoke(local_system, "ProjectAggregatesFunction", load_event(f"project_aggregates/{name}.json"))

    # when: the DATEV batch and the journal are read for the same month
    response = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/datev_export.json"))
    again = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/datev_export.json"))
    journal = _invoke(local_system, "ReportsApiFunction", load_event("reports_api/journal_export.json"))

    # then: a Windows-1252 EXTF file for November whose amounts add up to the journal's debits and credits
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Content-Type"] == "text/csv; charset=windows-1252"
    assert "EXTF_Buchungsstapel_2026-11-01_2026-11-30_EUR.csv" in response["headers"]["Content-Disposition"]
    header, columns, *rows = _datev_rows(response)
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert (header[12], header[14], header[15], header[21], header[26]) == (
        "20260101",
        "20261101",
        "20261130",
        "EUR",
        "03",
    )
    assert columns[0] == "Umsatz (ohne Soll/Haben-Kz)"
    lines = list(csv.DictReader(io.StringIO(journal["body"])))
    debits = sum((Decimal(r["debit"] or 0) for r in lines), Decimal(0))
    credits = sum((Decimal(r["credit"] or 0) for r in lines), Decimal(0))
    assert len(rows) >= len(STREAM_SAMPLES)
    assert sum((Decimal(r[0].replace(",", ".")) for r in rows), Decimal(0)) == debits == credits
    # the customer's receivable sits on one debitor account, the same on every read
    debitors = {r[6] for r in rows if r[6].isdigit() and len(r[6]) == 5}
    assert len(debitors) == 1
    assert 10000 <= int(debitors.pop()) <= 69998
    assert _datev_rows(again)[2:] == rows
    receivable = sum(
        (Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in lines if r["account"] == "1400"),
        Decimal(0),
    )
    on_debitor = sum(
        (Decimal(r[0].replace(",", ".")) * (1 if r[1] == "S" else -1) for r in rows if len(r[6]) == 5),
        Decimal(0),
    )
    assert on_debitor == receivable


def test_the_monthly_datev_sample_writes_the_month_once(
    local_system: Any, sample_order: dict[str, Any]
) -> None:
    for name in STREAM_SAMPLES:
        _invoke(local_system, "ProjectAggregatesFunction", load_event(f"project_aggregates/{name}.json"))

    first = _invoke(local_system, "ExportDatevFunction", load_event("export_datev/monthly.json"))
    again = _invoke(local_system, "ExportDatevFunction", load_event("export_datev/monthly.json"))

    # fired 2026-12-01 02:00 UTC (03:00 in Berlin on the 1st): exports November
    key = "exports/datev/2026/EXTF_Buchungsstapel_2026-11_EUR.csv"
    assert (first["from"], first["to"]) == ("2026-11-01", "2026-11-30")
    assert [(f["key"], f["created"]) for f in first["files"]] == [(key, True)]
    assert [(f["key"], f["created"]) for f in again["files"]] == [(key, False)]
    bucket = local_system.resolver.refs["DocumentsBucket"]
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body.startswith(b'"EXTF";700;21;"Buchungsstapel";13;20261201020000000;')
