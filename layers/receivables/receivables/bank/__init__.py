"""Bank statements: camt.053 and MT940 files parsed, their entries matched to invoices and applied once
through the payment path (docs/decisions/0030-bank-statement-matching.md)."""
