"""Two allocations of the same unapplied money at the same moment (issue #12, defect 9).

Both read the money while it still holds all of it (the rendezvous holds both at their transaction until
both have read); the conditional write on the money lets one through, the other decides again on a fresh
read and is refused, so the money is never put on invoices twice.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from local_runtime.faults import mentions, rendezvous, run_concurrently
from tests.integration.faults_support import create_order, generic_payment, invoice_of, invoke, item
from tests.support import load_event


def _allocate_request(money_id: str, key: str, invoice_id: str, amount: str) -> dict[str, Any]:
    request = load_event("accounting_api/allocate_payment.json")
    path = f"/payments/{money_id}/allocate"
    request |= {
        "rawPath": path,
        "pathParameters": {"payment_id": money_id},
        "headers": request["headers"] | {"idempotency-key": key},
        "body": json.dumps({"allocations": [{"invoice_id": invoice_id, "amount": amount}]}),
    }
    request["requestContext"] = request["requestContext"] | {
        "http": request["requestContext"]["http"] | {"path": path}
    }
    return dict(request)


def test_two_allocations_of_the_same_money_at_once_apply_only_what_there_is(local_system: Any) -> None:
    orders = [create_order(local_system, f"RACE-ALLOCATE-{n}") for n in (1, 2)]
    assert local_system.settle()
    invoices = [invoice_of(local_system, order) for order in orders]
    received = invoke(
        local_system,
        "PaymentWebhooksFunction",
        generic_payment(local_system, {"number": "NO-SUCH-INVOICE"}, "evt_race_allocate", "60.00"),
    )
    assert json.loads(received["body"])["result"] == "unapplied"
    money_id = "generic:evt_race_allocate"
    requests = [
        _allocate_request(money_id, f"race-allocate-{n}", invoice["id"], "40.00")
        for n, invoice in enumerate(invoices)
    ]

    with rendezvous(
        "dynamodb", "TransactWriteItems", when=mentions("UNAPPLIED#generic#evt_race_allocate")
    ) as meeting:
        results = run_concurrently(local_system.topology.functions, "AccountingApiFunction", requests)
    assert local_system.settle()

    assert meeting.met
    assert sorted(r["statusCode"] for r in results) == [200, 422]
    refused = next(json.loads(r["body"]) for r in results if r["statusCode"] == 422)
    assert [e["field"] for e in refused["errors"]] == ["allocations[0].amount"]
    money = item(local_system, "UNAPPLIED#generic#evt_race_allocate", "UNAPPLIED")
    assert money is not None
    assert Decimal(money["remaining"]) == Decimal("20.00")
    paid = sorted(Decimal(invoice_of(local_system, order)["amount_paid"]) for order in orders)
    assert paid == [Decimal("0"), Decimal("40.00")]
