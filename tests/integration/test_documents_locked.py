"""Issued documents cannot be deleted or overwritten: the documents bucket, provisioned from template.yaml
with its Object Lock (compliance mode), refuses it here as S3 does (docs/decisions/0021)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from receivables import document_store


def test_a_stored_invoice_pdf_can_be_neither_deleted_nor_overwritten(local_system: Any) -> None:
    bucket = local_system.resolver.refs["DocumentsBucket"]
    key = document_store.invoice_pdf_key("2026-900001")
    s3 = boto3.client("s3")

    first = document_store.store_once(bucket, key, b"%PDF-1.7 issued")
    again = document_store.store_once(bucket, key, b"%PDF-1.7 changed")

    assert (first.created, again.created, again.sha256) == (True, False, first.sha256)
    stored = s3.head_object(Bucket=bucket, Key=key)
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    # DocumentRetentionYears (10) from the upload (moto dates retention on the wall clock)
    assert stored["ObjectLockRetainUntilDate"].year >= datetime.now(UTC).year + 9
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=stored["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"%PDF-1.7 issued"
