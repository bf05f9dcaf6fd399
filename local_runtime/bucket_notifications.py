"""S3 event notifications of the template's functions (`Events: Type: S3`), delivered as Lambda gets them.

moto records objects but invokes nothing for a bucket's notification configuration in this setup, so the
runtime looks at the buckets' latest object versions whenever it settles and ticks, and invokes each
subscribed function with the S3 event record AWS sends (ObjectCreated:Put), once per new version, with
Lambda's two retries for an asynchronous invocation. Objects that existed before the runtime started are
not announced (S3 notifies only from the moment the configuration exists).
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from local_runtime import moto_hooks
from local_runtime.template import ACCOUNT_ID, REGION

_ATTEMPTS = 3  # Lambda retries a failed asynchronous invocation twice


@dataclass(frozen=True)
class BucketNotification:
    function_name: str
    bucket: str
    events: tuple[str, ...]  # s3:ObjectCreated:*, s3:ObjectCreated:Put, ...
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def from_event(cls, function_name: str, properties: dict[str, Any]) -> BucketNotification:
        events = properties.get("Events", [])
        rules = properties.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        named = {str(rule["Name"]).lower(): str(rule["Value"]) for rule in rules}
        return cls(
            function_name=function_name,
            bucket=str(properties["Bucket"]),
            events=tuple([events] if isinstance(events, str) else events),
            prefix=named.get("prefix", ""),
            suffix=named.get("suffix", ""),
        )

    def wants(self, stored: moto_hooks.StoredObject) -> bool:
        return (
            stored.bucket == self.bucket
            and stored.key.startswith(self.prefix)
            and stored.key.endswith(self.suffix)
            and any(fnmatch.fnmatchcase("s3:ObjectCreated:Put", pattern) for pattern in self.events)
        )


class BucketNotifier:
    def __init__(
        self,
        notifications: list[BucketNotification],
        invoke: Callable[[str, Any], Any],
        now: Callable[[], str],
    ) -> None:
        self.notifications = notifications
        self._invoke = invoke
        self._now = now
        self._lock = threading.Lock()
        self._seen = {self._identity(o) for o in moto_hooks.latest_objects()} if notifications else set()

    @staticmethod
    def _identity(stored: moto_hooks.StoredObject) -> tuple[str, str, str]:
        return stored.bucket, stored.key, stored.version_id or stored.etag

    def deliver_pending(self) -> int:
        """Invokes the subscribers of every object version created since the last call; how many."""
        if not self.notifications:
            return 0
        delivered = 0
        with self._lock:
            for stored in list(moto_hooks.latest_objects()):
                identity = self._identity(stored)
                if identity in self._seen:
                    continue
                self._seen.add(identity)
                for notification in self.notifications:
                    if notification.wants(stored):
                        self._deliver(notification.function_name, s3_event(stored, self._now()))
                        delivered += 1
        return delivered

    def _deliver(self, function_name: str, event: dict[str, Any]) -> None:
        for attempt in range(_ATTEMPTS):
            try:
                self._invoke(function_name, event)
                return
            except Exception as error:
                if attempt + 1 == _ATTEMPTS:
                    print(f"local runtime: {function_name} failed on an S3 notification: {error}")


def s3_event(stored: moto_hooks.StoredObject, at: str) -> dict[str, Any]:
    """The record S3 sends to Lambda for a new object (event message structure version 2.1)."""
    obj: dict[str, Any] = {
        "key": quote_plus(stored.key, safe="/"),  # S3 URL-encodes the key in notifications
        "size": stored.size,
        "eTag": stored.etag.strip('"'),
        "sequencer": "0",
    }
    if stored.version_id:
        obj["versionId"] = stored.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": at,
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "local",
                    "bucket": {
                        "name": stored.bucket,
                        "ownerIdentity": {"principalId": ACCOUNT_ID},
                        "arn": f"arn:aws:s3:::{stored.bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }
