"""Domain events through a transactional outbox.

A state change writes its event as an item in the same DynamoDB transaction; the `publish_events`
stream consumer forwards committed events to EventBridge. So an event exists if and only if its change
was committed, and consumers deduplicate on `id` because delivery is at least once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from receivables import clock
from receivables.items import to_item

SOURCE = "receivables"
SCHEMA_VERSION = 1
OUTBOX_ENTITY = "outbox_event"
# Kept long enough for any stream retry, then removed by DynamoDB's TTL.
RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class DomainEvent:
    id: str
    type: str
    occurred_at: str
    data: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        """The documented event body (docs/events.md): what subscribers receive as `detail`."""
        return {
            "id": self.id,
            "type": self.type,
            "version": SCHEMA_VERSION,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }


def new_event(event_type: str, data: dict[str, Any], at: datetime | None = None) -> DomainEvent:
    return DomainEvent(
        id=f"evt_{uuid.uuid4().hex}", type=event_type, occurred_at=clock.iso(at or clock.now()), data=data
    )


def outbox_put(table_name: str, event: DomainEvent) -> dict[str, Any]:
    """A TransactWriteItems `Put` that records `event` beside the change it describes."""
    expires_at = int((clock.now() + RETENTION).timestamp())
    item = {
        "pk": f"EVENT#{event.id}",
        "sk": "EVENT",
        "entity": OUTBOX_ENTITY,
        "event_type": event.type,
        "event": json.dumps(event.envelope(), separators=(",", ":")),
        "expires_at": expires_at,
    }
    return {
        "Put": {
            "TableName": table_name,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def event_from_outbox_image(image: dict[str, Any]) -> DomainEvent:
    body = json.loads(image["event"])
    return DomainEvent(id=body["id"], type=body["type"], occurred_at=body["occurred_at"], data=body["data"])
