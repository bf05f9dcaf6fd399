"""List prices the cost model uses: US dollars, region eu-central-1 (Frankfurt), Lambda on arm64, on-demand,
first pricing tier, free tiers ignored (they are per account, not per invoice).

Price list as of 2025-06 (DynamoDB on-demand after its 50 % cut of 2024-11-01). Each constant names its
source page; "checked" marks the figures compared against a public copy of that page (or, for DynamoDB,
against the US East figure and the region's usual factor) when this file was written, the others are
taken from the AWS price list as we know it: re-check them before quoting a figure to anyone, with the
AWS Pricing Calculator for eu-central-1. docs/decisions/0018-benchmarks-and-cost-model.md has the method.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    usd: float  # per `per` units
    per: float
    unit: str
    source: str
    checked: bool = False

    def cost(self, quantity: float) -> float:
        return quantity * self.usd / self.per


PRICE_LIST_DATE = "2025-06"
REGION = "eu-central-1"

# https://aws.amazon.com/lambda/pricing/ - Arm: $0.0000133334 per GB-s (first 7.5 billion GB-s a month),
# $0.20 per million requests; Frankfurt charges the US East rates for Lambda.
LAMBDA_GB_SECOND = Price(0.0000133334, 1, "GB-s", "https://aws.amazon.com/lambda/pricing/", checked=True)
LAMBDA_REQUEST = Price(0.20, 1_000_000, "requests", "https://aws.amazon.com/lambda/pricing/", checked=True)
# https://aws.amazon.com/dynamodb/pricing/on-demand/ - Standard table class. US East is $0.625 / $0.125 per
# million write / read request units since 2024-11-01; Frankfurt's are 1.22x US East, as before the cut
# ($1.525 / $0.305 then).
DYNAMODB_PRICING = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
DYNAMODB_WRITE = Price(0.7625, 1_000_000, "WRU", DYNAMODB_PRICING, checked=True)
DYNAMODB_READ = Price(0.1525, 1_000_000, "RRU", DYNAMODB_PRICING, checked=True)
DYNAMODB_STORAGE = Price(0.306, 1, "GB-month", DYNAMODB_PRICING)
# https://aws.amazon.com/s3/pricing/ - S3 Standard, Frankfurt.
S3_PUT = Price(0.0054, 1000, "PUT/COPY/POST/LIST requests", "https://aws.amazon.com/s3/pricing/")
S3_GET = Price(0.00043, 1000, "GET/HEAD requests", "https://aws.amazon.com/s3/pricing/")
S3_STORAGE = Price(0.0245, 1, "GB-month", "https://aws.amazon.com/s3/pricing/")
# https://aws.amazon.com/ses/pricing/ - outbound email: $0.10 per 1,000 messages (each recipient counts),
# $0.12 per GB of attachments (we count the whole raw message, an upper bound).
SES_EMAIL = Price(0.10, 1000, "emails", "https://aws.amazon.com/ses/pricing/", checked=True)
SES_DATA = Price(0.12, 1024**3, "bytes", "https://aws.amazon.com/ses/pricing/")
# https://aws.amazon.com/eventbridge/pricing/ - custom events, each 64 KB chunk is one event.
EVENTBRIDGE_EVENT = Price(1.00, 1_000_000, "events", "https://aws.amazon.com/eventbridge/pricing/")
# https://aws.amazon.com/sqs/pricing/ - standard queue requests (the example accounting subscriber).
SQS_REQUEST = Price(0.40, 1_000_000, "requests", "https://aws.amazon.com/sqs/pricing/")
# https://aws.amazon.com/step-functions/pricing/ - standard workflows, per state transition.
STEP_FUNCTIONS_TRANSITION = Price(
    0.025, 1000, "transitions", "https://aws.amazon.com/step-functions/pricing/"
)
# https://aws.amazon.com/api-gateway/pricing/ - HTTP APIs, Frankfurt, first 300 million requests a month.
HTTP_API_REQUEST = Price(1.20, 1_000_000, "requests", "https://aws.amazon.com/api-gateway/pricing/")
# https://aws.amazon.com/secrets-manager/pricing/ - $0.05 per 10,000 API calls.
SECRETS_MANAGER_CALL = Price(0.05, 10_000, "API calls", "https://aws.amazon.com/secrets-manager/pricing/")
# https://aws.amazon.com/sns/pricing/ - standard topic publishes.
SNS_PUBLISH = Price(0.50, 1_000_000, "publishes", "https://aws.amazon.com/sns/pricing/")
# https://aws.amazon.com/cloudwatch/pricing/ - standard log ingestion, Frankfurt.
LOGS_INGESTION = Price(0.63, 1024**3, "bytes", "https://aws.amazon.com/cloudwatch/pricing/")
# Lambda's own START, END and REPORT lines per invocation, with CloudWatch's 26-byte overhead per event:
# an estimate from their format, not a measurement.
LAMBDA_PLATFORM_LOG_BYTES = 300

# https://support.stripe.com/questions/stripe-invoicing-pricing - Invoicing Starter: 0.4 % per paid invoice
# (payment processing not included), the comparison the issue asks for, at a EUR 100 average invoice.
STRIPE_INVOICING_RATE = 0.004
STRIPE_SOURCE = "https://support.stripe.com/questions/stripe-invoicing-pricing"
AVERAGE_INVOICE_EUR = 100.0
