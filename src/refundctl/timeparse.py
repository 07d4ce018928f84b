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
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum

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


_DURATION = re.compile(r"(\d+)\s*(bd|h|d|w)")
# The longest duration taken: four digits of any unit.
LONGEST_COUNT = 9999
_AGO = re.compile(r"(\d{1,5})\s*(h|d|w)\s+ago")


def parse_duration(text: str, *, business_days: bool = False) -> Duration:
    """``48h``, ``3d``, ``2w``; ``3bd`` too where ``business_days`` allows it."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or (match.group(2) == "bd" and not business_days):
        extra = " (or 3bd for business days)" if business_days else ""
        raise BadInput(f"not a duration: {text!r}; {DURATION_HELP}{extra}")
    count = int(match.group(1))
    if count > LONGEST_COUNT:
        unit = {"h": "hours", "d": "days", "w": "weeks", "bd": "business days"}[match.group(2)]
        raise BadInput(f"{text.strip()!r} is too long; give at most {LONGEST_COUNT} {unit}")
    return Duration(count, Unit(match.group(2)))


def zone_named(name: str) -> tzinfo:
    """An IANA zone such as ``Europe/Berlin``; refused with a hint when unknown. UTC by any
    of its names is ``datetime.UTC``, as for the system's zone."""
    if name in _UTC_NAMES:
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: `check` may need no zone

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        raise BadInput(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


def system_zone() -> tzinfo:
    """The system's zone, with its DST rules (not today's fixed offset).

    UTC by any of its names is ``datetime.UTC``. Another IANA name from ``TZ`` or the
    ``/etc/localtime`` link gives a ``ZoneInfo``, whose arithmetic runs in C; dateutil's
    ``tzlocal`` (pure Python, several times slower on every deadline) is the fallback for
    systems that name no zone.
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
            return zone_named(name)
        except BadInput:
            pass  # a POSIX TZ string ("CET-1CEST") or a folder ("America"): dateutil reads it
    from dateutil import tz  # lazy: only needed when the system names no zone

    local = tz.tzlocal()
    return local if local is not None else UTC


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a wall-clock time; a time skipped by DST moves forward past the gap."""
    if isinstance(zone, type(UTC)):
        return naive.replace(tzinfo=zone)  # a fixed offset has no gaps
    if _is_zoneinfo(zone):
        # The common case, in C (PEP 495): a wall time the clocks skipped reads with the
        # offset before the jump for fold=0 and after it for fold=1, and only there is the
        # first smaller. A skipped time (02:30 on a spring-forward night) moves forward by
        # the gap, as dateutil's resolve_imaginary does for other zones.
        aware = naive.replace(tzinfo=zone)
        first, second = aware.utcoffset(), aware.replace(fold=1).utcoffset()
        assert first is not None and second is not None
        if first >= second:
            return aware
        after = (naive + timedelta(days=1)).replace(tzinfo=zone).utcoffset()
        before = (naive - timedelta(days=1)).replace(tzinfo=zone).utcoffset()
        assert after is not None and before is not None
        return (naive + (after - before)).replace(tzinfo=zone)
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


# Days from today of the WHEN keywords.
_DAY_KEYWORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
# The ISO forms files and people write: a date, or a date and a time (T or a space between,
# seconds and up to six decimals optional) with an optional Z or ±HH:MM. Python reads these in C,
# with the very results dateutil gives; any other form, and any error, is left to dateutil, so
# what is accepted and how a refusal reads stay the same.
_COMMON_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?"
)


