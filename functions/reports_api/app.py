"""Finance reports (aging, DSO, payment trends, customer statements), the journal export (JSON or CSV)
and the DATEV export (an EXTF Buchungsstapel for the tax advisor, docs/decisions/0031-datev-export.md).

Every figure is read from the aggregates the stream maintains (receivables.reporting); nothing scans.
"""

import base64
from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from receivables import clock, datev, datev_export, report_reads, report_views, reporting
from receivables.http import API_KEY, create_api, documented, json_response, require_caller
from receivables.journal import journal_csv, load_accounts
from receivables.observability import logger
from receivables.seller import load_seller_profile
from receivables.settings import ReportsSettings, load

app = create_api()
# Dates are checked by receivables.reporting, which names each bad one in its own words.
AsOf = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (default: today).")]
From = Annotated[
    str | None, Query(alias="from", max_length=10, description="YYYY-MM-DD (default: 1st of to's month).")
]
To = Annotated[
    str | None, Query(alias="to", max_length=10, description="YYYY-MM-DD, inclusive (default: today).")
]
JSON_OR_CSV = ("application/json", "text/csv")
Currency = Annotated[
    str | None, Query(min_length=3, max_length=3, description="ISO 4217 code of the bookings (default: EUR).")
]


def _query(**parameters: str | None) -> dict[str, str]:
    return {name: value for name, value in parameters.items() if value is not None}


def _today(settings: ReportsSettings) -> date:
    return reporting.local_today(load_seller_profile(settings.seller_profile_parameter).zone)


def _csv_requested() -> bool:
    return report_views.wants_csv(app.current_event.headers.get("accept"))


def _csv(body: str, filename: str) -> Response[str]:
    return Response(
        status_code=200,
        content_type=reporting.CSV_CONTENT_TYPE,
        body=body,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@app.get(
    "/reports/aging",
    summary="Open receivables by days past due, as of a day (Accept: text/csv for CSV)",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The aging report.", 401, 403, ok_content_types=JSON_OR_CSV),
)
def aging(as_of: AsOf = None) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    as_of_day = report_views.as_of_parameter(_query(as_of=as_of), _today(settings))
    report = report_reads.aging_report(settings.table_name, as_of_day)
    if _csv_requested():
        return _csv(report_views.aging_csv(as_of_day, report), f"aging-{as_of_day}.csv")
    return json_response(200, report_views.aging_view(as_of_day, report))


@app.get(
    "/reports/dso",
    summary="Days sales outstanding over a period (Accept: text/csv for CSV)",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The DSO report.", 401, 403, ok_content_types=JSON_OR_CSV),
)
def days_sales_outstanding(from_day: From = None, to_day: To = None) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = report_views.period_parameters(_query(**{"from": from_day, "to": to_day}), _today(settings))
    report = report_reads.dso_report(settings.table_name, start, end)
    if _csv_requested():
        return _csv(report_views.dso_csv(start, end, report), f"dso-{start}-{end}.csv")
    return json_response(200, report_views.dso_view(start, end, report))


@app.get(
    "/reports/payment-trends",
    summary="Payments received per day, week or month and method (Accept: text/csv for CSV)",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The payment trends.", 401, 403, ok_content_types=JSON_OR_CSV),
)
def payment_trends(
    from_day: From = None,
    to_day: To = None,
    group_by: Annotated[str | None, Query(max_length=20, description="month (default) or method.")] = None,
) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    query = _query(**{"from": from_day, "to": to_day, "group_by": group_by})
    start, end, group = report_views.trend_parameters(query, _today(settings))
    groups = report_reads.payment_trends(settings.table_name, start, end, group)
    if _csv_requested():
        return _csv(report_views.trends_csv(group, groups), f"payment-trends-{start}-{end}.csv")
    return json_response(200, report_views.trends_view(start, end, group, groups))


@app.get(
    "/customers/<customer_id>/statement",
    summary="A customer's statement of account over a period (Accept: text/csv for CSV)",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The statement.", 401, 403, 404, ok_content_types=JSON_OR_CSV),
)
def statement(
    customer_id: Annotated[str, Path(max_length=200)], from_day: From = None, to_day: To = None
) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = report_views.period_parameters(_query(**{"from": from_day, "to": to_day}), _today(settings))
    statements = report_reads.customer_statement(settings.table_name, customer_id, start, end)
    if _csv_requested():
        return _csv(
            report_views.statement_csv(start, statements), f"statement-{customer_id}-{start}-{end}.csv"
        )
    return json_response(200, report_views.statement_view(customer_id, start, end, statements))


@app.get(
    "/exports/journal",
    summary="The journal (bookings for the accounting system) over a period, as CSV",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The journal.", 401, 403, ok_content_types=("text/csv",)),
)
def journal(from_day: From = None, to_day: To = None) -> Response[str]:
    require_caller(app, "reports")
    settings = load(ReportsSettings)
    start, end = report_views.period_parameters(_query(**{"from": from_day, "to": to_day}), _today(settings))
    entries = report_reads.journal_entries(settings.table_name, start, end)
    body = journal_csv(entries, load_accounts(settings.journal_accounts_parameter))
    return _csv(body, f"journal-{start}-{end}.csv")


@app.get(
    "/exports/datev",
    summary="The journal as a DATEV Buchungsstapel (EXTF 700, Windows-1252) over a period in one fiscal year",
    tags=["Reports"],
    security=API_KEY,
    responses=documented(200, "The Buchungsstapel.", 401, 403, 422, ok_content_types=("text/csv",)),
)
def datev_batch(from_day: From = None, to_day: To = None, currency: Currency = None) -> Response[str]:
    require_caller(app, "finance")
    settings = load(ReportsSettings)
    profile = load_seller_profile(settings.seller_profile_parameter)
    query = _query(**{"from": from_day, "to": to_day})
    start, end = report_views.period_parameters(query, reporting.local_today(profile.zone))
    code = (currency or "EUR").upper()
    body = datev_export.batch(settings.table_name, start, end, profile, code, clock.now())
    response = Response(
        status_code=200,
        content_type=datev.CONTENT_TYPE,
        # Windows-1252 bytes, base64 for API Gateway (the response validation would read bytes as UTF-8).
        body=base64.b64encode(body).decode(),
        headers={"Content-Disposition": f'attachment; filename="{datev.filename(start, end, code)}"'},
    )
    response.base64_encoded = True
    return response


@logger.inject_lambda_context(clear_state=True, correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
