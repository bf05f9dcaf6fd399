"""Addresses we no longer email: a permanent bounce or a complaint suppresses them (docs/decisions/0021).

One item per address, keyed by a hash of the lower-cased address (keys never carry the address itself).
Every send through `sending.send_once` with a recipient checks it first, so our own mail skips a suppressed
address even where SES's account-level suppression list is not in force (the sandbox, another region).
"""

from __future__ import annotations

import hashlib
from typing import Any

from receivables import aws
from receivables.items import to_item


def suppression_key(address: str) -> dict[str, str]:
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    return {"pk": f"SUPPRESSED#{digest}", "sk": "SUPPRESSED"}


def is_suppressed(table: str, address: str) -> bool:
    response = aws.client("dynamodb").get_item(
        TableName=table, Key=to_item(suppression_key(address)), ConsistentRead=True
    )
    return "Item" in response


def suppression_put(
    table: str, address: str, reason: str, invoice_id: str, message_id: str, at: str
) -> dict[str, Any]:
    """A TransactWriteItems `Put` recording (or refreshing) the suppression with its latest cause."""
    item = suppression_key(address) | {
        "entity": "suppressed_address",
        "reason": reason,  # BOUNCE or COMPLAINT, as SES's suppression list names them
        "invoice_id": invoice_id,
        "message_id": message_id,
        "suppressed_at": at,
    }
    return {"Put": {"TableName": table, "Item": to_item(item)}}
