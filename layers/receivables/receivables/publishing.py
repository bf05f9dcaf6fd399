"""Forwards committed domain events to the EventBridge bus."""

from __future__ import annotations

import json
from collections.abc import Sequence

from receivables import aws
from receivables.outbox import SOURCE, DomainEvent

# PutEvents takes at most 10 entries per call.
_PUT_EVENTS_LIMIT = 10


class PublishFailed(Exception):
    def __init__(self, failed_ids: list[str]) -> None:
        super().__init__(f"EventBridge rejected {len(failed_ids)} event(s)")
        self.failed_ids = failed_ids


def publish(bus_name: str, events: Sequence[DomainEvent]) -> None:
    """Puts every event on the bus; raises naming the events EventBridge did not accept."""
    failed: list[str] = []
    for start in range(0, len(events), _PUT_EVENTS_LIMIT):
        chunk = events[start : start + _PUT_EVENTS_LIMIT]
        response = aws.client("events").put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": event.type,
                    "Detail": json.dumps(event.envelope()),
                    "EventBusName": bus_name,
                }
                for event in chunk
            ]
        )
        failed += [
            event.id for event, entry in zip(chunk, response["Entries"], strict=True) if "ErrorCode" in entry
        ]
    if failed:
        raise PublishFailed(failed)