def parse_when(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    """A WHEN, as an aware UTC datetime. ``now`` is the command's clock (``--as-of``)."""
    stripped = text.strip()
    common = _read_common_iso(stripped)
    if common is not None:  # the usual case, and every cell of an import: no keyword looks so
        return _parse_iso(common, stripped, zone)
    cleaned = stripped.lower()
    if cleaned == "now":
        return now.astimezone(UTC)
    if cleaned in _DAY_KEYWORDS:
        day = now.astimezone(zone).date() + timedelta(days=_DAY_KEYWORDS[cleaned])
        return start_of_day(day, zone).astimezone(UTC)
    ago = _AGO.fullmatch(cleaned)
    if ago:
        count, unit = int(ago.group(1)), ago.group(2)
        hours = count * {"h": 1, "d": 24, "w": 24 * 7}[unit]
        if hours > 24 * 366 * 50:
            raise BadInput(f"{text!r} is too long ago; {WHEN_HELP}")
        return _check_year(now - timedelta(hours=hours), text).astimezone(UTC)
    return _parse_iso(_read_any_iso(stripped), stripped, zone)


def names_a_day(text: str) -> bool:
    """A WHEN that names a whole day (``2026-12-10``, ``today``), not a moment in it."""
    cleaned = text.strip().lower()
    return (
        cleaned in _DAY_KEYWORDS or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", cleaned) is not None
    )


def _parse_iso(parsed: datetime, text: str, zone: tzinfo) -> datetime:
    """The time ``text`` was read as, checked and in UTC; a time without an offset is in
    ``zone``."""
    _check_year(parsed, text)
    if parsed.tzinfo is None:
        if parsed.time() != time() or not names_a_day(text):
            _refuse_skipped(parsed, zone)
        parsed = localize(parsed, zone)
    return parsed.astimezone(UTC)


def _refuse_skipped(naive: datetime, zone: tzinfo) -> None:
    """A wall time the clocks skipped (02:30 on a spring-forward night) names no moment: say
    so, with the two moments it may have meant, rather than move it silently. A bare day that
    starts in a gap is that day's first moment, and is left to ``localize``."""
    if isinstance(zone, type(UTC)):
        return
    before = naive.replace(tzinfo=zone)  # fold=0: read with the offset before the jump
    if before.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return
    readings = []
    # The offsets on either side of the jump, from a day away (a dateutil zone, from the
    # system's TZ rule, ignores fold).
    for day in (-1, 1):
        offset = (naive + timedelta(days=day)).replace(tzinfo=zone).utcoffset()
        assert offset is not None
        aware = naive.replace(tzinfo=timezone(offset))
        sign, minutes = ("+" if offset >= timedelta() else "-"), abs(offset) // timedelta(minutes=1)
        fixed = f"{naive.isoformat(timespec='minutes')}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
        readings.append(f"{fixed} ({local_text(aware.astimezone(UTC), zone)})")
    where = getattr(zone, "key", None) or "your zone"
    raise BadInput(
        f"{naive:%Y-%m-%d %H:%M} does not exist in {where}: the clocks skipped it; "
        f"give the offset you meant, {readings[0]} or {readings[1]}"
    )


def _read_common_iso(text: str) -> datetime | None:
    """``text`` read by the standard library when it is one of the common forms, else None."""
    if not _COMMON_ISO.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None  # 2026-02-30, 25:00: dateutil words the refusal


def _read_any_iso(text: str) -> datetime:
    """Every ISO 8601 form dateutil knows (week dates, ``24:00``, ``+0530``...)."""
    from dateutil.parser import isoparse  # lazy: dateutil's parser is slow to import

    if not text or not text[:4].isdigit():
        raise BadInput(f"not a date or time: {text!r}; {WHEN_HELP}")
    try:
        return isoparse(text)
    except (ValueError, OverflowError) as error:
        reason = why_not_iso(error)
        raise BadInput(f"not a date or time: {text!r} ({reason}); {WHEN_HELP}") from None


def why_not_iso(error: Exception) -> str:
    """dateutil's reason for refusing a text, in words a person can act on: its own ("month
    must be in 1..12"), or "not ISO 8601" where it passes on Python's ("invalid literal for
    int() with base 10")."""
    reason = str(error).split(":")[0].strip()
    return "not ISO 8601" if not reason or "literal" in reason or "()" in reason else reason


def add(start: datetime, duration: Duration, zone: tzinfo, holidays: str | None = None) -> datetime:
    """``start`` plus ``duration`` counted on the wall clock of ``zone``.

    Days and weeks keep the time of day across DST changes, as a person counting days on a
    calendar would; hours are exact. Business days skip Saturdays, Sundays and the public
    holidays of the country ``holidays`` names (ISO 3166, e.g. ``US``).
    """
    if duration.unit is Unit.HOURS:
        # In UTC first: arithmetic on a time in a zone with DST would move its wall clock.
        return start.astimezone(UTC) + timedelta(hours=duration.count)
    if duration.unit is not Unit.BUSINESS_DAYS and _keeps_wall_clock(zone):
        step = timedelta(days=duration.count * (7 if duration.unit is Unit.WEEKS else 1))
        # Arithmetic on an aware time moves its wall clock and asks the zone for the offset
        # there, with fold=0 (PEP 495): a time the clocks skipped reads with the offset before
        # the jump, which is the instant ``localize`` moves it forward to; a repeated time
        # reads as its first occurrence, as there. Five times quicker, and this runs for
        # every deadline an import computes.
        return (start.astimezone(zone) + step).astimezone(UTC)
    local = start.astimezone(zone).replace(tzinfo=None)
    return localize(local + _wall_clock_span(local, duration, holidays), zone).astimezone(UTC)


def add_exact(
    start: datetime, duration: Duration, zone: tzinfo, holidays: str | None = None
) -> datetime:
    """``start`` plus ``duration`` as elapsed time: the days ``add`` counts on the wall clock
    of ``zone``, each exactly 24 hours long. Across a DST change the two differ by the hour
    the clocks moved; a deadline the buyer must meet takes the earlier of them."""
    if duration.unit is Unit.HOURS:
        return start.astimezone(UTC) + timedelta(hours=duration.count)
    local = start.astimezone(zone).replace(tzinfo=None)
    return start.astimezone(UTC) + _wall_clock_span(local, duration, holidays)


def _wall_clock_span(local: datetime, duration: Duration, holidays: str | None) -> timedelta:
    """How far the wall clock moves from ``local`` over ``duration`` (days, weeks or business
    days: Saturdays, Sundays and the public holidays of ``holidays`` skipped)."""
    if duration.unit is Unit.DAYS:
        return timedelta(days=duration.count)
    if duration.unit is Unit.WEEKS:
        return timedelta(weeks=duration.count)
    assert duration.unit is Unit.BUSINESS_DAYS
    is_holiday = holiday_checker(holidays)
    day, remaining = local, duration.count
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5 and not is_holiday(day.date()):
            remaining -= 1
    return day - local


def _keeps_wall_clock(zone: tzinfo) -> bool:
    """A fixed offset, or a zone from zoneinfo: the zones whose readings of wall times PEP 495
    defines. (dateutil's zones, for a system that names none, take the general way.)"""
    return isinstance(zone, type(UTC)) or _is_zoneinfo(zone)


def _is_zoneinfo(zone: tzinfo) -> bool:
    """A ZoneInfo exists only once zoneinfo is loaded: looked up rather than imported, as this
    runs for every deadline computed."""
    zoneinfo = sys.modules.get("zoneinfo")
    return zoneinfo is not None and isinstance(zone, zoneinfo.ZoneInfo)


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
    # The holidays package answers membership in pure Python; deadline arithmetic asks about
    # the same few hundred days again and again.
    return functools.lru_cache(maxsize=4096)(lambda day: day in table)


@functools.cache
def holiday_data_version() -> str:
    """Which holiday data is installed, without importing it (that costs tens of
    milliseconds): the ``holidays`` distribution's version from its metadata folder's name,
    else the package's file times. Stored deadlines record it (DESIGN.md: a cache)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return "none"
    origin = Path(spec.origin)
    try:
        names = [
            entry.name
            for entry in origin.parent.parent.iterdir()
            if entry.name.startswith("holidays-") and entry.name.endswith("-info")
        ]
    except OSError:
        names = []
    if len(names) == 1:
        return names[0]
    stat = origin.stat()
    return f"{origin}:{stat.st_mtime_ns}:{stat.st_size}"


_UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)


def zone_identity(zone: tzinfo) -> str:
    """A zone's name where it has one; otherwise its offsets over the years deadlines span,
    so that two zones with different rules never look the same to the deadline index."""
    key = getattr(zone, "key", None)
    if key in _UTC_NAMES or zone is UTC:
        return "UTC"  # one zone by many names: TZ=UTC, /etc/localtime -> Etc/UTC, the config
    if isinstance(key, str):
        return f"zoneinfo:{key}"
    if isinstance(zone, type(UTC)):
        return f"fixed:{zone}"
    samples = [
        datetime(year, month, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
        for year in range(2020, 2031)
        for month in (1, 4, 7, 10)
    ]
    return f"{type(zone).__name__}:" + ",".join(str(offset) for offset in samples)


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


def local_text(moment: datetime, zone: tzinfo) -> str:
    """``2026-11-10 00:00 PST``: a moment in ``zone``, with the zone said (no strftime,
    whose ``%Z`` depends on the C library)."""
    local = moment.astimezone(zone)
    return f"{local.isoformat(' ', 'minutes')[:16]} {local.tzname() or ''}".rstrip()


def iso(moment: datetime) -> str:
    """The one textual form of a time in the ledger and in JSON: UTC, seconds, with offset."""
    if moment.tzinfo is UTC and not moment.microsecond:
        return moment.isoformat()  # already so: most times the ledger holds; a third quicker
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
