"""Sending email through SES (raw MIME, so the PDF travels as an attachment)."""

from __future__ import annotations

from receivables import aws


def send_raw(sender: str, recipient: str, mime: bytes) -> str:
    response = aws.client("ses").send_raw_email(
        Source=sender, Destinations=[recipient], RawMessage={"Data": mime}
    )
    return str(response["MessageId"])
