"""Deadlines of orders and disputes, from the policies' rules, erring on the buyer's safe side.

DESIGN.md principle 2: a deadline the buyer must meet takes the low end of a range and the
earlier of the buyer-zone and marketplace-zone readings; a deadline the other side must meet takes
the high end and the later reading.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundctl import domain, policies
from refundctl.deadlines import (
    Deadline,
    can_escalate_from,
    next_deadline,
    order_deadlines,
    timing_warnings,
)
from refundctl.domain import Actor, Dispute, Event, EventKind, Move, OfferKind, Reason
from refundctl.policies import ALIEXPRESS, GENERIC, Binds, Policy, Rule, RuleName, policy_for
from refundctl.records import Order
from refundctl.timeparse import Duration, Unit, add, add_exact
from tests.policy_scenarios import deadlines_of

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
OPENED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Story:
    """A dispute built from real events, each at a time of the test's choosing."""

    def __init__(self, opened: datetime = OPENED) -> None:
        self.events = [Event(Move.OPEN, Actor.BUYER, opened, opened, Decimal("12.50"), id=1)]

    def then(
        self,
        move: Move | EventKind,
        when: datetime,
        amount: str | None = None,
        kind: OfferKind | None = None,
        actor: Actor | None = None,
    ) -> Story:
        who = actor or (domain.ACTOR_OF[move] if isinstance(move, Move) else Actor.BUYER)
        self.events.append(
            Event(
                move.value,
                who,
                when,
                when,
                None if amount is None else Decimal(amount),
                offer_kind=kind,
                id=len(self.events) + 1,
            )
        )
        return self

    @property
    def dispute(self) -> Dispute:
        return domain.replay(self.events)


def _names(deadlines: list[Deadline]) -> list[str]:
    return [d.name for d in deadlines]


def _one(deadlines: list[Deadline], name: str) -> Deadline:
    found = [d for d in deadlines if d.name == name]
    assert len(found) == 1, _names(deadlines)
    return found[0]


def _order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "marketplace": "aliexpress",
        "order_no": "8101234567890123",
        "total": Decimal("45.90"),
        "currency": "USD",
        "ordered": at(1),
        "shipped": at(3),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


# -- policies ------------------------------------------------------------------------------------


def test_a_marketplace_without_a_policy_uses_generic() -> None:
    assert policy_for("aliexpress") is ALIEXPRESS
    assert policy_for("temu").name == "temu"
    assert policy_for("shopee") is GENERIC
    assert policy_for("nowhere") is GENERIC


def test_generic_defines_every_rule_and_assumes_no_optional_step() -> None:
    assert set(GENERIC.rules) == set(RuleName)
    for name, rule in GENERIC.rules.items():
        assert (rule is None) == (name in policies.OPTIONAL_RULES), name


def test_aliexpress_has_no_escalate_by_and_no_appeal() -> None:
    assert policies.resolve(ALIEXPRESS, RuleName.ESCALATE_BY) is None
    assert policies.resolve(ALIEXPRESS, RuleName.APPEAL_BY) is None
    assert not policies.has_appeals(ALIEXPRESS)
    assert policies.has_appeals(GENERIC)


def test_a_rule_aliexpress_does_not_publish_falls_back_to_generic_labelled_assumed() -> None:
    resolved = policies.resolve(ALIEXPRESS, RuleName.INFO_DUE)
    assert resolved is not None
    assert resolved.assumed
    assert resolved.source is None
    assert resolved.policy == "aliexpress"
    assert resolved.duration == Duration(3, Unit.DAYS)


def test_a_published_rule_is_not_assumed_and_cites_its_source() -> None:
    resolved = policies.resolve(ALIEXPRESS, RuleName.DISPUTE_WINDOW)
    assert resolved is not None
    assert not resolved.assumed
    assert resolved.source == ALIEXPRESS.source


def test_every_generic_value_is_assumed() -> None:
    for name in set(RuleName) - policies.OPTIONAL_RULES:
        resolved = policies.resolve(GENERIC, name)
        assert resolved is not None
        assert resolved.assumed


