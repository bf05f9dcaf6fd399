"""Invoice PDFs in S3: written once (conditional put), read back for emails, shared by presigned URL."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from botocore.exceptions import ClientError

from receivables import aws

PDF = "application/pdf"
PRESIGNED_SECONDS = 15 * 60


@dataclass(frozen=True)
class StoredDocument:
    key: str
    sha256: str
    created: bool  # False when an earlier attempt had already stored it


def invoice_pdf_key(number: str) -> str:
    year = number.split("-", 1)[0]
    return f"invoices/{year}/{number}.pdf"


def store_once(bucket: str, key: str, body: bytes, content_type: str = PDF) -> StoredDocument:
    """Puts the object only if the key is free, so redeliveries never add a second version."""
    digest = hashlib.sha256(body).digest()
    client = aws.client("s3")
    try:
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="AES256",
            # The bucket's Object Lock refuses uploads that do not name their checksum algorithm.
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(digest).decode(),
            IfNoneMatch="*",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise
        stored = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        checksum = stored.get("ChecksumSHA256")
        existing = (
            base64.b64decode(checksum).hex() if checksum else hashlib.sha256(read(bucket, key)).hexdigest()
        )
        return StoredDocument(key, existing, created=False)
    return StoredDocument(key, digest.hex(), created=True)


def read(bucket: str, key: str) -> bytes:
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def presigned_url(bucket: str, key: str, filename: str) -> str:
    return str(
        aws.client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": PDF,
                "ResponseContentDisposition": f'inline; filename="{filename}"',
            },
            ExpiresIn=PRESIGNED_SECONDS,
        )
    )
