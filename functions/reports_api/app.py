"""Finance reports (aging, DSO, payment trends, customer statements) and the journal export, JSON or CSV.

Every figure is read from the aggregates the stream maintains (receivables.reporting); nothing scans.
"""

from datetime import date
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import reporting
from receivables.http import create_api, json_response, require_caller
from receivables.journal import journal_csv, load_accounts
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import ReportsSettings, load

app = create_api()


def _query() -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _today(settings: ReportsSettings) -> date:
    return reporting.local_today(load_seller_profile(settings.seller_profile_parameter).zone)


def _csv_requested() -> bool:
    return reporting.wants_csv(app.current_event.headers.get("accept"))


def _csv(body: str, filename: str) -> Response[str]:
    return Response(
        status_code=200,
        content_type=reporting.CSV_CONTENT_TYPE,
        body=body,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@app.get("/reports/aging")
def aging() -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    as_of = reporting.as_of_parameter(_query(), _today(settings))
    report = reporting.aging_report(settings.table_name, as_of)
    if _csv_requested():
        return _csv(reporting.aging_csv(as_of, report), f"aging-{as_of}.csv")
    return json_response(200, reporting.aging_view(as_of, report))


@app.get("/reports/dso")
def days_sales_outstanding() -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = reporting.period_parameters(_query(), _today(settings))
    report = reporting.dso_report(settings.table_name, start, end)
    if _csv_requested():
        return _csv(reporting.dso_csv(start, end, report), f"dso-{start}-{end}.csv")
    return json_response(200, reporting.dso_view(start, end, report))


@app.get("/reports/payment-trends")
def payment_trends() -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end, group_by = reporting.trend_parameters(_query(), _today(settings))
    groups = reporting.payment_trends(settings.table_name, start, end, group_by)
    if _csv_requested():
        return _csv(reporting.trends_csv(group_by, groups), f"payment-trends-{start}-{end}.csv")
    return json_response(200, reporting.trends_view(start, end, group_by, groups))


@app.get("/customers/<customer_id>/statement")
def statement(customer_id: str) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = reporting.period_parameters(_query(), _today(settings))
    statements = reporting.customer_statement(settings.table_name, customer_id, start, end)
    if _csv_requested():
        return _csv(reporting.statement_csv(start, statements), f"statement-{customer_id}-{start}-{end}.csv")
    return json_response(200, reporting.statement_view(customer_id, start, end, statements))


@app.get("/exports/journal")
def journal() -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = reporting.period_parameters(_query(), _today(settings))
    entries = reporting.journal_entries(settings.table_name, start, end)
    body = journal_csv(entries, load_accounts(settings.journal_accounts_parameter))
    return _csv(body, f"journal-{start}-{end}.csv")


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
