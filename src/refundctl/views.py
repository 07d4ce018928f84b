"""What the buyer looks at: disputes and orders joined with their deadlines, most urgent first.

Pure: records from the ledger go in with the policies, the buyer's zone and ``now``; views come
out for the renderers, and ``check`` picks its items here when it cannot take them from the
ledger's stored deadlines.

Urgency (docs/urgency.md) sorts by, in order: overdue deadlines that bind the buyer, then
overdue ones that bind the other side (the buyer may act now), then the rest; within those,
the number of whole days left (overdue counts as zero); then the money at stake, largest
first; then the due time. Nothing without a deadline sorts last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import NamedTuple

from refundctl.deadline_types import REMEDY_DEADLINES
from refundctl.deadlines import (
    Deadline,
    Earliest,
    can_escalate_from,
    can_open_from,
    dispute_deadlines,
    live,
    next_deadline,
    order_deadlines,
    urgency,
)
from refundctl.domain import State
from refundctl.domain import at_stake as domain_at_stake
from refundctl.due import CheckItem
from refundctl.policies import GENERIC, Binds, Policy
from refundctl.records import DisputeRecord, OpenOrder, Order
from refundctl.remedies import dispute_policy
from refundctl.timeparse import iso

PolicyFor = Callable[[str], Policy]


@dataclass(frozen=True, slots=True)
class DisputeView:
    record: DisputeRecord
    policy: Policy
    # The deadlines still worth acting on (``deadlines.live``): once a case has likely closed
    # at the marketplace, only the deadline that closed it.
    deadlines: tuple[Deadline, ...]
    next: Deadline | None
    zone: tzinfo
    # Every deadline the rules give, before ``live`` chose what to show.
    computed: tuple[Deadline, ...]
    # A deadline that loses the case has passed: the marketplace has likely closed it.
    likely_closed: bool = False

    def can_escalate_from(self) -> Earliest | None:
        """Computed when asked: a listing does not show it, and it may need the holiday
        tables (business days), which a listing would otherwise never load. Nothing once
        the case has likely closed: there is no escalating it any more."""
        if self.likely_closed:
            return None
        r = self.record
        return can_escalate_from(
            r.dispute, r.order, r.reason, self.policy, self.zone, self.computed
        )

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def generic_fallback(self) -> bool:
        return self.policy.name == GENERIC.name


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    refundable: Decimal
    policy: Policy
    deadlines: tuple[Deadline, ...]
    next: Deadline | None
    # What is refundable and under no active dispute: what the order's window protects, and
    # the money its urgency weighs (a dispute on one item has its own rows).
    undisputed: Decimal
    can_open_from: Earliest | None = None

    @property
    def generic_fallback(self) -> bool:
        return self.policy.name == GENERIC.name


class DisputeLine(NamedTuple):
    """A dispute as one line of an export: its stored state and the deadline shown next,
    read without replaying it or computing its deadlines (``Ledger.each_dispute_line``)."""

    id: int
    marketplace: str
    order_no: str
    item: str | None
    reason: str
    state: State
    currency: str
    requested: Decimal
    offer: Decimal | None
    agreed: Decimal | None
    refunded: Decimal | None
    credit: bool
    case_ref: str | None
    opened: datetime
    description: str | None
    next_name: str | None
    next_due: datetime | None


def dispute_line(view: DisputeView) -> DisputeLine:
    """The line of a dispute computed in full: what the stored one must equal."""
    r, d = view.record, view.record.dispute
    return DisputeLine(
        r.id,
        r.order.marketplace,
        r.order.order_no,
        r.item,
        str(r.reason),
        d.state,
        r.order.currency,
        d.requested,
        d.offer,
        d.agreed,
        d.refunded,
        d.credit,
        r.case_ref,
        d.opened_at,
        r.description,
        None if view.next is None else view.next.name,
        None if view.next is None else view.next.due,
    )


def dispute_view(
    record: DisputeRecord,
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
    stored: Sequence[Deadline] | None = None,
) -> DisputeView:
    """A dispute with its deadlines as they stand at ``now``: ``stored`` ones from the
    ledger's current index, or computed here."""
    policy = dispute_policy(record.via, record.order.marketplace, policy_for)
    d = record.dispute
    found = record_deadlines(record, policy, zone) if stored is None else stored
    shown = live(found, now, active=d.active)
    closed = d.active and any(x.lapsed(now) for x in shown)
    return DisputeView(record, policy, shown, next_deadline(shown, now), zone, tuple(found), closed)


