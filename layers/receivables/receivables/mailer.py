"""Sending email through SES (raw MIME, so the PDF travels as an attachment).

Every message goes through the stack's SES configuration set, whose event destination reports bounces,
complaints and deliveries (docs/decisions/0021). The sending handlers name it once, at their edge, from
their settings (`use_configuration_set`).
"""

from __future__ import annotations

from typing import Any

from receivables import aws

_configuration_set: str | None = None


def use_configuration_set(name: str | None) -> None:
    global _configuration_set
    _configuration_set = name or None


def send_raw(sender: str, recipient: str, mime: bytes) -> str:
    options: dict[str, Any] = {"ConfigurationSetName": _configuration_set} if _configuration_set else {}
    response = aws.client("ses").send_raw_email(
        Source=sender, Destinations=[recipient], RawMessage={"Data": mime}, **options
    )
    return str(response["MessageId"])
