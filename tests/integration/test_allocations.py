"""Allocating unapplied money against the emulated account (issue #12, defect 9).

Two allocations of the same money at the same moment: both read the money while it still holds all of
it (the rendezvous holds both at their transaction until both have read); the conditional write on the
money lets one through, the other decides again on a fresh read and is refused, so the money is never
put on invoices twice.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from local_runtime.faults import mentions, rendezvous, run_concurrently
from tests.integration.faults_support import create_order, generic_payment, invoice_of, invoke, item
from tests.support import load_event


def _request(sample: str, path: str, **parameters: str) -> dict[str, Any]:
    request = load_event(sample)
    request |= {"rawPath": path, "pathParameters": parameters}
    request["requestContext"] = request["requestContext"] | {
        "http": request["requestContext"]["http"] | {"path": path}
    }
    return dict(request)


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


def test_money_paid_on_a_void_invoice_is_found_by_its_id_and_allocated_to_another(local_system: Any) -> None:
    # given a payment for an invoice that was voided meanwhile: kept on that invoice, unapplied
    orders = [create_order(local_system, f"VOID-ALLOCATE-{n}") for n in (1, 2)]
    assert local_system.settle()
    voided, other = (invoice_of(local_system, order) for order in orders)
    void = _request(
        "accounting_api/void_invoice.json", f"/invoices/{voided['id']}/void", invoice_id=voided["id"]
    )
    assert invoke(local_system, "AccountingApiFunction", void)["statusCode"] == 200
    received = invoke(
        local_system,
        "PaymentWebhooksFunction",
        generic_payment(local_system, voided, "evt_void_allocate", "42.82"),
    )
    body = json.loads(received["body"])
    assert (body["result"], body["invoice_id"]) == ("unapplied", voided["id"])

    # when finance allocates all of it to the customer's other invoice
    money_id = "generic:evt_void_allocate"
    allocated = invoke(
        local_system,
        "AccountingApiFunction",
        _allocate_request(money_id, "void-allocate", other["id"], "42.82"),
    )
    assert local_system.settle()

    # then the other invoice is paid, and the void invoice's record of the money says it was allocated
    assert allocated["statusCode"] == 200, allocated["body"]
    assert json.loads(allocated["body"])["amount"] == "0.00"
    assert invoice_of(local_system, other["order_id"])["status"] == "paid"
    payments = _request(
        "invoices_api/get_invoice.json", f"/invoices/{voided['id']}/payments", invoice_id=voided["id"]
    )
    listed = json.loads(invoke(local_system, "InvoicesApiFunction", payments)["body"])["items"]
    assert [(p["id"], p["status"], p["unapplied"]) for p in listed] == [(money_id, "allocated", "0.00")]


def test_unapplied_money_is_listed_in_full_pages_without_what_was_allocated(local_system: Any) -> None:
    # given three payments for no invoice, one of them allocated in full
    ids = []
    for n in range(3):
        event = generic_payment(local_system, {"number": "NO-SUCH-INVOICE"}, f"evt_list_{n}", "10.00")
        assert (
            json.loads(invoke(local_system, "PaymentWebhooksFunction", event)["body"])["result"]
            == "unapplied"
        )
        ids.append(f"generic:evt_list_{n}")
    order = create_order(local_system, "LIST-ALLOCATE")
    assert local_system.settle()
    target = invoice_of(local_system, order)
    allocation = _allocate_request(ids[1], "list-allocate", target["id"], "10.00")
    assert invoke(local_system, "AccountingApiFunction", allocation)["statusCode"] == 200

    # when finance pages through the unapplied money one at a time
    pages, token = [], None
    while True:
        request = _request("accounting_api/void_invoice.json", "/payments")
        query = {"status": "unapplied", "limit": "1"} | ({"next_token": token} if token else {})
        request["queryStringParameters"] = query
        request["requestContext"]["http"]["method"] = "GET"
        request["body"] = None
        response = invoke(local_system, "AccountingApiFunction", request)
        assert response["statusCode"] == 200, response["body"]
        page = json.loads(response["body"])
        pages.append([item["id"] for item in page["items"]])
        token = page["next_token"]
        if not token:
            break

    # then every page but the last holds one, and the allocated payment is not among them
    assert all(len(page) == 1 for page in pages[:-1])
    listed = [money_id for page in pages for money_id in page]
    assert len(listed) == len(set(listed))
    assert ids[0] in listed
    assert ids[2] in listed
    assert ids[1] not in listed
