"""A statement file dropped in the documents bucket under `statements/` is imported like
`POST /bank-statements` (S3 event notification; docs/decisions/0030-bank-statement-matching.md).

`statements/<storefront id>/<file>` names the storefront whose open invoices amount-and-payer matching
considers; the statement's id derives from the object's bucket, key and version, so a redelivered
notification (S3 delivers at least once) finds the same statement and, entry by entry, nothing new.
"""

import uuid
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import aws
from receivables.bank.reconcile import import_statement
from receivables.bank.statement_files import UnreadableStatement, parse_statement
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import SellerSettings, load

_STATEMENT_IDS = uuid.UUID("9b0e3f4c-1d7a-4c55-8f2e-3a6d0b9c7e12")
PREFIX = "statements/"


def statement_id_for(bucket: str, key: str, version: str) -> str:
    return f"bst_{uuid.uuid5(_STATEMENT_IDS, f'{bucket}/{key}#{version}').hex}"


def storefront_of(key: str) -> str | None:
    parts = key.removeprefix(PREFIX).split("/")
    return parts[0] if len(parts) > 1 and parts[0] else None


def _content_type(key: str, stored: str | None) -> str:
    if key.lower().endswith(".xml"):
        return "application/xml"
    return stored if stored in ("application/xml", "text/xml") else "text/plain"


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load(SellerSettings)
    seller_id = load_seller_profile(settings.seller_profile_parameter).seller_id
    imported = []
    for notification in event.get("Records", []):
        bucket = notification["s3"]["bucket"]["name"]
        key = unquote_plus(notification["s3"]["object"]["key"])
        if not key.startswith(PREFIX):
            continue
        version = notification["s3"]["object"].get("versionId") or notification["s3"]["object"].get(
            "eTag", ""
        )
        request: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if notification["s3"]["object"].get("versionId"):
            request["VersionId"] = version
        stored = aws.client("s3").get_object(**request)
        body = stored["Body"].read()
        try:
            statement = parse_statement(body, _content_type(key, stored.get("ContentType")))
        except UnreadableStatement as unreadable:
            # A retry cannot make the file readable: log which fields, and leave the file for finance.
            logger.error("bank statement unreadable", extra={"key": key, "errors": str(unreadable)})
            continue
        summary = import_statement(
            settings.table_name,
            statement,
            statement_id=statement_id_for(bucket, key, version),
            seller_id=seller_id,
            storefront_id=storefront_of(key),
            source=f"s3://{bucket}/{key}",
        )
        logger.info("bank statement imported", extra={"key": key} | summary)
        imported.append(summary)
    return {"imported": imported}
