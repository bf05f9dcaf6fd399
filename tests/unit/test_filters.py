"""Stream filter patterns, evaluated locally as Lambda's FilterCriteria evaluates them."""

from __future__ import annotations

import json

from local_runtime.filters import matches

# The SendInvoiceFunction filter of template.yaml: an invoice whose PDF was just recorded.
PDF_JUST_RECORDED = {
    "eventName": ["MODIFY"],
    "dynamodb": {
        "NewImage": {"entity": {"S": ["invoice"]}, "pdf_key": {"S": [{"exists": True}]}},
        "OldImage": {"pdf_key": {"S": [{"exists": False}]}},
    },
}


def _record(old: dict[str, object], new: dict[str, object]) -> dict[str, object]:
    return {"eventName": "MODIFY", "dynamodb": {"OldImage": old, "NewImage": new}}


def test_exists_false_matches_a_field_whose_parent_is_absent() -> None:
    invoice = {"entity": {"S": "invoice"}}
    rendered = invoice | {"pdf_key": {"S": "invoices/2026/2026-000001.pdf"}}

    assert matches(PDF_JUST_RECORDED, _record(old=invoice, new=rendered))
    assert not matches(PDF_JUST_RECORDED, _record(old=rendered, new=rendered | {"x": {"S": "1"}}))
    assert not matches(PDF_JUST_RECORDED, _record(old=invoice, new=invoice))


def test_a_value_rule_never_matches_an_absent_parent() -> None:
    assert not matches({"dynamodb": {"NewImage": {"entity": {"S": ["invoice"]}}}}, {"dynamodb": {}})
    assert not matches({"dynamodb": {"NewImage": {"entity": {"S": ["invoice"]}}}}, json.loads("{}"))