def order_view(
    standing: OpenOrder,
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
    stored: Sequence[Deadline] | None = None,
) -> OrderView:
    """An order's windows (``stored`` ones from the ledger's current index, or computed
    here). Once a received order's window closes it is history; an order that never arrived,
    and was never disputed, keeps its passed deadline on show: it still needs the buyer to
    record its arrival or open a dispute."""
    order = standing.order
    policy = policy_for(order.marketplace)
    keep_overdue = order.received is None and not standing.disputed
    found = (
        order_deadlines(order, policy, zone, remedy=not standing.disputed)
        if stored is None
        else stored
    )
    # A remedy's window that has passed is history (deadline_types.REMEDY_DEADLINES).
    deadlines = tuple(
        d for d in found if not d.overdue(now) or (keep_overdue and d.name not in REMEDY_DEADLINES)
    )
    return OrderView(
        order,
        standing.refundable,
        policy,
        deadlines,
        next_deadline(deadlines, now),
        standing.undisputed,
        can_open_from(order, policy, zone),
    )


def record_deadlines(record: DisputeRecord, policy: Policy, zone: tzinfo) -> list[Deadline]:
    """A dispute's deadlines by ``policy`` (``remedies.dispute_policy`` chose it), with the
    remedies its order's other disputes are using."""
    return dispute_deadlines(
        record.dispute,
        record.order,
        record.reason,
        policy,
        zone,
        via=record.via,
        used=record.remedies_used,
    )


def at_stake(record: DisputeRecord) -> Decimal:
    """What the dispute is worth to the buyer now: the agreed amount, else the ask."""
    return domain_at_stake(record.dispute)


def by_urgency(views: Iterable[DisputeView], now: datetime) -> list[DisputeView]:
    return sorted(views, key=lambda v: (urgency(v.next, at_stake(v.record), now), v.id))


def orders_by_urgency(views: Iterable[OrderView], now: datetime) -> list[OrderView]:
    return sorted(views, key=lambda v: (urgency(v.next, v.undisputed, now), v.order.id))


def needs_you(deadline: Deadline, now: datetime, horizon: datetime) -> bool:
    """What ``check`` exits 1 for (docs/urgency.md): a deadline of the buyer's overdue or due
    by ``horizon``, or one of the other side's that has passed (the buyer may act now)."""
    if deadline.binds is Binds.BUYER:
        return deadline.due <= horizon
    return deadline.due <= now


def check_items(
    disputes: Sequence[DisputeView],
    orders: Sequence[OrderView],
    now: datetime,
    within: timedelta,
    *,
    everything: bool = False,
) -> list[CheckItem]:
    """Every open deadline that needs the buyer by ``now + within`` (``needs_you``), most
    urgent first; with ``everything``, the other side's still running within it too."""
    horizon = now + within

    def shown(deadline: Deadline) -> bool:
        return deadline.due <= horizon and (everything or needs_you(deadline, now, horizon))

    ranked = [
        (
            urgency(deadline, at_stake(view.record), now),
            check_item("dispute", view.id, view.record.order, deadline),
        )
        for view in disputes
        for deadline in view.deadlines
        if shown(deadline)
    ]
    ranked += [
        (urgency(deadline, view.undisputed, now), check_item("order", None, view.order, deadline))
        for view in orders
        for deadline in view.deadlines
        if shown(deadline)
    ]
    ranked.sort(key=lambda pair: (pair[0], pair[1].dispute_id or 0, pair[1].order_id))
    return [item for _, item in ranked]


def check_item(kind: str, dispute_id: int | None, order: Order, deadline: Deadline) -> CheckItem:
    return CheckItem(
        kind,
        dispute_id,
        order.id or 0,
        order.order_no,
        order.marketplace,
        deadline.name,
        int(deadline.due.timestamp()),  # whole seconds, as every time in the ledger
        iso(deadline.due),
        str(deadline.binds),
        deadline.action,
        deadline.rule.json_text(),
        str(deadline.if_missed),
    )
