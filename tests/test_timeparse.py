"""WHEN and DURATION: what the buyer types, read in the buyer's zone, always given back in UTC.

DESIGN.md principle 2: a time without an offset, and today/yesterday, are in the buyer's zone; a
bare date is the first moment of that day there. Days keep the wall-clock time across DST;
business days skip weekends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz
from hypothesis import example, given
from hypothesis import strategies as st

from refundctl.errors import BadInput
from refundctl.timeparse import (
    Duration,
    Unit,
    add,
    humanize,
    iso,
    parse_duration,
    parse_when,
    zone_named,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ZONE_NAMES = [
    "UTC",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Sao_Paulo",  # until 2019 DST began at midnight: some days had no 00:00
    "America/Santiago",
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC-11
]
zones = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
days = st.dates(min_value=date(1991, 1, 1), max_value=date(2099, 12, 31))
wall_clocks = st.datetimes(
    min_value=datetime(1991, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.none()
).map(lambda moment: moment.replace(microsecond=0))
instants = st.datetimes(
    min_value=datetime(1991, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
nows = instants

# Days on which a zone changes its clocks, where "the first moment of the day" is easy to get
# wrong.
DST_DAYS = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/Los_Angeles", date(2026, 3, 8)),
    ("America/Los_Angeles", date(2026, 11, 1)),
    ("Pacific/Auckland", date(2026, 4, 5)),
    ("Pacific/Auckland", date(2026, 9, 27)),
    ("America/Sao_Paulo", date(2018, 11, 4)),
    ("America/Santiago", date(2026, 9, 6)),
]


def _is_utc(moment: datetime) -> bool:
    return moment.tzinfo is UTC and moment.utcoffset() == timedelta(0)


def _is_first_moment_of(moment: datetime, day: date, zone: tzinfo) -> bool:
    """``moment`` falls on ``day`` in ``zone`` and a minute earlier was still the day before."""
    return (
        moment.astimezone(zone).date() == day
        and (moment - timedelta(minutes=1)).astimezone(zone).date() < day
    )


# -- parse_when ----------------------------------------------------------------------------------


@given(days, zones)
def test_a_bare_date_is_the_first_moment_of_that_day_in_the_buyers_zone(
    day: date, zone: ZoneInfo
) -> None:
    moment = parse_when(day.isoformat(), now=NOW, zone=zone)
    assert _is_utc(moment)
    assert _is_first_moment_of(moment, day, zone)


@pytest.mark.parametrize(("zone_name", "day"), DST_DAYS, ids=lambda x: str(x))
def test_a_date_on_which_the_clocks_change_starts_at_its_first_moment(
    zone_name: str, day: date
) -> None:
    zone = ZoneInfo(zone_name)
    assert _is_first_moment_of(parse_when(day.isoformat(), now=NOW, zone=zone), day, zone)


def test_a_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Sao Paulo sprang from 00:00 to 01:00 on 2018-11-04.
    moment = parse_when("2018-11-04", now=NOW, zone=ZoneInfo("America/Sao_Paulo"))
    assert moment == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)


def test_a_berlin_date_starts_the_evening_before_in_utc() -> None:
    moment = parse_when("2026-11-20", now=NOW, zone=ZoneInfo("Europe/Berlin"))
    assert moment == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)


@given(wall_clocks, zones)
def test_a_time_without_an_offset_is_wall_clock_time_in_the_buyers_zone(
    wall: datetime, zone: ZoneInfo
) -> None:
    moment = parse_when(wall.isoformat(timespec="minutes"), now=NOW, zone=zone)
    assert _is_utc(moment)
    wall = wall.replace(second=0)
    if tz.datetime_exists(wall, zone):
        assert moment.astimezone(zone).replace(tzinfo=None) == wall
    else:  # skipped by a DST change: moved forward past the gap
        assert moment.astimezone(zone).replace(tzinfo=None) > wall


@given(instants, zones, zones)
def test_a_time_with_an_offset_is_that_instant_whatever_the_buyers_zone(
    instant: datetime, written_in: ZoneInfo, buyer_zone: ZoneInfo
) -> None:
    instant = instant.replace(microsecond=0)
    text = instant.astimezone(written_in).isoformat()
    moment = parse_when(text, now=NOW, zone=buyer_zone)
    assert _is_utc(moment)
    assert moment == instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T08:00:00+00:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("2026-11-20T08:00Z", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("2026-11-20T09:30+01:30", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("2026-11-20T00:00-08:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
    ],
)
def test_iso_date_times_with_offsets(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, zone=ZoneInfo("Pacific/Auckland")) == expected


@given(nows, zones)
def test_today_yesterday_and_tomorrow_start_at_midnight_in_the_buyers_zone(
    now: datetime, zone: ZoneInfo
) -> None:
    local_today = now.astimezone(zone).date()
    for word, offset in (("today", 0), ("yesterday", -1), ("tomorrow", 1), (" Today ", 0)):
        moment = parse_when(word, now=now, zone=zone)
        assert _is_utc(moment)
        assert _is_first_moment_of(moment, local_today + timedelta(days=offset), zone)


def test_today_in_auckland_is_already_tomorrow_in_utc() -> None:
    # 12:00 UTC on Nov 26 is 01:00 on Nov 27 in Auckland (NZDT, +13).
    moment = parse_when("today", now=NOW, zone=ZoneInfo("Pacific/Auckland"))
    assert moment == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


@given(nows, zones)
def test_now_is_the_commands_clock(now: datetime, zone: ZoneInfo) -> None:
    moment = parse_when("now", now=now, zone=zone)
    assert _is_utc(moment)
    assert moment == now


@given(
    st.integers(min_value=0, max_value=500),
    st.sampled_from([("h", 1), ("d", 24), ("w", 24 * 7)]),
    st.sampled_from(["", " "]),
    zones,
)
def test_n_units_ago_counts_back_from_now(
    count: int, unit: tuple[str, int], space: str, zone: ZoneInfo
) -> None:
    letter, hours = unit
    moment = parse_when(f"{count}{space}{letter} ago", now=NOW, zone=zone)
    assert _is_utc(moment)
    assert moment == NOW - timedelta(hours=count * hours)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "last tuesday",
        "26/11/2026",
        "Nov 26 2026",
        "2026-02-30",
        "2026-13-01",
        "2026-11-26T25:00",
        "2026-11-26T12:00+25:00",
        "1989-12-31",
        "2101-01-01",
        "3 days ago",
        "-3d ago",
        "3d",
        "in 3d",
        "99999w ago",
    ],
)
def test_what_is_not_a_when_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput):
        parse_when(text, now=NOW, zone=UTC)


@given(st.text(), zones)
@example("²²²²", UTC)
@example("٢٠٢٦-٠١-٠١", UTC)
@example("9999-12-31T24:00", UTC)
@example("2100-12-31T24:00", UTC)
@example("00000000", UTC)
def test_any_text_is_a_when_or_bad_input(text: str, zone: tzinfo) -> None:
    try:
        moment = parse_when(text, now=NOW, zone=zone)
    except BadInput:
        return
    assert _is_utc(moment)


@given(st.text(alphabet="0123456789-:T+Z.,W ", max_size=30), zones)
def test_any_iso_looking_text_is_a_when_or_bad_input(text: str, zone: tzinfo) -> None:
    try:
        moment = parse_when(text, now=NOW, zone=zone)
    except BadInput:
        return
    assert _is_utc(moment)
    assert 1989 <= moment.year <= 2101


# -- parse_duration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("48h", Duration(48, Unit.HOURS)),
        ("3d", Duration(3, Unit.DAYS)),
        ("2w", Duration(2, Unit.WEEKS)),
        (" 3D ", Duration(3, Unit.DAYS)),
        ("15 d", Duration(15, Unit.DAYS)),
    ],
)
def test_parse_duration_reads_hours_days_and_weeks(text: str, duration: Duration) -> None:
    assert parse_duration(text) == duration
    assert parse_duration(text, business_days=True) == duration


def test_business_days_only_where_a_policy_allows_them() -> None:
    assert parse_duration("3bd", business_days=True) == Duration(3, Unit.BUSINESS_DAYS)
    with pytest.raises(BadInput, match="not a duration"):
        parse_duration("3bd")


@given(st.integers(min_value=0, max_value=9999), st.sampled_from(list(Unit)))
def test_a_duration_reads_back_as_it_prints(count: int, unit: Unit) -> None:
    duration = Duration(count, unit)
    assert parse_duration(str(duration), business_days=True) == duration


@pytest.mark.parametrize(
    "text", ["", "3", "d", "-3d", "3.5d", "3 days", "3m", "3y", "1e3d", "10000d", "3dd"]
)
def test_what_is_not_a_duration_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput):
        parse_duration(text, business_days=True)


@given(st.text(max_size=12), st.booleans())
def test_any_text_is_a_duration_or_bad_input(text: str, business_days: bool) -> None:
    try:
        duration = parse_duration(text, business_days=business_days)
    except BadInput:
        return
    assert duration.count >= 0
    assert business_days or duration.unit is not Unit.BUSINESS_DAYS


def test_a_duration_describes_itself_for_people() -> None:
    assert Duration(15, Unit.DAYS).describe() == "15 calendar days"
    assert Duration(1, Unit.BUSINESS_DAYS).describe() == "1 business day"
    assert Duration(48, Unit.HOURS).describe() == "48 hours"


# -- add -----------------------------------------------------------------------------------------


@given(instants, st.integers(min_value=0, max_value=2000), zones)
def test_hours_are_exact_elapsed_time(start: datetime, hours: int, zone: ZoneInfo) -> None:
    result = add(start, Duration(hours, Unit.HOURS), zone)
    assert _is_utc(result)
    assert result - start == timedelta(hours=hours)


@given(instants, st.integers(min_value=0, max_value=400), zones)
def test_days_keep_the_wall_clock_time_across_dst(
    start: datetime, count: int, zone: ZoneInfo
) -> None:
    result = add(start, Duration(count, Unit.DAYS), zone)
    assert _is_utc(result)
    wall = start.astimezone(zone).replace(tzinfo=None) + timedelta(days=count)
    if tz.datetime_exists(wall, zone):
        assert result.astimezone(zone).replace(tzinfo=None) == wall
    # Elapsed time differs from whole days only by the zone's change of offset in between
    # (an hour for DST; a whole day where a Pacific zone moved across the date line).
    offset_change = result.astimezone(zone).utcoffset() - start.astimezone(zone).utcoffset()
    assert abs(result - start - timedelta(days=count) + offset_change) <= timedelta(hours=1)


@given(instants, st.integers(min_value=0, max_value=50), zones)
def test_weeks_are_seven_days(start: datetime, count: int, zone: ZoneInfo) -> None:
    weeks = add(start, Duration(count, Unit.WEEKS), zone)
    assert weeks == add(start, Duration(7 * count, Unit.DAYS), zone)


def test_a_day_across_berlins_spring_forward_is_23_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=berlin)
    result = add(start, Duration(1, Unit.DAYS), berlin)
    assert result == datetime(2026, 3, 29, 12, 0, tzinfo=berlin)
    assert result - start == timedelta(hours=23)


def test_a_day_across_los_angeles_fall_back_is_25_hours() -> None:
    la = ZoneInfo("America/Los_Angeles")
    start = datetime(2026, 10, 31, 9, 0, tzinfo=la)
    result = add(start, Duration(1, Unit.DAYS), la)
    assert result == datetime(2026, 11, 1, 9, 0, tzinfo=la)
    assert result - start == timedelta(hours=25)


def _weekdays_between(start: date, end: date) -> int:
    """Weekdays after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += day.weekday() < 5
    return count


