"""One owner for the invoice: during a business day (orders, payments by two providers, a credit note,
reminders, the final notice, a payment plan accepted) every write of an invoice item is issued by the
invoice store, and nothing else in the layer builds an invoice write (docs/decisions/0023-invoice-ledger.md).
"""

from __future__ import annotations

import re
from typing import Any

from tests.security.conftest import AwsCall, Day
from tests.support import REPOSITORY

STORE = "receivables/invoicing/store.py"
_WRITES = {"PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem", "DeleteItem"}


def _key_of(body: dict[str, Any]) -> tuple[str, str]:
    key = body.get("Key") or body.get("Item") or {}
    return key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")


def _invoice_keys_written(call: AwsCall) -> list[str]:
    if call.service != "dynamodb" or call.operation not in _WRITES:
        return []
    if call.operation == "TransactWriteItems":
        bodies = [next(iter(item.values())) for item in call.params["TransactItems"]]
    elif call.operation == "BatchWriteItem":
        bodies = [
            next(iter(request.values()))
            for requests in call.params["RequestItems"].values()
            for request in requests
        ]
    else:
        bodies = [call.params]
    keys = [_key_of(body) for body in bodies]
    return [pk for pk, sk in keys if pk.startswith("INVOICE#") and sk == "INVOICE"]


def test_every_write_of_an_invoice_item_during_the_day_is_issued_by_the_store(business_day: Day) -> None:
    writes = [(call, _invoice_keys_written(call)) for call in business_day.calls]
    invoice_writes = [(call, keys) for call, keys in writes if keys]

    # the day issues, renders, emails, pays, credits, reminds and escalates invoices
    assert len(invoice_writes) >= 15
    assert {call.function_dir for call, _ in invoice_writes} >= {
        "issue_invoice",
        "render_invoice",
        "send_invoice",
        "payment_webhooks",
        "accounting_api",
        "remind",
    }
    assert [
        (c.function_dir, c.operation, c.layer_module) for c, _ in invoice_writes if c.layer_module != STORE
    ] == []


def test_no_other_layer_module_names_the_invoice_key_in_a_write() -> None:
    """Statically too: only the model defines the invoice key, and only the store and the model use it."""
    layer = REPOSITORY / "layers" / "receivables" / "receivables"
    users = sorted(
        str(path.relative_to(layer))
        for path in layer.rglob("*.py")
        if re.search(r"\binvoice_key\(", path.read_text(encoding="utf-8"))
    )
    assert users == ["invoicing/model.py", "invoicing/store.py"]
