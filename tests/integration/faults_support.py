"""What the fault-injection tests (test_faults_*.py) do and check through the in-process local runtime.

The checks are the ones a customer or the finance team would notice after a fault has cleared: each
invoice has its PDF in S3 (one version, the recorded checksum), exactly one invoice email with the PDF,
exactly one `invoice.sent` event, payments exactly as paid, nothing in any dead-letter queue.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

from receivables.items import from_item
from tests.support import generic_signature_headers, load_event


def invoke(system: Any, logical_id: str, event: Any) -> Any:
    function = system.topology.functions.by_logical_id(logical_id)
    return system.topology.functions.invoke(function.name, event)


def table(system: Any) -> str:
    return str(system.global_environment()["TABLE_NAME"])


def order_request(external_id: str, unit_price: str = "19.99") -> dict[str, Any]:
    """`POST /orders` (the sample from events/) for another storefront order."""
    event = load_event("orders_api/create_order.json")
    body = json.loads(event["body"])
    body["external_id"] = external_id
    body["lines"][0]["unit_price"] = unit_price
    event["body"] = json.dumps(body)
    event["headers"]["idempotency-key"] = f"key-{external_id}"
    return dict(event)


def create_order(system: Any, external_id: str, unit_price: str = "19.99") -> str:
    response = invoke(system, "OrdersApiFunction", order_request(external_id, unit_price))
    assert response["statusCode"] == 201, response["body"]
    return str(json.loads(response["body"])["id"])


def item(system: Any, pk: str, sk: str) -> dict[str, Any] | None:
    found = boto3.client("dynamodb").get_item(
        TableName=table(system), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    return from_item(found["Item"]) if "Item" in found else None


def items_under(system: Any, pk: str) -> list[dict[str, Any]]:
    """Every item of one partition (an invoice's payments, send claims, ...), in key order."""
    found = boto3.client("dynamodb").query(
        TableName=table(system),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return [from_item(i) for i in found["Items"]]


def invoice_of(system: Any, order_id: str) -> dict[str, Any]:
    order = item(system, f"ORDER#{order_id}", "ORDER")
    assert order is not None
    assert order.get("invoice_id"), f"order {order_id} has no invoice"
    invoice = item(system, f"INVOICE#{order['invoice_id']}", "INVOICE")
    assert invoice is not None
    return invoice


def invoice_emails(system: Any, number: str) -> list[Any]:
    return [e for e in system.emails() if any(a["filename"] == f"{number}.pdf" for a in e.attachments)]


def confirmations(system: Any, number: str) -> list[Any]:
    return [e for e in system.emails() if number in e.subject and "Zahlungsbest" in e.subject]


def events_of(system: Any, invoice_id: str) -> Counter[str]:
    return Counter(
        e["detail-type"] for e in system.events() if e["detail"]["data"].get("invoice_id") == invoice_id
    )


@dataclass(frozen=True)
class DeadLetter:
    function_name: str  # whose deliveries gave up
    body: dict[str, Any]  # a consumer queue's message (a stream record), or the router's failure record


def dead_letters(system: Any) -> list[DeadLetter]:
    """Takes every message off the router's and every consumer's dead-letter queue (so each test
    starts from empty)."""
    sqs = boto3.client("sqs")
    queues: list[tuple[str, str | None]] = [(system.resolver.refs["DeadLetterQueue"], None)]
    for source in system.topology.queue_sources:
        url = sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        target = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
        queues.append((sqs.get_queue_url(QueueName=target)["QueueUrl"], source.function_name))
    taken: list[DeadLetter] = []
    for url, function_name in queues:
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                name = function_name or body["requestContext"]["functionArn"].rsplit(":", 1)[-1]
                taken.append(DeadLetter(name, body))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def assert_invoiced_once(system: Any, order_id: str) -> dict[str, Any]:
    """The order's invoice: PDF stored once with the recorded checksum, emailed exactly once."""
    invoice = invoice_of(system, order_id)
    number = invoice["number"]
    assert invoice.get("pdf_key"), f"{number} has no PDF"
    s3, bucket = boto3.client("s3"), system.resolver.refs["DocumentsBucket"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=invoice["pdf_key"]).get("Versions", [])
    assert len(versions) == 1, f"{number}: {len(versions)} PDF versions"
    body = s3.get_object(Bucket=bucket, Key=invoice["pdf_key"])["Body"].read()
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == invoice["pdf_sha256"]
    emails = invoice_emails(system, number)
    assert len(emails) == 1, f"{number}: {len(emails)} invoice emails"
    assert emails[0].message_id == invoice["email_message_id"]
    claim = item(system, f"INVOICE#{invoice['id']}", "SEND#invoice")
    assert claim is not None
    assert claim["state"] == "sent"
    assert events_of(system, invoice["id"])["invoice.sent"] == 1
    return invoice


def stripe_payment(system: Any, invoice: dict[str, Any], event_id: str, intent: str, cents: int) -> Any:
    """A signed `POST /webhooks/stripe` with payment_intent.succeeded for the invoice."""
    event = load_event("stripe/payment_intent.succeeded.json")
    event["id"] = event_id
    event["data"]["object"].update({"id": intent, "amount_received": cents, "amount": cents})
    event["data"]["object"]["metadata"]["invoice_id"] = invoice["id"]
    return _webhook(system, "stripe", json.dumps(event).encode())


def generic_payment(system: Any, invoice: dict[str, Any], event_id: str, amount: str) -> Any:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "invoice_number": invoice["number"],
        "amount": amount,
    }
    return _webhook(system, "generic", json.dumps(body).encode())


def _webhook(system: Any, provider: str, raw: bytes) -> Any:
    from tests.support import stripe_signature

    request = load_event("payment_webhooks/stripe_payment_intent_succeeded.json")
    now = int(system.clock.now().timestamp())
    headers = {k: v for k, v in request["headers"].items() if k != "stripe-signature"}
    if provider == "stripe":
        headers["stripe-signature"] = stripe_signature(raw, at=now)
    else:
        headers |= {k.lower(): v for k, v in generic_signature_headers(raw, at=now).items()}
    path = f"/webhooks/{provider}"
    request |= {"headers": headers, "body": raw.decode(), "rawPath": path, "routeKey": f"POST {path}"}
    request["requestContext"] = request["requestContext"] | {
        "http": request["requestContext"]["http"] | {"path": path},
        "routeKey": f"POST {path}",
    }
    return request


def payments_of(system: Any, invoice_id: str) -> list[dict[str, Any]]:
    found = boto3.client("dynamodb").query(
        TableName=table(system),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"INVOICE#{invoice_id}"}, ":sk": {"S": "PAYMENT#"}},
        ConsistentRead=True,
    )["Items"]
    return [from_item(i) for i in found]


