"""Which deadlines are open for an order or a dispute, when each falls due, what happens if it
passes, and the earliest moment the marketplace lets the buyer act.

Pure: takes the order, the dispute, the policy and the buyer's zone; never reads the clock
(``overdue`` and ``live`` take ``now``). Every deadline carries the rule it came from, so the
tables and JSON can explain it. DESIGN.md principle 2 lives in ``_reading``: a deadline the
buyer must meet is the earliest of the readings in the buyer's and the marketplace's zones,
each counted on the wall clock and in exact hours; an other-side one the latest. The values
computed here, their JSON and their ranking live in deadline_types.py.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple

from refundctl.deadline_types import (
    Deadline,
    Earliest,
    RuleRef,
    Urgency,
    live,
    next_deadline,
    urgency,
)
from refundctl.domain import Dispute, Move, Reason, State
from refundctl.money import format_money
from refundctl.policies import (
    GENERIC,
    Anchor,
    Binds,
    IfMissed,
    Policy,
    ResolvedRule,
    RuleName,
    resolve,
)
from refundctl.records import Order
from refundctl.remedies import dispute_remedies, order_remedies
from refundctl.timeparse import Duration, Unit, add, add_exact, local_text, zone_named

# Imported from here by the rest of refundctl (and its tests), though they live in
# deadline_types.py: the values travel without the dispute model, the names stay put.
__all__ = ["Deadline", "Earliest", "RuleRef", "Urgency", "live", "next_deadline", "urgency"]


class _Fixed(NamedTuple):
    """What a resolved rule gives every deadline counted with it, worked out once."""

    duration: Duration
    binds: Binds | None
    duration_text: str  # "15d"
    wording: str  # "15 calendar days", and which holidays are skipped
    zone: tzinfo | None  # the marketplace's own zone, if it has one


@functools.lru_cache(maxsize=256)
def _fixed(resolved: ResolvedRule) -> _Fixed:
    duration = resolved.duration
    wording = duration.describe()
    if duration.unit is Unit.BUSINESS_DAYS and resolved.holidays:
        wording += f" (weekends and {resolved.holidays} public holidays skipped)"
    zone = None if resolved.timezone is None else _zone(resolved.timezone)
    return _Fixed(duration, resolved.kind.binds, str(duration), wording, zone)


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return zone_named(name)


def _reading(
    fixed: _Fixed, start: datetime, buyer_zone: tzinfo, holidays: str | None
) -> tuple[datetime, tzinfo, bool]:
    """The safe reading of a rule: when it falls due, the zone it was counted in, and whether
    the exact-hours count won over the wall clock's (a DST change inside the span).

    A buyer deadline is the earliest of the wall-clock and exact-hours readings in the
    buyer's and the marketplace's zones; any other the latest. The buyer's own reading, then
    the wall clock's, wins a tie."""
    zones = [buyer_zone] if fixed.zone is None else [buyer_zone, fixed.zone]
    buyer = fixed.binds is Binds.BUYER
    unit = fixed.duration.unit
    readings = [(add(start, fixed.duration, zone, holidays), zone, False) for zone in zones]
    if unit is Unit.BUSINESS_DAYS:
        # How many days the business days span depends on the zone's calendar.
        readings += [
            (add_exact(start, fixed.duration, zone, holidays), zone, True)
            for zone in zones
            if not isinstance(zone, type(UTC))
        ]
    elif unit is not Unit.HOURS:
        # Calendar days in exact hours are the same in every zone.
        readings.append((add_exact(start, fixed.duration, UTC), buyer_zone, True))
    chosen = readings[0]
    for reading in readings[1:]:
        if reading[0] < chosen[0] if buyer else reading[0] > chosen[0]:
            chosen = reading
    return chosen


_when = local_text


def _ref(
    resolved: ResolvedRule,
    anchor: Anchor,
    start: datetime,
    buyer_zone: tzinfo,
    *,
    assumed: bool = False,
) -> tuple[datetime, RuleRef]:
    """When the rule falls due counted from ``start``, and how that reads."""
    fixed = _fixed(resolved)
    due, counted_in, exact = _reading(fixed, start, buyer_zone, resolved.holidays)
    described = f"{anchor} {_when(start, counted_in)}"
    if fixed.duration.count:
        described += f" + {fixed.wording}"
    if exact:
        described += " (in exact hours: the clocks change in between)"
    return due, RuleRef(
        policy=resolved.policy,
        duration=fixed.duration_text,
        counts_from=str(anchor),
        start=start,
        assumed=resolved.assumed or assumed,
        source=resolved.source,
        described=described,
        origin=str(resolved.origin),
    )


