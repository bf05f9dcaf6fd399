"""Gap-free document numbers: one counter item per kind, seller and year (docs/decisions/0009).

A caller reads the counter's `last`, builds its document with `last + 1`, and commits the counter update
returned here in the same transaction as the document: the update only succeeds if the counter still
holds `last`, so a number is used if and only if its document exists. Losers re-read and retry.
"""

from __future__ import annotations

from typing import Any

from receivables.items import to_item
from receivables.records import read


def counter_key(kind: str, seller_id: str, year: int) -> dict[str, str]:
    return {"pk": f"COUNTER#{kind}#{seller_id}#{year}", "sk": "COUNTER"}


def last_number(table: str, counter: dict[str, str]) -> int:
    current = read(table, counter)
    return int(current["last"]) if current else 0


def advance_counter(table: str, counter: dict[str, str], last: int) -> dict[str, Any]:
    """A TransactWriteItems `Update` taking number `last + 1`, conditioned on nobody having taken it."""
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(counter),
            "UpdateExpression": "SET #last = :next, entity = :entity",
            "ConditionExpression": "attribute_not_exists(pk)" if last == 0 else "#last = :last",
            "ExpressionAttributeNames": {"#last": "last"},
            "ExpressionAttributeValues": to_item(
                {":next": last + 1, ":entity": "counter"} | ({":last": last} if last else {})
            ),
        }
    }
