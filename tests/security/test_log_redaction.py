"""Logs never carry secrets, card numbers, email addresses or street addresses (CONVENTIONS.md).

The business day of tests/security/conftest.py runs through the local runtime's HTTP port - an order whose
customer has an email and a street address (and pasted a card number into the second address line), its
invoice emailed, the hosted page and PDF opened, Stripe and generic webhooks signed with the local secrets
(and forged ones), an unknown API key, a rejected order, a credit note, then 36 days of reminders up to
the payment-plan offer, which the customer accepts. Everything the handlers write is captured where the
local runtime sends it: the Powertools handler's JSON lines, stdout (EMF metrics, prints), stderr
(tracebacks) and warnings through the root logger, as Lambda would ship them to CloudWatch. Redaction
lives in receivables/observability.py (docs/decisions/0017-security-checks.md).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from tests.security.conftest import API_KEY, CARD, CUSTOMER_EMAIL, LINE1, LINE2, STRIPE_SECRET, Day

# 13-19 digits on their own or grouped as cards are printed; not the digits inside an id (evt_8cf94929857...).
CARD_LIKE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:\d{13,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    r"(?![0-9A-Za-z])"
)
# EMF lines carry CloudWatch's epoch-milliseconds Timestamp: 13 digits, Luhn-valid one time in ten.
EMF_TIMESTAMP = re.compile(r'("_aws":\{"Timestamp":)\d+')
EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")


def luhn(digits: str) -> bool:
    checksum = 0
    for position, digit in enumerate(int(d) for d in reversed(digits)):
        checksum += digit if position % 2 == 0 else (digit * 2 - 9 if digit > 4 else digit * 2)
    return checksum % 10 == 0


def _json_or_none(line: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _spellings(value: str) -> set[str]:
    """The value as written, and as a JSON string escapes it (ß becomes \\u00df)."""
    return {value, json.dumps(value)[1:-1]}


def test_the_capture_holds_what_the_handlers_logged(business_day: Day) -> None:
    from receivables.observability import logger

    lines = [_json_or_none(line) or {} for line in business_day.log.splitlines()]
    messages = {line.get("message") for line in lines if line.get("service") == logger.service}

    assert {
        "unknown or revoked API key",
        "invoice emailed",
        "provider event",
        "dunning run",
    } <= messages
    assert any("_aws" in line for line in lines)  # EMF metrics


def test_no_secret_key_or_signature_is_logged(business_day: Day) -> None:
    leaked = {secret for secret in business_day.secrets if secret in business_day.log}

    assert not leaked


def test_no_email_address_is_logged(business_day: Day) -> None:
    assert CUSTOMER_EMAIL not in business_day.log
    assert EMAIL_LIKE.findall(business_day.log) == []


def test_no_street_address_is_logged(business_day: Day) -> None:
    for line in (LINE1, LINE2):
        assert not {spelling for spelling in _spellings(line) if spelling in business_day.log}


def test_no_card_like_number_is_logged(business_day: Day) -> None:
    scanned = EMF_TIMESTAMP.sub(r"\1", business_day.log)

    card_like = [m for m in CARD_LIKE.findall(scanned) if luhn(re.sub(r"\D", "", m))]

    assert card_like == []


def test_no_hosted_page_or_payment_plan_token_is_logged(business_day: Day) -> None:
    assert len(business_day.tokens) == 2
    assert not {token for token in business_day.tokens if token in business_day.log}


def test_the_formatter_masks_what_slips_into_a_log_line() -> None:
    # given a formatter fed what a careless line might carry (as extra keys and inside the message)
    from receivables.observability import RedactingFormatter

    record = logging.LogRecord(
        "receivables",
        logging.INFO,
        __file__,
        1,
        f"emailed {CUSTOMER_EMAIL} at {LINE1}, card {CARD}",
        (),
        None,
    )
    record.headers = {"x-api-key": API_KEY, "Stripe-Signature": "t=1,v1=" + "ab" * 32}
    record.customer = {"email": CUSTOMER_EMAIL, "address": {"line1": LINE1, "line2": LINE2}}
    record.url = "https://invoices.example.com/i/Q2hlY2tpbmdUaGVUb2tlbklzTWFza2Vk/pdf?X-Amz-Signature=abcd"
    record.detail = f"secret {STRIPE_SECRET} signed v1={'0f' * 32}; 12 Baker Street"
    record.invoice_id = "inv_c060d9732b6f5c158fe6ec18b68018b6"
    record.amount = "42.82"
    record.number = "2026-000001"

    # when it is formatted
    line = RedactingFormatter().format(record)

    # then nothing sensitive is left, and the ordinary facts are untouched
    for secret in (
        CUSTOMER_EMAIL,
        API_KEY,
        STRIPE_SECRET,
        "ab" * 32,
        "0f" * 32,
        "Q2hlY2tpbmdUaGVUb2tlbklzTWFza2Vk",
    ):
        assert secret not in line
    assert not {
        s for value in (LINE1, LINE2, CARD, "12 Baker Street") for s in _spellings(value) if s in line
    }
    logged = json.loads(line)
    assert (logged["invoice_id"], logged["amount"], logged["number"]) == (
        "inv_c060d9732b6f5c158fe6ec18b68018b6",
        "42.82",
        "2026-000001",
    )
    assert logged["message"] == "emailed [EMAIL] at [ADDRESS], card [CARD]"


def test_redaction_is_installed_whichever_module_created_the_logger_first() -> None:
    from receivables import http, observability

    assert isinstance(http.logger.registered_formatter, observability.RedactingFormatter)
    assert isinstance(observability.logger.registered_formatter, observability.RedactingFormatter)
