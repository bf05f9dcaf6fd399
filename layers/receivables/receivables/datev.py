"""The journal as a DATEV Buchungsstapel: EXTF format 700, category 21, CSV in Windows-1252
(docs/decisions/0031-datev-export.md).

Built from the stored journal entries, so its sums are the journal's: each entry's lines become postings
on DATEV accounts (SKR03 or SKR04), and each row of the file pairs a debit posting with a credit posting.
An entry's debits and credits are matched greedily, so the rows' amounts add up to the entry's debit
total and every account is debited and credited exactly what the journal says.

- The receivable is booked on the customer's debitor account (Personenkonto, 10000-69999), so DATEV's
  open-item list (OPOS) matches payments to invoices by Belegfeld 1 (the invoice number).
- Revenue at 19 % or 7 % is booked gross on the chart's automatic account (AM: 8400/8300 in SKR03,
  4400/4300 in SKR04) without a BU key, with its VAT folded in: DATEV derives the VAT from the gross,
  which for a tax computed on the net per category always gives the stored VAT back (|error| < 0.5 ct).
  Zero-rated, exempt, reverse-charge, intra-community, export and out-of-scope revenue goes to the
  chart's account for that EN 16931 category.
- A write-off (and a recovery after one) corrects the VAT (§ 17 (2) UStG): booked gross on the
  non-automatic Forderungsverluste account with BU key 3 (USt 19 %) or 2 (USt 7 %).
- Anything DATEV would derive differently (another rate, a mixed write-off) is booked net, with the VAT
  on the VAT account, so the sums hold in every case.

Pure: no AWS here (datev_export.py reads the journal and assigns debitor numbers).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from receivables import money
from receivables.journal import RECEIVABLE, WRITE_OFF, JournalEntry, JournalLine

Chart = Literal["SKR03", "SKR04"]
ENCODING = "cp1252"  # DATEV reads "ANSI" (Windows-1252) files
CONTENT_TYPE = "text/csv; charset=windows-1252"
FIRST_DEBITOR = 10000
LAST_DEBITOR = 69999
# Entries projected before the journal carried the customer land on one "various debitors" account.
UNKNOWN_DEBITOR = str(LAST_DEBITOR)
ACCOUNT_LENGTH = 4  # Sachkontenlänge: SKR03/SKR04 accounts have four digits, debitors five
TEXT_LENGTH = 60  # Buchungstext
DOCUMENT_LENGTH = 36  # Belegfeld 1
# DATEV BU keys (Steuerschlüssel) that name the output VAT rate on a non-automatic account.
VAT_KEYS = {"19": "3", "7": "2"}

KIND_TEXTS = {
    "invoice": "Rechnung",
    "credit_note": "Gutschrift",
    "payment": "Zahlung",
    "refund": "Erstattung",
    "void": "Storno",
    "write_off": "Forderungsausfall",
}
# Per chart: revenue per EN 16931 VAT category (S19/S7: standard rate on an automatic account), VAT per
# rate, and the other journal roles. docs/decisions/0031 names each account.
CHARTS: dict[str, dict[str, str]] = {
    "SKR03": {
        "sachkontenrahmen": "03",
        "revenue:S19": "8400",  # Erlöse 19 % USt (AM)
        "revenue:S7": "8300",  # Erlöse 7 % USt (AM)
        "revenue:S": "8200",  # Erlöse (other rates: net, VAT booked separately)
        "revenue:Z": "8200",  # Erlöse (0 %, § 12 (3) UStG)
        "revenue:E": "8100",  # Steuerfreie Umsätze § 4 Nr. 8 ff. UStG (AM)
        "revenue:AE": "8336",  # Sonstige Leistungen im anderen EU-Land, Leistungsempfänger schuldet (AM)
        "revenue:K": "8125",  # Steuerfreie innergemeinschaftliche Lieferungen § 4 Nr. 1b UStG (AM)
        "revenue:G": "8120",  # Steuerfreie Umsätze § 4 Nr. 1a UStG, Ausfuhr (AM)
        "revenue:O": "8338",  # Im Drittland steuerbare, im Inland nicht steuerbare Umsätze (AM)
        "vat:19": "1776",
        "vat:7": "1771",
        "vat": "1770",
        "bank:stripe": "1360",  # Geldtransit
        "bank": "1200",
        "customer_credit": "1710",  # Erhaltene Anzahlungen
        "write_off": "2400",  # Forderungsverluste (übliche Höhe)
        "fees": "4970",  # Nebenkosten des Geldverkehrs
        "fee_income": "2700",  # Sonstige Erträge
        "interest_income": "2650",  # Sonstige Zinsen und ähnliche Erträge
        "rounding": "8200",
    },
    "SKR04": {
        "sachkontenrahmen": "04",
        "revenue:S19": "4400",
        "revenue:S7": "4300",
        "revenue:S": "4200",
        "revenue:Z": "4200",
        "revenue:E": "4100",
        "revenue:AE": "4336",
        "revenue:K": "4125",
        "revenue:G": "4120",
        "revenue:O": "4338",
        "vat:19": "3806",
        "vat:7": "3801",
        "vat": "3800",
        "bank:stripe": "1460",
        "bank": "1800",
        "customer_credit": "3250",
        "write_off": "6930",
        "fees": "6855",
        "fee_income": "4830",
        "interest_income": "7100",
        "rounding": "4200",
    },
}
COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
)


class Bare:
    """A field written without quotes: numbers, amounts and dates (csv.QUOTE_STRINGS quotes only str)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class BatchHeader:
    consultant_number: int | None  # Beraternummer
    client_number: int | None  # Mandantennummer
    fiscal_year_start: date  # WJ-Beginn
    start: date
    end: date
    chart: Chart
    currency: str
    created_at: datetime
    title: str  # Bezeichnung, at most 30 characters


