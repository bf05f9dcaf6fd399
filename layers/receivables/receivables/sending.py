"""Exactly one message per purpose: claim with a lease, send, record (docs/decisions/0008).

SES has no idempotency key, so "once" comes from our records. A conditional write claims the purpose
(`INVOICE#<id>` / `SEND#<purpose>`, state `sending`, with the claim time); only the claimant sends; one
transaction then marks it `sent` with the provider's message id, together with whatever the caller
records beside it (the invoice's `email_sent_at`, an outbox event). A redelivery finds `sent` and stops;
an attempt that finds a fresh claim fails so the stream retries it later; a claim older than the lease
belonged to an attempt that died before the provider accepted the message, so it may be claimed again.
A send that certainly failed (the provider refused it: throttled, down) gives the claim back at once, so
the retry sends instead of failing until the lease ends (by then a stream has spent its retries).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from receivables import aws, clock
from receivables.items import from_item, to_item
from receivables.suppression import is_suppressed

SEND_LEASE = timedelta(minutes=2)  # well above any sending function's timeout (30 s)
# The request may have reached the provider and the reply was lost: the message may be out, keep the claim.
_OUTCOME_UNKNOWN = (ReadTimeoutError, ConnectionClosedError)
# Once the message is out, recording it is worth waiting for: an unrecorded send goes out again after its
# lease. Throttling and server errors are retried beyond the SDK's own attempts (backoff 50 ms doubling).
_RECORD_ATTEMPTS = 5
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ThrottlingError",  # a transaction's cancellation reasons
    "TransactionConflict",
}


class SendInFlight(Exception):
    """Another attempt holds a fresh claim on this message; retry after its lease."""


def send_key(invoice_id: str, purpose: str) -> dict[str, str]:
    return {"pk": f"INVOICE#{invoice_id}", "sk": f"SEND#{purpose}"}


def sent_email_key(message_id: str) -> dict[str, str]:
    """The email an SES message id belongs to: SES's delivery feedback names only the message id."""
    return {"pk": f"EMAILMSG#{message_id}", "sk": "EMAILMSG"}


def send_once(
    table: str,
    invoice_id: str,
    purpose: str,
    send: Callable[[], str],
    record: Callable[[str, str], list[dict[str, Any]]] = lambda message_id, at: [],
    recipient: str | None = None,
    record_on_invoice: Callable[[list[dict[str, Any]], str, str], None] | None = None,
) -> str | None:
    """Runs `send` unless this purpose was sent already; returns the message id when it sent.

    `record(message_id, sent_at)` gives TransactWriteItems entries committed with the `sent` mark.
    When the send changes the invoice, `record_on_invoice(items, message_id, sent_at)` commits the
    `sent` mark (with `items`) through the invoice store instead (the only writer of invoice items).
    With a `recipient` (an email), nothing is sent to a suppressed address (None, unclaimed: once the
    address is lifted, the next attempt sends), and the message id is recorded against the invoice and
    purpose so SES's delivery feedback finds them (receivables.email_feedback).
    """
    if recipient is not None and is_suppressed(table, recipient):
        return None
    claimed_at = clock.iso(clock.now())
    if not _claim(table, invoice_id, purpose, claimed_at):
        return None
    try:
        message_id = send()
    except Exception as error:
        if not isinstance(error, _OUTCOME_UNKNOWN):
            _release(table, invoice_id, purpose, claimed_at)
        raise
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
    lookup = []
    if recipient is not None:
        item = sent_email_key(message_id) | {
            "entity": "sent_email",
            "invoice_id": invoice_id,
            "purpose": purpose,
            "recipient": recipient,
            "sent_at": sent_at,
        }
        lookup = [{"Put": {"TableName": table, "Item": to_item(item)}}]
    if record_on_invoice is not None:
        _record_sent(lambda: record_on_invoice([mark, *lookup], message_id, sent_at))
    else:
        items = [mark, *lookup, *record(message_id, sent_at)]
        _record_sent(lambda: aws.client("dynamodb").transact_write_items(TransactItems=items))
    return message_id


def _record_sent(write: Callable[[], object]) -> None:
    for attempt in range(_RECORD_ATTEMPTS):
        try:
            write()
            return
        except ClientError as error:
            reasons = {r.get("Code") for r in error.response.get("CancellationReasons", [])} - {"None"}
            codes = reasons or {error.response.get("Error", {}).get("Code")}
            if attempt + 1 == _RECORD_ATTEMPTS or not codes <= _TRANSIENT:
                raise
            time.sleep(0.05 * 2**attempt)


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


def _release(table: str, invoice_id: str, purpose: str, claimed_at: str) -> None:
    """Gives our claim back after a send that did not reach the provider, so a retry may send at once."""
    client = aws.client("dynamodb")
    try:
        client.delete_item(
            TableName=table,
            Key=to_item(send_key(invoice_id, purpose)),
            ConditionExpression="#state = :sending AND claimed_at = :mine",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":sending": "sending", ":mine": claimed_at}),
        )
    except Exception:  # then the claim expires with its lease, as if this attempt had died
        return