# -- orders --------------------------------------------------------------------------------------


def test_aliexpress_dispute_window_is_15_days_after_receipt() -> None:
    order = _order(received=at(10))
    [window] = order_deadlines(order, ALIEXPRESS, UTC)
    assert window.name == "dispute_window"
    assert window.due == at(25)
    assert window.binds is Binds.BUYER
    assert window.action == "open a dispute by then, or lose the right to one"
    assert window.if_missed == "you_lose"
    assert window.rule.duration == "15d"
    assert window.rule.counts_from == "receipt"
    assert window.rule.start == at(10)
    assert not window.rule.assumed
    assert window.rule.source == ALIEXPRESS.source
    assert window.rule.described.startswith("receipt 2026-11-10 00:00")
    assert window.rule.described.endswith("+ 15 calendar days")


def test_a_received_order_in_berlin_counts_from_midnight_there() -> None:
    received = datetime(2026, 11, 10, 0, 0, tzinfo=BERLIN)
    [window] = order_deadlines(_order(received=received), ALIEXPRESS, BERLIN)
    assert window.due == datetime(2026, 11, 25, 0, 0, tzinfo=BERLIN)


def test_generic_dispute_window_counts_in_the_buyers_zone_only() -> None:
    received = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    [window] = order_deadlines(_order(marketplace="temu", received=received), GENERIC, UTC)
    assert window.due == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    assert window.rule.assumed
    assert window.rule.policy == "generic"


def test_a_not_received_order_is_protected_from_the_expected_delivery() -> None:
    [protection] = order_deadlines(_order(expected_by=at(20)), ALIEXPRESS, UTC)
    assert protection.name == "protection_ends"
    assert protection.binds is Binds.BUYER
    assert protection.due == at(5, month=12)
    assert protection.rule.counts_from == "expected delivery"
    assert not protection.rule.assumed


def test_without_an_expected_delivery_aliexpress_protection_is_generics_estimate() -> None:
    # AliExpress counts its not-received window from the promised delivery only; without one,
    # generic's wider window from shipping stands in, labelled as assumed.
    [protection] = order_deadlines(_order(), ALIEXPRESS, UTC)
    assert protection.name == "protection_ends"
    assert protection.due == at(3) + timedelta(days=30)
    assert protection.rule.counts_from == "shipping"
    assert protection.rule.policy == "aliexpress"
    assert protection.rule.assumed


def test_an_unshipped_order_is_protected_from_payment_as_an_estimate() -> None:
    [protection] = order_deadlines(_order(shipped=None), GENERIC, UTC)
    assert protection.due == at(1, month=12)
    assert protection.rule.counts_from == "payment"
    assert protection.rule.assumed


def test_an_order_with_no_dates_has_no_deadline() -> None:
    assert order_deadlines(_order(ordered=None, shipped=None), ALIEXPRESS, UTC) == []


@pytest.mark.parametrize("received", [None, at(20), at(25)])
def test_the_marketplaces_own_countdown_replaces_the_policy_estimate(
    received: datetime | None,
) -> None:
    # In transit, or received early enough that the countdown ends before receipt + 15 days.
    countdown = datetime(2026, 12, 4, 7, 30, tzinfo=UTC)
    order = _order(expected_by=at(20), received=received, protection_ends=countdown)
    [entered] = order_deadlines(order, ALIEXPRESS, BERLIN)
    assert entered.name == ("dispute_window" if received else "protection_ends")
    assert entered.due == countdown
    assert entered.binds is Binds.BUYER
    assert entered.rule.counts_from == "marketplace countdown"
    assert entered.rule.duration is None
    assert not entered.rule.assumed
    if received:
        assert entered.rule.described.startswith("the countdown you entered")


