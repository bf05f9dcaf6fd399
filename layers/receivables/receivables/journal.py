"""Double-entry journal entries for accounting systems (docs/reports.md, docs/decisions/0012-reporting.md).

Every money-moving domain event becomes one journal entry whose lines balance to zero. Lines name an
account *role* ("receivable", "revenue:19", "bank:stripe"), not an account number: the numbers come from
the account mapping (configuration, SKR03-style default below) when the journal is exported, so the stored
entries never need rewriting when the chart of accounts changes.

Pure: no AWS here except `load_accounts`, which reads the mapping's overrides through Powertools Parameters.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from receivables import money

RECEIVABLE = "receivable"
CUSTOMER_CREDIT = "customer_credit"
WRITE_OFF = "write_off"
FEES = "fees"
FEE_INCOME = "fee_income"
INTEREST_INCOME = "interest_income"
ROUNDING = "rounding"

# SKR03-style example chart; every role is configuration (docs/reports.md "Account mapping").
DEFAULT_ACCOUNTS: dict[str, str | dict[str, str]] = {
    "receivable": "1400",  # Forderungen aus Lieferungen und Leistungen
    "revenue": {"19": "8400", "7": "8300", "0": "8120", "default": "8200"},  # Erlöse nach Steuersatz
    "vat": {"19": "1776", "7": "1771", "default": "1770"},  # Umsatzsteuer nach Steuersatz
    "bank": {"stripe": "1360", "default": "1200"},  # Geldtransit (Stripe) / Bank
    "customer_credit": "1710",  # Guthaben von Kunden (Überzahlungen)
    "write_off": "2400",  # Forderungsverluste
    "fees": "4970",  # Nebenkosten des Geldverkehrs
    # Reminder fees and default interest are damages, not consideration for a supply: no VAT
    # (decisions/0023); booked as income when a payment settles them (§ 367 BGB order).
    "fee_income": "2700",  # Sonstige Erträge (Mahngebühren, nicht steuerbar)
    "interest_income": "2650",  # Sonstige Zinsen und ähnliche Erträge (Verzugszinsen)
    "rounding": "8200",  # never expected: tax breakdowns sum to the gross
}
JOURNAL_COLUMNS = ("date", "document", "account", "debit", "credit", "currency", "description", "entry_id")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class JournalLine:
    role: str
    debit: Decimal
    credit: Decimal
    description: str
    category: str = ""  # EN 16931 VAT category of revenue and VAT lines (S, Z, E, AE, K, G, O), when known


@dataclass(frozen=True)
class JournalEntry:
    entry_id: str  # the domain event's id: one entry per event
    date: str
    occurred_at: str
    kind: str  # invoice | payment | refund | credit_note | void
    document: str  # invoice number, payment id, refund id or credit note number
    reference: str  # the invoice number the document belongs to
    currency: str
    lines: tuple[JournalLine, ...]
    customer_id: str = ""  # whose receivable (the DATEV export books it on the customer's debitor account)

    @property
    def balance(self) -> Decimal:
        return sum((line.debit - line.credit for line in self.lines), Decimal(0))


def _debit(role: str, amount: Decimal, description: str, category: str = "") -> JournalLine:
    return JournalLine(role, amount, Decimal(0), description, category)


def _credit(role: str, amount: Decimal, description: str, category: str = "") -> JournalLine:
    return JournalLine(role, Decimal(0), amount, description, category)


def _rate(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _tax_lines(
    breakdown: Iterable[Mapping[str, Any]], gross: Decimal, as_debit: bool, description: str
) -> list[JournalLine]:
    """Revenue and VAT per rate, plus a rounding line if the breakdown does not sum to the gross."""
    side = _debit if as_debit else _credit
    lines: list[JournalLine] = []
    for tax in breakdown:
        rate, category = _rate(tax["rate"]), str(tax.get("category") or "")
        lines.append(side(f"revenue:{rate}", Decimal(tax["net"]), f"{description}, net at {rate}%", category))
        lines.append(side(f"vat:{rate}", Decimal(tax["tax"]), f"{description}, VAT {rate}%", category))
    difference = gross - sum((Decimal(t["net"]) + Decimal(t["tax"]) for t in breakdown), Decimal(0))
    if difference:
        lines.append(side(ROUNDING, difference, f"{description}, rounding"))
    return lines


def invoice_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """Debit the receivable with the gross; credit revenue and VAT payable per tax rate."""
    gross = Decimal(data["gross"])
    text = f"Invoice {data['number']}"
    lines = [_debit(RECEIVABLE, gross, text), *_tax_lines(data["tax_breakdown"], gross, False, text)]
    return _entry(entry_id, day, occurred_at, "invoice", data["number"], data["number"], data, lines)


def payment_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """Debit bank/clearing; credit the receivable with what was applied, customer credit with the surplus.

    A provider fee (`fee`, when an event reports one) moves from the bank line to the fees account.
    """
    amount, applied = Decimal(data["amount"]), Decimal(data["applied"])
    fee = Decimal(data.get("fee") or 0)
    costs, interest = Decimal(data.get("fees_applied") or 0), Decimal(data.get("interest_applied") or 0)
    text = f"Payment {data['payment_id']} on invoice {data['number']} ({data.get('method') or 'unknown'})"
    # Customer credit put on an invoice (an allocation) was booked as credit when it arose: no cash moves.
    source = CUSTOMER_CREDIT if data.get("source") == CUSTOMER_CREDIT else f"bank:{data['provider']}"
    lines = [
        _debit(source, amount - fee, text),
        _debit(FEES, fee, f"{text}, provider fee"),
        _credit(FEE_INCOME, costs, f"{text}, reminder fees"),
        _credit(INTEREST_INCOME, interest, f"{text}, default interest"),
        _credit(RECEIVABLE, applied - Decimal(data.get("recovered") or 0), text),
        *recovery_lines(data, text),
        _credit(
            CUSTOMER_CREDIT, amount - costs - interest - applied, f"{text}, overpayment to customer credit"
        ),
    ]
    return _entry(entry_id, day, occurred_at, "payment", data["payment_id"], data["number"], data, lines)


def refund_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """The payment reversed: debit the receivable (and customer credit beyond it); credit bank/clearing."""
    amount, applied = Decimal(data["amount"]), Decimal(data["applied"])
    text = f"Refund {data['refund_id']} on invoice {data['number']}"
    lines = [
        _debit(RECEIVABLE, applied, text),
        _debit(CUSTOMER_CREDIT, amount - applied, f"{text}, from customer credit"),
        _credit(f"bank:{data['provider']}", amount, text),
    ]
    return _entry(entry_id, day, occurred_at, "refund", data["refund_id"], data["number"], data, lines)


def credit_note_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """Revenue and VAT reversed per rate; credit the receivable (what exceeded the amount due: customer
    credit, when the event says how much was `applied` to the invoice)."""
    gross = Decimal(data["gross"])
    applied = Decimal(data.get("applied") or gross)
    text = f"Credit note {data['number']}"
    lines = [
        *_tax_lines(data["tax_breakdown"], gross, True, text),
        _credit(RECEIVABLE, applied, text),
        _credit(CUSTOMER_CREDIT, gross - applied, f"{text}, beyond the amount due"),
    ]
    reference = str(data.get("invoice_number") or data["invoice_id"])
    return _entry(entry_id, day, occurred_at, "credit_note", data["number"], reference, data, lines)


def void_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """A void cancels an unpaid invoice (a Storno): revenue and VAT are reversed per rate against the
    receivable. Events from before the breakdown was sent book the amount to the write-off expense."""
    amount = Decimal(data["amount_voided"])
    if data.get("tax_breakdown"):
        text = f"Void of invoice {data['number']}"
        lines = [*_tax_lines(data["tax_breakdown"], amount, True, text), _credit(RECEIVABLE, amount, text)]
    else:
        text = f"Void of invoice {data['number']}, amount due written off"
        lines = [_debit(WRITE_OFF, amount, text), _credit(RECEIVABLE, amount, text)]
    return _entry(entry_id, day, occurred_at, "void", data["number"], data["number"], data, lines)


def write_off_entry(entry_id: str, day: str, occurred_at: str, data: Mapping[str, Any]) -> JournalEntry:
    """An uncollectible invoice (escalation's last step): the amount due goes to the write-off expense."""
    amount = Decimal(data["amount_written_off"])
    text = f"Invoice {data['number']} written off as uncollectible"
    breakdown = data.get("tax_breakdown") or []
    # § 17 (2) UStG: the VAT share goes back off the VAT liability; only the net is the loss.
    vat = [_debit(f"vat:{_rate(t['rate'])}", Decimal(t["tax"]), f"{text}, VAT corrected") for t in breakdown]
    net = amount - sum((line.debit for line in vat), Decimal(0))
    lines = [_debit(WRITE_OFF, net, text), *vat, _credit(RECEIVABLE, amount, text)]
    return _entry(entry_id, day, occurred_at, "write_off", data["number"], data["number"], data, lines)


def recovery_lines(data: Mapping[str, Any], text: str) -> list[JournalLine]:
    """Money for a written-off invoice: the VAT is owed again and the net is income (the loss reversed),
    never a second reduction of the receivable (§ 17 (2) Satz 2 UStG)."""
    recovered = Decimal(data.get("recovered") or 0)
    breakdown = data.get("recovered_tax_breakdown") or []
    vat = [
        _credit(f"vat:{_rate(t['rate'])}", Decimal(t["tax"]), f"{text}, VAT owed again") for t in breakdown
    ]
    net = recovered - sum((line.credit for line in vat), Decimal(0))
    return [_credit(WRITE_OFF, net, f"{text}, recovery after write-off"), *vat]


def _entry(
    entry_id: str,
    day: str,
    occurred_at: str,
    kind: str,
    document: str,
    reference: str,
    data: Mapping[str, Any],
    lines: list[JournalLine],
) -> JournalEntry:
    kept = tuple(line for line in lines if line.debit or line.credit)
    customer = str(data.get("customer_id") or "")
    entry = JournalEntry(
        entry_id, day, occurred_at, kind, document, reference, data["currency"], kept, customer
    )
    if entry.balance:
        raise ValueError(f"journal entry {entry_id} does not balance ({entry.balance})")
    return entry


# ------------------------------------------------------------------------------------ persistence
def entry_to_item(entry: JournalEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "date": entry.date,
        "occurred_at": entry.occurred_at,
        "kind": entry.kind,
        "document": entry.document,
        "reference": entry.reference,
        "currency": entry.currency,
        "lines": [
            {"role": ln.role, "debit": ln.debit, "credit": ln.credit, "description": ln.description}
            | ({"category": ln.category} if ln.category else {})
            for ln in entry.lines
        ],
    } | ({"customer_id": entry.customer_id} if entry.customer_id else {})


def entry_from_item(item: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(
        entry_id=item["entry_id"],
        date=item["date"],
        occurred_at=item["occurred_at"],
        kind=item["kind"],
        document=item["document"],
        reference=item["reference"],
        currency=item["currency"],
        lines=tuple(
            JournalLine(
                ln["role"],
                Decimal(ln["debit"]),
                Decimal(ln["credit"]),
                ln["description"],
                ln.get("category", ""),
            )
            for ln in item["lines"]
        ),
        customer_id=item.get("customer_id", ""),
    )


# --------------------------------------------------------------------------------- account mapping
class AccountMappingInvalid(ValueError):
    """The configured overrides are not a mapping of roles to account numbers."""


def merged_accounts(overrides: Mapping[str, Any]) -> dict[str, str | dict[str, str]]:
    """The default mapping with `overrides` laid over it; keyed roles (revenue, vat, bank) merge per key."""
    accounts: dict[str, str | dict[str, str]] = {
        role: dict(value) if isinstance(value, dict) else value for role, value in DEFAULT_ACCOUNTS.items()
    }
    for role, value in overrides.items():
        if role not in DEFAULT_ACCOUNTS:
            raise AccountMappingInvalid(f"unknown account role {role!r}; use {', '.join(DEFAULT_ACCOUNTS)}")
        default = accounts[role]
        if isinstance(value, str) and value:
            accounts[role] = value if isinstance(default, str) else default | {"default": value}
        elif isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values()):
            accounts[role] = (
                {str(k): v for k, v in value.items()}
                if isinstance(default, str)
                else default | {_rate_key(str(k)): v for k, v in value.items()}
            )
        else:
            raise AccountMappingInvalid(f"account role {role!r} needs an account number or an object of them")
    return accounts


def _rate_key(key: str) -> str:
    try:
        return _rate(key)
    except ArithmeticError:
        return key  # "default", provider names


def account_for(role: str, accounts: Mapping[str, str | dict[str, str]]) -> str:
    """`revenue:19` -> accounts["revenue"]["19"], else its "default"; `receivable` -> its account."""
    name, _, qualifier = role.partition(":")
    account = accounts[name]
    if isinstance(account, str):
        return account
    if qualifier:
        key = _rate_key(qualifier)
        if key in account:
            return account[key]
    return account.get("default") or next(iter(account.values()))


def load_accounts(parameter_name: str | None) -> dict[str, str | dict[str, str]]:
    """The mapping: defaults with the SSM parameter's JSON overrides (Powertools, cached five minutes)."""
    if not parameter_name:
        return merged_accounts({})
    from aws_lambda_powertools.utilities import parameters

    raw = str(parameters.get_parameter(parameter_name, max_age=300))
    try:
        overrides = json.loads(raw)
    except ValueError as error:
        raise AccountMappingInvalid(f"{parameter_name} is not JSON") from error
    if not isinstance(overrides, dict):
        raise AccountMappingInvalid(f"{parameter_name} must hold a JSON object")
    return merged_accounts(overrides)


# ---------------------------------------------------------------------------------------------- CSV
def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading = + - @ gets a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def journal_csv(entries: Iterable[JournalEntry], accounts: Mapping[str, str | dict[str, str]]) -> str:
    """One row per line: date, document, account, debit, credit, currency, description, entry_id."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(JOURNAL_COLUMNS)
    for entry in entries:
        for line in entry.lines:
            writer.writerow(
                [
                    entry.date,
                    safe_cell(entry.document),
                    safe_cell(account_for(line.role, accounts)),
                    money.format_amount(line.debit, entry.currency) if line.debit else "",
                    money.format_amount(line.credit, entry.currency) if line.credit else "",
                    entry.currency,
                    safe_cell(line.description),
                    entry.entry_id,
                ]
            )
    return out.getvalue()