@dataclass(frozen=True)
class Posting:
    account: str
    side: Literal["S", "H"]
    amount: Decimal
    bu_key: str = ""
    taxed: bool = False  # DATEV derives VAT from this amount: the row must name it as Gegenkonto
    debitor: bool = False


@dataclass(frozen=True)
class Booking:
    amount: Decimal
    side: Literal["S", "H"]  # of `account`; `contra_account` gets the other side
    account: str
    contra_account: str
    bu_key: str
    day: date
    document: str
    text: str


def vat_in_gross(gross: Decimal, rate: str, currency: str) -> Decimal:
    """The VAT DATEV computes from a gross amount at `rate` percent (rounded half up)."""
    return money.quantize(gross * Decimal(rate) / (100 + Decimal(rate)), currency)


def category_of(line: JournalLine, rate: str) -> str:
    """The line's EN 16931 category; entries from before categories were stored: S if taxed, else Z."""
    return line.category or ("S" if Decimal(rate) > 0 else "Z")


def _account(role: str, chart: Mapping[str, str]) -> str:
    return chart.get(role) or chart[role.partition(":")[0]]


def _side(line: JournalLine) -> tuple[Literal["S", "H"], Decimal]:
    amount = line.debit - line.credit
    return ("S", amount) if amount > 0 else ("H", -amount)


def postings(entry: JournalEntry, chart: Mapping[str, str], debitor: str) -> list[Posting]:
    """The entry's lines on DATEV accounts, VAT folded into gross where DATEV derives it exactly."""
    lines = [line for line in entry.lines if line.debit != line.credit]
    vat = [line for line in lines if line.role.startswith("vat:")]
    folded: set[int] = set()

    def fold(side: str, rate: str, net: Decimal) -> JournalLine | None:
        for line in vat:
            side_of, tax = _side(line)
            if id(line) in folded or line.role != f"vat:{rate}" or side_of != side:
                continue
            if vat_in_gross(net + tax, rate, entry.currency) == tax:
                folded.add(id(line))
                return line
        return None

    result: list[Posting] = []
    for line in lines:
        side, amount = _side(line)
        name, _, qualifier = line.role.partition(":")
        if line.role == RECEIVABLE:
            result.append(Posting(debitor, side, amount, debitor=True))
        elif name == "revenue":
            category = category_of(line, qualifier)
            tax = fold(side, qualifier, amount) if category == "S" and qualifier in VAT_KEYS else None
            if tax is not None:
                gross = amount + _side(tax)[1]
                result.append(Posting(chart[f"revenue:S{qualifier}"], side, gross, taxed=True))
            else:
                result.append(Posting(chart[f"revenue:{category}"], side, amount))
        elif line.role == WRITE_OFF:
            rates = {v.role for v in vat if _side(v)[0] == side}
            rate = rates.pop().partition(":")[2] if len(rates) == 1 else ""
            tax = fold(side, rate, amount) if rate in VAT_KEYS else None
            if tax is not None:
                gross = amount + _side(tax)[1]
                result.append(Posting(chart["write_off"], side, gross, VAT_KEYS[rate], taxed=True))
            else:
                result.append(Posting(chart["write_off"], side, amount))
        elif name != "vat":
            result.append(Posting(_account(line.role, chart), side, amount))
    for line in vat:
        if id(line) not in folded:
            side, amount = _side(line)
            result.append(Posting(_account(line.role, chart), side, amount))
    return result


def bookings(entry: JournalEntry, chart: Mapping[str, str], debitor: str) -> list[Booking]:
    """Pairs the entry's debit and credit postings (debitor first): amounts add up to its debit total."""
    found = postings(entry, chart, debitor)
    debits = sorted((p for p in found if p.side == "S"), key=lambda p: not p.debitor)
    credits = sorted((p for p in found if p.side == "H"), key=lambda p: not p.debitor)
    left = {id(p): p.amount for p in found}
    result: list[Booking] = []
    d = c = 0
    while d < len(debits) and c < len(credits):
        debit, credit = debits[d], credits[c]
        amount = min(left[id(debit)], left[id(credit)])
        left[id(debit)] -= amount
        left[id(credit)] -= amount
        result.append(_booking(entry, debit, credit, amount))
        d += left[id(debit)] == 0
        c += left[id(credit)] == 0
    return result


