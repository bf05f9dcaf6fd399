"""Nightly schedule: writes the previous day's journal CSV to the documents bucket, once per day."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.journal import load_accounts
from receivables.observability import logger
from receivables.report_reads import day_before, export_journal_day
from receivables.seller import load_seller_profile
from receivables.settings import JournalExportSettings, load


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = load(JournalExportSettings)
    # The schedule's own fire time, not "now": a late or retried run still exports the day it was meant for.
    day = day_before(event.time, load_seller_profile(settings.seller_profile_parameter).zone)
    export = export_journal_day(
        settings.table_name,
        settings.documents_bucket,
        day,
        load_accounts(settings.journal_accounts_parameter),
    )
    if not export.matches_stored:
        logger.warning(
            "entries arrived after the day's journal file was written; the API has them",
            extra={"key": export.key, "day": day.isoformat()},
        )
    logger.info(
        "journal exported" if export.created else "journal already exported",
        extra={"key": export.key, "entries": export.entries},
    )
    return {"day": day.isoformat(), "key": export.key, "entries": export.entries, "created": export.created}