def test_a_countdown_entered_in_transit_never_outlives_the_window_receipt_opens() -> None:
    # Issue 8 (4): --protection-ends 20 Dec while in transit, received 25 Oct: AliExpress's
    # 15 days after receipt end 9 Nov, and that is the deadline now.
    countdown = datetime(2026, 12, 20, tzinfo=UTC)
    order = _order(received=at(25, month=10), protection_ends=countdown)
    [window] = order_deadlines(order, ALIEXPRESS, UTC)
    assert window.name == "dispute_window"
    assert window.due == at(9)
    assert window.rule.counts_from == "receipt"
    assert "earlier than the countdown you entered (2026-12-20 00:00 UTC)" in (
        window.rule.described
    )


# -- disputes, state by state (generic policy, buyer in UTC) -------------------------------------


def test_awaiting_seller_has_the_seller_response_and_the_escalate_by() -> None:
    deadlines = deadlines_of(Story().dispute, GENERIC, UTC)
    assert _names(deadlines) == ["seller_response", "escalate_by"]
    seller, escalate = deadlines
    assert seller.due == OPENED + timedelta(days=7)
    assert seller.binds is Binds.SELLER
    assert seller.rule.counts_from == "buyer move"
    assert escalate.due == OPENED + timedelta(days=20)
    assert escalate.binds is Binds.BUYER
    assert escalate.rule.counts_from == "opening"


def test_the_seller_response_counts_from_the_buyers_last_move() -> None:
    story = Story().then(Move.SELLER_OFFERS, at(21), "8.00").then(Move.COUNTER, at(22), "10.00")
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert _one(deadlines, "seller_response").due == at(29)
    assert _one(deadlines, "escalate_by").due == OPENED + timedelta(days=20)


def test_awaiting_buyer_has_the_buyer_response_from_the_sellers_move() -> None:
    story = Story().then(Move.SELLER_OFFERS, at(21, 8), "8.00")
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert _names(deadlines) == ["buyer_response", "escalate_by"]
    response = deadlines[0]
    assert response.due == at(24, 8)
    assert response.binds is Binds.BUYER
    assert response.action == "accept, counter or escalate by then, or lose the case"
    assert response.if_missed == "you_lose"


def test_an_escalated_dispute_waits_for_the_platform() -> None:
    story = Story().then(Move.ESCALATE, at(21))
    [decision] = deadlines_of(story.dispute, GENERIC, UTC)
    assert decision.name == "platform_decision"
    assert decision.due == at(21, month=12)
    assert decision.binds is Binds.PLATFORM


def test_a_platform_request_gives_the_buyer_an_info_due() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REQUESTS_INFO, at(23, 15))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert _names(deadlines) == ["info_due", "platform_decision"]
    info = deadlines[0]
    assert info.due == at(26, 15)
    assert info.binds is Binds.BUYER
    assert next_deadline(deadlines, at(24)) == info


def test_a_buyer_message_answers_the_info_request() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REQUESTS_INFO, at(23))
    story.then(EventKind.MESSAGE, at(24), actor=Actor.BUYER)
    assert _names(deadlines_of(story.dispute, GENERIC, UTC)) == ["platform_decision"]


def test_a_return_to_ship_binds_the_buyer_from_the_agreement() -> None:
    story = Story().then(Move.SELLER_AGREES, at(21), kind=OfferKind.REFUND_WITH_RETURN)
    [ship] = deadlines_of(story.dispute, ALIEXPRESS, UTC)
    assert ship.name == "return_ship_by"
    assert ship.binds is Binds.BUYER
    assert ship.due == at(1, month=12)
    assert ship.rule.duration == "10d"


def test_a_return_in_transit_is_chased_if_it_never_arrives_then_refunded_once_it_does() -> None:
    # Issue 8 (8): a lost return surfaces as a deadline to chase the carrier.
    story = Story().then(Move.SELLER_AGREES, at(21), kind=OfferKind.REFUND_WITH_RETURN)
    story.then(Move.RETURN_SHIPPED, at(22))
    [arrival] = deadlines_of(story.dispute, GENERIC, UTC)
    assert arrival.name == "return_delivery"
    assert arrival.binds is Binds.SELLER
    assert arrival.if_missed == "chase"
    assert arrival.due == at(22, month=12)
    assert arrival.rule.assumed
    assert "chase the carrier" in arrival.action
    story.then(Move.RETURN_DELIVERED, at(25))
    [refund] = deadlines_of(story.dispute, GENERIC, UTC)
    assert refund.name == "return_refund_due"
    assert refund.binds is Binds.SELLER
    assert refund.due == at(10, month=12)


