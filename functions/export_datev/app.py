"""Monthly schedule: writes the previous month's DATEV Buchungsstapel to the documents bucket, once per
month and currency (docs/decisions/0031-datev-export.md)."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables.clock import local_day
from receivables.datev_export import export_month, previous_month
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import DatevExportSettings, load


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = load(DatevExportSettings)
    profile = load_seller_profile(settings.seller_profile_parameter)
    # The schedule's own fire time, not "now": a late or retried run exports the month it was meant for,
    # and stamps the file with the same "Erzeugt am", so a re-run builds the same bytes.
    fired = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    start, end = previous_month(local_day(event.time, profile.zone))
    exports = export_month(settings.table_name, settings.documents_bucket, start, end, profile, fired)
    for export in exports:
        if not export.matches_stored:
            logger.warning(
                "entries arrived after the month's DATEV file was written; the API has them",
                extra={"key": export.key},
            )
        logger.info(
            "DATEV batch exported" if export.created else "DATEV batch already exported",
            extra={"key": export.key, "entries": export.entries},
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "files": [{"key": e.key, "entries": e.entries, "created": e.created} for e in exports],
    }