@given(instants, st.integers(min_value=0, max_value=60), zones)
def test_business_days_skip_weekends(start: datetime, count: int, zone: ZoneInfo) -> None:
    result = add(start, Duration(count, Unit.BUSINESS_DAYS), zone)
    assert _is_utc(result)
    start_local, end_local = start.astimezone(zone), result.astimezone(zone)
    assert _weekdays_between(start_local.date(), end_local.date()) == count
    if count:
        assert end_local.weekday() < 5
    wall = start_local.replace(tzinfo=None)
    wall = wall + timedelta(days=(end_local.date() - start_local.date()).days)
    if tz.datetime_exists(wall, zone):
        assert end_local.replace(tzinfo=None) == wall


@pytest.mark.parametrize(
    ("start", "count", "end"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 → Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 → Monday
        (date(2026, 11, 29), 1, date(2026, 11, 30)),  # Sunday + 1 → Monday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # Monday + 5 → next Monday
        (date(2026, 11, 26), 3, date(2026, 12, 1)),  # Thursday + 3 → Tuesday
    ],
)
def test_business_day_examples(start: date, count: int, end: date) -> None:
    begin = datetime.combine(start, time(10, 0), UTC)
    result = add(begin, Duration(count, Unit.BUSINESS_DAYS), UTC)
    assert result == datetime.combine(end, time(10, 0), UTC)