def test_a_pending_refund_is_expected_within_business_days() -> None:
    # Agreed on Friday Nov 20; 20 business days later is Friday Dec 18.
    story = Story().then(Move.SELLER_AGREES, at(20, 10))
    [refund] = deadlines_of(story.dispute, GENERIC, UTC)
    assert refund.name == "refund_expected"
    assert refund.binds is Binds.PAYMENT
    assert refund.due == at(18, 10, month=12)


def test_aliexpress_refund_expected_takes_the_high_end_of_3_to_20_business_days() -> None:
    story = Story().then(Move.SELLER_AGREES, at(20, 10))
    [refund] = deadlines_of(story.dispute, ALIEXPRESS, UTC)
    assert refund.rule.duration == "20bd"
    assert refund.due >= at(18, 10, month=12)


def test_a_platform_loss_may_be_appealed_within_the_appeal_window() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REJECTS, at(24))
    [appeal] = deadlines_of(story.dispute, GENERIC, UTC)
    assert appeal.name == "appeal_by"
    assert appeal.binds is Binds.BUYER
    assert appeal.due == at(1, month=12)
    assert appeal.rule.counts_from == "closing"


def test_aliexpress_has_no_appeal_by() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REJECTS, at(24))
    assert deadlines_of(story.dispute, ALIEXPRESS, UTC) == []


def test_aliexpress_has_no_escalate_by_nor_a_buyer_response_it_steps_in_by_itself() -> None:
    # Issue 8 (5): waiting loses nothing on AliExpress; it steps in by itself at day 15.
    deadlines = deadlines_of(Story().dispute, ALIEXPRESS, UTC)
    assert _names(deadlines) == ["seller_response", "negotiation_ends"]
    assert {d.if_missed for d in deadlines} == {"platform_steps_in"}
    assert all("escalate" not in d.action for d in deadlines)
    assert all("AliExpress steps in by itself" in d.action for d in deadlines)
    story = Story().then(Move.SELLER_REJECTS, at(21))
    assert _names(deadlines_of(story.dispute, ALIEXPRESS, UTC)) == ["negotiation_ends"]


def test_a_case_given_up_has_no_appeal() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.LOST, at(22))
    assert deadlines_of(story.dispute, GENERIC, UTC) == []


def test_a_lost_appeal_has_no_second_appeal() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REJECTS, at(22))
    story.then(Move.ESCALATE, at(23)).then(Move.PLATFORM_REJECTS, at(24))
    assert deadlines_of(story.dispute, GENERIC, UTC) == []


@pytest.mark.parametrize(
    "story",
    [
        Story().then(Move.SELLER_AGREES, at(21)).then(Move.REFUNDED, at(23), "12.50"),
        Story().then(Move.SELLER_REJECTS, at(21)).then(Move.WITHDRAWN, at(23)),
        Story().then(Move.CANCEL, at(21)),
    ],
    ids=["refunded", "withdrawn", "cancelled"],
)
@pytest.mark.parametrize("policy", [GENERIC, ALIEXPRESS], ids=lambda p: p.name)
def test_a_closed_dispute_has_no_deadlines(story: Story, policy: Policy) -> None:
    assert deadlines_of(story.dispute, policy, UTC) == []


def test_a_disputes_deadlines_come_earliest_first() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REQUESTS_INFO, at(23))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert [d.due for d in deadlines] == sorted(d.due for d in deadlines)


# -- ranges and zones ----------------------------------------------------------------------------


def test_aliexpress_seller_response_takes_the_high_end_of_5_to_7_days() -> None:
    seller = _one(deadlines_of(Story().dispute, ALIEXPRESS, UTC), "seller_response")
    assert seller.name == "seller_response"
    assert seller.rule.duration == "7d"
    assert seller.due == OPENED + timedelta(days=7)


