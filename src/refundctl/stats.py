"""What disputes were worth, and each seller's record: pure arithmetic over closed cases.

The ledger hands over one small ``Case`` per dispute (read from the state it stores beside
each, never replayed); ``tally`` adds them up per currency (amounts in different currencies are
never summed) and, with a grouping, per marketplace, seller, reason or month. ``seller_record``
is the one line ``open`` and ``status DISPUTE`` show about a seller's earlier disputes.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from refundctl.terms import State

# The ways a dispute ends, in the order every view lists them.
OUTCOMES = (State.REFUNDED, State.LOST, State.WITHDRAWN, State.CANCELLED)
_SECONDS_PER_DAY = 86400


class GroupBy(StrEnum):
    MARKETPLACE = "marketplace"
    SELLER = "seller"
    REASON = "reason"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Case:
    """One dispute as the figures see it."""

    marketplace: str
    seller: str | None
    reason: str
    currency: str
    state: State
    requested: Decimal  # the last ask
    refunded: Decimal | None  # what came back, once it did
    credit: bool  # it came back as store credit
    opened: datetime
    closed: datetime | None
    escalated: bool
    via: str | None = None  # the payment rail of a chargeback or PayPal claim


def seller_key(name: str | None) -> str:
    """A seller's name as it is matched: case and spacing do not tell two sellers apart."""
    return " ".join((name or "").split()).casefold()


