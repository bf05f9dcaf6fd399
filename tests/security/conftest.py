"""The local runtime served on a free port of this process, and a realistic stretch of business run through
it while everything the handlers log and every AWS call they make is recorded.

In-process, so the tests call the HTTP API like a storefront, a customer and a payment provider do, and
can still look inside the emulated account: what was stored, what was logged, which API was called by
which function.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import REPOSITORY, generic_signature_headers, load_event, stripe_signature

STRIPE_SECRET = "whsec_local"
GENERIC_SECRET = "local-webhook-secret"
API_KEY = "dev-storefront-key"
UNKNOWN_KEY = "sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CUSTOMER_EMAIL = "erika.mustermann@example.org"
SMS_PHONE = "+4915112345678"  # reminders by SMS too: the SMS function's grants are exercised
LINE1 = "Lindenstraße 42"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number, typed into the address by the customer
LINE2 = f"Kreditkarte {CARD}"


@pytest.fixture(scope="module")
def served(local_system: Any) -> Iterator[RunningSystem]:
    from local_runtime.server import serve

    server = serve(local_system, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield RunningSystem(f"http://127.0.0.1:{server.server_address[1]}", local_system.state_dir)
    server.shutdown()
    server.server_close()


def local_url(system: RunningSystem, link: str) -> str:
    """A link from an email or a response (it names the runtime's public URL) on this test's port."""
    parts = urlsplit(link)
    return system.url(parts.path + (f"?{parts.query}" if parts.query else ""))


# ---------------------------------------------------------------------------------------------- logs
@contextlib.contextmanager
def everything_logged(system: Any) -> Iterator[io.StringIO]:
    """What Lambda would ship to CloudWatch: the Powertools handler, stdout, stderr, root warnings."""
    # Imported as a function would (Logger and Metrics read POWERTOOLS_* when they are created).
    with mock.patch.dict(os.environ, system.global_environment()):
        from receivables.observability import logger

    captured = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(captured)
    # Lambda's runtime handler on the root logger (WARNING and up); the service's own records reach
    # CloudWatch once, through the Powertools handler (its SuppressFilter does the same on Lambda).
    root_handler = logging.StreamHandler(captured)
    root_handler.setLevel(logging.WARNING)
    root_handler.addFilter(lambda record: record.name.split(".")[0] != logger.service)
    logging.getLogger().addHandler(root_handler)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            yield captured
    finally:
        logging.getLogger().removeHandler(root_handler)
        handler.setStream(previous)


# ---------------------------------------------------------------------------------------------- AWS calls
@dataclass(frozen=True)
class AwsCall:
    function_dir: str  # functions/<dir>/app.py made it
    service: str  # botocore's service name: dynamodb, s3, ses, ...
    operation: str  # GetItem, TransactWriteItems, ... (GetObject for a presigned GET)
    params: dict[str, Any]
    layer_module: str | None = None  # the layer module that issued it (receivables/invoicing/store.py)


_FUNCTIONS = str(REPOSITORY / "functions") + os.sep
_LAYER = str(REPOSITORY / "layers" / "receivables") + os.sep
_CLIENT_FACTORY = _LAYER + os.path.join("receivables", "aws.py")


def _calling_layer_module() -> str | None:
    """The innermost layer module on this thread's stack (not the client factory), if any."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_LAYER) and filename != _CLIENT_FACTORY:
            return filename[len(_LAYER) :].replace(os.sep, "/")
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _calling_function() -> str | None:
    """The function whose handler is on this thread's stack, if any (not the runtime's own calls)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_FUNCTIONS):
            return filename[len(_FUNCTIONS) :].split(os.sep, 1)[0]
        frame = frame.f_back  # type: ignore[assignment]
    return None


@contextlib.contextmanager
def aws_calls_recorded() -> Iterator[list[AwsCall]]:
    """Every API call a handler makes, by any client (Powertools builds its own), and presigned GETs."""
    from botocore.client import BaseClient

    from receivables import document_store

    calls: list[AwsCall] = []
    original_call = BaseClient._make_api_call
    original_presign = document_store.presigned_url

    def recording_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        function_dir = _calling_function()
        if function_dir:
            service = client.meta.service_model.service_name
            calls.append(AwsCall(function_dir, service, operation, params, _calling_layer_module()))
        return original_call(client, operation, params)

    def recording_presign(bucket: str, key: str, filename: str) -> str:
        # the customer's GET is signed with the function's credentials: the function needs GetObject
        function_dir = _calling_function()
        if function_dir:
            calls.append(AwsCall(function_dir, "s3", "GetObject", {"Bucket": bucket, "Key": key}))
        return original_presign(bucket, key, filename)

    with (
        mock.patch.object(BaseClient, "_make_api_call", recording_call),
        mock.patch.object(document_store, "presigned_url", recording_presign),
    ):
        yield calls


# ---------------------------------------------------------------------------------------------- the day
@dataclass
class Day:
    log: str = ""
    calls: list[AwsCall] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)


def order_body(external_id: str, **customer: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load_event("http/create_order_body.json"))
    body["external_id"] = external_id
    body["customer"] |= {"email": CUSTOMER_EMAIL, "name": "Erika Mustermann"} | customer
    body["customer"]["address"] |= {"line1": LINE1, "line2": LINE2, "postal_code": "10115"}
    return body


def _stripe(system: RunningSystem, invoice: dict[str, Any], cents: int, day: Day, secret: str) -> int:
    event = copy.deepcopy(load_event("stripe/payment_intent.succeeded.json"))
    event["id"] = f"evt_security_{cents}"
    event["data"]["object"] |= {"id": f"pi_security_{cents}", "amount_received": cents}
    event["data"]["object"]["metadata"] = {"invoice_id": invoice["id"], "invoice_number": invoice["number"]}
    body = json.dumps(event).encode()
    signature = stripe_signature(body, secret=secret, at=system.now())
    day.secrets |= {signature, signature.split("v1=")[1]}
    headers = {"content-type": "application/json", "Stripe-Signature": signature}
    return requests.post(system.url("/webhooks/stripe"), data=body, headers=headers, timeout=120).status_code


def _generic(system: RunningSystem, invoice: dict[str, Any], event_id: str, day: Day, secret: str) -> int:
    body = load_event("http/generic_payment_body.json") | {
        "id": event_id,
        "invoice_number": invoice["number"],
        "amount": "22.82",
        "payer_note": f"paid by card {CARD}",  # ignored by the event model, never logged
    }
    raw = json.dumps(body).encode()
    headers = generic_signature_headers(raw, secret=secret, at=system.now())
    day.secrets |= {headers["X-Webhook-Signature"], headers["X-Webhook-Signature"].split("v1=")[1]}
    headers["content-type"] = "application/json"
    return requests.post(system.url("/webhooks/generic"), data=raw, headers=headers, timeout=120).status_code


def live_a_day(system: RunningSystem, day: Day) -> None:
    """Orders, invoices, payments, reminders and a payment plan, the way people and providers cause them."""
    # A storefront with a key nobody issued, and a bad order (the card number where the email goes).
    unknown = system.post_order(order_body("SEC-UNKNOWN"), key="sec-unknown", api_key=UNKNOWN_KEY)
    rejected = system.post_order(order_body("SEC-BAD", email=CARD.replace(" ", "")), key="sec-bad")
    assert (unknown.status_code, rejected.status_code) == (401, 422), (unknown.text, rejected.text)

    # The order, its invoice emailed, the customer opening the page and the PDF.
    created = system.post_order(order_body("SEC-1"), key="sec-1")
    assert created.status_code == 201, created.text
    invoice = system.invoice_of(created.json()["id"])
    page = requests.get(local_url(system, invoice["hosted_url"]), timeout=120)
    pdf = requests.get(local_url(system, invoice["hosted_url"]) + "/pdf", timeout=120)
    guessed = requests.get(system.url("/i/" + "A" * 32), timeout=120)
    assert (page.status_code, pdf.status_code, guessed.status_code) == (200, 200, 404)
    day.tokens.add(invoice["hosted_url"].rsplit("/", 1)[1])

    # An invoice to an address that bounces: SES's feedback marks it, suppresses the address, opens a task.
    bounced = system.post_order(
        order_body("SEC-BOUNCE", email="bounce@simulator.amazonses.com"), key="sec-bounce"
    )
    undeliverable = system.invoice_of(bounced.json()["id"])
    system.settle()
    assert system.get_json(f"/invoices/{undeliverable['id']}")["email_status"] == "bounced"

    # Paid in two parts, by Stripe and by bank transfer; a forged call of each provider on the way.
    assert _stripe(system, invoice, 2000, day, STRIPE_SECRET) == 200
    assert _stripe(system, invoice, 2282, day, "whsec_forged") == 400
    assert _generic(system, invoice, "bank_security_forged", day, "forged-secret") == 400
    assert _generic(system, invoice, "bank_security_1", day, GENERIC_SECRET) == 200
    system.settle()
    assert system.get_json(f"/invoices/{invoice['id']}")["status"] == "paid"

    # Finance: a credit note for a damaged item (rendered to PDF), the history, the aging report.
    credit = requests.post(
        system.url(f"/invoices/{invoice['id']}/credit-notes"),
        json={"amount": "11.90", "tax_rate": "19", "reason": "Ein Widget beschädigt geliefert"},
        headers={"x-api-key": API_KEY, "Idempotency-Key": "sec-credit-1"},
        timeout=120,
    )
    assert credit.status_code == 201, credit.text
    system.settle()
    assert system.get_json(f"/invoices/{invoice['id']}/credit-notes")["items"][0]["pdf_url"]
    assert system.get_json(f"/invoices/{invoice['id']}/history")["items"]
    assert system.get_json("/reports/aging")

    # A second invoice nobody pays: reminders, the final notice and its payment-plan offer, accepted.
    unpaid = system.invoice_of(system.post_order(order_body("SEC-2"), key="sec-2").json()["id"])
    # The customer chose SMS reminders too: each reminder also goes by SMS, at 08:00 their time.
    chose_sms = requests.patch(
        system.url(f"/customers/{unpaid['customer_id']}"),
        json={"reminder_channel": "email_and_sms", "phone": SMS_PHONE},
        headers={"x-api-key": API_KEY},
        timeout=120,
    )
    assert chose_sms.status_code == 200, chose_sms.text
    system.advance_days(36)
    assert any(sms["to"] == SMS_PHONE for sms in requests.get(system.url("/_local/sms"), timeout=120).json())
    notice = next(
        e for e in system.emails() if unpaid["number"] in e["subject"] and "Ratenzahlung" in e["subject"]
    )
    plan = re.search(r"http://\S+/payment-plans/([\w-]+)", notice["text"])
    assert plan, notice["text"]
    day.tokens.add(plan.group(1))
    offer = requests.get(local_url(system, plan.group(0)), timeout=120)
    accepted = requests.post(local_url(system, plan.group(0)) + "/accept", timeout=120)
    system.settle()
    assert (offer.status_code, accepted.status_code) == (200, 200)
    assert system.get_json(f"/invoices/{unpaid['id']}/escalation")["state"] == "payment_plan"


@pytest.fixture(scope="module")
def business_day(local_system: Any, served: RunningSystem) -> Day:
    day = Day(secrets={STRIPE_SECRET, GENERIC_SECRET, API_KEY, UNKNOWN_KEY})
    with everything_logged(local_system) as captured, aws_calls_recorded() as calls:
        live_a_day(served, day)
    day.log, day.calls = captured.getvalue(), list(calls)
    return day
