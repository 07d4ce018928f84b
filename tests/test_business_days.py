"""Business days and the safe side (issue 3, items 2 and 3; DESIGN.md principle 2).

Business days skip Saturdays, Sundays and the public holidays of the marketplace's home country
(US for eBay, CN for AliExpress), keeping the wall-clock time of day. Whatever the buyer's zone,
the date of the year and the DST changes in between, a deadline the buyer must meet is never
later than any zone's reading of its rule, and one the other side must meet never earlier.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from refundctl.domain import Move
from refundctl.policies import BUILT_IN, EARLIEST_RULES, Binds, RuleName, resolve
from refundctl.timeparse import Duration, Unit, add, add_exact, zone_named
from tests.policy_scenarios import deadlines_of, dispute, disputes_at, every_deadline

LA = ZoneInfo("America/Los_Angeles")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def bd(count: int) -> Duration:
    return Duration(count, Unit.BUSINESS_DAYS)


def at(day: date, hour: int = 10, zone: tzinfo = LA) -> datetime:
    return datetime.combine(day, time(hour), zone)


# -- weekends and holidays -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        # Wednesday before Thanksgiving (Thu Nov 26): Thursday does not count.
        (date(2026, 11, 25), 1, date(2026, 11, 27)),
        (date(2026, 11, 25), 3, date(2026, 12, 1)),
        # Christmas is a Friday in 2026: Dec 24 + 1 is the Monday after.
        (date(2026, 12, 24), 1, date(2026, 12, 28)),
        (date(2026, 12, 21), 5, date(2026, 12, 29)),
        # New Year's Day 2027 is a Friday too.
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        # A plain week: Friday + 1 is Monday, Saturday and Sunday + 1 too.
        (date(2026, 11, 13), 1, date(2026, 11, 16)),
        (date(2026, 11, 14), 1, date(2026, 11, 16)),
        (date(2026, 11, 15), 1, date(2026, 11, 16)),
        (date(2026, 11, 16), 5, date(2026, 11, 23)),
    ],
)
def test_us_business_days_skip_weekends_thanksgiving_and_christmas(
    start: date, count: int, due: date
) -> None:
    assert add(at(start), bd(count), LA, "US") == at(due)


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        # China's National Day week, Oct 1-7 2026 (Mon 5 to Wed 7 are days off in lieu).
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 2, date(2026, 10, 9)),
        # The Mid-Autumn Festival falls on Friday Sep 25, 2026.
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        # Thanksgiving is no holiday in China.
        (date(2026, 11, 25), 1, date(2026, 11, 26)),
    ],
)
def test_chinese_business_days_skip_the_national_day_week(
    start: date, count: int, due: date
) -> None:
    assert add(at(start, zone=SHANGHAI), bd(count), SHANGHAI, "CN") == at(due, zone=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        (date(2026, 11, 25), 1, date(2026, 11, 26)),  # Thanksgiving counts
        (date(2026, 12, 24), 1, date(2026, 12, 25)),  # Christmas counts
        (date(2026, 9, 30), 1, date(2026, 10, 1)),  # National Day counts
        (date(2026, 11, 13), 1, date(2026, 11, 16)),  # the weekend does not
        (date(2026, 11, 14), 2, date(2026, 11, 17)),
    ],
)
def test_without_a_country_only_weekends_are_skipped(start: date, count: int, due: date) -> None:
    assert add(at(start), bd(count), LA, None) == at(due)
    assert add(at(start), bd(count), LA) == at(due)


def test_business_days_keep_the_wall_clock_time_across_the_dst_change() -> None:
    # Friday Oct 30 09:00 PDT + 1 business day = Monday Nov 2 09:00 PST: 73 hours, not 72.
    start = at(date(2026, 10, 30), 9)
    due = add(start, bd(1), LA, "US")
    assert due == at(date(2026, 11, 2), 9)
    assert due - start == timedelta(hours=73)


def test_aliexpress_refund_expected_skips_the_chinese_national_day_week() -> None:
    aliexpress = BUILT_IN["aliexpress"]
    agreed = at(date(2026, 9, 30))
    [refund] = deadlines_of(disputes_at(agreed)["refund_pending"], aliexpress, LA)
    assert refund.name == "refund_expected"
    assert refund.rule.duration == "20bd"
    # 20 business days skipping Oct 1-7: Wednesday Nov 4 (the US Columbus Day counts here).
    assert refund.due == at(date(2026, 11, 4))
    assert refund.due == add(add(agreed, bd(20), LA), bd(5), LA)
    assert "CN public holidays" in refund.rule.described


def test_ebay_refund_expected_skips_christmas() -> None:
    agreed = at(date(2026, 12, 21))
    [refund] = deadlines_of(disputes_at(agreed)["refund_pending"], BUILT_IN["ebay"], LA)
    assert refund.due == at(date(2026, 12, 29))


def test_a_holiday_is_read_on_each_zones_own_calendar_and_the_seller_gets_the_later() -> None:
    # 23:30 on Wednesday Nov 25 in Los Angeles is 07:30 on Thanksgiving Day in UTC. Read in
    # Los Angeles, 3 business days end Tuesday 23:30 PST; read in UTC, Tuesday 07:30 UTC.
    # The seller's deadline is the later reading.
    opened = at(date(2026, 11, 25), 23) + timedelta(minutes=30)
    deadlines = deadlines_of(dispute((Move.OPEN, opened)), BUILT_IN["ebay"], UTC)
    seller = next(d for d in deadlines if d.name == "seller_response")
    assert add(opened, bd(3), UTC, "US") == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    assert seller.due == at(date(2026, 12, 1), 23) + timedelta(minutes=30)
    assert seller.due == datetime(2026, 12, 2, 7, 30, tzinfo=UTC)


def test_a_business_day_buyer_deadline_takes_the_earlier_reading() -> None:
    # The same moment and rule, binding the buyer: the earlier reading wins.
    from refundctl.policies import Rule, with_overrides

    ebay = with_overrides({"ebay": {"buyer_response": Rule(bd(3))}}).for_marketplace("ebay")
    rejected = at(date(2026, 11, 25), 23) + timedelta(minutes=30)
    deadlines = deadlines_of(
        dispute((Move.OPEN, rejected - timedelta(hours=1)), (Move.SELLER_REJECTS, rejected)),
        ebay,
        UTC,
    )
    response = next(d for d in deadlines if d.name == "buyer_response")
    assert response.due == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)


@settings(max_examples=100)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    count=st.integers(1, 25),
    country=st.sampled_from(["US", "CN", None]),
    zone_name=st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Shanghai"]),
)
def test_business_days_land_on_a_working_day_after_exactly_count_of_them(
    start: datetime, count: int, country: str | None, zone_name: str
) -> None:
    from refundctl.timeparse import holiday_checker

    zone = zone_named(zone_name)
    is_holiday = holiday_checker(country)
    due = add(start, bd(count), zone, country).astimezone(zone)
    local_start = start.astimezone(zone)
    assert due.weekday() < 5 and not is_holiday(due.date())
    assert due.time() == local_start.time() or due.dst() != local_start.dst()
    days = (due.date() - local_start.date()).days
    between = [local_start.date() + timedelta(days=n) for n in range(1, days + 1)]
    working = [d for d in between if d.weekday() < 5 and not is_holiday(d)]
    assert len(working) == count


# -- the safe side, as a property ----------------------------------------------------------------

BUYER_ZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "America/St_Johns",
    "Europe/Berlin",
    "Europe/London",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
]
# The US DST changes, New Year, and the EU's changes for buyers in Europe.
AROUND = [
    datetime(2026, 3, 8, 10, tzinfo=UTC),
    datetime(2026, 11, 1, 9, tzinfo=UTC),
    datetime(2026, 12, 31, 12, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
]
FOUR_DAYS = 4 * 24 * 60

starts = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(AROUND),
    st.integers(-FOUR_DAYS, FOUR_DAYS),
)


@settings(max_examples=150)
@given(start=starts, buyer_zone=st.sampled_from(BUYER_ZONES))
@example(start=datetime(2026, 11, 26, 7, 30, tzinfo=UTC), buyer_zone="UTC")
@example(start=datetime(2026, 12, 31, 23, 30, tzinfo=UTC), buyer_zone="Pacific/Kiritimati")
@example(start=datetime(2026, 3, 8, 9, 30, tzinfo=UTC), buyer_zone="America/Los_Angeles")
def test_no_deadline_is_ever_on_the_wrong_side_of_any_zones_reading(
    start: datetime, buyer_zone: str
) -> None:
    zone = zone_named(buyer_zone)
    for policy in BUILT_IN.values():
        zones = [zone] + ([zone_named(policy.timezone)] if policy.timezone else [])
        deadlines = every_deadline(policy, start, zone)
        present = {
            n.value for n in RuleName if n not in EARLIEST_RULES and resolve(policy, n) is not None
        }
        assert {d.name for d in deadlines} == present, policy.name
        for deadline in deadlines:
            resolved = resolve(policy, RuleName(deadline.name))
            assert resolved is not None and deadline.rule.start is not None
            readings = [
                count(deadline.rule.start, resolved.duration, z, policy.holidays)
                for z in zones
                for count in (add, add_exact)
            ]
            where = (policy.name, deadline.name, readings, deadline.due)
            assert deadline.due in readings, where
            if deadline.binds is Binds.BUYER:
                assert all(deadline.due <= reading for reading in readings), where
            else:
                assert all(deadline.due >= reading for reading in readings), where
            # Days are days: the due time is the reading's wall-clock time in some zone.
            assert deadline.due > deadline.rule.start, where