@dataclass(slots=True)
class Figures:
    """The figures of one currency (of one group)."""

    disputes: int = 0
    by_outcome: dict[State, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    active: int = 0
    at_stake: Decimal = Decimal(0)  # the current ask of the active disputes
    requested: Decimal = Decimal(0)  # the last ask of the closed disputes
    refunds: Decimal = Decimal(0)
    store_credit: Decimal = Decimal(0)
    escalated: int = 0
    escalated_outcomes: dict[State, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    escalated_active: int = 0
    days_to_close: list[float] = field(default_factory=list)

    @property
    def recovered(self) -> Decimal:
        return self.refunds + self.store_credit

    @property
    def recovery_rate(self) -> Decimal | None:
        """Recovered over asked, on closed disputes; None when nothing was asked."""
        if self.requested <= 0:
            return None
        return (self.recovered / self.requested).quantize(Decimal("0.0001"))

    @property
    def median_days_to_close(self) -> float | None:
        if not self.days_to_close:
            return None
        return round(statistics.median(self.days_to_close), 1)

    def count(self, c: Count) -> None:
        self.disputes += c.n
        if c.escalated:
            self.escalated += c.n
        if c.state not in OUTCOMES:
            self.active += c.n
            self.at_stake += c.requested
            if c.escalated:
                self.escalated_active += c.n
            return
        self.by_outcome[c.state] += c.n
        if c.escalated:
            self.escalated_outcomes[c.state] += c.n
        self.requested += c.requested
        if c.credit:
            self.store_credit += c.refunded
        else:
            self.refunds += c.refunded


class Count(NamedTuple):
    """Disputes alike in their group, currency, state, escalation and credit, counted
    together: what SQLite's GROUP BY gives, or one case."""

    key: tuple[str, ...]  # the group's key (empty without a grouping)
    shown: str  # the group's name as shown
    marketplace: str | None  # a seller's marketplace
    currency: str
    state: State
    escalated: bool
    credit: bool
    n: int
    requested: Decimal  # the last asks, added up
    refunded: Decimal  # what came back, added up


class Closed(NamedTuple):
    """How long one closed dispute took, in its group and currency."""

    key: tuple[str, ...]
    currency: str
    days: float


@dataclass(slots=True)
class Group:
    """One marketplace, seller, reason or month, with its figures per currency."""

    key: str
    marketplace: str | None = None  # a seller's marketplace (sellers are matched within one)
    currencies: dict[str, Figures] = field(default_factory=dict)

    @property
    def disputes(self) -> int:
        return sum(f.disputes for f in self.currencies.values())

    def figures(self, currency: str) -> Figures:
        return self.currencies.setdefault(currency, Figures())


@dataclass(slots=True)
class Stats:
    """The whole ledger's figures per currency, and the groups asked for, largest first."""

    currencies: dict[str, Figures]
    by: GroupBy | None
    groups: list[Group]

    @property
    def disputes(self) -> int:
        return sum(f.disputes for f in self.currencies.values())


def _group_of(case: Case, by: GroupBy, zone: tzinfo) -> tuple[tuple[str, ...], str, str | None]:
    """The key two cases share in a group, the name shown for it, and its marketplace."""
    match by:
        case GroupBy.MARKETPLACE:
            # A chargeback or PayPal claim counts under its rail: it is no marketplace's case.
            where = case.via or case.marketplace
            return (where,), where, None
        case GroupBy.SELLER:
            shown = " ".join((case.seller or "").split()) or "(no seller)"
            return (case.marketplace, seller_key(case.seller)), shown, case.marketplace
        case GroupBy.REASON:
            return (case.reason,), case.reason, None
        case GroupBy.MONTH:
            month = f"{case.opened.astimezone(zone):%Y-%m}"
            return (month,), month, None


def _rank(group: Group, by: GroupBy | None) -> tuple[object, ...]:
    if by is GroupBy.MONTH:
        return (group.key,)  # months read best in time order
    # Largest first; sellers with the same count, the worst record first.
    rates = [f.recovery_rate for f in group.currencies.values() if f.recovery_rate is not None]
    worst = min(rates) if rates else Decimal(2)
    return (-group.disputes, worst, group.key.casefold(), group.marketplace or "")


def tally(cases: Iterable[Case], by: GroupBy | None = None, zone: tzinfo = UTC) -> Stats:
    """Add the cases up per currency, and per group when ``by`` is given (a month is the
    month the dispute was opened in, in ``zone``)."""
    counts: list[Count] = []
    closed: list[Closed] = []
    for case in cases:
        key, shown, marketplace = _group_of(case, by, zone) if by is not None else ((), "", None)
        counts.append(
            Count(
                key,
                shown,
                marketplace,
                case.currency,
                case.state,
                case.escalated,
                case.credit,
                1,
                case.requested,
                case.refunded or Decimal(0),
            )
        )
        if case.state in OUTCOMES and case.closed is not None:
            seconds = max((case.closed - case.opened).total_seconds(), 0)
            closed.append(Closed(key, case.currency, seconds / _SECONDS_PER_DAY))
    return tally_counts(counts, closed, by)


def tally_counts(counts: Iterable[Count], closed: Iterable[Closed], by: GroupBy | None) -> Stats:
    """The figures from disputes counted together (``Count``) and the time each closed one
    took: per currency, and per group when ``by`` is given. A group is shown by the name of
    its first count (the ledger gives them in the order the disputes were opened)."""
    currencies: dict[str, Figures] = {}
    groups: dict[tuple[str, ...], Group] = {}
    for c in counts:
        currencies.setdefault(c.currency, Figures()).count(c)
        if by is not None:
            group = groups.get(c.key)
            if group is None:
                group = groups[c.key] = Group(c.shown, c.marketplace)
            group.figures(c.currency).count(c)
    for done in closed:
        currencies[done.currency].days_to_close.append(done.days)
        if by is not None:
            groups[done.key].figures(done.currency).days_to_close.append(done.days)
    ranked = sorted(groups.values(), key=lambda g: _rank(g, by)) if by is not None else []
    return Stats(dict(sorted(currencies.items())), by, ranked)


def seller_record(seller: str, cases: Iterable[Case]) -> str | None:
    """One line on a seller's earlier disputes ("Best Store: 2 of 3 earlier disputes refunded,
    median 9 days; 1 lost after escalation"); None when there were none."""
    earlier = list(cases)
    if not earlier:
        return None
    refunded = sum(c.state is State.REFUNDED for c in earlier)
    days = [
        (c.closed - c.opened).total_seconds() / _SECONDS_PER_DAY
        for c in earlier
        if c.state in OUTCOMES and c.closed is not None
    ]
    n = len(earlier)
    line = f"{seller}: {refunded} of {n} earlier dispute{'s' if n != 1 else ''} refunded"
    if days:
        line += f", median {_days(statistics.median(days))}"
    parts = []
    lost_escalated = sum(c.state is State.LOST and c.escalated for c in earlier)
    lost_plain = sum(c.state is State.LOST and not c.escalated for c in earlier)
    if lost_escalated:
        parts.append(f"{lost_escalated} lost after escalation")
    if lost_plain:
        parts.append(f"{lost_plain} lost without escalation")
    ended = sum(c.state in (State.WITHDRAWN, State.CANCELLED) for c in earlier)
    if ended:
        parts.append(f"{ended} withdrawn or cancelled")
    active = sum(c.state not in OUTCOMES for c in earlier)
    if active:
        parts.append(f"{active} still open")
    return "; ".join([line, *parts])


def _days(value: float) -> str:
    whole = round(value)
    if whole == 0 and value > 0:
        return "under a day"
    return f"{whole} day{'s' if whole != 1 else ''}"
