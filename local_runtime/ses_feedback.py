"""SES's mailbox simulator and event publishing, locally (docs/decisions/0021).

On AWS, mail to `bounce@simulator.amazonses.com` bounces, to `complaint@…` is delivered and then drawn a
complaint, to `success@…` is delivered; a configuration set with an SNS event destination publishes each
such event to its topic, and the topic invokes its subscribers. Here: every email sent through a
configuration set that the template gives an SNS event destination produces the same events (the real
event-publishing JSON), published to that topic's subscribers as the template declares them
(`Events: Type: SNS` on a function), wrapped as SNS wraps them for Lambda. Only the simulator's
addresses report: a real mailbox is not emulated, so mail to any other address stays `sent` locally (and
the runtime does not run a feedback invocation for every email it sends).

The runtime calls `deliver_pending()` while it settles: a send is answered once it is recorded, never
inside the send itself (SES reports seconds later, after the sender has committed its record).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from local_runtime import moto_hooks
from local_runtime.template import ACCOUNT_ID, REGION, Resolver, Template

SIMULATOR = "simulator.amazonses.com"
_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries


@dataclass(frozen=True)
class Destination:
    configuration_set: str
    event_types: frozenset[str]  # lower case, as CloudFormation names them: bounce, complaint, delivery
    topic_arn: str


class SesFeedback:
    def __init__(
        self,
        destinations: list[Destination],
        subscribers: dict[str, list[str]],
        invoke: Callable[[str, Any], Any],
        now: Callable[[], str],
    ) -> None:
        self.destinations = destinations
        self.subscribers = subscribers  # topic ARN -> function names
        self._invoke = invoke
        self._now = now
        self._seen = 0  # messages already answered (SES's sent list only grows)
        self._lock = threading.Lock()

    @classmethod
    def from_template(
        cls, template: Template, resolver: Resolver, invoke: Callable[[str, Any], Any], now: Callable[[], str]
    ) -> SesFeedback:
        destinations = []
        for _, resource in template.of_type("AWS::SES::ConfigurationSetEventDestination"):
            props = resolver.resolve(resource.get("Properties", {}))
            destination = props.get("EventDestination", {})
            topic = destination.get("SnsDestination", {}).get("TopicARN")
            if topic and destination.get("Enabled", True):
                types = frozenset(t.lower() for t in destination.get("MatchingEventTypes", []))
                destinations.append(Destination(str(props["ConfigurationSetName"]), types, str(topic)))
        subscribers: dict[str, list[str]] = {}
        for logical_id, _ in template.of_type("AWS::Serverless::Function"):
            for event in template.function_properties(logical_id).get("Events", {}).values():
                if event["Type"] == "SNS":
                    topic = resolver.resolve(event["Properties"]["Topic"])
                    subscribers.setdefault(str(topic), []).append(str(resolver.refs[logical_id]))
        ses = boto3.client("ses")
        for name in {d.configuration_set for d in destinations}:
            ses.create_configuration_set(ConfigurationSet={"Name": name})
        return cls(destinations, subscribers, invoke, now)

    def deliver_pending(self) -> int:
        """Publishes the events of every email sent since the last call; returns how many it delivered."""
        delivered = 0
        with self._lock:
            news = moto_hooks.sent_emails(start=self._seen)
            self._seen += len(news)
            for sent in news:
                for destination in self.destinations:
                    if destination.configuration_set != sent.configuration_set:
                        continue
                    for event in simulated_events(sent, self._now()):
                        if event["eventType"].lower() in destination.event_types:
                            delivered += self._publish(destination.topic_arn, event)
        return delivered

    def _publish(self, topic_arn: str, event: dict[str, Any]) -> int:
        notification = sns_lambda_event(topic_arn, event, self._now())
        for function_name in self.subscribers.get(topic_arn, []):
            for attempt in range(_ATTEMPTS):
                try:
                    self._invoke(function_name, notification)
                    break
                except Exception as error:  # Lambda retries an asynchronous invocation twice
                    if attempt + 1 == _ATTEMPTS:
                        print(f"local runtime: {function_name} failed on SES feedback: {error}")
        return 1


def simulated_events(sent: moto_hooks.SentEmail, at: str) -> list[dict[str, Any]]:
    """The events SES publishes for one sent message, by its recipients (mailbox simulator rules)."""
    mail = _mail(sent, at)
    events: list[dict[str, Any]] = []
    delivered = []
    for destination in sent.destinations:
        address = _address(destination)
        local, _, domain = address.partition("@")
        mailbox = local.split("+", 1)[0] if domain == SIMULATOR else None  # the simulator ignores +labels
        if mailbox == "bounce":
            events.append({"eventType": "Bounce", "mail": mail, "bounce": _bounce(address, at)})
        elif mailbox == "suppressionlist":
            bounce = _bounce(address, at, "OnAccountSuppressionList")
            events.append({"eventType": "Bounce", "mail": mail, "bounce": bounce})
        elif mailbox in ("success", "complaint"):
            delivered.append(address)
            if mailbox == "complaint":
                events.append({"eventType": "Complaint", "mail": mail, "complaint": _complaint(address, at)})
    if delivered:
        events.insert(0, {"eventType": "Delivery", "mail": mail, "delivery": _delivery(delivered, at)})
    return events


def sns_lambda_event(topic_arn: str, message: dict[str, Any], at: str) -> dict[str, Any]:
    """What SNS hands a subscribed Lambda function (one record per invocation)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": at,
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/local.pem",
                    "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def _address(value: str) -> str:
    return value.rsplit("<", 1)[-1].rstrip(">").strip().lower()


def _mail(sent: moto_hooks.SentEmail, at: str) -> dict[str, Any]:
    source = _address(sent.source)
    return {
        "timestamp": at,
        "source": sent.source,
        "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{source}",
        "sendingAccountId": ACCOUNT_ID,
        "messageId": sent.message_id,
        "destination": [_address(d) for d in sent.destinations],
        "headersTruncated": False,
        "tags": {
            "ses:configuration-set": [sent.configuration_set or ""],
            "ses:source-ip": ["127.0.0.1"],
            "ses:from-domain": [source.partition("@")[2]],
            "ses:caller-identity": ["local"],
        },
    }


def _bounce(address: str, at: str, sub_type: str = "General") -> dict[str, Any]:
    return {
        "feedbackId": f"{uuid.uuid4().hex}-000000",
        "bounceType": "Permanent",
        "bounceSubType": sub_type,
        "bouncedRecipients": [
            {
                "emailAddress": address,
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
        ],
        "timestamp": at,
        "reportingMTA": f"dns; a1-1.smtp-out.{REGION}.amazonses.com",
    }


def _complaint(address: str, at: str) -> dict[str, Any]:
    return {
        "feedbackId": f"{uuid.uuid4().hex}-000000",
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": at,
        "userAgent": "Amazon SES Mailbox Simulator",
        "complaintFeedbackType": "abuse",
        "arrivalDate": at,
    }


def _delivery(addresses: list[str], at: str) -> dict[str, Any]:
    return {
        "timestamp": at,
        "processingTimeMillis": 512,
        "recipients": addresses,
        "smtpResponse": "250 2.6.0 Message received",
        "reportingMTA": f"a1-1.smtp-out.{REGION}.amazonses.com",
    }
