"""Storefront API keys, stored only as SHA-256 digests.

Keys are long random strings (not passwords), so a fast unsalted digest is the right tool: it cannot be
reversed and it lets the authorizer find a key with one GetItem.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from receivables import aws, clock
from receivables.items import from_item, to_item

SCOPES = frozenset({"orders", "reports", "finance"})


@dataclass(frozen=True)
class ApiKeyRecord:
    storefront_id: str
    scopes: frozenset[str]
    active: bool


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _key(api_key_digest: str) -> dict[str, str]:
    return {"pk": f"APIKEY#{api_key_digest}", "sk": "APIKEY"}


def find_api_key(table_name: str, api_key: str) -> ApiKeyRecord | None:
    if not api_key:
        return None
    response = aws.client("dynamodb").get_item(TableName=table_name, Key=to_item(_key(digest(api_key))))
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    return ApiKeyRecord(
        storefront_id=item["storefront_id"],
        scopes=frozenset(item["scopes"]),
        active=item["status"] == "active",
    )


def register_api_key(
    table_name: str, storefront_id: str, scopes: frozenset[str], api_key: str | None = None
) -> str:
    """Stores a key's digest and returns the key itself, which is shown once and never stored."""
    unknown = scopes - SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    api_key = api_key or f"sk_{secrets.token_urlsafe(32)}"
    record = _key(digest(api_key)) | {
        "entity": "api_key",
        "storefront_id": storefront_id,
        "scopes": sorted(scopes),
        "status": "active",
        "created_at": clock.iso(clock.now()),
    }
    aws.client("dynamodb").put_item(TableName=table_name, Item=to_item(record))
    return api_key


def revoke_api_key(table_name: str, api_key: str) -> None:
    aws.client("dynamodb").update_item(
        TableName=table_name,
        Key=to_item(_key(digest(api_key))),
        UpdateExpression="SET #status = :revoked",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":revoked": {"S": "revoked"}},
    )
