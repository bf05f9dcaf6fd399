"""Logger and metrics, one instance each per process, configured by the POWERTOOLS_* environment.

No Powertools Tracer: creating one imports the X-Ray SDK (~500 ms of cold start). `Tracing: Active`
in the template still gives every invocation its X-Ray segment (docs/decisions/0005-observability.md).

Every log line is redacted before it is written (`RedactingFormatter`): the value under a sensitive key
(`x-api-key`, `stripe-signature`, `email`, `address`, `line1`, `*_token`, ...) wherever it sits, and in
all text - messages, exception traces, values - email addresses, card-like numbers (13-19 digits passing
the Luhn check), signing secrets and signatures, street addresses, hosted-link tokens and presigned-URL
credentials. It is a safety net behind the rule that such things are never logged, kept to the standard
library's `re` so cold starts do not grow (docs/decisions/0017-security-checks.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import LogRecord

REDACTED = "[REDACTED]"

# Compared after lower-casing and turning "-" into "_", so header spellings match too.
_SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "cookie",
        "set_cookie",
        "x_api_key",
        "api_key",
        "apikey",
        "stripe_signature",
        "x_webhook_signature",
        "signature",
        "secret",
        "password",
        "token",
        "email",
        "to",
        "cc",
        "bcc",
        "recipient",
        "recipients",
        "address",
        "line1",
        "line2",
        "street",
        "phone",
        "iban",
        "card",
        "card_number",
        "body",
        "raw_body",
    }
)
_SENSITIVE_SUFFIXES = ("_token", "_secret", "_signature", "_password", "_email", "_address", "_phone")

_STREET_WORDS = r"(?:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse|damm|ufer)"
_STREET_TYPES = r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Way|Place|Square)"
# (gate, pattern, replacement): the pattern runs only where its cheap gate (substrings, or a regex of
# literals) finds something, which keeps a log line's redaction at a few microseconds per field.
_Gate = tuple[str, ...] | re.Pattern[str]
_PATTERNS: tuple[tuple[_Gate, re.Pattern[str], str], ...] = (
    # Stripe endpoint secrets and API keys (ours are sk_ + 43 characters).
    (
        ("whsec_", "sk_", "rk_"),
        re.compile(r"\bwhsec_[\w+/=-]+|\b(?:sk|rk)_(?:live_|test_)?[\w-]{16,}"),
        "[SECRET]",
    ),
    # HMAC signatures: Stripe-Signature's v1=..., the generic webhook's v1=...
    (("v1=", "v0="), re.compile(r"\b(v[01])=[0-9a-fA-F]{32,}"), r"\1=[SIGNATURE]"),
    (("bearer", "Bearer", "BEARER"), re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]{16,}"), r"\1 [REDACTED]"),
    (("X-Amz-",), re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+"), r"\1[REDACTED]"),
    # The credential of a hosted invoice page or a payment-plan offer is the path segment itself.
    (("/i/", "/payment-plans/"), re.compile(r"(/(?:i|payment-plans)/)[\w-]{16,}"), r"\1[TOKEN]"),
    (("@",), re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.\w{2,}"), "[EMAIL]"),
    (
        re.compile(rf"(?i){_STREET_WORDS}"),
        re.compile(rf"(?i)\b[\w.'-]*{_STREET_WORDS}\s*\d+\s?[a-z]?\b"),
        "[ADDRESS]",
    ),
    (
        re.compile(rf"\b{_STREET_TYPES}\b"),
        re.compile(rf"\b\d{{1,5}}\s+(?:[A-Z][\w'.-]*\s+){{1,4}}{_STREET_TYPES}\b\.?"),
        "[ADDRESS]",
    ),
)
# 13-19 digits standing on their own, or printed the way cards are (4-4-4-4[-3], 4-6-5, 4-6-4); digits
# inside an id ("evt_8cf9492985704421849...", a UUID) are no card.
_CARD_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:\d{13,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    r"(?![0-9A-Za-z])"
)
_NOT_DIGITS = re.compile(r"\D")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = ord(character) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    return "[CARD]" if luhn_valid(_NOT_DIGITS.sub("", match.group(0))) else match.group(0)


def redact_text(text: str) -> str:
    for gate, pattern, replacement in _PATTERNS:
        if any(needle in text for needle in gate) if isinstance(gate, tuple) else gate.search(text):
            text = pattern.sub(replacement, text)
    return _CARD_CANDIDATE.sub(_mask_card, text)


def _is_sensitive(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return name in _SENSITIVE_KEYS or name.endswith(_SENSITIVE_SUFFIXES)


def redact(value: Any) -> Any:
    """A copy of a log record (or any value in one) with everything sensitive masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _is_sensitive(str(key)) and value[key] not in (None, "") else redact(value[key])
            for key in value
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return "[CARD]" if 13 <= len(str(abs(value))) <= 19 and luhn_valid(str(abs(value))) else value
    # Anything else (Decimal, datetime, exceptions) is written as its str(), as the serializer would.
    return redact_text(str(value))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every record redacted just before it is serialised."""

    def serialize(self, log: LogRecord) -> str:
        return super().serialize(redact(log))


def _install_redaction(target: Logger) -> None:
    """Makes the service's one Powertools handler redact, whichever module created a Logger first.

    Powertools configures the handler only for the first `Logger()` of a service; later ones (and
    their `logger_formatter`) reuse it.
    """
    handler = target.registered_handler
    if not isinstance(handler.formatter, RedactingFormatter):
        formatter = RedactingFormatter()
        formatter.append_keys(service=target.service, sampling_rate=target.sampling_rate)
        handler.setFormatter(formatter)


logger = Logger(logger_formatter=RedactingFormatter())
_install_redaction(logger)
metrics = Metrics()
