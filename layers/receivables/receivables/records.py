"""The two table operations every module needs: a strongly consistent read, and a create-only Put."""

from __future__ import annotations

from typing import Any

from receivables import aws
from receivables.items import from_item, to_item


def read(table: str, key: dict[str, str]) -> dict[str, Any] | None:
    """The item, read consistently (state decisions are made on it), or None."""
    response = aws.client("dynamodb").get_item(TableName=table, Key=to_item(key), ConsistentRead=True)
    return from_item(response["Item"]) if "Item" in response else None


def put_new(table: str, item: dict[str, Any]) -> dict[str, Any]:
    """A TransactWriteItems `Put` that fails if the item exists: creates happen once."""
    return {
        "Put": {"TableName": table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
    }