def _deadline(resolved: ResolvedRule, due: datetime, rule: RuleRef) -> Deadline:
    binds = resolved.kind.binds
    assert binds is not None, f"{resolved.name} is an earliest moment, not a deadline"
    return Deadline(resolved.name, due, binds, resolved.action, rule, resolved.if_missed)


def _from_rule(
    resolved: ResolvedRule,
    anchor: Anchor,
    start: datetime,
    buyer_zone: tzinfo,
    *,
    assumed: bool = False,
) -> Deadline:
    due, rule = _ref(resolved, anchor, start, buyer_zone, assumed=assumed)
    return _deadline(resolved, due, rule)


def _order_anchors(order: Order) -> dict[Anchor, datetime | None]:
    return {
        Anchor.RECEIPT: order.received,
        Anchor.EXPECTED_DELIVERY: order.expected_by,
        Anchor.SHIPPING: order.shipped,
        Anchor.PAYMENT: order.ordered,
    }


@functools.lru_cache(maxsize=256)
def _generic_estimate(policy: Policy, name: RuleName) -> ResolvedRule | None:
    """Generic's wider estimate of a window, in the policy's own zone and holidays: what is
    left when none of the policy's own anchors is known."""
    if policy is GENERIC:
        return None
    generic = resolve(GENERIC, name)
    if generic is None:
        return None
    return replace(
        generic,
        policy=policy.name,
        timezone=policy.timezone,
        holidays=policy.holidays,
        market=policy.market,
    )


def _counted_window(
    order: Order, policy: Policy, name: RuleName, zone: tzinfo, *, estimate: bool = True
) -> Deadline | None:
    """An order's window by ``name``'s rule, from the first of its anchors the order has;
    without any, generic's wider estimate (``estimate``). The sooner of two readings where
    the rule has a second ("or 180 days from payment, whichever is sooner")."""
    resolved = resolve(policy, name)
    if resolved is None:
        return None
    known = _order_anchors(order)
    candidates = [resolved]
    fallback = _generic_estimate(policy, name) if estimate else None
    if fallback is not None:
        candidates.append(fallback)
    for candidate in candidates:
        for anchor in candidate.anchors:
            start = known.get(anchor)
            if start is None:
                continue
            # Counted from a stand-in for the policy's own anchor: an estimate.
            stand_in = candidate is not resolved or anchor is not candidate.anchors[0]
            found = _from_rule(candidate, anchor, start, zone, assumed=stand_in)
            return _sooner(found, candidate, known, zone)
    return None


def _sooner(
    found: Deadline, resolved: ResolvedRule, known: dict[Anchor, datetime | None], zone: tzinfo
) -> Deadline:
    second = resolved.rule.sooner
    if second is None:
        return found
    other = replace(resolved, rule=second)
    for anchor in other.anchors:
        start = known.get(anchor)
        if start is None:
            continue
        due, rule = _ref(other, anchor, start, zone)
        if due < found.due:
            return replace(
                found,
                due=due,
                rule=replace(
                    rule, described=f"{rule.described}, sooner than {found.rule.described}"
                ),
            )
        break
    return found


def _countdown(order: Order, name: RuleName, policy: Policy) -> Deadline:
    """The marketplace's own countdown, entered by the buyer: the truth for this order."""
    assert order.protection_ends is not None
    resolved = resolve(policy, name) or resolve(GENERIC, name)
    assert resolved is not None
    return _deadline(
        resolved,
        order.protection_ends,
        RuleRef(
            policy=policy.name,
            duration=None,
            counts_from="marketplace countdown",
            start=None,
            assumed=False,
            source=None,
            described="entered from the marketplace's own countdown",
            origin="order",
        ),
    )


def order_deadlines(
    order: Order, policy: Policy, zone: tzinfo, *, remedy: bool = False
) -> list[Deadline]:
    """An order's own window: to open a dispute once received, else its protection; with
    ``remedy`` (an order never disputed), beside a protection the window of the remedy its
    payment carries (``remedies.order_remedies``)."""
    found = _marketplace_window(order, policy, zone)
    if remedy:
        found += order_remedies(order, zone)
    return found


