"""Reading and doing arithmetic on times: WHEN, DURATION and the buyer's time zone.

WHEN is an ISO 8601 date or date-time, ``now``, ``today``, ``yesterday``, ``tomorrow`` or
``N{h,d,w} ago``; a time without an offset is in the buyer's zone and a bare date is the first
moment of that day there (DESIGN.md principle 2). DURATION is ``48h``, ``3d``, ``2w``, and in a
policy also ``3bd`` (business days). Every datetime that leaves this module is aware; the ledger
stores them in UTC.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from refundctl.errors import BadInput

# Dates outside this range are typos; refusing them also keeps date arithmetic from overflowing.
EARLIEST_YEAR = 1990
LATEST_YEAR = 2100

WHEN_HELP = "use YYYY-MM-DD, YYYY-MM-DDTHH:MM[+HH:MM], today, yesterday or '3d ago'"
DURATION_HELP = "use a whole number and a unit, such as 48h, 3d or 2w"


class Unit(StrEnum):
    HOURS = "h"
    DAYS = "d"
    WEEKS = "w"
    BUSINESS_DAYS = "bd"


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def describe(self) -> str:
        """``15 calendar days``, ``3 business days``, ``48 hours``."""
        words = {
            Unit.HOURS: "hour",
            Unit.DAYS: "calendar day",
            Unit.WEEKS: "week",
            Unit.BUSINESS_DAYS: "business day",
        }[self.unit]
        return f"{self.count} {words}{'' if self.count == 1 else 's'}"


_DURATION = re.compile(r"(\d{1,4})\s*(bd|h|d|w)")
_AGO = re.compile(r"(\d{1,5})\s*(h|d|w)\s+ago")


def parse_duration(text: str, *, business_days: bool = False) -> Duration:
    """``48h``, ``3d``, ``2w``; ``3bd`` too where ``business_days`` allows it."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or (match.group(2) == "bd" and not business_days):
        extra = " (or 3bd for business days)" if business_days else ""
        raise BadInput(f"not a duration: {text!r}; {DURATION_HELP}{extra}")
    return Duration(int(match.group(1)), Unit(match.group(2)))


def zone_named(name: str) -> tzinfo:
    """An IANA zone such as ``Europe/Berlin``; refused with a hint when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        raise BadInput(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


def system_zone() -> tzinfo:
    """The system's zone, with its DST rules (not today's fixed offset).

    An IANA name from ``TZ`` or the ``/etc/localtime`` link gives a ``ZoneInfo``, whose
    arithmetic runs in C; dateutil's ``tzlocal`` (pure Python, several times slower on every
    deadline) is the fallback for systems that name no zone.
    """
    import os
    from pathlib import Path

    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = str(Path("/etc/localtime").resolve())
        except OSError:
            target = ""
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # a POSIX TZ string ("CET-1CEST") or a folder ("America"): dateutil reads it
    from dateutil import tz  # lazy: only needed when the system names no zone

    local = tz.tzlocal()
    return local if local is not None else UTC


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a wall-clock time; a time skipped by DST moves forward past the gap."""
    from dateutil import tz

    return tz.resolve_imaginary(naive.replace(tzinfo=zone))


def start_of_day(day: date, zone: tzinfo) -> datetime:
    return localize(datetime.combine(day, time()), zone)


def _check_year(value: datetime, text: str) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise BadInput(
            f"date out of range: {text!r}; refundctl takes years {EARLIEST_YEAR}–{LATEST_YEAR}"
        )
    return value


def parse_when(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    """A WHEN, as an aware UTC datetime. ``now`` is the command's clock (``--as-of``)."""
    cleaned = text.strip().lower()
    local_today = now.astimezone(zone).date()
    keywords = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if cleaned == "now":
        return now.astimezone(UTC)
    if cleaned in keywords:
        day = local_today + timedelta(days=keywords[cleaned])
        return start_of_day(day, zone).astimezone(UTC)
    ago = _AGO.fullmatch(cleaned)
    if ago:
        count, unit = int(ago.group(1)), ago.group(2)
        hours = count * {"h": 1, "d": 24, "w": 24 * 7}[unit]
        if hours > 24 * 366 * 50:
            raise BadInput(f"{text!r} is too long ago; {WHEN_HELP}")
        return _check_year(now - timedelta(hours=hours), text).astimezone(UTC)
    return _parse_iso(text.strip(), zone)


def _parse_iso(text: str, zone: tzinfo) -> datetime:
    from dateutil.parser import isoparse  # lazy: dateutil's parser is slow to import

    if not text or not text[:4].isdigit():
        raise BadInput(f"not a date or time: {text!r}; {WHEN_HELP}")
    try:
        parsed = isoparse(text)
    except (ValueError, OverflowError) as error:
        reason = str(error).split(":")[0].strip() or "not ISO 8601"
        raise BadInput(f"not a date or time: {text!r} ({reason}); {WHEN_HELP}") from None
    _check_year(parsed, text)
    if parsed.tzinfo is None:
        parsed = localize(parsed, zone)
    return parsed.astimezone(UTC)


def add(start: datetime, duration: Duration, zone: tzinfo, holidays: str | None = None) -> datetime:
    """``start`` plus ``duration`` counted on the wall clock of ``zone``.

    Days and weeks keep the time of day across DST changes, as a person counting days on a
    calendar would; hours are exact. Business days skip Saturdays, Sundays and the public
    holidays of the country ``holidays`` names (ISO 3166, e.g. ``US``).
    """
    if duration.unit is Unit.HOURS:
        return (start + timedelta(hours=duration.count)).astimezone(UTC)
    local = start.astimezone(zone).replace(tzinfo=None)
    if duration.unit is Unit.DAYS:
        local += timedelta(days=duration.count)
    elif duration.unit is Unit.WEEKS:
        local += timedelta(weeks=duration.count)
    else:
        is_holiday = holiday_checker(holidays)
        remaining = duration.count
        while remaining:
            local += timedelta(days=1)
            if local.weekday() < 5 and not is_holiday(local.date()):
                remaining -= 1
    return localize(local, zone).astimezone(UTC)


@functools.cache
def holiday_checker(country: str | None) -> Callable[[date], bool]:
    """Whether a date is a public holiday in ``country``; never, for no country."""
    if country is None:
        return lambda _day: False
    import holidays  # lazy: the holiday tables are large, and most commands need none

    try:
        table = holidays.country_holidays(country)
    except NotImplementedError:
        raise BadInput(
            f"no public holidays known for country {country!r}; use an ISO 3166 code such as US"
        ) from None
    return lambda day: day in table


def humanize(delta: timedelta) -> str:
    """``2d 4h``, ``5h 10m``, ``12m``: the two largest units, for tables."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def iso(moment: datetime) -> str:
    """The one textual form of a time in the ledger and in JSON: UTC, seconds, with offset."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
