"""camt.053 (ISO 20022, .001.02 and .001.08) and MT940 statements parsed into one shape: `BankEntry`.

camt.053 is read with lxml (no DTD, no entities, no network: a statement never needs them); MT940 with the
`mt-940` library, whose structured `:86:` reading knows the German ?20–?32 sub-fields. Nothing here
touches AWS or decides anything about invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from receivables import money
from receivables.errors import FieldError

Direction = Literal["credit", "debit"]
CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
SUPPORTED_CAMT = ("02", "08")
MAX_STATEMENT_BYTES = 5 * 1024 * 1024


class UnreadableStatement(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class BankEntry:
    """One booked line of the statement, as the bank reports it."""

    account: str  # the statement's account (our IBAN)
    booking_date: date
    amount: Decimal  # positive, in the currency's digits
    currency: str
    direction: Direction
    bank_reference: str | None  # AcctSvcrRef / the MT940 bank reference: the bank's id of the entry
    remittance: str  # the payer's remittance text (Ustrd lines / SVWZ), joined
    counterparty_name: str | None = None  # the payer of a credit, the payee of a debit
    counterparty_iban: str | None = None
    end_to_end_id: str | None = None
    value_date: date | None = None


@dataclass(frozen=True)
class StatementFile:
    format: Literal["camt.053.001.02", "camt.053.001.08", "mt940"]
    account: str
    statement_id: str | None  # the bank's id of the statement (camt Stmt/Id, MT940 :20:/:28C:)
    entries: tuple[BankEntry, ...]


def parse_statement(body: bytes, content_type: str | None) -> StatementFile:
    """The statement in `body`: XML (camt.053) or MT940 text; the content type decides when given."""
    if len(body) > MAX_STATEMENT_BYTES:
        raise UnreadableStatement([FieldError("body", "a statement file is at most 5 MiB")])
    kind = (content_type or "").split(";")[0].strip().lower()
    looks_xml = body.lstrip()[:1] == b"<"
    if kind in ("application/xml", "text/xml") or (not kind and looks_xml):
        return parse_camt053(body)
    return parse_mt940(body)


# ------------------------------------------------------------------------------------------- camt.053
def _xml_root(body: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        raise UnreadableStatement([FieldError("body", f"not well-formed XML: {error.msg}")]) from error
    if root.getroottree().docinfo.doctype:
        raise UnreadableStatement([FieldError("body", "a DOCTYPE is not allowed in a statement")])
    return root


def parse_camt053(body: bytes) -> StatementFile:
    root = _xml_root(body)
    namespace = root.nsmap.get(None) or ""
    version = namespace.removeprefix(CAMT053)
    if not namespace.startswith(CAMT053) or version not in SUPPORTED_CAMT:
        raise UnreadableStatement(
            [FieldError("body", "not a camt.053.001.02 or camt.053.001.08 document (root namespace)")]
        )
    ns = {"c": namespace}
    entries: list[BankEntry] = []
    account = ""
    statement_ids = []
    errors: list[FieldError] = []
    for s, stmt in enumerate(root.xpath("c:BkToCstmrStmt/c:Stmt", namespaces=ns)):
        account = _text(stmt, "c:Acct/c:Id/c:IBAN", ns) or _text(stmt, "c:Acct/c:Id/c:Othr/c:Id", ns) or ""
        statement_ids.append(_text(stmt, "c:Id", ns) or "")
        for n, ntry in enumerate(stmt.xpath("c:Ntry", namespaces=ns)):
            where = f"Stmt[{s}].Ntry[{n}]"
            status = _text(ntry, "c:Sts/c:Cd", ns) or _text(ntry, "c:Sts", ns)
            if status != "BOOK":
                continue  # pending or informational lines are not money on the account yet
            entries += _camt_entries(ntry, ns, account.replace(" ", "").upper(), where, errors)
    if errors:
        raise UnreadableStatement(errors)
    if not statement_ids:
        raise UnreadableStatement([FieldError("body", "no BkToCstmrStmt/Stmt in the document")])
    return StatementFile(
        format="camt.053.001.02" if version == "02" else "camt.053.001.08",
        account=account.replace(" ", "").upper(),
        statement_id=",".join(statement_ids) or None,
        entries=tuple(entries),
    )


def _camt_entries(
    ntry: Any, ns: dict[str, str], account: str, where: str, errors: list[FieldError]
) -> list[BankEntry]:
    direction = _direction(_text(ntry, "c:CdtDbtInd", ns))
    amount_node = _first(ntry, "c:Amt", ns)
    booked = _text(ntry, "c:BookgDt/c:Dt", ns) or (_text(ntry, "c:BookgDt/c:DtTm", ns) or "")[:10]
    valued = _text(ntry, "c:ValDt/c:Dt", ns) or (_text(ntry, "c:ValDt/c:DtTm", ns) or "")[:10]
    reversal = (_text(ntry, "c:RvslInd", ns) or "").lower() == "true"
    if direction is None or amount_node is None or not booked:
        errors.append(FieldError(where, "an entry needs Amt, CdtDbtInd and BookgDt"))
        return []
    if reversal:  # a reversal books the opposite way of what its indicator says (ISO 20022 usage rules)
        direction = "debit" if direction == "credit" else "credit"
    details = ntry.xpath("c:NtryDtls/c:TxDtls", namespaces=ns)
    entry_ref = _text(ntry, "c:AcctSvcrRef", ns)
    if len(details) <= 1:  # one transaction: the entry's amount and reference, the details' parties
        tx = details[0] if details else None
        one = _camt_entry(
            ntry, tx, amount_node, entry_ref, direction, booked, valued, account, ns, where, errors
        )
        return [one] if one else []
    # a batch booking: each transaction is its own payment (with its own reference when the bank gives one)
    found = []
    for t, tx in enumerate(details):
        tx_amount = _first(tx, "c:Amt", ns) or _first(tx, "c:AmtDtls/c:TxAmt/c:Amt", ns)
        ref = _text(tx, "c:Refs/c:AcctSvcrRef", ns) or (f"{entry_ref}/{t + 1}" if entry_ref else None)
        one = _camt_entry(
            ntry, tx, tx_amount, ref, direction, booked, valued, account, ns, f"{where}.TxDtls[{t}]", errors
        )
        if one:
            found.append(one)
    return found


def _camt_entry(
    ntry: Any,
    tx: Any,
    amount_node: Any,
    reference: str | None,
    direction: Direction,
    booked: str,
    valued: str | None,
    account: str,
    ns: dict[str, str],
    where: str,
    errors: list[FieldError],
) -> BankEntry | None:
    if amount_node is None:
        errors.append(FieldError(f"{where}.Amt", "missing"))
        return None
    amount = _amount(amount_node.text, amount_node.get("Ccy"), f"{where}.Amt", errors)
    booking_date = _date(booked, f"{where}.BookgDt", errors)
    if amount is None or booking_date is None:
        return None
    party, party_account = ("Dbtr", "DbtrAcct") if direction == "credit" else ("Cdtr", "CdtrAcct")
    name = iban = end_to_end = None
    lines: list[str] = []
    if tx is not None:
        # .001.02 names the party directly (Dbtr/Nm), .001.08 inside a Pty (Dbtr/Pty/Nm)
        name = _text(tx, f"c:RltdPties/c:{party}/c:Pty/c:Nm", ns) or _text(
            tx, f"c:RltdPties/c:{party}/c:Nm", ns
        )
        iban = _text(tx, f"c:RltdPties/c:{party_account}/c:Id/c:IBAN", ns)
        end_to_end = _text(tx, "c:Refs/c:EndToEndId", ns)
        lines = [t.strip() for t in tx.xpath("c:RmtInf/c:Ustrd/text()", namespaces=ns)]
        lines += [t.strip() for t in tx.xpath("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref/text()", namespaces=ns)]
    if not lines:
        lines = [t.strip() for t in ntry.xpath("c:AddtlNtryInf/text()", namespaces=ns)]
    return BankEntry(
        account=account,
        booking_date=booking_date,
        amount=amount[0],
        currency=amount[1],
        direction=direction,
        bank_reference=reference,
        remittance=" ".join(line for line in lines if line),
        counterparty_name=name,
        counterparty_iban=iban.replace(" ", "").upper() if iban else None,
        end_to_end_id=None if end_to_end == "NOTPROVIDED" else end_to_end,
        value_date=_date(valued, f"{where}.ValDt", []) if valued else None,
    )


def _first(node: Any, path: str, ns: dict[str, str]) -> Any:
    found = node.xpath(path, namespaces=ns)
    return found[0] if found else None


def _text(node: Any, path: str, ns: dict[str, str]) -> str | None:
    found = _first(node, path, ns)
    text = found.text if found is not None else None
    return text.strip() if text and text.strip() else None


def _direction(indicator: str | None) -> Direction | None:
    return {"CRDT": "credit", "DBIT": "debit"}.get(indicator or "")  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------- MT940
def parse_mt940(body: bytes) -> StatementFile:
    import mt940
    from mt940.options import Options

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")  # German banks deliver MT940 in ISO 8859-1 as often as not
    transactions = mt940.models.Transactions(
        processors={"post_transaction_details": [mt940.processors.transaction_details_post_processor]},
        options=Options.all(),
    )
    try:
        transactions.parse(text)
    except Exception as error:  # the library raises bare exceptions on malformed tags
        raise UnreadableStatement([FieldError("body", f"not a readable MT940 statement: {error}")]) from error
    if "account_identification" not in transactions.data:
        raise UnreadableStatement([FieldError("body", "not an MT940 statement (no :25: account)")])
    account = _account_iban(str(transactions.data["account_identification"]))
    entries: list[BankEntry] = []
    errors: list[FieldError] = []
    for n, transaction in enumerate(transactions):
        data = transaction.data
        amount = data["amount"]
        where = f"transactions[{n}]"
        status = str(data.get("status") or "")
        direction: Direction = "debit" if status in ("D", "RC") else "credit"
        checked = _amount(str(abs(amount.amount)), amount.currency, f"{where}.amount", errors)
        if checked is None:
            continue
        booked = data.get("entry_date") or data["date"]
        purpose = " ".join(p for p in (data.get("purpose"), data.get("additional_purpose")) if p)
        bank_reference = data.get("bank_reference")
        entries.append(
            BankEntry(
                account=account,
                booking_date=date(booked.year, booked.month, booked.day),  # mt940's Date is a date
                amount=checked[0],
                currency=checked[1],
                direction=direction,
                bank_reference=str(bank_reference) if bank_reference and bank_reference != "NONREF" else None,
                remittance=purpose or str(data.get("transaction_details") or ""),
                counterparty_name=data.get("applicant_name"),
                counterparty_iban=(data.get("applicant_iban") or "").replace(" ", "").upper() or None,
                end_to_end_id=_useful(data.get("end_to_end_reference")),
                value_date=date(data["date"].year, data["date"].month, data["date"].day),
            )
        )
    if errors:
        raise UnreadableStatement(errors)
    reference = transactions.data.get("transaction_reference")
    number = transactions.data.get("statement_number")
    return StatementFile(
        format="mt940",
        account=account,
        statement_id=f"{reference}/{number}" if number else reference,
        entries=tuple(entries),
    )


def _useful(reference: Any) -> str | None:
    return None if not reference or reference in ("NOTPROVIDED", "NONREF") else str(reference)


def _account_iban(identification: str) -> str:
    """:25: carries an IBAN or, at German banks, `BLZ/Kontonummer`: the latter becomes its DE IBAN, so
    the MT940 and the camt.053 of one account name it alike."""
    compact = identification.replace(" ", "").upper()
    blz, _, konto = compact.partition("/")
    if len(blz) == 8 and blz.isdigit() and konto.isdigit() and 0 < len(konto) <= 10:
        bban = blz + konto.rjust(10, "0")
        check = 98 - int(bban + "131400") % 97  # ISO 13616: D=13, E=14, then "00"
        return f"DE{check:02d}{bban}"
    return compact


# --------------------------------------------------------------------------------------------- shared
def _amount(
    text: str | None, currency: str | None, where: str, errors: list[FieldError]
) -> tuple[Decimal, str] | None:
    if not currency or not money.is_invoicing_currency(currency):
        errors.append(FieldError(where, "needs an ISO 4217 currency"))
        return None
    try:
        amount = Decimal((text or "").strip().replace(",", "."))
    except InvalidOperation:
        errors.append(FieldError(where, "not a decimal amount"))
        return None
    digits = money.minor_digits(currency)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-digits)):
        errors.append(FieldError(where, f"a positive amount with at most {digits} decimals"))
        return None
    return money.quantize(amount, currency), currency


def _date(text: str | None, where: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        errors.append(FieldError(where, "not an ISO date"))
        return None
