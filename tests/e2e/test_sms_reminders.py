"""Reminder SMS through the local runtime: samconfig's dev environment switches `SmsReminders` on, SNS
(emulated) keeps what was sent, and `GET /_local/sms` shows it (docs/decisions/0035).

The dunning run fires at 07:00 in Berlin, inside the quiet hours of a German number: the SMS waits in its
state machine and goes at 08:00. Other tests' invoices are dunned on the same clock, so each test looks
only at its own phone numbers and invoice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import RunningSystem
from tests.support import load_event

pytestmark = [pytest.mark.e2e]

BERLIN = ZoneInfo("Europe/Berlin")
COURTESY_REMINDER = "Freundliche Erinnerung"  # the policy's first step, 3 days before the due date
DAYS_PAST_THE_COURTESY_REMINDER = 12  # payment terms 14 days: the courtesy reminder on day 11, not yet +1


def _invoice_for(system: RunningSystem, external_id: str, email: str) -> dict[str, Any]:
    body = load_event("http/create_order_body.json") | {"external_id": external_id}
    body["customer"] = body["customer"] | {"email": email}
    response = system.post_order(body, key=f"sms-{external_id}")
    assert response.status_code == 201, response.text
    return system.invoice_of(response.json()["id"])


def _patch_customer(
    system: RunningSystem, invoice: dict[str, Any], patch: dict[str, Any]
) -> requests.Response:
    return requests.patch(
        system.url(f"/customers/{invoice['customer_id']}"),
        json=patch,
        headers={"x-api-key": system.api_key},
        timeout=120,
    )


def _sms_to(system: RunningSystem, phone: str) -> list[dict[str, str]]:
    response = requests.get(system.url("/_local/sms"), timeout=120)
    assert response.status_code == 200, response.text
    return [sms for sms in response.json() if sms["to"] == phone]


def _reminder_emails(system: RunningSystem, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for e in system.emails() if invoice["number"] in e["subject"] and COURTESY_REMINDER in e["subject"]
    ]


def test_an_email_and_sms_customer_gets_the_reminder_by_sms_at_8_and_an_email_only_customer_none(
    running_system: RunningSystem,
) -> None:
    # given two customers with a phone number; only one chose SMS reminders
    texted = _invoice_for(running_system, "SMS-BOTH", "sms-both@example.de")
    emailed = _invoice_for(running_system, "SMS-EMAIL-ONLY", "sms-email-only@example.de")
    chose_sms = _patch_customer(
        running_system, texted, {"reminder_channel": "email_and_sms", "phone": "+49 151 2345 6701"}
    )
    kept_email = _patch_customer(running_system, emailed, {"phone": "+49 151 2345 6702"})
    assert (chose_sms.status_code, kept_email.status_code) == (200, 200), (chose_sms.text, kept_email.text)

    # when the courtesy reminders are due
    running_system.advance_days(DAYS_PAST_THE_COURTESY_REMINDER)

    # then both got the reminder email, and only the customer who chose SMS its SMS, once, at 08:00
    (email,) = _reminder_emails(running_system, texted)
    assert len(_reminder_emails(running_system, emailed)) == 1
    (sms,) = _sms_to(running_system, "+4915123456701")
    assert _sms_to(running_system, "+4915123456702") == []
    hosted_url = running_system.get_json(f"/invoices/{texted['id']}")["hosted_url"]
    assert "/i/" in hosted_url
    assert (
        sms["text"] == f"Muster Handel GmbH: {email['subject']} {hosted_url}"
    )  # the email's subject, the pay link
    sent_at = datetime.fromisoformat(sms["sent_at"].replace("Z", "+00:00")).astimezone(BERLIN)
    assert (sent_at.hour, sent_at.minute) == (8, 0)


def test_a_customer_who_answered_stop_gets_the_email_but_no_sms(running_system: RunningSystem) -> None:
    # given a customer who chose SMS reminders, then answered STOP to an SMS of ours
    invoice = _invoice_for(running_system, "SMS-STOP", "sms-stop@example.de")
    chose_sms = _patch_customer(
        running_system, invoice, {"reminder_channel": "email_and_sms", "phone": "+4915123456703"}
    )
    assert chose_sms.status_code == 200, chose_sms.text
    reply = requests.post(
        running_system.url("/_local/sms/replies"),
        json={"from": "+4915123456703", "text": "Stop"},
        timeout=120,
    )
    assert reply.json() == {"opted_out": True}

    # when the courtesy reminder is due
    running_system.advance_days(DAYS_PAST_THE_COURTESY_REMINDER)

    # then the email went and no SMS (SNS's opt-out list is asked before sending)
    assert len(_reminder_emails(running_system, invoice)) == 1
    assert _sms_to(running_system, "+4915123456703") == []


def test_a_phone_number_no_country_assigns_is_refused_naming_the_field(running_system: RunningSystem) -> None:
    invoice = _invoice_for(running_system, "SMS-BAD-PHONE", "sms-bad-phone@example.de")

    response = _patch_customer(
        running_system, invoice, {"reminder_channel": "email_and_sms", "phone": "+1234567"}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["phone"]


def test_a_reply_without_its_number_is_refused_naming_the_field(running_system: RunningSystem) -> None:
    response = requests.post(running_system.url("/_local/sms/replies"), json={"text": "STOP"}, timeout=120)
    not_a_keyword = requests.post(
        running_system.url("/_local/sms/replies"),
        json={"from": "+4915123456704", "text": "Danke"},
        timeout=120,
    )

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["from"]
    assert not_a_keyword.json() == {"opted_out": False}
