"""Which deadlines are open for an order or a dispute, when each falls due, and why.

Pure: takes the order, the dispute, the policy and the buyer's zone; never reads the clock
(``overdue`` takes ``now``). Every deadline carries the rule it came from, so the tables and JSON
can explain it. DESIGN.md principle 2 lives in ``_due``: a deadline the buyer must meet is the
earlier of the readings in the buyer's and the marketplace's zones, an other-side one the later.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import NamedTuple

from refundctl.domain import Dispute, Move, Order, State
from refundctl.policies import (
    GENERIC,
    RULE_KINDS,
    Anchor,
    Binds,
    Policy,
    ResolvedRule,
    RuleName,
    resolve,
)
from refundctl.timeparse import (
    Duration,
    Unit,
    add,
    iso,
    zone_named,
)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a due time came from: the policy's rule and the moment it counts from."""

    policy: str
    duration: str | None
    counts_from: str
    start: datetime | None
    assumed: bool
    source: str | None
    described: str  # "receipt 2026-11-10 00:00 PST + 15 calendar days", for people
    origin: str = "built-in"  # built-in, config, assumed, or order (the entered countdown)

    def as_json(self) -> dict[str, object]:
        """The rule as the JSON contract shows it; the deadline index stores this same text."""
        return {
            "policy": self.policy,
            "duration": self.duration,
            "counts_from": self.counts_from,
            "from": None if self.start is None else iso(self.start),
            "assumed": self.assumed,
            "source": self.source,
            "explanation": self.described,
            "origin": self.origin,
        }

    def json_text(self) -> str:
        """``as_json`` as JSON text. Put together from a frame kept per rule and the two
        values that differ from order to order, as an import computes a rule for every order:
        the very text the encoder gives (tested), three times quicker."""
        head, middle, tail = _rule_frame(
            self.policy, self.duration, self.counts_from, self.assumed, self.source, self.origin
        )
        start = "null" if self.start is None else f'"{iso(self.start)}"'
        return f"{head}{start}{middle}{_json_string(self.described)}{tail}"

    @classmethod
    def from_json(cls, text: str) -> RuleRef:
        """The rule back from ``json_text``, as the deadline index stores it."""
        data = json.loads(text)
        start = data["from"]
        return cls(
            policy=data["policy"],
            duration=data["duration"],
            counts_from=data["counts_from"],
            start=None if start is None else datetime.fromisoformat(start),
            assumed=data["assumed"],
            source=data["source"],
            described=data["explanation"],
            origin=data["origin"],
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    name: str
    due: datetime
    binds: Binds
    action: str
    rule: RuleRef

    def overdue(self, now: datetime) -> bool:
        return self.due <= now


# How the JSON encoder writes a string when it keeps non-ASCII characters as they are.
_json_string = json.encoder.encode_basestring


def _json_value(value: str | None) -> str:
    return "null" if value is None else _json_string(value)


@functools.lru_cache(maxsize=256)
def _rule_frame(
    policy: str,
    duration: str | None,
    counts_from: str,
    assumed: bool,
    source: str | None,
    origin: str,
) -> tuple[str, str, str]:
    """A rule's JSON text around its start and its explanation, which differ per order."""
    head = (
        f'{{"policy": {_json_value(policy)}, "duration": {_json_value(duration)}, '
        f'"counts_from": {_json_value(counts_from)}, "from": '
    )
    middle = (
        f', "assumed": {"true" if assumed else "false"}, "source": {_json_value(source)}, '
        '"explanation": '
    )
    return head, middle, f', "origin": {_json_value(origin)}}}'


class _Fixed(NamedTuple):
    """What a resolved rule gives every deadline counted with it, worked out once."""

    resolved: ResolvedRule  # kept alive: its id is the key
    duration: Duration
    binds: Binds
    action: str
    duration_text: str  # "15d"
    wording: str  # "15 calendar days", and which holidays are skipped
    origin: str
    zone: tzinfo | None  # the marketplace's own zone, if it has one


def _fixed(resolved: ResolvedRule) -> _Fixed:
    found = _FIXED.get(id(resolved))
    if found is None or found.resolved is not resolved:
        kind, duration = resolved.kind, resolved.duration
        wording = duration.describe()
        if duration.unit is Unit.BUSINESS_DAYS and resolved.holidays:
            wording += f" (weekends and {resolved.holidays} public holidays skipped)"
        found = _Fixed(
            resolved,
            duration,
            kind.binds,
            kind.action,
            str(duration),
            wording,
            str(resolved.origin),
            None if resolved.timezone is None else _zone(resolved.timezone),
        )
        _FIXED[id(resolved)] = found
    return found


# Resolved rules are frozen, and few: one per policy and rule in use (see _resolved).
_FIXED: dict[int, _Fixed] = {}


def _due(fixed: _Fixed, start: datetime, buyer_zone: tzinfo) -> tuple[datetime, tzinfo]:
    """The safe reading of the rule and the zone it was counted in."""
    holidays = fixed.resolved.holidays
    due = add(start, fixed.duration, buyer_zone, holidays)
    if fixed.zone is None:
        return due, buyer_zone
    other = add(start, fixed.duration, fixed.zone, holidays)
    # The buyer's own reading wins a tie, as the first of min() and max() would.
    if other < due if fixed.binds is Binds.BUYER else other > due:
        return other, fixed.zone
    return due, buyer_zone


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return zone_named(name)


def _resolved(policy: Policy, name: RuleName) -> tuple[ResolvedRule | None, ResolvedRule | None]:
    """The rule in effect for an order's window, and generic's wider estimate in the
    policy's own zone and holidays; worked out once per policy, not once per order."""
    key = (id(policy), name)
    found = _RESOLVED.get(key)
    if found is None or found[0] is not policy:
        resolved = resolve(policy, name)
        fallback = None
        if policy is not GENERIC:
            generic = resolve(GENERIC, name)
            assert generic is not None
            fallback = replace(
                generic, policy=policy.name, timezone=policy.timezone, holidays=policy.holidays
            )
        found = (policy, resolved, fallback)
        _RESOLVED[key] = found
    return found[1], found[2]


# Policies are frozen; the entry keeps its policy alive, so its id cannot be reused.
_RESOLVED: dict[tuple[int, RuleName], tuple[Policy, ResolvedRule | None, ResolvedRule | None]] = {}


def _from_rule(
    resolved: ResolvedRule,
    anchor: Anchor,
    start: datetime,
    buyer_zone: tzinfo,
    *,
    assumed: bool = False,
) -> Deadline:
    fixed = _fixed(resolved)
    due, counted_in = _due(fixed, start, buyer_zone)
    return Deadline(
        name=resolved.name,
        due=due,
        binds=fixed.binds,
        action=fixed.action,
        rule=RuleRef(
            policy=resolved.policy,
            duration=fixed.duration_text,
            counts_from=str(anchor),
            start=start,
            assumed=resolved.assumed or assumed,
            source=resolved.source,
            described=f"{anchor} {_when(start, counted_in)} + {fixed.wording}",
            origin=fixed.origin,
        ),
    )


def _rule_deadline(
    policy: Policy, name: RuleName, anchor: Anchor, start: datetime | None, zone: tzinfo
) -> list[Deadline]:
    """The deadline of one rule, or none when the step is absent or its anchor unknown."""
    resolved = resolve(policy, name)
    if resolved is None or start is None:
        return []
    return [_from_rule(resolved, anchor, start, zone)]


def _entered(order: Order, name: RuleName, policy: Policy) -> Deadline:
    """The marketplace's own countdown, entered by the buyer: the truth for this order."""
    assert order.protection_ends is not None
    kind = RULE_KINDS[name]
    return Deadline(
        name=name,
        due=order.protection_ends,
        binds=kind.binds,
        action=kind.action,
        rule=RuleRef(
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


def order_deadlines(order: Order, policy: Policy, zone: tzinfo) -> list[Deadline]:
    """An order's open windows while it has no active dispute."""
    name = RuleName.DISPUTE_WINDOW if order.received else RuleName.PROTECTION_ENDS
    if order.protection_ends is not None:
        return [_entered(order, name, policy)]
    known = {
        Anchor.RECEIPT: order.received,
        Anchor.EXPECTED_DELIVERY: order.expected_by,
        Anchor.SHIPPING: order.shipped,
        Anchor.PAYMENT: order.ordered,
    }
    resolved, fallback = _resolved(policy, name)
    if resolved is None:
        return []
    # The policy's own anchors first; without any of them, generic's wider estimate.
    for candidate in (resolved, fallback):
        if candidate is None:
            continue
        for anchor in candidate.anchors:
            start = known.get(anchor)
            if start is None:
                continue
            # Counted from a stand-in for the promised delivery date: an estimate.
            stand_in = candidate is not resolved or anchor is not candidate.anchors[0]
            return [_from_rule(candidate, anchor, start, zone, assumed=stand_in)]
    return []


def dispute_deadlines(d: Dispute, policy: Policy, zone: tzinfo) -> list[Deadline]:
    """Every open deadline of a dispute in its current state, earliest first."""
    found: list[Deadline] = []

    def rule(name: RuleName, anchor: Anchor, start: datetime | None) -> None:
        found.extend(_rule_deadline(policy, name, anchor, start, zone))

    match d.state:
        case State.AWAITING_SELLER:
            rule(RuleName.SELLER_RESPONSE, Anchor.BUYER_MOVE, d.last_buyer_move_at)
            rule(RuleName.ESCALATE_BY, Anchor.OPENING, d.opened_at)
        case State.AWAITING_BUYER:
            rule(RuleName.BUYER_RESPONSE, Anchor.SELLER_MOVE, d.last_seller_move_at)
            rule(RuleName.ESCALATE_BY, Anchor.OPENING, d.opened_at)
        case State.ESCALATED:
            rule(RuleName.PLATFORM_DECISION, Anchor.ESCALATION, d.escalated_at)
            rule(RuleName.INFO_DUE, Anchor.INFO_REQUEST, d.info_requested_at)
        case State.RETURN_TO_SHIP:
            rule(RuleName.RETURN_SHIP_BY, Anchor.AGREEMENT, d.agreed_at)
        case State.RETURN_IN_TRANSIT:
            rule(RuleName.RETURN_REFUND_DUE, Anchor.RETURN_DELIVERED, d.return_delivered_at)
        case State.REFUND_PENDING:
            rule(RuleName.REFUND_EXPECTED, Anchor.AGREEMENT, d.agreed_at)
        case State.LOST:
            # Only a platform's decision can be appealed, and only once.
            if d.rejected_by_platform and not d.appealed:
                rule(RuleName.APPEAL_BY, Anchor.CLOSING, d.closed_at)
        case State.REFUNDED | State.WITHDRAWN | State.CANCELLED:
            pass
    return sorted(found, key=lambda deadline: deadline.due)


def next_deadline(deadlines: Iterable[Deadline]) -> Deadline | None:
    """The earliest deadline that binds the buyer, else the earliest one."""
    ordered = sorted(deadlines, key=lambda deadline: deadline.due)
    for deadline in ordered:
        if deadline.binds is Binds.BUYER:
            return deadline
    return ordered[0] if ordered else None


def _when(moment: datetime, zone: tzinfo) -> str:
    """``2026-11-10 00:00 PST``: what ``%Y-%m-%d %H:%M %Z`` gives, without strftime, which
    takes twice as long, for every deadline explained."""
    local = moment.astimezone(zone)
    return f"{local.isoformat(' ', 'minutes')[:16]} {local.tzname() or ''}".rstrip()


def timing_warnings(
    deadlines: Sequence[Deadline], move: Move, at: datetime, zone: tzinfo
) -> list[str]:
    """Warnings for a move the model allows but whose timing looks early or late.

    A buyer move made after one of the buyer's own deadlines passed may come too late for the
    marketplace; an escalation made before the other side's time is up may come too early.
    Policy numbers are estimates, so these are warnings, never refusals (DESIGN.md principle 1).
    """
    warnings = []
    buyer_moves = {
        Move.OPEN,
        Move.ACCEPT,
        Move.DECLINE,
        Move.COUNTER,
        Move.RETURN_SHIPPED,
        Move.ESCALATE,
    }
    for deadline in deadlines:
        if move in buyer_moves and deadline.binds is Binds.BUYER and deadline.due <= at:
            warnings.append(
                f"{deadline.name} passed on {_when(deadline.due, zone)}; "
                "the marketplace may no longer accept this, check its own page"
            )
        if move is Move.ESCALATE and deadline.binds is not Binds.BUYER and deadline.due > at:
            warnings.append(
                f"escalating before {deadline.name} ({_when(deadline.due, zone)}); "
                "the marketplace may refuse an early escalation"
            )
    return warnings