RANGED = Policy(
    name="ranged",
    title="A policy with ranges on both sides",
    timezone=None,
    rules={
        RuleName.BUYER_RESPONSE: Rule(Duration(3, Unit.DAYS), Duration(10, Unit.DAYS)),
        RuleName.SELLER_RESPONSE: Rule(Duration(2, Unit.DAYS), Duration(4, Unit.DAYS)),
        RuleName.ESCALATE_BY: None,
    },
)


def test_a_buyer_deadline_takes_the_low_end_of_a_range() -> None:
    story = Story().then(Move.SELLER_REJECTS, at(21))
    [response] = deadlines_of(story.dispute, RANGED, UTC)
    assert response.name == "buyer_response"
    assert response.rule.duration == "3d"
    assert response.due == at(24)


def test_an_other_side_deadline_takes_the_high_end_of_a_range() -> None:
    [seller] = deadlines_of(Story().dispute, RANGED, UTC)
    assert seller.rule.duration == "4d"
    assert seller.due == OPENED + timedelta(days=4)


def test_across_the_us_dst_change_the_buyer_window_is_the_earlier_reading() -> None:
    # Received 12:00 UTC on Oct 25; the US falls back on Nov 1. Counting 15 days in Los Angeles
    # lands on 13:00 UTC, in the buyer's UTC on 12:00: the buyer must act by 12:00.
    [window] = order_deadlines(_order(received=at(25, 12, month=10)), ALIEXPRESS, UTC)
    assert window.due == at(9, 12)


def test_across_the_us_dst_change_the_seller_deadline_is_the_later_reading() -> None:
    story = Story(opened=at(28, 12, month=10))
    seller = _one(deadlines_of(story.dispute, ALIEXPRESS, UTC), "seller_response")
    assert seller.due == at(4, 13)
    assert "2026-10-28 05:00 PDT" in seller.rule.described


BUYER_ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Auckland",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
]
starts = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
buyer_zones = st.sampled_from(BUYER_ZONES).map(ZoneInfo)


def _readings(
    start: datetime,
    duration: Duration,
    buyer_zone: tzinfo,
    holidays: str | None = None,
    zones: tuple[tzinfo, ...] = (LA,),
) -> list[datetime]:
    """Every reading a deadline may take: on the wall clock and in exact hours, in the
    buyer's zone and the marketplace's."""
    return [
        count(start, duration, zone, holidays)
        for zone in (buyer_zone, *zones)
        for count in (add, add_exact)
    ]


@given(starts, buyer_zones)
def test_a_buyer_deadline_is_no_later_than_any_reading_in_either_zone(
    received: datetime, zone: ZoneInfo
) -> None:
    # Issue 8 (9): never later than counting the 15 days in exact hours, in either zone,
    # even when both zones change their clocks inside the span.
    [window] = order_deadlines(
        _order(ordered=None, shipped=None, received=received), ALIEXPRESS, zone
    )
    readings = _readings(received, Duration(15, Unit.DAYS), zone)
    assert window.due <= received + timedelta(days=15)
    assert all(window.due <= reading for reading in readings)
    assert window.due in readings


@given(starts, buyer_zones)
def test_a_buyer_deadline_in_business_days_is_no_later_than_any_reading(
    opened: datetime, zone: ZoneInfo
) -> None:
    ebay = policy_for("ebay")
    story = Story(opened=opened).then(Move.SELLER_AGREES, opened, kind=OfferKind.REFUND_WITH_RETURN)
    ship = _one(deadlines_of(story.dispute, ebay, zone), "return_ship_by")
    readings = _readings(opened, Duration(5, Unit.BUSINESS_DAYS), zone, holidays="US")
    assert all(ship.due <= reading for reading in readings)
    assert ship.due in readings