def _marketplace_window(order: Order, policy: Policy, zone: tzinfo) -> list[Deadline]:
    """The marketplace's countdown, when entered, is the truth for the order; but once the
    order is received, a countdown entered while it was in transit can outlive the window
    the receipt opens, so the earlier of the two counts (and says which it is)."""
    name = RuleName.DISPUTE_WINDOW if order.received else RuleName.PROTECTION_ENDS
    counted = _counted_window(order, policy, name, zone)
    if order.protection_ends is None:
        return [] if counted is None else [counted]
    entered = _countdown(order, name, policy)
    if order.received is None or counted is None:
        return [entered]
    countdown = _when(entered.due, zone)
    if entered.due <= counted.due:
        return [
            replace(
                entered,
                rule=replace(
                    entered.rule,
                    described=f"the countdown you entered ({countdown}), "
                    f"no later than {counted.rule.described}",
                ),
            )
        ]
    return [
        replace(
            counted,
            rule=replace(
                counted.rule,
                described=f"{counted.rule.described}, earlier than the countdown you entered "
                f"({countdown}) before it arrived",
            ),
        )
    ]


def can_open_from(order: Order, policy: Policy, zone: tzinfo) -> Earliest | None:
    """Where the marketplace takes a not-received dispute only from a moment on (eBay: once
    the estimated delivery date has passed), that moment, for an order not yet received."""
    resolved = resolve(policy, RuleName.OPEN_AFTER)
    if resolved is None or order.received is not None or order.expected_by is None:
        return None
    at, rule = _ref(resolved, Anchor.EXPECTED_DELIVERY, order.expected_by, zone)
    return Earliest("can_open_from", at, rule)


NEGOTIATING = frozenset({State.AWAITING_SELLER, State.AWAITING_BUYER})


def dispute_deadlines(
    d: Dispute,
    order: Order,
    reason: Reason,
    policy: Policy,
    zone: tzinfo,
    *,
    via: str | None = None,
    used: frozenset[str] = frozenset(),
) -> list[Deadline]:
    """Every open deadline of a dispute in its current state, earliest first.

    The marketplace's outer claim limit (Amazon: 90 days after the latest estimated
    delivery) stays open until the dispute is escalated; where the marketplace steps in by
    itself at a fixed moment (AliExpress: 15 days after opening), no other-side deadline is
    shown past it. A date entered with ``refundctl due`` replaces the rule's. ``via``: the
    rail the dispute was filed through (its ``policy`` is that rail's); ``used``: the rails
    the order's other disputes were filed through, whose remedies are in use."""
    found: list[Deadline] = []
    starts = _dispute_anchors(d, order)

    def rule(name: RuleName) -> None:
        # Counted from the rule's own anchor, which a marketplace may set (eBay's return
        # ships within 5 business days of opening the request, not of the agreement).
        resolved = resolve(policy, name)
        if resolved is None:
            return
        anchor = resolved.anchors[0]
        start = starts.get(anchor)
        if anchor is Anchor.BUYER_MOVE and not resolved.rule.restarts_on_revision:
            start = d.seller_turn_at or start
        if start is None:
            return
        deadline = _from_rule(resolved, anchor, start, zone)
        agreed = d.agreed_at
        if name is RuleName.RETURN_SHIP_BY and agreed is not None and deadline.due <= agreed:
            # Counted from opening (eBay), it may have passed before the return was agreed:
            # the marketplace then gives time from the agreement ("we put the case on hold for
            # a few days to give you time to ship"), so it counts from that.
            deadline = _from_rule(resolved, Anchor.AGREEMENT, agreed, zone)
        found.append(deadline)

    match d.state:
        case State.AWAITING_SELLER:
            rule(RuleName.SELLER_RESPONSE)
        case State.AWAITING_BUYER:
            answer = resolve(policy, RuleName.BUYER_RESPONSE)
            if answer is not None and (d.offer is not None or not answer.rule.offer_only):
                rule(RuleName.BUYER_RESPONSE)
        case State.ESCALATED:
            rule(RuleName.PLATFORM_DECISION)
            # The seller answers the claim, not the buyer's appeal of the decision on it.
            if not d.appealed:
                rule(RuleName.CLAIM_RESPONSE)
            rule(RuleName.INFO_DUE)
        case State.RETURN_TO_SHIP:
            rule(RuleName.RETURN_SHIP_BY)
        case State.RETURN_IN_TRANSIT:
            if d.return_delivered_at is None:
                rule(RuleName.RETURN_DELIVERY)
            else:
                rule(RuleName.RETURN_REFUND_DUE)
        case State.REFUND_PENDING:
            rule(RuleName.REFUND_EXPECTED)
        case State.LOST:
            # Only a platform's decision can be appealed, and only once.
            if d.rejected_by_platform and not d.appealed:
                rule(RuleName.APPEAL_BY)
        case State.REFUNDED | State.WITHDRAWN | State.CANCELLED:
            pass
    if d.state in NEGOTIATING:
        rule(RuleName.ESCALATE_BY)
        rule(RuleName.NEGOTIATION_ENDS)
        # The outer claim limit stays open while the buyer talks to the seller, however long
        # that takes; once agreed, a return or a refund has deadlines of its own.
        limit = _claim_limit(order, policy, zone)
        if limit is not None:
            found.append(limit)
    found = _with_entered(_within_step_in(found), d, zone)
    # The next remedy beyond the marketplace (remedies.py), with the issuer's own date where
    # the buyer entered it.
    found += _with_entered(
        dispute_remedies(d, order, reason, policy, zone, found, via=via, used=used), d, zone
    )
    return sorted(found, key=lambda deadline: deadline.due)