# -- small helpers -------------------------------------------------------------------------------


def test_zone_named_refuses_an_unknown_zone() -> None:
    assert zone_named("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    for name in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(BadInput, match="unknown time zone"):
            zone_named(name)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(days=2, hours=4, minutes=5), "2d 4h"),
        (timedelta(days=3), "3d"),
        (timedelta(hours=5, minutes=10), "5h 10m"),
        (timedelta(hours=5), "5h"),
        (timedelta(minutes=12), "12m"),
        (-timedelta(hours=1), "1h"),
    ],
)
def test_humanize_shows_the_two_largest_units(delta: timedelta, shown: str) -> None:
    assert humanize(delta) == shown


def test_iso_is_utc_to_the_second_with_an_offset() -> None:
    moment = datetime(2026, 11, 20, 9, 0, 30, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso(moment) == "2026-11-20T08:00:30+00:00"


def test_a_refused_date_gives_a_reason_a_person_can_act_on() -> None:
    """dateutil's own reasons are kept; Python's, which it passes on, are not."""
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    for text, reason in [
        ("2026-13-10-04T22:04:48+00:00", "(not ISO 8601)"),
        ("2026-1x-01", "(not ISO 8601)"),
        ("2026-13-01", "(month must be in 1..12)"),
    ]:
        with pytest.raises(BadInput) as refused:
            parse_when(text, now=now, zone=UTC)
        assert reason in refused.value.message
        assert "literal" not in refused.value.message