def _booking(entry: JournalEntry, debit: Posting, credit: Posting, amount: Decimal) -> Booking:
    # The account DATEV derives VAT on is the Gegenkonto; else the debitor is the Konto.
    if credit.taxed or (debit.debitor and not debit.taxed):
        account, contra, side = debit, credit, "S"
    else:
        account, contra, side = credit, debit, "H"
    document = entry.document if entry.kind in ("invoice", "credit_note") else entry.reference
    return Booking(
        amount=amount,
        side=side,  # type: ignore[arg-type]
        account=account.account,
        contra_account=contra.account,
        bu_key=account.bu_key or contra.bu_key,
        day=date.fromisoformat(entry.date),
        document=document,
        text=booking_text(entry),
    )


def booking_text(entry: JournalEntry) -> str:
    """Buchungstext, in German for the tax advisor: what happened to which invoice."""
    label = KIND_TEXTS.get(entry.kind, entry.kind)
    if entry.kind in ("invoice", "credit_note") or entry.document == entry.reference:
        text = f"{label} {entry.document}"
        return text if entry.kind != "credit_note" else f"{text} zu {entry.reference}"
    return f"{label} zu {entry.reference}, {entry.document}"  # a long payment id is what gets cut


def document_field(text: str) -> str:
    """Belegfeld 1: DATEV allows letters, digits and $ & % * + - / only, 36 characters."""
    return re.sub(r"[^A-Za-z0-9$&%*+\-/]", "", text)[:DOCUMENT_LENGTH]


def amount_field(amount: Decimal, currency: str) -> Bare:
    """Decimal comma, no thousands separator: 1234,50."""
    return Bare(format(money.quantize(amount, currency), "f").replace(".", ","))


def _number(value: int | None) -> Bare | None:
    return Bare(str(value)) if value is not None else None


def header_row(header: BatchHeader) -> list[object]:
    """The 31 fields of the EXTF header line (format 700, category 21 Buchungsstapel, version 13)."""
    stamp = header.created_at.strftime("%Y%m%d%H%M%S") + f"{header.created_at.microsecond // 1000:03d}"
    return [
        "EXTF",
        Bare("700"),
        Bare("21"),
        "Buchungsstapel",
        Bare("13"),
        Bare(stamp),
        None,  # Importiert
        "RE",  # Herkunft: Rechnungswesen
        "receivables",  # Exportiert von
        None,  # Importiert von
        _number(header.consultant_number),
        _number(header.client_number),
        Bare(header.fiscal_year_start.strftime("%Y%m%d")),
        Bare(str(ACCOUNT_LENGTH)),
        Bare(header.start.strftime("%Y%m%d")),
        Bare(header.end.strftime("%Y%m%d")),
        header.title[:30],
        None,  # Diktatkürzel
        Bare("1"),  # Buchungstyp: Finanzbuchführung
        Bare("0"),  # Rechnungslegungszweck: unabhängig
        Bare("0"),  # Festschreibung: the tax advisor reviews and locks the batch
        header.currency,
        None,
        None,  # Derivatskennzeichen
        None,
        None,
        CHARTS[header.chart]["sachkontenrahmen"],
        None,  # Branchen-Lösungs-Id
        None,
        None,
        None,  # Anwendungsinformation
    ]


def booking_row(booking: Booking, currency: str) -> list[object]:
    return [
        amount_field(booking.amount, currency),
        booking.side,
        currency,
        None,
        None,
        None,
        Bare(booking.account),
        Bare(booking.contra_account),
        booking.bu_key or None,
        Bare(booking.day.strftime("%d%m")),
        document_field(booking.document),
        None,
        None,
        booking.text[:TEXT_LENGTH],
    ]


def buchungsstapel(
    header: BatchHeader, entries: Iterable[JournalEntry], debitors: Mapping[str, str]
) -> bytes:
    """The file: header line, column line, one row per booking; `;`, CRLF, Windows-1252."""
    chart = CHARTS[header.chart]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_STRINGS)
    writer.writerow(header_row(header))
    writer.writerow(COLUMNS)
    for entry in entries:
        debitor = debitors.get(entry.customer_id, UNKNOWN_DEBITOR)
        for booking in bookings(entry, chart, debitor):
            writer.writerow(booking_row(booking, header.currency))
    # A character Windows-1252 lacks (a name in another script) becomes "?" rather than failing the batch.
    return out.getvalue().encode(ENCODING, errors="replace")


def fiscal_year_start(day: date, first_month: int) -> date:
    """The first day of the fiscal year `day` falls in (WJ-Beginn)."""
    year = day.year if day.month >= first_month else day.year - 1
    return date(year, first_month, 1)


def filename(start: date, end: date, currency: str) -> str:
    """DATEV imports files named EXTF_*.csv."""
    return f"EXTF_Buchungsstapel_{start.isoformat()}_{end.isoformat()}_{currency}.csv"