def _dispute_anchors(d: Dispute, order: Order) -> dict[Anchor, datetime | None]:
    """When each thing a dispute's deadline may count from happened (None: not yet)."""
    return {
        Anchor.OPENING: d.opened_at,
        Anchor.BUYER_MOVE: d.last_buyer_move_at,
        Anchor.SELLER_MOVE: d.last_seller_move_at,
        Anchor.ESCALATION: d.escalated_at,
        Anchor.INFO_REQUEST: d.info_requested_at,
        Anchor.AGREEMENT: d.agreed_at,
        Anchor.RETURN_SHIPPED: d.return_shipped_at,
        Anchor.RETURN_DELIVERED: d.return_delivered_at,
        Anchor.CLOSING: d.closed_at,
        **_order_anchors(order),
    }


def _claim_limit(order: Order, policy: Policy, zone: tzinfo) -> Deadline | None:
    """The marketplace's outer claim limit (``claim_by``) from its own anchors; with none of
    them entered (no estimated delivery, no receipt), the same span from shipping, else
    payment: sooner than the real date, which counts from a later moment, so safe for the
    buyer, and marked assumed."""
    found = _counted_window(order, policy, RuleName.CLAIM_BY, zone, estimate=False)
    resolved = resolve(policy, RuleName.CLAIM_BY)
    if found is not None or resolved is None:
        return found
    known = _order_anchors(order)
    for anchor in (Anchor.SHIPPING, Anchor.PAYMENT):
        start = known[anchor]
        if start is not None:
            return _from_rule(resolved, anchor, start, zone, assumed=True)
    return None


def _within_step_in(found: list[Deadline]) -> list[Deadline]:
    """Past the moment the marketplace takes the dispute over, the other side's clocks stop."""
    step_in = next((x for x in found if x.name == RuleName.NEGOTIATION_ENDS), None)
    if step_in is None:
        return found
    return [x for x in found if x is step_in or x.binds is Binds.BUYER or x.due <= step_in.due]


def _with_entered(found: list[Deadline], d: Dispute, zone: tzinfo) -> list[Deadline]:
    """Each deadline for which the marketplace's own date was entered since its rule's clock
    last started, with that date instead of the rule's."""
    result = []
    for deadline in found:
        entered = d.entered_for(deadline.name)
        start = deadline.rule.start
        if entered is not None and (start is None or start <= entered.at):
            deadline = replace(
                deadline,
                due=entered.due,
                rule=replace(
                    deadline.rule,
                    origin="entered",
                    described=f"entered on {_when(entered.at, zone)} from the marketplace's "
                    f"own page; the rule gives {_when(deadline.due, zone)}: "
                    f"{deadline.rule.described}",
                ),
            )
        result.append(deadline)
    return result


