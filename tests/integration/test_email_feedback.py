"""The email_feedback handler on the emulated account, fed the sample notifications of events/email_feedback:
each may come twice (SNS delivers at least once), and late news never overrides a bounce."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from local_runtime import moto_hooks
from local_runtime.functions import FunctionFailed
from receivables.email_feedback import UnknownMessage
from receivables.suppression import is_suppressed
from tests.support import load_event


def _invoiced(system: Any, external_id: str, email: str) -> dict[str, Any]:
    """An order for `email`, invoiced and emailed, SES's own feedback switched off (nothing delivered)."""
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"], body["customer"]["email"] = external_id, email
    event["body"], event["headers"]["idempotency-key"] = json.dumps(body), external_id
    function = system.topology.functions.by_logical_id("OrdersApiFunction")
    order = json.loads(system.topology.functions.invoke(function.name, event)["body"])
    system.ses_feedback.destinations, destinations = [], system.ses_feedback.destinations
    try:
        assert system.settle()
    finally:
        system.ses_feedback.destinations = destinations
    table = system.global_environment()["TABLE_NAME"]
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"ORDER#{order['id']}"}, "sk": {"S": "ORDER"}}
    )["Item"]
    return _invoice(system, item["invoice_id"]["S"])


def _invoice(system: Any, invoice_id: str) -> dict[str, Any]:
    function = system.topology.functions.by_logical_id("InvoicesApiFunction")
    event = load_event("invoices_api/get_invoice.json")
    event["pathParameters"] = {"invoice_id": invoice_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{invoice_id}"
    response = system.topology.functions.invoke(function.name, event)
    assert response["statusCode"] == 200, response["body"]
    return dict(json.loads(response["body"]))


def _notification(sample: str, message_id: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"email_feedback/{sample}.json"))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["mail"]["messageId"] = message_id
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return dict(event)


def _feedback(system: Any, event: dict[str, Any]) -> Any:
    function = system.topology.functions.by_logical_id("EmailFeedbackFunction")
    return system.topology.functions.invoke(function.name, event)


def _message_id(invoice: dict[str, Any]) -> str:
    return next(e.message_id for e in moto_hooks.sent_emails() if invoice["number"] in (e.raw or ""))


def _tasks(system: Any, invoice_id: str) -> list[dict[str, Any]]:
    table = system.global_environment()["TABLE_NAME"]
    items = boto3.client("dynamodb").query(
        TableName=table,
        IndexName="gsi3",
        KeyConditionExpression="gsi3pk = :pk AND begins_with(gsi3sk, :task)",
        ExpressionAttributeValues={":pk": {"S": f"INVOICE#{invoice_id}"}, ":task": {"S": "TASK#"}},
    )["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def test_a_bounce_delivered_twice_marks_suppresses_and_opens_one_task(local_system: Any) -> None:
    invoice = _invoiced(local_system, "FEEDBACK-INT-1", "bounce@simulator.amazonses.com")
    assert invoice["email_status"] == "sent"
    bounce = _notification("bounce", _message_id(invoice))

    _feedback(local_system, bounce)
    _feedback(local_system, bounce)
    _feedback(local_system, _notification("delivery", _message_id(invoice)))  # late, contradicting news

    assert _invoice(local_system, invoice["id"])["email_status"] == "bounced"
    bounced = [t for t in _tasks(local_system, invoice["id"]) if t["kind"] == "email_bounced"]
    assert len(bounced) == 1
    address = "bounce@simulator.amazonses.com"
    assert bounced[0]["title"] == f"Invoice {invoice['number']} could not be delivered to {address}"
    table = local_system.global_environment()["TABLE_NAME"]
    assert is_suppressed(table, "Bounce@Simulator.AmazonSES.com")
    assert moto_hooks.SUPPRESSED_DESTINATIONS["bounce@simulator.amazonses.com"] == "BOUNCE"


def test_a_delivery_then_a_complaint_ends_complained(local_system: Any) -> None:
    invoice = _invoiced(local_system, "FEEDBACK-INT-2", "complaint@simulator.amazonses.com")
    message_id = _message_id(invoice)

    _feedback(local_system, _notification("complaint", message_id))
    _feedback(local_system, _notification("delivery", message_id))  # delivery reported after the complaint

    assert _invoice(local_system, invoice["id"])["email_status"] == "complained"
    assert [t["kind"] for t in _tasks(local_system, invoice["id"]) if t["kind"].startswith("email_")] == [
        "email_complaint"
    ]


def test_feedback_for_a_message_we_did_not_record_fails_so_it_is_retried(local_system: Any) -> None:
    with pytest.raises(FunctionFailed) as failed:
        _feedback(local_system, _notification("delivery", "0107019a-not-ours"))

    assert isinstance(failed.value.error, UnknownMessage)