@given(starts, buyer_zones)
def test_an_other_side_deadline_is_no_earlier_than_any_reading_in_either_zone(
    opened: datetime, zone: ZoneInfo
) -> None:
    seller = _one(deadlines_of(Story(opened=opened).dispute, ALIEXPRESS, zone), "seller_response")
    readings = _readings(opened, Duration(7, Unit.DAYS), zone)
    assert seller.due >= opened + timedelta(days=7)
    assert all(seller.due >= reading for reading in readings)
    assert seller.due in readings


@given(starts, buyer_zones)
def test_a_payment_deadline_is_the_latest_reading_in_business_days(
    agreed: datetime, zone: ZoneInfo
) -> None:
    story = Story(opened=agreed).then(Move.SELLER_AGREES, agreed)
    [refund] = deadlines_of(story.dispute, ALIEXPRESS, zone)
    readings = _readings(agreed, Duration(20, Unit.BUSINESS_DAYS), zone, holidays="CN")
    assert refund.due == max(readings)


@given(starts, buyer_zones)
def test_a_generic_deadline_is_read_in_the_buyers_zone_alone(
    received: datetime, zone: ZoneInfo
) -> None:
    order = _order(marketplace="temu", ordered=None, shipped=None, received=received)
    [window] = order_deadlines(order, GENERIC, zone)
    assert window.due == min(_readings(received, Duration(15, Unit.DAYS), zone, zones=()))


def test_paypals_20_days_across_both_zones_clock_changes_end_on_the_exact_hour() -> None:
    # Issue 8 (9): opened in Berlin on Oct 20; Berlin falls back on Oct 25, Los Angeles on
    # Nov 1, both inside the 20 days. Either wall clock gives an hour more than 20 x 24 hours.
    opened = datetime(2026, 10, 20, 10, 0, tzinfo=BERLIN)
    escalate = _one(
        deadlines_of(Story(opened=opened).dispute, policy_for("paypal"), BERLIN), "escalate_by"
    )
    assert escalate.due == opened.astimezone(UTC) + timedelta(days=20)
    assert "exact hours" in escalate.rule.described


# -- next deadline and timing warnings -----------------------------------------------------------


def test_the_next_deadline_is_the_soonest_while_nothing_has_passed() -> None:
    deadlines = deadlines_of(Story().dispute, GENERIC, UTC)
    assert _names(deadlines) == ["seller_response", "escalate_by"]
    chosen = next_deadline(deadlines, OPENED + timedelta(days=1))
    assert chosen is not None and chosen.name == "seller_response"


def test_once_the_sellers_time_is_up_it_comes_before_the_buyers_far_deadline() -> None:
    # Issue 9: a seller 6 days overdue (you may escalate now) ranks above your 20 days.
    deadlines = deadlines_of(Story().dispute, GENERIC, UTC)
    chosen = next_deadline(deadlines, OPENED + timedelta(days=13))
    assert chosen is not None and chosen.name == "seller_response"


def test_an_overdue_deadline_of_the_buyers_comes_first_of_all() -> None:
    story = Story().then(Move.SELLER_OFFERS, at(21), "8.00")
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    chosen = next_deadline(deadlines, at(25))
    assert chosen is not None and chosen.name == "buyer_response"


def test_no_deadlines_no_next_deadline() -> None:
    assert next_deadline([], OPENED) is None


def test_next_deadline_sorts_what_it_is_given() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REQUESTS_INFO, at(23))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert next_deadline(reversed(deadlines), at(24)) == _one(deadlines, "info_due")


def test_a_deadline_is_overdue_from_its_due_time() -> None:
    [seller] = deadlines_of(Story().dispute, GENERIC, UTC)[:1]
    assert not seller.overdue(seller.due - timedelta(seconds=1))
    assert seller.overdue(seller.due)


def _escalation_warnings(story: Story, policy: Policy, when: datetime, zone: tzinfo) -> list[str]:
    deadlines = deadlines_of(story.dispute, policy, zone)
    earliest = can_escalate_from(
        story.dispute,
        _order(marketplace=policy.name),
        Reason.MISSING_PARTS,
        policy,
        zone,
        deadlines,
    )
    return timing_warnings(deadlines, Move.ESCALATE, when, zone, earliest)