def can_escalate_from(
    d: Dispute,
    order: Order,
    reason: Reason,
    policy: Policy,
    zone: tzinfo,
    deadlines: Sequence[Deadline],
) -> Earliest | None:
    """The earliest moment the marketplace takes an escalation, where it has one.

    While the buyer and the seller talk, it is the latest of the marketplace's published
    waits (eBay: 3 business days; PayPal: 7 days after payment; Amazon: 48 hours after
    contacting the seller, or the seller's answer, and for a missing parcel 3 days after the
    latest estimated delivery). Where none is published, and after an agreement, it is the
    moment the other side's time is up. None when nothing makes the buyer wait."""
    waits: list[Earliest] = []
    published = False
    if d.state in NEGOTIATING:
        after = resolve(policy, RuleName.ESCALATE_AFTER)
        if after is not None:
            published = True
            anchor = after.anchors[0]
            start = _dispute_anchors(d, order).get(anchor)
            if start is not None:
                at, rule = _ref(after, anchor, start, zone)
                answered = d.first_seller_move_at
                if after.rule.waived_by_answer and answered is not None and answered < at:
                    at, rule = (
                        answered,
                        replace(rule, described=f"the seller answered on {_when(answered, zone)}"),
                    )
                waits.append(Earliest("can_escalate_from", at, rule))
        claim = resolve(policy, RuleName.CLAIM_AFTER)
        if claim is not None and (
            reason is Reason.NOT_RECEIVED or not claim.rule.not_received_only
        ):
            published = True
            if order.expected_by is not None:
                at, rule = _ref(claim, Anchor.EXPECTED_DELIVERY, order.expected_by, zone)
                waits.append(Earliest("can_escalate_from", at, rule))
    if not published and d.state in {
        State.AWAITING_SELLER,
        State.RETURN_IN_TRANSIT,
        State.REFUND_PENDING,
    }:
        for deadline in deadlines:
            if deadline.binds is not Binds.BUYER and deadline.if_missed in {
                IfMissed.YOU_MAY_ESCALATE,
                IfMissed.CHASE,
            }:
                waits.append(Earliest("can_escalate_from", deadline.due, deadline.rule))
    return max(waits, key=lambda wait: wait.at) if waits else None


BUYER_MOVES = frozenset(
    {
        Move.OPEN,
        Move.ACCEPT,
        Move.DECLINE,
        Move.COUNTER,
        Move.RETURN_SHIPPED,
        Move.ESCALATE,
    }
)


def timing_warnings(
    deadlines: Sequence[Deadline],
    move: Move,
    at: datetime,
    zone: tzinfo,
    earliest: Earliest | None = None,
) -> list[str]:
    """Warnings for a move the model allows but whose timing looks early or late.

    A buyer move made after one of the buyer's own deadlines passed may come too late for the
    marketplace; a move made before the marketplace's earliest moment for it (``earliest``)
    may come too early, and one after it never draws that warning. Policy numbers are
    estimates, so these are warnings, never refusals (DESIGN.md principle 1).
    """
    warnings = []
    if move in BUYER_MOVES:
        for deadline in deadlines:
            if deadline.binds is Binds.BUYER and deadline.due <= at:
                warnings.append(
                    f"{deadline.name} passed on {_when(deadline.due, zone)}; "
                    "the marketplace may no longer accept this, check its own page"
                )
    if earliest is not None and at < earliest.at:
        what = "escalating" if move is Move.ESCALATE else "opening"
        warnings.append(
            f"{what} before {_when(earliest.at, zone)} ({earliest.rule.described}); "
            "the marketplace may refuse it this early"
        )
    return warnings


def opening_warnings(
    order: Order,
    policy: Policy,
    zone: tzinfo,
    deadlines: Sequence[Deadline],
    earliest: Earliest | None,
) -> list[str]:
    """What a buyer should know as a dispute opens: an order over what the marketplace's
    protection covers, and a marketplace whose earliest escalation comes after its limit."""
    warnings = []
    limit = policy.cover_limit
    if limit is not None and order.currency == limit.currency:
        zones = [zone] if policy.timezone is None else [zone, _zone(policy.timezone)]
        ordered = order.ordered
        cap = min(
            limit.for_order(None if ordered is None else ordered.astimezone(z).date())
            for z in zones
        )
        if order.total > cap:
            warnings.append(
                f"{policy.market} covers orders up to {format_money(cap, limit.currency)}"
                + (
                    f" ({format_money(limit.holiday_amount, limit.currency)} for orders placed "
                    "from 1 November to 31 December)"
                    if limit.holiday_amount is not None and limit.holiday_amount != cap
                    else ""
                )
                + f"; this order's total is {format_money(order.total, order.currency)}, "
                f"so {policy.market} may not refund it itself: the seller still can"
            )
    limits = [x for x in deadlines if x.name in {RuleName.CLAIM_BY, RuleName.ESCALATE_BY}]
    if earliest is not None and limits:
        first = min(limits, key=lambda deadline: deadline.due)
        if earliest.at > first.due:
            warnings.append(
                f"{policy.market} takes an escalation only from {_when(earliest.at, zone)} "
                f"({earliest.rule.described}), after {first.name} ({_when(first.due, zone)}): "
                f"ask {policy.market} now, or the claim may come too late"
            )
    return warnings
