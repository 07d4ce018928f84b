"""The built-in policies against the marketplaces' published rules (issue 3, DESIGN.md "Policy").

Every built-in policy cites the marketplace's own page and the date it was checked; every rule
either has a number, falls back to ``generic``'s assumed one (labelled so), or is a step the
marketplace does not have. Ranges give the buyer the low end and the other side the high end.
The deadlines an order or a dispute gets on each marketplace match the published numbers.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from refundctl import marketplace_rules, policies
from refundctl.deadlines import Deadline, order_deadlines
from refundctl.domain import Move
from refundctl.policies import (
    BUILT_IN,
    EARLIEST_RULES,
    GENERIC,
    OPTIONAL_RULES,
    RULE_KINDS,
    Binds,
    Origin,
    Policy,
    Rule,
    RuleName,
    resolve,
    with_overrides,
)
from refundctl.records import Order
from refundctl.timeparse import Duration, Unit
from tests.conftest import Cli
from tests.policy_scenarios import (
    RETURN,
    deadlines_of,
    dispute,
    disputes_at,
    every_deadline,
    order,
)

LA = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")
MARKETPLACES = [p for p in BUILT_IN.values() if p is not GENERIC]
EVERY_POLICY = list(BUILT_IN.values())
R = RuleName
# The steps each marketplace does not have: set to None in its table, or one of the optional
# steps generic assumes nowhere (an outer claim limit, a step-in, a claim stage, a wait).
ABSENT = {
    "generic": set(OPTIONAL_RULES),
    "aliexpress": {R.ESCALATE_BY, R.APPEAL_BY, R.BUYER_RESPONSE}
    | {R.OPEN_AFTER, R.CLAIM_AFTER, R.CLAIM_BY, R.CLAIM_RESPONSE},
    "amazon": {R.ESCALATE_BY, R.BUYER_RESPONSE, R.OPEN_AFTER, R.NEGOTIATION_ENDS}
    | {R.CLAIM_RESPONSE},
    "ebay": {R.BUYER_RESPONSE, R.CLAIM_AFTER, R.CLAIM_BY, R.NEGOTIATION_ENDS, R.CLAIM_RESPONSE},
    "etsy": {R.ESCALATE_BY, R.BUYER_RESPONSE, R.OPEN_AFTER, R.NEGOTIATION_ENDS}
    | {R.CLAIM_RESPONSE},
    "paypal": {R.SELLER_RESPONSE, R.OPEN_AFTER, R.CLAIM_AFTER, R.NEGOTIATION_ENDS},
    "temu": {R.ESCALATE_BY, *OPTIONAL_RULES},
}
DEADLINE_RULES = {name.value for name in RuleName if name not in EARLIEST_RULES}


def local(day: date, zone: tzinfo = LA, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), zone)


def plus(day: date, days: int, zone: tzinfo = LA) -> datetime:
    """Midnight ``days`` calendar days after ``day``, on the wall clock of ``zone``."""
    return local(day + timedelta(days=days), zone)


def ids(policy: Policy) -> str:
    return policy.name


def only(deadlines: list[Deadline], name: str) -> Deadline:
    found = [d for d in deadlines if d.name == name]
    assert len(found) == 1, [d.name for d in deadlines]
    return found[0]


# -- sources and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", MARKETPLACES, ids=ids)
def test_every_built_in_policy_cites_the_marketplaces_page_and_when_it_was_checked(
    policy: Policy,
) -> None:
    assert policy.source is not None and policy.source.startswith("https://"), policy.source
    assert isinstance(policy.checked, date)
    assert date(2025, 1, 1) <= policy.checked <= date(2026, 12, 1)
    assert policy.title


@pytest.mark.parametrize("policy", MARKETPLACES, ids=ids)
def test_a_rules_own_source_is_a_url_too(policy: Policy) -> None:
    for name in RuleName:
        resolved = resolve(policy, name)
        if resolved is not None and not resolved.assumed:
            assert resolved.source is not None, name
            assert resolved.source.startswith("https://"), (name, resolved.source)


def test_generic_cites_nothing_because_everything_in_it_is_assumed() -> None:
    assert GENERIC.source is None
    assert GENERIC.checked is None
    for name in set(RuleName) - OPTIONAL_RULES:
        resolved = resolve(GENERIC, name)
        assert resolved is not None
        assert resolved.assumed and resolved.origin is Origin.ASSUMED
        assert resolved.source is None


@pytest.mark.parametrize("policy", MARKETPLACES, ids=ids)
def test_every_marketplace_has_a_zone_or_deliberately_reads_the_buyers(policy: Policy) -> None:
    if policy.timezone is not None:
        ZoneInfo(policy.timezone)
    assert policy.holidays is None or re.fullmatch(r"[A-Z]{2}", policy.holidays)


# -- present, absent, assumed --------------------------------------------------------------------


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
def test_every_rule_resolves_or_is_explicitly_absent(policy: Policy) -> None:
    for name in RuleName:
        resolved = resolve(policy, name)
        explicitly_absent = (name in policy.rules and policy.rules[name] is None) or (
            name not in policy.rules and name in OPTIONAL_RULES
        )
        assert (resolved is None) == explicitly_absent, name
        if resolved is not None:
            assert resolved.name is name
            assert resolved.policy == policy.name
            assert resolved.timezone == policy.timezone
            assert resolved.holidays == policy.holidays
            assert resolved.kind is RULE_KINDS[name]


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
def test_absent_steps_are_the_ones_the_marketplace_does_not_have(policy: Policy) -> None:
    absent = {name for name in RuleName if resolve(policy, name) is None}
    assert absent == ABSENT.get(policy.name, set())
    assert policies.has_appeals(policy) == (RuleName.APPEAL_BY not in absent)


def test_every_absent_step_is_explained_by_a_comment_in_the_policy_table() -> None:
    lines = inspect.getsource(marketplace_rules).splitlines()
    absent = re.compile(r"RuleName\.\w+: None")
    absent_lines = [n for n, line in enumerate(lines) if absent.search(line)]
    explicit = sum(1 for p in EVERY_POLICY for rule in p.rules.values() if rule is None)
    assert len(absent_lines) == explicit
    for number in absent_lines:
        above = number - 1
        while absent.search(lines[above]):  # a run of absent steps under one comment
            above -= 1
        assert lines[above].strip().startswith("#"), lines[number]


def test_aliexpress_never_asks_the_buyer_to_escalate_or_appeal() -> None:
    aliexpress = BUILT_IN["aliexpress"]
    start = datetime(2026, 11, 20, 9, tzinfo=UTC)
    names = {d.name for d in every_deadline(aliexpress, start, UTC)}
    assert "escalate_by" not in names
    assert "appeal_by" not in names
    assert deadlines_of(disputes_at(start)["lost"], aliexpress, UTC) == []


MISSING = [
    (policy, name)
    for policy in MARKETPLACES
    for name in RuleName
    if name not in policy.rules and name not in OPTIONAL_RULES
]


@pytest.mark.parametrize(
    ("policy", "name"), MISSING, ids=[f"{p.name}-{n.value}" for p, n in MISSING]
)
def test_a_rule_a_marketplace_does_not_publish_takes_generics_value_labelled_assumed(
    policy: Policy, name: RuleName
) -> None:
    resolved = resolve(policy, name)
    assert resolved is not None
    assert resolved.rule == GENERIC.rules[name]
    assert resolved.assumed
    assert resolved.origin is Origin.ASSUMED
    assert resolved.source is None
    # Still counted in the marketplace's zone, skipping its holidays.
    assert resolved.policy == policy.name
    assert (resolved.timezone, resolved.holidays) == (policy.timezone, policy.holidays)


def test_an_assumed_rule_says_so_in_the_deadline() -> None:
    aliexpress = BUILT_IN["aliexpress"]
    start = datetime(2026, 11, 20, 9, tzinfo=UTC)
    response = only(every_deadline(aliexpress, start, UTC), "info_due")
    assert response.rule.assumed
    assert response.rule.origin == "assumed"
    assert response.rule.source is None
    assert response.rule.duration == "3d"


@pytest.mark.parametrize("policy", MARKETPLACES, ids=ids)
def test_published_rules_are_built_in_not_assumed(policy: Policy) -> None:
    for name, rule in policy.rules.items():
        if rule is None:
            continue
        resolved = resolve(policy, name)
        assert resolved is not None
        assert not resolved.assumed
        assert resolved.origin is Origin.BUILT_IN


# -- ranges --------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
def test_built_in_ranges_give_the_buyer_the_low_end_and_the_other_side_the_high_end(
    policy: Policy,
) -> None:
    for name in RuleName:
        resolved = resolve(policy, name)
        if resolved is None:
            continue
        rule = resolved.rule
        if rule.upto is None or RULE_KINDS[name].binds is Binds.BUYER:
            assert resolved.duration == rule.duration
        else:
            assert resolved.duration == rule.upto


def test_the_built_in_ranges_are_the_published_ones() -> None:
    ranges = {
        (p.name, name.value): str(rule)
        for p in EVERY_POLICY
        for name, rule in p.rules.items()
        if rule is not None and rule.upto is not None
    }
    assert ranges == {
        ("aliexpress", "seller_response"): "5–7d",
        ("aliexpress", "refund_expected"): "3–20bd",
        ("ebay", "refund_expected"): "3–5bd",
        ("paypal", "platform_decision"): "14–30d",
        ("temu", "refund_expected"): "5bd–30d",
    }


SPREAD = Rule(Duration(2, Unit.DAYS), Duration(9, Unit.DAYS))


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
def test_a_range_on_any_rule_of_any_policy_gives_the_safe_end(policy: Policy) -> None:
    ranged = with_overrides({policy.name: {name.value: SPREAD for name in RuleName}})
    changed = ranged.for_marketplace(policy.name)
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    zone = ZoneInfo(policy.timezone) if policy.timezone else UTC
    deadlines = every_deadline(changed, start, zone)
    assert {d.name for d in deadlines} == DEADLINE_RULES
    for deadline in deadlines:
        days = 2 if deadline.binds is Binds.BUYER else 9
        assert deadline.rule.duration == f"{days}d", deadline.name
        assert deadline.rule.origin == "config"
        assert not deadline.rule.assumed
        assert deadline.due == (deadline.rule.start + timedelta(days=days)), deadline.name


# -- orders: the published windows --------------------------------------------------------------


def test_aliexpress_window_is_15_days_after_receipt_or_the_delivery_countdown() -> None:
    aliexpress = BUILT_IN["aliexpress"]
    [window] = order_deadlines(
        order("aliexpress", ordered=local(date(2026, 11, 1)), received=local(date(2026, 11, 10))),
        aliexpress,
        LA,
    )
    assert (window.name, window.due) == ("dispute_window", plus(date(2026, 11, 10), 15))
    assert window.rule.counts_from == "receipt"
    assert not window.rule.assumed
    [protection] = order_deadlines(
        order("aliexpress", shipped=local(date(2026, 11, 3)), expected_by=local(date(2026, 12, 1))),
        aliexpress,
        LA,
    )
    assert (protection.name, protection.due) == ("protection_ends", plus(date(2026, 12, 1), 15))
    assert protection.rule.counts_from == "expected delivery"


def test_ebay_window_is_30_days_after_delivery_actual_or_estimated() -> None:
    ebay = BUILT_IN["ebay"]
    [window] = order_deadlines(
        order("ebay", expected_by=local(date(2026, 11, 14)), received=local(date(2026, 11, 10))),
        ebay,
        LA,
    )
    assert window.due == plus(date(2026, 11, 10), 30)
    assert window.rule.counts_from == "receipt"
    assert window.rule.duration == "30d"
    assert not window.rule.assumed
    [protection] = order_deadlines(order("ebay", expected_by=local(date(2026, 11, 14))), ebay, LA)
    assert protection.name == "protection_ends"
    assert protection.due == plus(date(2026, 11, 14), 30)
    assert not protection.rule.assumed


def _paypal_order(received: date | None, ordered: date = date(2026, 11, 5)) -> Order:
    return order(
        "paypal",
        ordered=local(ordered),
        shipped=local(date(2026, 11, 7)),
        expected_by=local(date(2026, 11, 18)),
        received=None if received is None else local(received),
    )


def test_paypal_not_received_is_180_days_from_payment() -> None:
    [window] = order_deadlines(_paypal_order(None), BUILT_IN["paypal"], LA)
    assert window.name == "protection_ends"
    # Across the March DST change: still midnight in Los Angeles, 180 calendar days on.
    assert window.due == plus(date(2026, 11, 5), 180)
    assert window.rule.counts_from == "payment"
    assert window.rule.duration == "180d"
    assert not window.rule.assumed


def test_paypal_received_is_30_days_from_delivery_or_180_from_payment_whichever_sooner() -> None:
    # Issue 8 (3): a received item gets PayPal's not-as-described window, 30 days from delivery.
    [window] = order_deadlines(_paypal_order(date(2026, 11, 20)), BUILT_IN["paypal"], LA)
    assert window.name == "dispute_window"
    assert window.due == plus(date(2026, 11, 20), 30)
    assert window.rule.counts_from == "receipt"
    assert window.rule.source is not None and "dispute-filing-timeframes" in window.rule.source
    # Delivered 170 days after payment: the 180 days from payment come first.
    late = _paypal_order(date(2026, 11, 20), ordered=date(2026, 6, 3))
    [window] = order_deadlines(late, BUILT_IN["paypal"], LA)
    # In exact hours: the clocks fall back in November, and the buyer's deadline is never
    # later than 180 x 24 hours (23:00 the evening before, on Los Angeles' wall clock).
    assert window.due == local(date(2026, 6, 3)).astimezone(UTC) + timedelta(days=180)
    assert window.rule.counts_from == "payment"
    assert "sooner than receipt" in window.rule.described


def test_amazon_window_is_90_days_after_the_latest_estimated_delivery() -> None:
    amazon = BUILT_IN["amazon"]
    # Delivered early: the window still counts from the (later) estimated date.
    [window] = order_deadlines(
        order("amazon", expected_by=local(date(2026, 11, 12)), received=local(date(2026, 11, 8))),
        amazon,
        LA,
    )
    assert window.due == plus(date(2026, 11, 12), 90)
    assert window.rule.counts_from == "expected delivery"
    assert not window.rule.assumed
    [protection] = order_deadlines(
        order("amazon", expected_by=local(date(2026, 11, 12))), amazon, LA
    )
    assert protection.due == plus(date(2026, 11, 12), 90)
    assert not protection.rule.assumed


def test_without_an_estimate_amazon_counts_from_receipt_as_an_assumption() -> None:
    [window] = order_deadlines(
        order("amazon", received=local(date(2026, 11, 8))), BUILT_IN["amazon"], LA
    )
    assert window.due == plus(date(2026, 11, 8), 90)
    assert window.rule.counts_from == "receipt"
    assert window.rule.duration == "90d"
    assert window.rule.assumed


def test_etsy_window_is_100_days_after_the_estimated_delivery() -> None:
    etsy = BUILT_IN["etsy"]
    [window] = order_deadlines(
        order(
            "etsy",
            expected_by=local(date(2026, 11, 12), NEW_YORK),
            received=local(date(2026, 11, 10), NEW_YORK),
        ),
        etsy,
        NEW_YORK,
    )
    assert window.due == plus(date(2026, 11, 12), 100, NEW_YORK)
    assert window.rule.counts_from == "expected delivery"
    assert not window.rule.assumed
    [stand_in] = order_deadlines(
        order("etsy", received=local(date(2026, 11, 10), NEW_YORK)), etsy, NEW_YORK
    )
    assert stand_in.due == plus(date(2026, 11, 10), 100, NEW_YORK)
    assert stand_in.rule.assumed


@pytest.mark.parametrize("received", [date(2026, 11, 20), None], ids=["received", "not-received"])
def test_temu_window_is_90_days_from_payment(received: date | None) -> None:
    [window] = order_deadlines(
        order(
            "temu",
            ordered=local(date(2026, 11, 5), UTC),
            received=None if received is None else local(received, UTC),
        ),
        BUILT_IN["temu"],
        UTC,
    )
    assert window.due == plus(date(2026, 11, 5), 90, UTC)
    assert window.rule.counts_from == "payment"
    assert not window.rule.assumed
    assert window.rule.source == BUILT_IN["temu"].source


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
@pytest.mark.parametrize("received", [True, False], ids=["received", "not-received"])
def test_the_orders_own_protection_deadline_replaces_the_estimate(
    policy: Policy, received: bool
) -> None:
    # Before every policy's own window of a received order, so that the countdown is the
    # earlier of the two (a later one would be capped by the window receipt opens).
    countdown = datetime(2026, 11, 25, 7, 59, tzinfo=UTC) if received else datetime(2027, 1, 9)
    dates = {
        "ordered": local(date(2026, 11, 1)),
        "shipped": local(date(2026, 11, 3)),
        "expected_by": local(date(2026, 11, 20)),
        "received": local(date(2026, 11, 18)) if received else None,
    }
    [entered] = order_deadlines(order(policy.name, protection_ends=countdown, **dates), policy, LA)
    assert entered.name == ("dispute_window" if received else "protection_ends")
    assert entered.due == countdown
    assert entered.binds is Binds.BUYER
    assert entered.rule.origin == "order"
    assert entered.rule.duration is None
    assert not entered.rule.assumed


@pytest.mark.parametrize("policy", EVERY_POLICY, ids=ids)
def test_once_received_a_later_countdown_gives_way_to_the_window_receipt_opens(
    policy: Policy,
) -> None:
    dates = {
        "ordered": local(date(2026, 11, 1)),
        "expected_by": local(date(2026, 11, 20)),
        "received": local(date(2026, 11, 18)),
    }
    plain = order(policy.name, **dates)
    [window] = order_deadlines(plain, policy, LA)
    late = window.due + timedelta(days=60)
    [capped] = order_deadlines(order(policy.name, protection_ends=late, **dates), policy, LA)
    assert capped.due == window.due
    assert "earlier than the countdown you entered" in capped.rule.described


# -- disputes: the published response times -----------------------------------------------------


def test_ebay_seller_has_3_business_days_skipping_thanksgiving() -> None:
    # Opened Wednesday Nov 25; Thursday is Thanksgiving: Fri, Mon, Tue.
    opened = local(date(2026, 11, 25), hour=9)
    [seller, escalate] = deadlines_of(dispute((Move.OPEN, opened)), BUILT_IN["ebay"], LA)
    assert seller.name == "seller_response"
    assert seller.due == local(date(2026, 12, 1), hour=9)
    assert seller.rule.duration == "3bd"
    assert seller.binds is Binds.SELLER
    assert "US public holidays" in seller.rule.described
    assert escalate.name == "escalate_by"
    assert escalate.rule.duration == "21bd"
    assert escalate.binds is Binds.BUYER


def test_ebay_refunds_appeals_and_returns() -> None:
    ebay = BUILT_IN["ebay"]
    agreed = local(date(2026, 12, 1), hour=10)  # a Tuesday
    both = disputes_at(agreed)
    [refund] = deadlines_of(both["refund_pending"], ebay, LA)
    assert refund.name == "refund_expected"
    assert refund.rule.duration == "5bd"
    assert refund.due == local(date(2026, 12, 8), hour=10)
    [returned] = deadlines_of(both["return_in_transit"], ebay, LA)
    assert returned.name == "return_refund_due"
    assert returned.due == local(date(2026, 12, 3), hour=10)
    [appeal] = deadlines_of(both["lost"], ebay, LA)
    assert appeal.name == "appeal_by"
    assert appeal.due == local(date(2026, 12, 31), hour=10)
    # eBay's buyer page (not the seller's appeal page).
    assert appeal.rule.source is not None and "id=4042" in appeal.rule.source


def test_aliexpress_seller_7_days_return_10_days_refund_20_business_days() -> None:
    aliexpress = BUILT_IN["aliexpress"]
    start = local(date(2026, 11, 2), hour=9)  # a Monday
    states = disputes_at(start)
    seller = only(deadlines_of(states["awaiting_seller"], aliexpress, LA), "seller_response")
    assert seller.due == local(date(2026, 11, 9), hour=9)
    [ship] = deadlines_of(states["return_to_ship"], aliexpress, LA)
    assert (ship.name, ship.due) == ("return_ship_by", local(date(2026, 11, 12), hour=9))
    [refund] = deadlines_of(states["refund_pending"], aliexpress, LA)
    # No Chinese public holiday between Nov 2 and Nov 30: four weeks of business days.
    assert (refund.name, refund.due) == ("refund_expected", local(date(2026, 11, 30), hour=9))


def test_paypal_escalate_within_20_days_answer_an_offer_within_10() -> None:
    paypal = BUILT_IN["paypal"]
    opened = local(date(2026, 11, 10), hour=9)
    moved = local(date(2026, 11, 12), hour=9)
    offered = deadlines_of(dispute((Move.OPEN, opened), (Move.SELLER_OFFERS, moved)), paypal, LA)
    answer = only(offered, "buyer_response")
    assert answer.due == local(date(2026, 11, 22), hour=9)
    assert answer.if_missed == "you_lose"
    assert only(offered, "escalate_by").due == local(date(2026, 11, 30), hour=9)
    # A rejection leaves no offer to answer: only the 20 days to escalate run.
    rejected = deadlines_of(dispute((Move.OPEN, opened), (Move.SELLER_REJECTS, moved)), paypal, LA)
    assert [d.name for d in rejected] == ["escalate_by"]
    # In the dispute stage the seller has no deadline; in the claim stage, 10 days.
    assert [d.name for d in deadlines_of(dispute((Move.OPEN, opened)), paypal, LA)] == [
        "escalate_by"
    ]
    claim = deadlines_of(dispute((Move.OPEN, opened), (Move.ESCALATE, moved)), paypal, LA)
    seller = only(claim, "claim_response")
    assert seller.due == local(date(2026, 11, 22), hour=9)
    assert seller.if_missed == "platform_steps_in"
    assert only(claim, "platform_decision").due == local(date(2026, 12, 12), hour=9)


def test_paypal_appeals_within_10_days() -> None:
    states = disputes_at(local(date(2026, 11, 10), hour=9))
    [appeal] = deadlines_of(states["lost"], BUILT_IN["paypal"], LA)
    assert appeal.due == local(date(2026, 11, 20), hour=9)
    assert not appeal.rule.assumed


def test_amazon_seller_gets_exactly_48_hours_even_across_the_dst_change() -> None:
    opened = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)
    deadlines = deadlines_of(dispute((Move.OPEN, opened)), BUILT_IN["amazon"], LA)
    seller = only(deadlines, "seller_response")
    assert seller.due == opened + timedelta(hours=48)
    assert not seller.rule.assumed
    # Amazon has no escalate_by of its own: the A-to-z limit is (see test_story_amazon).
    assert "escalate_by" not in {d.name for d in deadlines}


def test_etsy_seller_gets_48_hours_after_the_help_request() -> None:
    # Issue 8 (6): a case may be opened 48 hours after the help request, not 72.
    opened = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
    deadlines = deadlines_of(dispute((Move.OPEN, opened)), BUILT_IN["etsy"], NEW_YORK)
    seller = only(deadlines, "seller_response")
    assert seller.rule.duration == "48h"
    assert seller.due == opened + timedelta(hours=48)


@pytest.mark.parametrize("policy", MARKETPLACES, ids=ids)
def test_a_published_deadline_cites_its_source(policy: Policy) -> None:
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    for deadline in every_deadline(policy, start, UTC):
        name = RuleName(deadline.name)
        published = policy.rules.get(name) is not None
        if published and not deadline.rule.assumed:
            assert deadline.rule.source is not None
            assert deadline.rule.source.startswith("https://")
            assert deadline.rule.origin == "built-in"
        elif not published:
            assert deadline.rule.assumed, name
            assert deadline.rule.source is None


def test_a_return_agreed_with_a_return_binds_the_buyer_for_every_marketplace() -> None:
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    for policy in EVERY_POLICY:
        [ship] = deadlines_of(
            dispute((Move.OPEN, start - timedelta(hours=1)), (Move.SELLER_AGREES, start, RETURN)),
            policy,
            UTC,
        )
        assert ship.name == "return_ship_by"
        assert ship.binds is Binds.BUYER


# -- the policy reference page -------------------------------------------------------------------


def _doc_cell(text: str) -> str:
    """``90d ¹`` → ``90d``; ``5–7d`` stays; ``— ⁴`` → ``—``; ``7d* ¹⁰`` → ``7d*``."""
    return re.sub(r"\s*[⁰¹²³⁴⁵⁶⁷⁸⁹]+$", "", text.strip())


def _count(duration: str) -> str:
    return re.match(r"\d+", duration).group()  # type: ignore[union-attr]


def _shown_cell(rule: dict[str, object]) -> str:
    """A rule of ``refundctl policies --json`` as the page writes it: "5–7d", "5bd–30d",
    "30d/180d", with "*" when assumed, "—" when the step is absent."""
    if not rule["present"]:
        return "—"
    duration, upto, sooner = rule["duration"], rule["upto"], rule["sooner"]
    assert isinstance(duration, str)
    text = duration
    if isinstance(upto, str):
        same_unit = duration.lstrip("0123456789") == upto.lstrip("0123456789")
        text = f"{_count(duration) if same_unit else duration}–{upto}"
    if isinstance(sooner, str):
        text += f"/{sooner}"
    return text + ("*" if rule["assumed"] else "")


def test_the_policy_reference_page_matches_refundctl_policies(cli: Cli) -> None:
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "policies.md").read_text(encoding="utf-8")
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in page.splitlines()
        if line.startswith("| ")
    ]
    [header] = [row for row in rows if row[:2] == ["rule", "aliexpress"]]
    assert sorted(header[1:]) == sorted(BUILT_IN)
    table = {row[0]: row[1:] for row in rows if row[0] in {n.value for n in RuleName}}
    assert set(table) == {n.value for n in RuleName}
    shown = cli("policies", "--json").json()["policies"]
    by_market = {p["name"]: {r["name"]: r for r in p["rules"]} for p in shown}
    for name in RuleName:
        for market, cell in zip(header[1:], table[name.value], strict=True):
            assert _doc_cell(cell) == _shown_cell(by_market[market][name.value]), (
                market,
                name.value,
            )
    # Every source the command cites is on the page, and the date it was checked.
    for policy in shown:
        if policy["source"]:
            assert policy["source"] in page, policy["name"]
            assert f"checked {policy['checked']}" in page
        for rule in policy["rules"]:
            if rule.get("source"):
                assert rule["source"] in page, (policy["name"], rule["name"])