_STREAM_LOGS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def consumer_filter(system: Any, logical_id: str) -> dict[str, Any]:
    """The filter policy of the fan-out subscription that feeds `logical_id`'s queue."""
    name = system.topology.functions.by_logical_id(logical_id).name
    source = next(s for s in system.topology.queue_sources if s.function_name == name)
    return dict(system.topology.subscription_filters[source.queue_arn])


def stream_record(system: Any, logical_id: str, *fragments: str) -> dict[str, Any]:
    """The newest record on the table's stream that reaches `logical_id` (through its subscription's
    filter) and whose keys and images mention every fragment - read from the stream itself, as the
    router gets it. A consumer receives it wrapped in an SQS message: `fan_out_event([record])`."""
    from local_runtime.filters import matches
    from local_runtime.streams import StreamLog

    (stream_arn,) = {s.stream_arn for s in system.topology.stream_sources}
    policy = consumer_filter(system, logical_id)
    log = _STREAM_LOGS.get(system)
    if log is None:
        log = _STREAM_LOGS[system] = StreamLog()
    log.follow(stream_arn)
    log.poll()  # reads on from where it stopped
    found = [
        r
        for r in log.records[stream_arn]
        if matches(policy, r) and all(f in json.dumps(r["dynamodb"]) for f in fragments)
    ]
    assert found, f"no stream record for {logical_id} mentions {fragments}"
    return found[-1]
