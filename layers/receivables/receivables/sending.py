"""Exactly one message per purpose: claim with a lease, send, record (docs/decisions/0008).

SES has no idempotency key, so "once" comes from our records. A conditional write claims the purpose
(`INVOICE#<id>` / `SEND#<purpose>`, state `sending`, with the claim time); only the claimant sends; one
transaction then marks it `sent` with the provider's message id, together with whatever the caller
records beside it (the invoice's `email_sent_at`, an outbox event). A redelivery finds `sent` and stops;
an attempt that finds a fresh claim fails so the stream retries it later; a claim older than the lease
belonged to an attempt that died before the provider accepted the message, so it may be claimed again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from receivables import aws, clock
from receivables.items import from_item, to_item

SEND_LEASE = timedelta(minutes=2)  # well above any sending function's timeout (30 s)


class SendInFlight(Exception):
    """Another attempt holds a fresh claim on this message; retry after its lease."""


def send_key(invoice_id: str, purpose: str) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": f"SEND#{purpose}"}


def send_once(
    table: str,
    invoice_id: str,
    purpose: str,
    send: Callable[[], str],
    record: Callable[[str, str], list[dict[str, Any]]] = lambda message_id, at: [],
) -> str | None:
    """Runs `send` unless this purpose was sent already; returns the message id when it sent.

    `record(message_id, sent_at)` gives TransactWriteItems entries committed with the `sent` mark.
    """
    claimed_at = clock.iso(clock.now())
    if not _claim(table, invoice_id, purpose, claimed_at):
        return None
    message_id = send()
    sent_at = clock.iso(clock.now())
    mark = {
        "Update": {
            "TableName": table,
            "Key": to_item(send_key(invoice_id, purpose)),
            "UpdateExpression": "SET #state = :sent, sent_at = :at, message_id = :mid",
            "ConditionExpression": "#state = :sending AND claimed_at = :mine",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": to_item(
                {
                    ":sent": "sent",
                    ":sending": "sending",
                    ":mine": claimed_at,
                    ":at": sent_at,
                    ":mid": message_id,
                }
            ),
        }
    }
    aws.client("dynamodb").transact_write_items(TransactItems=[mark, *record(message_id, sent_at)])
    return message_id


def _claim(table: str, invoice_id: str, purpose: str, claimed_at: str) -> bool:
    client = aws.client("dynamodb")
    expired = clock.iso(clock.now() - SEND_LEASE)
    try:
        client.update_item(
            TableName=table,
            Key=to_item(send_key(invoice_id, purpose)),
            UpdateExpression="SET entity = :entity, #state = :sending, claimed_at = :now",
            ConditionExpression=("attribute_not_exists(pk) OR (#state = :sending AND claimed_at < :expired)"),
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item(
                {":entity": "send_claim", ":sending": "sending", ":now": claimed_at, ":expired": expired}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        current = client.get_item(
            TableName=table, Key=to_item(send_key(invoice_id, purpose)), ConsistentRead=True
        )
        if from_item(current.get("Item", {})).get("state") == "sent":
            return False
        raise SendInFlight(f"{purpose} of {invoice_id}") from None
    return True
