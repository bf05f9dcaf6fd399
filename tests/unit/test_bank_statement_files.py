"""The sample statements (events/bank_statements, German bank style) read into entries; what is not a
statement is refused naming the field, and XML that asks for entities or a DTD is not resolved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from receivables.bank.matching import entry_key
from receivables.bank.statement_files import UnreadableStatement, parse_statement
from tests.support import REPOSITORY, load_event

SAMPLES = REPOSITORY / "events/bank_statements"


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_camt053_001_08_reads_credits_debits_parties_and_references() -> None:
    statement = parse_statement(_sample("camt053_001_08.xml"), "application/xml")
    assert (statement.format, statement.account) == ("camt.053.001.08", "DE89370400440532013000")
    summary = [
        (e.direction, e.amount, e.currency, e.bank_reference, e.remittance, e.counterparty_name)
        for e in statement.entries
    ]
    assert summary == [
        (
            "credit",
            Decimal("1190.00"),
            "EUR",
            "2026112300012345",
            "RE 2026-000123",
            "Muster Maschinenbau GmbH",
        ),
        (
            "credit",
            Decimal("357.00"),
            "EUR",
            "2026112300012346",
            "Rg.-Nr. 2026-000124 / Kd 77",
            "Schmidt & Soehne KG",
        ),
        (
            "debit",
            Decimal("40.63"),
            "EUR",
            "2026112300012347",
            "RUECKLASTSCHRIFT 2026-000098 MD01",
            "Alpha Buerobedarf OHG",
        ),
    ]
    assert statement.entries[0].counterparty_iban == "DE02120300000000202051"
    assert statement.entries[0].booking_date == date(2026, 11, 23)


def test_camt053_001_02_joins_remittance_lines_and_has_entries_without_a_bank_reference() -> None:
    statement = parse_statement(_sample("camt053_001_02.xml"), "application/xml")
    assert statement.format == "camt.053.001.02"
    second = statement.entries[1]
    assert (second.bank_reference, second.remittance, second.counterparty_name) == (
        None,
        "Rechnungen 2026000125 und 2026-000126 vielen Dank",
        "Weber Logistik GmbH",
    )
    assert entry_key(second).startswith("sum-")


def test_mt940_reads_the_german_structured_details_and_names_the_account_by_its_iban() -> None:
    statement = parse_statement(_sample("mt940_sparkasse.sta"), "text/plain")
    assert (statement.format, statement.account) == ("mt940", "DE89370400440532013000")  # from BLZ/Konto
    first, _, debit = statement.entries
    assert (first.amount, first.remittance, first.counterparty_name, first.counterparty_iban) == (
        Decimal("1190.00"),
        "RE 2026-000123",
        "Muster Maschinenbau GmbH",
        "DE02120300000000202051",
    )
    assert (debit.direction, debit.amount, debit.remittance) == (
        "debit",
        Decimal("40.63"),
        "RUECKLASTSCHRIFT 2026-000098 MD01",
    )


def test_the_same_bookings_in_mt940_and_camt053_have_the_same_keys() -> None:
    camt = parse_statement(_sample("camt053_001_08.xml"), "application/xml")
    mt940 = parse_statement(_sample("mt940_sparkasse.sta"), "text/plain")
    camt_keys = {entry_key(e) for e in camt.entries}
    mt940_keys = [entry_key(e) for e in mt940.entries]
    assert [key in camt_keys for key in mt940_keys] == [True, False, True]


def test_a_reversal_books_the_other_way() -> None:
    body = _sample("camt053_001_08.xml").replace(
        b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>",
        b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <RvslInd>true</RvslInd>\n        <Sts>",
        1,
    )
    assert parse_statement(body, "application/xml").entries[0].direction == "debit"


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.08'/>", "application/xml", "body"),
        (b"<Document><unclosed></Document>", "application/xml", "body"),
        (b"hello", "text/plain", "body"),
    ],
)
def test_what_is_not_a_statement_is_refused_naming_the_body(
    body: bytes, content_type: str, field: str
) -> None:
    with pytest.raises(UnreadableStatement) as refused:
        parse_statement(body, content_type)
    assert [e.field for e in refused.value.errors] == [field]


def test_an_entity_or_dtd_is_never_resolved() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>'
    )
    with pytest.raises(UnreadableStatement) as refused:
        parse_statement(xxe, "application/xml")
    assert "DOCTYPE" in refused.value.errors[0].message


def test_a_bad_amount_names_the_entry() -> None:
    body = _sample("camt053_001_08.xml").replace(
        b'<Amt Ccy="EUR">357.00</Amt>', b'<Amt Ccy="EUR">3,5.7</Amt>', 1
    )
    with pytest.raises(UnreadableStatement) as refused:
        parse_statement(body, "application/xml")
    assert [e.field for e in refused.value.errors] == ["Stmt[0].Ntry[1].Amt"]


def test_the_functions_sample_events_carry_the_sample_statements() -> None:
    camt = load_event("bank_statements/import_camt053.json")
    mt940 = load_event("bank_statements/import_mt940.json")
    assert (camt["headers"]["content-type"], camt["body"].encode()) == (
        "application/xml",
        _sample("camt053_001_08.xml"),
    )
    assert (mt940["headers"]["content-type"], mt940["body"].encode()) == (
        "text/plain",
        _sample("mt940_sparkasse.sta"),
    )
    s3 = load_event("import_statement/statement_put.json")["Records"][0]["s3"]["object"]
    assert s3["key"].startswith("statements/local-storefront/")
