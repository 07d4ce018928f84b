"""The values deadlines.py computes, and how they read: a ``Deadline``, the ``Earliest`` moment
the marketplace lets the buyer act, the ``RuleRef`` each carries (with its JSON, as the output
shows it and the deadline index stores it), and how deadlines rank at a given moment
(``urgency``, ``live``, ``next_deadline``). Nothing here needs the dispute model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from refundctl.policies import Binds, IfMissed
from refundctl.timeparse import iso

# One encoder, made once: json.dumps with options builds a new one for every call, and the
# deadline index writes a rule's JSON for every deadline it stores.
_rule_json = json.JSONEncoder(ensure_ascii=False).encode

# The deadlines of a remedy beyond the marketplace (a chargeback, a PayPal claim): missing one
# loses that remedy, never the marketplace's case, so none of them closes a case.
REMEDY_DEADLINES = frozenset({"chargeback_by", "paypal_claim_by"})


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
    # built-in, config, assumed, order (the order's entered countdown) or entered (`due`)
    origin: str = "built-in"

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
        """``as_json`` as JSON text, exactly as the encoder writes it (tested)."""
        return _rule_json(self.as_json())

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
    if_missed: IfMissed

    def overdue(self, now: datetime) -> bool:
        return self.due <= now

    @property
    def closes_case(self) -> bool:
        """Passing it closes the case against the buyer. Only a published rule (built-in or
        the buyer's config) says so: an assumed deadline warns early but never declares a
        case lost, since the marketplace may have no such limit at all."""
        return (
            self.binds is Binds.BUYER
            and self.if_missed is IfMissed.YOU_LOSE
            and not self.rule.assumed
            and self.name not in REMEDY_DEADLINES
        )

    def lapsed(self, now: datetime) -> bool:
        """A window or case of the buyer's that has closed against them."""
        return self.closes_case and self.due <= now


@dataclass(frozen=True, slots=True)
class Earliest:
    """The earliest moment the marketplace lets the buyer act: ``can_escalate_from`` on a
    dispute, ``can_open_from`` on an order. Acting before it draws a warning, never after."""

    name: str
    at: datetime
    rule: RuleRef


def live(deadlines: Iterable[Deadline], now: datetime, *, active: bool) -> tuple[Deadline, ...]:
    """The deadlines still worth acting on at ``now``.

    Once a deadline passes whose passing closes the case against the buyer, the case is
    likely closed at the marketplace: that deadline alone is shown (to say so), not the
    others as if they were still alternatives; beside it, the remedies beyond the
    marketplace, which its closing leaves open (until they pass). A closed dispute shows only
    what has not passed yet (an appeal window, a remedy's window)."""
    kept = tuple(deadlines)
    if not active:
        return tuple(x for x in kept if not x.overdue(now))
    # A remedy's window that has passed is history, while the case runs too.
    kept = tuple(x for x in kept if x.name not in REMEDY_DEADLINES or not x.overdue(now))
    lapsed = [x for x in kept if x.lapsed(now)]
    if lapsed:
        first = min(lapsed, key=lambda deadline: deadline.due)
        return tuple(x for x in kept if x is first or x.name in REMEDY_DEADLINES)
    return kept


Urgency = tuple[int, int, Decimal, datetime]
_LAST: Urgency = (3, 0, Decimal(0), datetime.max.replace(tzinfo=UTC))


def urgency(deadline: Deadline | None, at_stake: Decimal, now: datetime) -> Urgency:
    """The sort key of docs/urgency.md, smaller is more urgent: an overdue deadline of the
    buyer's, then one of the other side's (the buyer may act now), then by whole days left;
    then the money at stake, largest first; then the due time. Nothing due sorts last."""
    if deadline is None:
        return _LAST
    left = (deadline.due - now).total_seconds()
    if left <= 0:
        group = 0 if deadline.binds is Binds.BUYER else 1
        return (group, 0, -at_stake, deadline.due)
    return (2, int(left // 86400), -at_stake, deadline.due)


def next_deadline(deadlines: Iterable[Deadline], now: datetime) -> Deadline | None:
    """The most urgent deadline at ``now`` (``urgency``): what a dispute or an order is
    ranked and shown by, in ``status`` as in ``check``. So a seller's passed deadline (you
    may escalate now) comes before a deadline of yours weeks away."""
    return min(
        deadlines,
        key=lambda deadline: urgency(deadline, Decimal(0), now),
        default=None,
    )
