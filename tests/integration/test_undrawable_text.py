"""A name no font can draw stops the invoice PDF, visibly (issue 13 item 5, decisions/0025): the invoice is
issued without a PDF or email, its follow-up task says which characters, and the record waits in the
dead-letter queue, whose alarm alerts the team. Never an invoice with a gap.
"""

from __future__ import annotations

import json
from typing import Any

from receivables.tasks import open_tasks_of_invoice, public_task
from tests.integration.faults_support import dead_letters, invoice_of, invoke, order_request, table


def test_a_customer_name_in_a_script_without_a_font_leaves_the_reason_on_the_invoices_task(
    local_system: Any,
) -> None:
    dead_letters(local_system)
    request = order_request("UNDRAWABLE-1")
    body = json.loads(request["body"])
    body["customer"] |= {"name": "कमल ट्रेडर्स", "email": "kamal@example.in"}
    request["body"] = json.dumps(body)
    response = invoke(local_system, "OrdersApiFunction", request)
    assert response["statusCode"] == 201, response["body"]

    assert local_system.settle()

    invoice = invoice_of(local_system, json.loads(response["body"])["id"])
    assert not invoice.get("pdf_key")
    assert not invoice.get("email_sent_at")
    (task,) = [public_task(t) for t in open_tasks_of_invoice(table(local_system), invoice["id"])]
    assert "U+0915 DEVANAGARI LETTER KA" in task["problem"]
    failed = {letter.function_name for letter in dead_letters(local_system)}
    render = local_system.topology.functions.by_logical_id("RenderInvoiceFunction").name
    assert render in failed
