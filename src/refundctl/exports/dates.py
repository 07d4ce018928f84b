"""Dates and times as marketplace exports write them.

Pure. ISO times (Amazon's ``2025-02-06T21:10:03.512Z``) and ``YYYY/MM/DD`` (Temu) go through
refundctl's own reading of WHEN; numeric dates with the day and month in a locale's order
(``3/7/2025``, ``14.03.2025``) are read in the order the caller names, decided once per file
(``DayOrder.of``): by a date that can only be read one way, else by the time zone the file
names, else refused. Zone abbreviations (``PDT``, ``MEZ``) stand for their fixed offsets; a
name such as ``Europe/Berlin`` for its zone. A date without a time is the first moment of
that day in the buyer's zone, as everywhere in refundctl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum

from refundctl.errors import BadInput
from refundctl.importing import read_time
from refundctl.timeparse import localize, start_of_day

# Abbreviations exports write, and their offsets from UTC in hours. IST (India, Ireland,
# Israel) and others that stand for several offsets are left out: such a file is refused.
_US_ZONES = {
    "PST": -8,
    "PDT": -7,
    "MST": -7,
    "MDT": -6,
    "CST": -6,
    "CDT": -5,
    "EST": -5,
    "EDT": -4,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "HDT": -9,
}
_OTHER_ZONES = {
    "GMT": 0,
    "UTC": 0,
    "WET": 0,
    "BST": 1,
    "WEST": 1,
    "CET": 1,
    "MEZ": 1,
    "CEST": 2,
    "MESZ": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "HKT": 8,
    "SGT": 8,
    "AWST": 8,
    "JST": 9,
    "KST": 9,
    "ACST": 9.5,
    "ACDT": 10.5,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
}
_OFFSET = re.compile(r"(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?")


def zone_of(text: str) -> tzinfo:
    """The zone a file names: an abbreviation, ``GMT+01:00``, or an IANA name."""
    name = text.strip()
    upper = name.upper()
    hours = _US_ZONES.get(upper, _OTHER_ZONES.get(upper))
    if hours is not None:
        return timezone(timedelta(hours=hours))
    offset = _OFFSET.fullmatch(upper)
    if offset:
        sign = -1 if offset[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0)))
    if "/" in name:
        from refundctl.timeparse import zone_named

        try:
            return zone_named(name)
        except BadInput:
            pass
    raise BadInput(
        f"time zone {name[:40]!r} is not one refundctl can tell the offset of; "
        "download the file with another zone, such as UTC"
    )


class DayOrder(StrEnum):
    MONTH_FIRST = "month/day/year"
    DAY_FIRST = "day/month/year"

    @classmethod
    def of(cls, dates: Iterable[str], zones: Iterable[str] = ()) -> DayOrder | None:
        """The order of a file's numeric dates: the one its dates can only be read in, else
        the one its time zones are written with (US zones: month first; any other that
        refundctl knows but UTC: day first); None when nothing tells."""
        found: set[DayOrder] = set()
        for text in dates:
            parts = _NUMERIC.fullmatch(text.strip())
            if parts is None:
                continue
            first, second = int(parts[1]), int(parts[2])
            if first > 12 >= second:
                found.add(cls.DAY_FIRST)
            elif second > 12 >= first:
                found.add(cls.MONTH_FIRST)
        if len(found) > 1:
            raise BadInput("the file's dates are written both day first and month first")
        if found:
            return found.pop()
        for zone in zones:
            name = zone.strip().upper()
            if name in _US_ZONES:
                return cls.MONTH_FIRST
            if name in _OTHER_ZONES and name != "UTC":  # UTC is every country's
                return cls.DAY_FIRST
        return None


_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


def numeric_date(text: str, order: DayOrder) -> date:
    """``3/7/2025`` or ``14.03.2025``, its day and month in ``order``."""
    parts = _NUMERIC.fullmatch(text.strip())
    if parts is None:
        raise BadInput(f"not a date: {text.strip()[:40]!r}; expected {order.value}")
    first, second, year = int(parts[1]), int(parts[2]), int(parts[3])
    month, day = (first, second) if order is DayOrder.MONTH_FIRST else (second, first)
    try:
        return date(year, month, day)
    except ValueError as error:
        raise BadInput(f"not a date: {text.strip()!r} ({error}); read as {order.value}") from None


def at_time(day: date, clock: str, zone: tzinfo) -> datetime:
    """A day and a wall-clock time (``10:22:31``) in ``zone``, as an aware UTC time."""
    try:
        moment = time.fromisoformat(clock.strip()) if clock.strip() else None
    except ValueError:
        raise BadInput(f"not a time of day: {clock.strip()[:40]!r}") from None
    if moment is None:
        return start_of_day(day, zone).astimezone(UTC)
    return localize(datetime.combine(day, moment), zone).astimezone(UTC)


def moment(text: str, now: datetime, zone: tzinfo) -> datetime:
    """An ISO date or time, or ``YYYY/MM/DD``: refundctl's WHEN, as every import reads it."""
    cleaned = text.strip()
    if not cleaned[:4].isdigit():  # "today", "3 days ago": words a WHEN takes, a file never
        raise BadInput(f"not a date: {cleaned[:40]!r}")
    return read_time(cleaned, now, zone)


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_NAMED = re.compile(
    r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})"  # Mar 7, 2025
    r"|(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})"  # 7 Mar 2025
)


def any_date(text: str, now: datetime, zone: tzinfo) -> datetime:
    """An ISO date or time, or a date with the month named in English (``Mar 7, 2025``,
    ``7 Mar 2025``), as AliExpress shows order dates."""
    cleaned = text.strip()
    named = _NAMED.fullmatch(cleaned)
    if named is None:
        return moment(cleaned, now, zone)
    month_name, day, year = (
        (named[1], named[2], named[3]) if named[1] else (named[5], named[4], named[6])
    )
    month = _MONTHS.get(month_name.lower())
    if month is None:
        raise BadInput(f"not a date: {cleaned[:40]!r}")
    try:
        return start_of_day(date(int(year), month, int(day)), zone).astimezone(UTC)
    except ValueError as error:
        raise BadInput(f"not a date: {cleaned!r} ({error})") from None
