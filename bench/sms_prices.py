"""What one reminder SMS costs, per destination country class: the list price per segment times the
segments our reminder text takes (receivables.sms), plus the Step Functions transitions and the Lambda
request of the SMS reminder state machine (bench/prices.py) - the email itself is in bench/cost_model.py.

Prices: AWS End User Messaging SMS (what SNS bills for SMS since 2024), outbound, transactional, sent
from eu-central-1, US dollars per message part (segment), from https://aws.amazon.com/end-user-messaging/pricing/
("SMS pricing" table, per destination country), as of 2025-06. Not checked against the live page when this
was written (no access from the build machine): re-check with the page, or the AWS Pricing Calculator,
before quoting a figure; carriers change their fees several times a year. Where a country's carriers add a
fee per part (the US), it is included. What a country class stands for:
- EU, one sender ID (Germany): the home market; German text is GSM-7 (umlauts and ß are in the alphabet);
- EU, higher tier (France), UK: neighbouring markets at the usual European price;
- US, toll-free number: registration needed; base price plus the carriers' per-part fee;
- India: low price per part, DLT template registration needed before anything is delivered.
docs/decisions/0035-sms-reminders.md
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench import prices
from receivables import sms

PRICE_LIST_DATE = "2025-06"
SOURCE = "https://aws.amazon.com/end-user-messaging/pricing/"
LINK = "https://invoices.example.com/i/Hk3v9QxZ2mR7tYp4LwN8aB1c"  # a hosted page link as sent (32 chars)


@dataclass(frozen=True)
class Destination:
    country_class: str
    usd_per_part: Decimal  # base price plus any carrier fee per message part
    description: str  # a typical reminder's description in the country's language


DESTINATIONS = (
    Destination(
        "EU sender ID (DE)",
        Decimal("0.0832"),
        "Muster Handel GmbH: Zahlungserinnerung: Rechnung RE-2026-000123",
    ),
    Destination(
        "EU higher tier (FR)",
        Decimal("0.0749"),
        "Muster Handel GmbH: Rappel de paiement : facture RE-2026-000123",
    ),
    Destination("UK (GB)", Decimal("0.0420"), "Muster Handel GmbH: Payment reminder: invoice RE-2026-000123"),
    Destination(
        "US toll-free (US), with carrier fee",
        Decimal("0.00581") + Decimal("0.0025"),
        "Muster Handel GmbH: Payment reminder: invoice RE-2026-000123",
    ),
    Destination(
        "India, DLT-registered (IN)",
        Decimal("0.0022"),
        "Muster Handel GmbH: भुगतान अनुस्मारक: चालान RE-2026-000123",  # Devanagari: UCS-2
    ),
)
# The SMS reminder state machine per SMS: start, Wait, Task (bench/prices.py prices transitions).
TRANSITIONS_PER_SMS = 3


def _per_reminder(destination: Destination, segments: int) -> Decimal:
    per_message = Decimal(str(prices.STEP_FUNCTIONS_TRANSITION.cost(TRANSITIONS_PER_SMS)))
    per_message += Decimal(str(prices.LAMBDA_REQUEST.cost(1)))
    return destination.usd_per_part * segments + per_message


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for destination in DESTINATIONS:
        text = sms.reminder_text(destination.description, LINK)
        typical = sms.segments(text)
        usd = _per_reminder(destination, typical)
        longest = _per_reminder(destination, sms.MAX_REMINDER_SEGMENTS)
        rows.append(
            {
                "name": f"SMS reminder to {destination.country_class}: {typical} x {sms.encoding(text)} part",
                "value": float(
                    usd.quantize(Decimal("0.00001"))
                ),  # the table prints numbers; computed exactly
                "unit": "$/SMS",
                "target": f"<= ${longest.quantize(Decimal('0.0001'))} (2 parts)",
                "ratio": float((usd / longest).quantize(Decimal("0.01"))),
                "source": f"{SOURCE} ({PRICE_LIST_DATE}, unchecked)",
            }
        )
    return rows
