"""What a reminder SMS costs in segments and when it may go (receivables.sms, docs/decisions/0035)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables import sms

BERLIN = ZoneInfo("Europe/Berlin")
LINK = "https://invoices.example.com/i/Hk3v9QxZ2mR7tYp4LwN8"
GERMAN_MOBILE = "+4915112345678"
AUSTRALIAN_MOBILE = "+61412345678"  # any of Australia's zones, Perth to Lord Howe Island
UK_MOBILE = "+447400123456"
NEW_YORK = "+12125551234"  # a US number: any US zone, Hawaii's included
PHONES = [
    GERMAN_MOBILE,
    AUSTRALIAN_MOBILE,
    NEW_YORK,
    UK_MOBILE,
    "+79123456789",
    "+8613800138000",
    "+80012345678",
]


@pytest.mark.parametrize(
    ("text", "expected", "units"),
    [
        ("Zahlungserinnerung: Rechnung RE-2026-00001, Straße, Müller", "GSM-7", 58),
        ("Offen: 119,00 € [Rate 1]", "GSM-7", 24 + 3),  # €, [ and ] take an escape septet each
        ("Напоминание об оплате", "UCS-2", 21),
        ("Rechnung bezahlt 👍", "UCS-2", 19),  # the emoji is a surrogate pair: two UTF-16 units
        ("Zahlung fällig – bitte", "UCS-2", 22),  # the en dash is not in the GSM alphabet
    ],
)
def test_the_encoding_is_gsm7_unless_a_character_is_outside_its_alphabet(
    text: str, expected: str, units: int
) -> None:
    assert (sms.encoding(text), sms.length(text)) == (expected, units)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("Ж" * 70, 1),
        ("Ж" * 71, 2),
        ("Ж" * 134, 2),
        ("Ж" * 135, 3),
        # 306 septets, but the escape pair of € does not fit the first segment's last septet
        ("a" * 152 + "€" + "a" * 152, 3),
        # 134 units, but the emoji's surrogate pair does not fit the first segment's last unit
        ("Ж" * 66 + "😀" + "Ж" * 66, 3),
    ],
)
def test_segments_count_as_carriers_split_them(text: str, segments: int) -> None:
    assert sms.segments(text) == segments


def test_a_short_reminder_is_the_description_and_the_link() -> None:
    text = sms.reminder_text("Muster Handel GmbH: Zahlungserinnerung: Rechnung RE-2026-00001", LINK)

    assert text == f"Muster Handel GmbH: Zahlungserinnerung: Rechnung RE-2026-00001 {LINK}"
    assert sms.segments(text) == 1


def test_a_long_description_is_cut_and_the_link_kept_whole_within_two_segments() -> None:
    description = "Muster Handel GmbH: " + "Zahlungserinnerung für Ihre Bestellung " * 10

    text = sms.reminder_text(description, LINK)

    assert text.endswith(f"... {LINK}")
    assert description.startswith(text.removesuffix(f"... {LINK}"))
    assert (sms.encoding(text), sms.segments(text)) == ("GSM-7", 2)
    assert sms.length(text) > 300  # as much of the description as fits, not a cautious half


def test_a_long_description_in_another_script_is_cut_to_two_ucs2_segments() -> None:
    description = "ООО Ромашка: напоминание об оплате счёта RE-2026-00001 " * 4

    text = sms.reminder_text(description, LINK)

    assert text.endswith(f"… {LINK}")
    assert (sms.encoding(text), sms.segments(text)) == ("UCS-2", 2)
    assert sms.length(text) > 125


def test_cutting_the_only_character_outside_gsm7_makes_room_for_gsm7_again() -> None:
    description = "Zahlungserinnerung " * 20 + "Ж"

    text = sms.reminder_text(description, LINK)

    assert (sms.encoding(text), sms.segments(text)) == ("GSM-7", 2)
    assert sms.length(text) > 300


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_description_gives_at_most_two_segments_ending_with_the_link(description: str) -> None:
    text = sms.reminder_text(description, LINK)

    assert sms.segments(text) <= 2
    assert text == f"{description} {LINK}" or text.endswith(LINK)
    kept = text.removesuffix(LINK).rstrip().removesuffix("...").removesuffix("…")
    assert description.startswith(kept)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-07T06:00:00", "2026-12-07T07:00:00"),  # 07:00 in Berlin (winter): at 08:00
        ("2026-12-07T11:00:00", "2026-12-07T11:00:00"),  # 12:00: at once
        ("2026-12-07T18:59:00", "2026-12-07T18:59:00"),  # 19:59: still day
        ("2026-12-07T19:00:00", "2026-12-08T07:00:00"),  # 20:00: tomorrow at 08:00
        ("2026-12-07T22:30:00", "2026-12-08T07:00:00"),  # 23:30: tomorrow at 08:00
        ("2026-07-07T05:00:00", "2026-07-07T06:00:00"),  # 07:00 in summer (UTC+2): at 08:00
        ("2026-03-29T05:00:00", "2026-03-29T06:00:00"),  # 07:00 on the day clocks go forward
    ],
)
def test_no_sms_between_20_and_8_in_berlin_but_at_8(now: str, expected: str) -> None:
    assert sms.send_at(_utc(now), GERMAN_MOBILE, ZoneInfo("America/New_York")) == _utc(expected)


def test_a_uk_number_waits_for_8_in_london_not_where_the_seller_is() -> None:
    # 08:30 in Berlin, 07:30 in London
    assert sms.send_at(_utc("2026-12-07T07:30:00"), UK_MOBILE, BERLIN) == _utc("2026-12-07T08:00:00")


def test_a_us_number_waits_until_it_is_day_in_every_us_zone() -> None:
    # 13:00 UTC: 08:00 in New York, but 03:00 in Honolulu; 18:00 UTC is 08:00 there and 13:00 in New York
    assert sms.send_at(_utc("2026-12-07T13:00:00"), NEW_YORK, BERLIN) == _utc("2026-12-07T18:00:00")


def test_a_number_without_a_time_zone_keeps_the_sellers_quiet_hours() -> None:
    assert sms.phone_time_zones("+80012345678") == ()  # international freephone: no place

    assert sms.send_at(_utc("2026-12-07T21:00:00"), "+80012345678", BERLIN) == _utc("2026-12-08T07:00:00")


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),  # noqa: DTZ001
    st.sampled_from(PHONES),
)
def test_send_at_is_the_first_moment_it_is_day_wherever_the_number_may_be(
    naive_now: datetime, phone: str
) -> None:
    now = naive_now.replace(tzinfo=UTC)
    zones = sms.phone_time_zones(phone) or (BERLIN,)

    moment = sms.send_at(now, phone, BERLIN)

    assert moment >= now
    assert not any(sms.in_quiet_hours(moment, zone) for zone in zones)
    if moment > now:  # it waited: a minute earlier it was still night somewhere the number may be
        assert any(sms.in_quiet_hours(moment - timedelta(minutes=1), zone) for zone in zones)
        assert moment - now <= timedelta(hours=36)


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        (GERMAN_MOBILE, True),
        ("+49401234567", True),
        ("+12125551234", True),
        ("+1234567", False),  # E.164's form, but no country's number
        ("+49151", False),
        ("015112345678", False),  # national form: no country code
    ],
)
def test_a_phone_must_be_a_valid_e164_number(phone: str, valid: bool) -> None:
    assert sms.is_valid_phone(phone) is valid
