"""What an SMS reminder says and when it may go: encoding, segments, quiet hours (docs/decisions/0035).

Encoding (3GPP TS 23.038): a text whose every character is in the GSM 03.38 default alphabet or its
extension table goes as GSM-7 (extension characters take two septets, an escape and the character);
any other character makes the whole text UCS-2 (UTF-16 code units; a character outside the Basic
Multilingual Plane takes two). One segment holds 160 septets or 70 units; a longer text is split into
segments of 153 septets or 67 units (the rest is the concatenation header, 3GPP TS 23.040), and no
character is split across two of them. Carriers bill per segment, so a reminder fits two.

Quiet hours: no SMS from 20:00 to 08:00 where the customer is. The phone number's country is what we
know of that (a German number: Europe/Berlin; an Australian one may be in any of its zones, and then
08:00-20:00 must hold in all of them); a number of no country falls back to the seller's zone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet (without the escape code 0x1B) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE_SEGMENT: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
CONCATENATED_SEGMENT: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}
MAX_REMINDER_SEGMENTS = 2

QUIET_FROM = time(20, 0)
QUIET_UNTIL = time(8, 0)


def encoding(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def _units(character: str, chosen: Encoding) -> int:
    if chosen == "GSM-7":
        return 2 if character in GSM7_EXTENSION else 1
    return 2 if ord(character) > 0xFFFF else 1  # a surrogate pair in UTF-16


def length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    chosen = encoding(text)
    return sum(_units(c, chosen) for c in text)


def segments(text: str) -> int:
    """How many SMS segments the text is sent (and billed) as."""
    chosen = encoding(text)
    if length(text) <= SINGLE_SEGMENT[chosen]:
        return 1
    capacity, used, count = CONCATENATED_SEGMENT[chosen], 0, 1
    for character in text:
        units = _units(character, chosen)
        if used + units > capacity:  # an escape pair or a surrogate pair never straddles two segments
            count, used = count + 1, 0
        used += units
    return count


def reminder_text(description: str, link: str, max_segments: int = MAX_REMINDER_SEGMENTS) -> str:
    """`description` and the pay link, in at most `max_segments`: the description is cut (with an
    ellipsis), never the link. Cutting a character that forced UCS-2 may make the text GSM-7 again,
    so each shorter cut is measured as sent."""
    whole = f"{description} {link}"
    if segments(whole) <= max_segments:
        return whole
    for end in range(len(description) - 1, -1, -1):
        kept = description[:end].rstrip()
        ellipsis = "..." if encoding(kept) == "GSM-7" else "…"
        text = f"{kept}{ellipsis} {link}" if kept else link
        if segments(text) <= max_segments:
            return text
    raise ValueError("the link alone does not fit the SMS")


def in_quiet_hours(moment: datetime, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def earliest_daytime(now: datetime, zones: Sequence[ZoneInfo]) -> datetime | None:
    """`now` if it is day in every zone, else the first 08:00 (in one of them) at which it is; None when
    the zones share no daytime within two days."""
    if not now.tzinfo:
        raise ValueError("now must be timezone-aware")
    for moment in sorted([now, *(morning for zone in zones for morning in _mornings(now, zone))]):
        if moment >= now and not any(in_quiet_hours(moment, zone) for zone in zones):
            return moment
    return None


def _mornings(now: datetime, zone: ZoneInfo) -> Iterable[datetime]:
    today = now.astimezone(zone).date()
    for days in range(3):
        yield datetime.combine(today + timedelta(days=days), QUIET_UNTIL, tzinfo=zone)


def phone_time_zones(phone: str) -> tuple[ZoneInfo, ...]:
    """The time zones a number's owner may be in: every zone of the country the number belongs to
    (libphonenumber's region, CLDR's zones of that territory as Babel ships them); () if unknown.

    By country, not by area code: libphonenumber's per-prefix zone data is 40 MB the layer cannot carry
    (Lambda's 250 MB), so a US number keeps the quiet hours of every US zone, Hawaii's included."""
    import phonenumbers  # only the functions that text load its metadata (decisions/0019)
    from babel.core import get_global

    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return ()
    if region in (None, phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY):
        return ()  # international freephone, satellite: no place
    names = get_global("territory_zones").get(region, ())
    zones = []
    for name in names:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):  # "Etc/Unknown", or unknown here
            zones.append(ZoneInfo(name))
    return tuple(zones)


def send_at(now: datetime, phone: str, seller_zone: ZoneInfo) -> datetime:
    """When a reminder SMS decided at `now` may go: now, or 08:00 where the customer is."""
    zones = phone_time_zones(phone) or (seller_zone,)
    moment = earliest_daytime(now, zones) or earliest_daytime(now, (seller_zone,))
    assert moment is not None  # one zone always has a morning within two days
    return moment


def is_valid_phone(value: str) -> bool:
    """An E.164 number (`+` and the country code) that libphonenumber knows as a valid number."""
    import phonenumbers

    if not value.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False