def test_escalating_before_the_seller_has_had_their_time_warns() -> None:
    # Generic publishes no wait: the buyer may escalate once the seller's 7 days are up.
    [warning] = _escalation_warnings(Story(), GENERIC, at(22), UTC)
    assert "escalating before 2026-11-27 09:00 UTC (buyer move 2026-11-20 09:00" in warning


def test_escalating_after_the_seller_ran_out_of_time_does_not_warn() -> None:
    assert _escalation_warnings(Story(), GENERIC, at(28), UTC) == []


def test_on_aliexpress_escalating_is_early_only_before_day_3() -> None:
    # The seller's 5–7 days do not hold the buyer back: a claim is possible from day 3.
    [warning] = _escalation_warnings(Story(), ALIEXPRESS, at(22), UTC)
    assert "escalating before 2026-11-23 09:00 UTC (opening" in warning
    assert _escalation_warnings(Story(), ALIEXPRESS, at(23, 10), UTC) == []


def test_escalating_before_a_refund_is_due_warns() -> None:
    story = Story().then(Move.SELLER_AGREES, at(21))
    [warning] = _escalation_warnings(story, GENERIC, at(22), UTC)
    assert "agreement 2026-11-21 00:00 UTC + 20 business days" in warning


def test_accepting_after_the_buyer_response_passed_warns() -> None:
    story = Story().then(Move.SELLER_OFFERS, at(21), "8.00")
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert timing_warnings(deadlines, Move.ACCEPT, at(23), UTC) == []
    [warning] = timing_warnings(deadlines, Move.ACCEPT, at(24), UTC)
    assert "buyer_response passed" in warning


def test_escalating_after_the_escalate_by_passed_warns_that_it_may_be_late() -> None:
    story = Story().then(Move.SELLER_REJECTS, at(21))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    warnings = timing_warnings(deadlines, Move.ESCALATE, at(12, month=12), UTC)
    assert any("escalate_by passed" in w for w in warnings)
    assert any("buyer_response passed" in w for w in warnings)


def test_shipping_a_return_late_warns() -> None:
    story = Story().then(Move.SELLER_AGREES, at(21), kind=OfferKind.REFUND_WITH_RETURN)
    deadlines = deadlines_of(story.dispute, ALIEXPRESS, UTC)
    [warning] = timing_warnings(deadlines, Move.RETURN_SHIPPED, at(2, month=12), UTC)
    assert "return_ship_by passed" in warning


def test_opening_after_the_dispute_window_closed_warns() -> None:
    deadlines = order_deadlines(_order(received=at(1)), ALIEXPRESS, UTC)
    assert timing_warnings(deadlines, Move.OPEN, at(15), UTC) == []
    [warning] = timing_warnings(deadlines, Move.OPEN, at(17), UTC)
    assert "dispute_window passed" in warning


def test_a_seller_move_never_draws_a_buyer_warning() -> None:
    story = Story().then(Move.SELLER_REJECTS, at(21))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert timing_warnings(deadlines, Move.SELLER_OFFERS, at(12, month=12), UTC) == []


def test_a_warning_shows_the_due_time_in_the_buyers_zone() -> None:
    [warning] = _escalation_warnings(Story(), GENERIC, at(22), BERLIN)
    assert "CET" in warning


def test_appealing_after_the_appeal_window_warns() -> None:
    story = Story().then(Move.ESCALATE, at(21)).then(Move.PLATFORM_REJECTS, at(24))
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    assert timing_warnings(deadlines, Move.ESCALATE, at(30), UTC) == []
    [warning] = timing_warnings(deadlines, Move.ESCALATE, at(2, month=12), UTC)
    assert "appeal_by passed" in warning


def test_declining_after_the_buyer_response_passed_warns() -> None:
    story = Story().then(Move.SELLER_OFFERS, at(21), "8.00")
    deadlines = deadlines_of(story.dispute, GENERIC, UTC)
    [warning] = timing_warnings(deadlines, Move.DECLINE, at(24), UTC)
    assert "buyer_response passed" in warning
