"""The invoicing functions on their sample events from events/ (the files `sam local invoke -e` uses)."""

from __future__ import annotations

import json
from typing import Any

from tests.support import load_event


def _invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def _ordered(system: Any) -> dict[str, Any]:
    """The order every stream sample event was captured from, placed and carried through the stream."""
    response = _invoke(system, "OrdersApiFunction", load_event("orders_api/create_order.json"))
    assert response["statusCode"] == 201, response["body"]
    assert system.settle()
    return dict(json.loads(response["body"]))


def test_the_stream_samples_belong_to_the_sample_order(local_system: Any) -> None:
    order = _ordered(local_system)
    invoice_id = "inv_" + order["id"].removeprefix("ord_")

    samples = {
        "issue_invoice/order_inserted.json": f"ORDER#{order['id']}",
        "render_invoice/invoice_inserted.json": f"INVOICE#{invoice_id}",
        "send_invoice/pdf_recorded.json": f"INVOICE#{invoice_id}",
    }
    for name, key in samples.items():
        assert json.loads(load_event(name)["Records"][0]["body"])["dynamodb"]["Keys"]["pk"]["S"] == key, name


def test_replaying_each_stream_sample_reports_no_failure_and_sends_nothing_again(local_system: Any) -> None:
    order = _ordered(local_system)
    emails_before = len(local_system.emails())

    for logical_id, sample in [
        ("IssueInvoiceFunction", "issue_invoice/order_inserted.json"),
        ("RenderInvoiceFunction", "render_invoice/invoice_inserted.json"),
        ("SendInvoiceFunction", "send_invoice/pdf_recorded.json"),
    ]:
        assert _invoke(local_system, logical_id, load_event(sample)) == {"batchItemFailures": []}
    assert local_system.settle()

    assert len(local_system.emails()) == emails_before
    invoice = json.loads(
        _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))["body"]
    )
    assert invoice["order_id"] == order["id"]
    assert invoice["email_sent_at"]


def test_invoice_reads_answer_with_the_contract_shapes(local_system: Any) -> None:
    _ordered(local_system)

    one = _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/get_invoice.json"))
    listing = _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/list_invoices.json"))
    tasks = _invoke(local_system, "InvoicesApiFunction", load_event("invoices_api/list_open_tasks.json"))

    invoice = json.loads(one["body"])
    contract_fields = {"id", "number", "status", "currency", "total", "amount_paid", "amount_due"}
    contract_fields |= {
        "issue_date",
        "due_date",
        "customer",
        "lines",
        "pdf_url",
        "hosted_url",
        "reminders_sent",
    }
    assert contract_fields <= invoice.keys()
    assert (invoice["total"], invoice["amount_paid"], invoice["amount_due"]) == ("42.82", "0.00", "42.82")
    assert invoice["id"] in [i["id"] for i in json.loads(listing["body"])["items"]]
    assert any(t["invoice_id"] == invoice["id"] for t in json.loads(tasks["body"])["items"])


def test_an_orders_key_may_not_read_the_finance_task_list(local_system: Any) -> None:
    event = load_event("invoices_api/list_open_tasks.json")
    event["requestContext"]["authorizer"]["lambda"]["scopes"] = "orders"

    response = _invoke(local_system, "InvoicesApiFunction", event)

    assert response["statusCode"] == 403
    assert response["headers"]["Content-Type"] == "application/problem+json"


def test_an_unknown_hosted_link_is_a_readable_404_page_in_the_browsers_language(local_system: Any) -> None:
    response = _invoke(
        local_system, "HostedInvoiceFunction", load_event("hosted_invoice/view_unknown_token.json")
    )

    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Link ungültig" in response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
