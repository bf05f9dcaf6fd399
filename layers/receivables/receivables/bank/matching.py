"""Which invoices a bank entry pays: pure rules, property-tested (tests/unit/test_bank_matching.py).

1. **Reference**: invoice numbers in the remittance text, as people type them (`RE 2026-000123`,
   `2026000123`, `Rg.-Nr. 2026-000123 / Kd 77`, `2026/123`). Every number that names an invoice of ours
   counts; several are paid in number order, each up to what it asks for, the last one taking the rest
   (an overpayment becomes credit, an underpayment leaves it partially paid, as for any payment).
2. **Amount and payer**: no number, but exactly one open invoice asks for exactly this amount in this
   currency from this payer (a customer this IBAN paid before, or whose name the payer's name carries).
3. **None**: unapplied money for finance, with the best candidates named.

The entry's key (`entry_key`) is what makes it exactly-once: the bank's own reference for the entry when
it gives one, else a digest of what identifies a booking (account, booking date, direction, amount,
currency, remittance text).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from receivables.bank.statement_files import BankEntry

How = Literal["reference", "amount_and_payer", "none"]

# A year and the serial: 1–6 digits after a dash or slash (2026-000123, 2026 / 123), 6 digits written
# together or after a space or dot (2026000123, 2026 000123). Digits on either side mean it is part of a
# longer number (an IBAN, an amount), not an invoice number; a date's year followed by some other number
# ("23.11.2026 12") is not read as one.
_NUMBER = re.compile(r"(?<!\d)(20\d\d)(?:\s?[-/]\s?(\d{1,6})|[ .]?(\d{6}))(?!\d)")
_LEGAL_FORMS = frozenset(
    {"gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "haftungsbeschrankt", "ek", "ev", "gbr", "co", "se"}
    | {"und", "ltd", "limited", "inc", "llc", "plc", "sa", "sarl", "sas", "bv", "nv", "srl", "spa"}
    | {"ab", "oy"}
)


@dataclass(frozen=True)
class OpenInvoice:
    """What matching needs to know of an invoice."""

    id: str
    number: str
    customer_id: str
    customer_name: str
    currency: str
    amount_due: Decimal  # what a payment settles first: fees, interest and principal (account_amount_due)
    status: str


@dataclass(frozen=True)
class Part:
    invoice_id: str
    number: str
    amount: Decimal


@dataclass(frozen=True)
class Match:
    how: How
    confidence: Decimal
    parts: tuple[Part, ...] = ()
    candidates: tuple[OpenInvoice, ...] = ()
    reason: str = ""


# ------------------------------------------------------------------------------------- the entry's key
def entry_key(entry: BankEntry) -> str:
    """The entry's identity across statements and formats: `ref-…` from the bank's reference (unique per
    account), else `sum-…` from what identifies the booking. Hex, so it is safe in a URL as money id."""
    if entry.bank_reference:
        return "ref-" + _digest(entry.account, entry.bank_reference.strip())
    return "sum-" + _digest(
        entry.account,
        entry.booking_date.isoformat(),
        entry.direction,
        entry.currency,
        str(entry.amount),
        _compact(entry.remittance),
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _compact(text: str) -> str:
    """MT940 wraps remittance at 27 characters and camt.053 at 140: only the characters count."""
    return "".join(text.split()).upper()


# ---------------------------------------------------------------------------------- invoice numbers
def invoice_numbers_in(text: str) -> list[str]:
    """The invoice numbers the text may name, in our format (`2026-000123`), first mention first."""
    found: list[str] = []
    for year, separated, joined in _NUMBER.findall(text):
        number = f"{year}-{int(separated or joined):06d}"
        if int(separated or joined) > 0 and number not in found:
            found.append(number)
    return found


def typed_exactly(text: str, number: str) -> bool:
    """The number appears as we print it: a match as certain as a reference gets."""
    return re.search(rf"(?<![\d]){re.escape(number)}(?!\d)", text) is not None


def split_amount(amount: Decimal, invoices: Sequence[OpenInvoice]) -> tuple[Part, ...]:
    """The amount across the invoices in number order: each gets what it asks for, the last the rest.

    What the earlier ones cannot get leaves them partially paid; what the last gets beyond its amount due
    becomes the customer's credit in the payment path. Parts of zero are left out.
    """
    ordered = sorted(invoices, key=lambda i: i.number)
    parts: list[Part] = []
    left = amount
    for position, invoice in enumerate(ordered):
        last = position == len(ordered) - 1
        share = left if last else min(left, max(invoice.amount_due, Decimal(0)))
        if share > 0:
            parts.append(Part(invoice.id, invoice.number, share))
            left -= share
    return tuple(parts)


# ------------------------------------------------------------------------------------------ payers
def name_tokens(name: str) -> frozenset[str]:
    """A name's words, case folded, umlauts spelled out, accents and legal forms dropped:
    `Müller GmbH & Co. KG` → {mueller}."""
    plain = name.casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):  # as MT940 and DTAUS spell
        plain = plain.replace(umlaut, spelled)
    plain = unicodedata.normalize("NFKD", plain)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", plain)
    return frozenset(w for w in words if w not in _LEGAL_FORMS)


def same_payer(payer_name: str | None, customer_name: str) -> bool:
    """The payer's name carries every word of the customer's name (banks add cities, cut long names)."""
    customer = name_tokens(customer_name)
    return bool(payer_name) and bool(customer) and customer <= name_tokens(payer_name or "")


def match_by_amount_and_payer(
    entry: BankEntry, open_invoices: Sequence[OpenInvoice], iban_customers: frozenset[str]
) -> OpenInvoice | None:
    """The one open invoice asking exactly this amount of this payer; None when none or several fit."""
    fitting = [
        invoice
        for invoice in open_invoices
        if invoice.currency == entry.currency
        and invoice.amount_due == entry.amount
        and invoice.status in ("open", "partially_paid")
        and (
            invoice.customer_id in iban_customers
            or same_payer(entry.counterparty_name, invoice.customer_name)
        )
    ]
    return fitting[0] if len(fitting) == 1 else None


def best_candidates(
    entry: BankEntry, open_invoices: Sequence[OpenInvoice], iban_customers: frozenset[str], limit: int = 3
) -> tuple[OpenInvoice, ...]:
    """The invoices finance most likely wants, best first: same currency, then the payer, the exact amount,
    a close amount; ties by number. Nothing in common: not a candidate."""

    def score(invoice: OpenInvoice) -> int:
        points = 0
        if invoice.customer_id in iban_customers or same_payer(
            entry.counterparty_name, invoice.customer_name
        ):
            points += 4
        if invoice.amount_due == entry.amount:
            points += 3
        elif invoice.amount_due > 0 and abs(invoice.amount_due - entry.amount) <= invoice.amount_due / 10:
            points += 1
        return points

    scored = [(score(i), i) for i in open_invoices if i.currency == entry.currency]
    ranked = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: (-pair[0], pair[1].number))
    return tuple(invoice for _, invoice in ranked[:limit])


# --------------------------------------------------------------------------------------- the decision
def decide(
    entry: BankEntry,
    referenced: Sequence[OpenInvoice],
    open_invoices: Sequence[OpenInvoice],
    iban_customers: frozenset[str],
) -> Match:
    """How a credit entry is applied. `referenced`: our invoices among `invoice_numbers_in(remittance)`
    (any status: a paid or void one still goes the payment path, which keeps the money as credit or
    unapplied); `open_invoices`: the open ones in play for amount-and-payer matching."""
    if entry.direction != "credit":
        return Match("none", Decimal(0), reason="a debit: recorded, not applied to invoices")
    same_currency = [i for i in referenced if i.currency == entry.currency]
    if same_currency:
        exact = all(typed_exactly(entry.remittance, i.number) for i in same_currency)
        return Match(
            "reference",
            Decimal("1.00") if exact else Decimal("0.90"),
            split_amount(entry.amount, same_currency),
        )
    found = match_by_amount_and_payer(entry, open_invoices, iban_customers)
    if found is not None:
        by_iban = found.customer_id in iban_customers
        return Match(
            "amount_and_payer",
            Decimal("0.80") if by_iban else Decimal("0.70"),
            (Part(found.id, found.number, entry.amount),),
        )
    candidates = best_candidates(entry, open_invoices, iban_customers)
    named = ", ".join(f"{c.number} ({c.customer_name}, {c.amount_due} {c.currency})" for c in candidates)
    reason = "no invoice number in the remittance text and no single open invoice of this amount and payer"
    return Match(
        "none", Decimal(0), candidates=candidates, reason=reason + (f"; candidates: {named}" if named else "")
    )
