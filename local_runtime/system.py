"""The whole system on one machine: emulated AWS, our handlers, streams, schedules, a clock.

Used by `make run` (through `__main__`) and by the tests, in-process or as a subprocess.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from local_runtime import moto_hooks
from local_runtime.bucket_notifications import BucketNotifier
from local_runtime.gateway import Gateway
from local_runtime.provision import Schedule, Topology, provision
from local_runtime.queues import QueuePump
from local_runtime.schedules import fire_times, scheduled_event
from local_runtime.ses_feedback import SesFeedback
from local_runtime.streams import StreamPump
from local_runtime.template import ACCOUNT_ID, REGION, Resolver, Template, samconfig_parameter_overrides
from local_runtime.timeline import Timeline

REPOSITORY = Path(__file__).resolve().parent.parent
LOCAL_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ACCOUNT_ID": ACCOUNT_ID,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


@dataclass
class EmailView:
    """An email as `GET /_local/emails` shows it."""

    message_id: str
    to: list[str]
    subject: str
    text: str | None
    html: str | None
    attachments: list[dict[str, Any]]
    sent_at: str
    mime: bytes = field(repr=False, default=b"")

    def public(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": self.attachments,
            "sent_at": self.sent_at,
        }


class LocalSystem:
    def __init__(
        self,
        templates: list[Path] | None = None,
        state_dir: Path | None = None,
        public_url: str = "http://127.0.0.1:3000",
        aws_port: int | None = None,
        parameter_overrides: dict[str, str] | None = None,
    ) -> None:
        self.template_paths = templates or [REPOSITORY / "template.yaml"]
        self.state_dir = state_dir or REPOSITORY / ".local"
        self.public_url = public_url
        self.aws_port = aws_port or _free_port()
        # samconfig.toml's dev samples (the template has no production defaults); links in emails and
        # pages point at this runtime's HTTP port.
        self.parameter_overrides = (
            samconfig_parameter_overrides(REPOSITORY / "samconfig.toml")
            | {"PublicBaseUrl": public_url}
            | (parameter_overrides or {})
        )
        self.ready = False
        self._mock: Any = None
        self._openapi: dict[str, Any] | None = None
        self._emails: dict[str, EmailView] = {}
        self._events: list[dict[str, Any]] = []
        self._mirrored: dict[tuple[str, str], str] = {}
        self._schedule_lock = threading.RLock()
        self._stop = threading.Event()
        self._background = threading.Thread(target=self._tick, name="local-ticker", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalSystem:
        self.aws_endpoint = f"http://127.0.0.1:{self.aws_port}"
        os.environ.update(LOCAL_ENVIRONMENT | {"AWS_ENDPOINT_URL_S3": self.aws_endpoint})
        self._mock = moto_hooks.start_emulated_aws(now=_simulated_now)
        self._aws_server = moto_hooks.serve_s3_endpoint("127.0.0.1", self.aws_port)
        template = Template.load(*self.template_paths)
        self.resolver = Resolver(template, parameter_overrides=self.parameter_overrides)
        self.topology: Topology = provision(template, self.resolver)
        moto_hooks.route_lambda_invocations(self.topology.functions.invoke_for_moto)
        from receivables import clock  # importable once the layer is on sys.path

        clock.reset()
        self.clock = clock
        self.timeline = Timeline(clock.now)
        moto_hooks.run_step_functions_on(self.timeline)
        self._schedules_checked_until = clock.now()
        self._schedule_anchor = clock.now()
        self._capture_queues = [self._capture_bus(bus) for bus in self.topology.event_buses]
        self.gateway = Gateway(self.topology.routes, self.topology.functions)
        self.ses_feedback = SesFeedback.from_template(
            template, self.resolver, self.topology.functions.invoke, lambda: clock.iso(clock.now())
        )
        self.bucket_notifier = BucketNotifier(
            self.topology.bucket_notifications,
            self.topology.functions.invoke,
            lambda: clock.iso(clock.now()),
        )
        self.pump = StreamPump(self.topology.stream_sources, self.topology.functions.invoke)
        functions = self.topology.functions
        self.queues = QueuePump(self.topology.queue_sources, functions.invoke, functions.lock)
        from local_runtime.seed import seed
        from local_runtime.stripe_standin import StripeStandIn

        # Stripe for "Pay now": the functions call the stand-in, never api.stripe.com (decisions/0037).
        self.stripe = StripeStandIn.start()
        os.environ["STRIPE_API_BASE"] = self.stripe.api_base

        # Seeded before the pumps start: the router takes every record, and an invocation switches the
        # process environment, which this thread's boto3 clients iterate while they are created.
        self.seeded = seed(self)
        self.pump.start()
        self.queues.start()
        self._background.start()
        self.ready = True
        return self

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Stops delivering; work in flight gets `grace_seconds` to finish (the state is in memory)."""
        self._stop.set()
        self.pump.stop(grace_seconds)
        self.queues.stop(grace_seconds)
        self._background.join(timeout=grace_seconds)
        self._aws_server.stop()
        self.stripe.stop()
        os.environ.pop("AWS_ENDPOINT_URL_S3", None)
        os.environ.pop("STRIPE_API_BASE", None)
        if self._mock is not None:
            self._mock.stop()

    def healthy(self) -> bool:
        return (
            self.ready
            and self.pump.alive
            and self.queues.alive
            and self._background.is_alive()
            and self.pump.error is None
            and self.queues.error is None
        )

    def deliver_stripe_webhooks(self) -> None:
        """The stand-in sends its events to this runtime's `/webhooks/stripe`, signed with the seeded
        secret. Only once the HTTP port serves: a system without one (in-process tests) gets none."""
        self.stripe.register_webhook(
            f"{self.public_url}/webhooks/stripe", self.seeded["stripe_webhook_secret"]
        )
        self._stripe_follows_clock()

    def _stripe_follows_clock(self) -> None:
        self.stripe.follow_clock((self.clock.now() - datetime.now(UTC)).total_seconds())

    def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI document, generated from the handlers this runtime serves."""
        if self._openapi is None:
            from local_runtime.openapi import build

            self._openapi = build(Template.load(*self.template_paths))
        return self._openapi

    def global_environment(self) -> dict[str, str]:
        """The Globals environment of the template's functions, resolved."""
        variables = (
            self.resolver.template.globals.get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        return {key: str(value) for key, value in self.resolver.resolve(variables).items()}

    # ------------------------------------------------------------------ time
    def advance(self, by: timedelta) -> datetime:
        """Moves the clock to each moment something was due - a schedule's fire time or a waiting
        execution's deadline - in order, settling in between; then to the target, and settles."""
        # Work started before the call (an execution about to enter a Wait) must register its
        # deadline before time moves, or it would wait from the new "now".
        self.settle()
        with self._schedule_lock:
            target = self.clock.now() + by
            while (moment := self._next_moment(target)) is not None:
                if moment > self.clock.now():
                    self.clock.advance(moment - self.clock.now())
                self._run_schedules_until(moment)
                self.settle()
            self.clock.advance(max(timedelta(0), target - self.clock.now()))
            self._run_schedules_until(target)
        self._stripe_follows_clock()
        self.settle()
        return self.clock.now()

    def _next_moment(self, until: datetime) -> datetime | None:
        candidates = [
            d for d in [self.timeline.next_deadline(until)] if d is not None and d > self.clock.now()
        ]
        for schedule in self.topology.schedules:
            times = fire_times(
                schedule.expression,
                self._schedule_anchor,
                self._schedules_checked_until,
                until,
                schedule.timezone,
            )
            candidates += times[:1]
        return min(candidates) if candidates else None

    def _run_schedules_until(self, until: datetime) -> None:
        due: list[tuple[datetime, Schedule]] = []
        for schedule in self.topology.schedules:
            times = fire_times(
                schedule.expression,
                self._schedule_anchor,
                self._schedules_checked_until,
                until,
                schedule.timezone,
            )
            due += [(t, schedule) for t in times]
        for at, schedule in sorted(due, key=lambda pair: pair[0]):
            if at > self.clock.now():
                self.clock.advance(at - self.clock.now())
            self._fire(schedule, at)
            self.settle()
        self._schedules_checked_until = max(self._schedules_checked_until, until)

    def _fire(self, schedule: Schedule, at: datetime) -> None:
        event = scheduled_event(schedule, at)
        if schedule.function_name:
            try:
                self.topology.functions.invoke(schedule.function_name, event)
            except Exception as error:  # EventBridge retries later; here the failure is printed
                print(f"local runtime: schedule {schedule.name} failed: {error}")
        elif schedule.state_machine_arn:
            boto3.client("stepfunctions").start_execution(
                stateMachineArn=schedule.state_machine_arn,
                name=f"schedule-{at.strftime('%Y%m%dT%H%M%S')}",
                input=json.dumps(event),
            )

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            try:
                with self._schedule_lock:
                    self._run_schedules_until(self.clock.now())
                self.ses_feedback.deliver_pending()
                self.bucket_notifier.deliver_pending()
                self.collect_outputs()
            except Exception as error:
                print(f"local runtime: background tick failed: {error}")

    # ------------------------------------------------------------------ settling
    def settle(self, timeout: float = 600.0) -> bool:
        """Waits until streams and queues are drained, no delivery is in flight and no execution is
        running; True if it got there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Stripe's webhooks first: each one delivered runs the webhook function, whose work follows.
            drained = self.stripe.wait_for_webhooks(max(0.1, deadline - time.monotonic()))
            drained = drained and self._deliveries_drained(deadline)
            fed_back = self.ses_feedback.deliver_pending()  # SES's reports on the mail sent meanwhile
            fed_back += self.bucket_notifier.deliver_pending()  # objects put since (S3 notifications)
            # the second pass makes sure nothing woke up while executions were checked
            if (
                drained
                and not fed_back
                and not self._executions_running()
                and self._deliveries_drained(deadline)
                and self.stripe.in_flight() == 0
            ):
                self.collect_outputs()
                return True
            time.sleep(0.02)
        self.collect_outputs()
        return False

    def _deliveries_drained(self, deadline: float) -> bool:
        """Stream and queues idle together: a queue delivery writes records the stream then carries
        to the router, whose messages fill the queues again, so both are waited for until one pass
        sees neither deliver anything."""
        while time.monotonic() < deadline:
            before = (self.topology.functions.invocations.copy(), self.queues.deliveries)
            remaining = max(0.1, deadline - time.monotonic())
            if not (self.pump.wait_until_idle(remaining) and self.queues.wait_until_idle(remaining)):
                return False
            if (self.topology.functions.invocations, self.queues.deliveries) == before:
                return True
        return False

    def _executions_running(self) -> bool:
        """True while some execution is working rather than parked on a future moment."""
        client = boto3.client("stepfunctions")
        running = sum(
            len(client.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"])
            for arn in self.topology.state_machines.values()
        )
        return running > self.timeline.parked()

    # ------------------------------------------------------------------ what people see
    def _capture_bus(self, bus: str) -> str:
        """Subscribes a queue to every event on the bus, for GET /_local/events."""
        sqs, events = boto3.client("sqs"), boto3.client("events")
        url = sqs.create_queue(QueueName=f"local-capture-{bus}"[:80])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="local-capture", EventBusName=bus, EventPattern=json.dumps({"account": [ACCOUNT_ID]})
        )
        events.put_targets(Rule="local-capture", EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
        return str(url)

    def collect_outputs(self) -> None:
        with self._schedule_lock:
            self._collect_events()
            self._collect_emails()
            self._mirror_objects()

    def _collect_events(self) -> None:
        sqs = boto3.client("sqs")
        for url in self._capture_queues:
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    self._events.append(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _collect_emails(self) -> None:
        outbox = self.state_dir / "outbox"
        for sent in moto_hooks.sent_emails():
            if sent.message_id in self._emails:
                continue
            view = _email_view(sent, self.clock.iso(self.clock.now()))
            self._emails[sent.message_id] = view
            outbox.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^\w-]+", "-", view.subject)[:60].strip("-") or "email"
            (outbox / f"{len(self._emails):04d}-{slug}.eml").write_bytes(view.mime)

    def _mirror_objects(self) -> None:
        for bucket, key, etag, body in moto_hooks.stored_objects():
            if self._mirrored.get((bucket, key)) == etag:
                continue
            target = (self.state_dir / "s3" / bucket / key).resolve()
            if not target.is_relative_to((self.state_dir / "s3").resolve()):
                continue  # a key like ../../x must not escape the mirror
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            self._mirrored[(bucket, key)] = etag

    def emails(self) -> list[EmailView]:
        self.collect_outputs()
        return list(self._emails.values())

    def events(self) -> list[dict[str, Any]]:
        self.collect_outputs()
        return list(self._events)

    def sms(self) -> list[dict[str, str]]:
        """Every SMS the system sent, in order, as `GET /_local/sms` shows it."""
        return [{"to": sent.to, "text": sent.text, "sent_at": sent.sent_at} for sent in moto_hooks.sent_sms()]

    def reply_to_sms(self, phone: str, text: str) -> bool:
        """A customer's answer to an SMS; STOP (and the other keywords SNS honours) opts the number out
        of all SMS from this account, as SNS does. True if it opted out."""
        if text.strip().upper() not in SNS_OPT_OUT_KEYWORDS:
            return False
        moto_hooks.opt_out_phone_number(phone)
        return True


# The replies SNS takes as an opt-out (AWS End User Messaging SMS: default opt-out keywords).
SNS_OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"}
)


def _simulated_now() -> str:
    from receivables import clock  # the layer is importable once the system has started

    return clock.iso(clock.now())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _email_view(sent: moto_hooks.SentEmail, seen_at: str) -> EmailView:
    if sent.raw is None:
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            sent.source,
            ", ".join(sent.destinations),
            sent.subject or "",
        )
        message.set_content(sent.body or "")
        mime = message.as_bytes()
    else:
        mime = sent.raw.encode() if isinstance(sent.raw, str) else sent.raw
    parsed = email.message_from_bytes(mime, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    text_part, html_part = parsed.get_body(("plain",)), parsed.get_body(("html",))
    attachments = []
    for part in parsed.iter_attachments():
        content = part.get_payload(decode=True) or b""
        attachments.append(
            {"filename": part.get_filename(), "content_type": part.get_content_type(), "size": len(content)}
        )
    recipients = (
        [address.addr_spec for address in parsed["To"].addresses] if parsed["To"] else sent.destinations
    )
    return EmailView(
        message_id=sent.message_id,
        to=recipients,
        subject=str(parsed["Subject"] or ""),
        text=text_part.get_content() if text_part else None,
        html=html_part.get_content() if html_part else None,
        attachments=attachments,
        sent_at=seen_at or datetime.now(UTC).isoformat(),
        mime=mime,
    )
