"""What the buyer looks at: disputes and orders joined with their deadlines, most urgent first.

Pure: records from the ledger go in with the policies, the buyer's zone and ``now``; views come
out for the renderers, and ``check`` picks its items here. Urgency for now is simply the next
deadline's due time (overdue first, then soonest); nothing without a deadline sorts last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from refundctl.deadlines import Deadline, dispute_deadlines, next_deadline, order_deadlines
from refundctl.domain import DisputeRecord, Order
from refundctl.policies import BUILT_IN, Policy

PolicyFor = Callable[[str], Policy]


@dataclass(frozen=True, slots=True)
class DisputeView:
    record: DisputeRecord
    policy: Policy
    deadlines: tuple[Deadline, ...]
    next: Deadline | None

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def generic_fallback(self) -> bool:
        return self.record.order.marketplace not in BUILT_IN


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    refundable: Decimal
    policy: Policy
    deadlines: tuple[Deadline, ...]
    next: Deadline | None

    @property
    def generic_fallback(self) -> bool:
        return self.order.marketplace not in BUILT_IN


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One deadline that needs attention: overdue, or due within the window."""

    kind: str  # "dispute" or "order"
    dispute_id: int | None
    order: Order
    deadline: Deadline


def dispute_view(record: DisputeRecord, policy_for: PolicyFor, zone: tzinfo) -> DisputeView:
    policy = policy_for(record.order.marketplace)
    deadlines = tuple(dispute_deadlines(record.dispute, policy, zone))
    return DisputeView(record, policy, deadlines, next_deadline(deadlines))


def order_view(
    order: Order,
    refundable: Decimal,
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
    *,
    disputed: bool = False,
) -> OrderView:
    """An order's windows. Once a received order's window closes it is history; an order that
    never arrived, and was never disputed, keeps its passed deadline on show: it still needs
    the buyer to record its arrival or open a dispute."""
    policy = policy_for(order.marketplace)
    keep_overdue = order.received is None and not disputed
    deadlines = tuple(
        d for d in order_deadlines(order, policy, zone) if keep_overdue or not d.overdue(now)
    )
    return OrderView(order, refundable, policy, deadlines, next_deadline(deadlines))


def _due_key(deadline: Deadline | None) -> tuple[int, datetime]:
    if deadline is None:
        return (1, datetime.max.replace(tzinfo=None))
    return (0, deadline.due.replace(tzinfo=None))


def by_urgency(views: Iterable[DisputeView]) -> list[DisputeView]:
    return sorted(views, key=lambda v: (_due_key(v.next), v.id))


def orders_by_urgency(views: Iterable[OrderView]) -> list[OrderView]:
    return sorted(views, key=lambda v: (_due_key(v.next), v.order.id))


def check_items(
    disputes: Sequence[DisputeView],
    orders: Sequence[OrderView],
    now: datetime,
    within: timedelta,
) -> list[CheckItem]:
    """Every open deadline that is overdue or due before ``now + within``, soonest first."""
    horizon = now + within
    items = [
        CheckItem("dispute", view.id, view.record.order, deadline)
        for view in disputes
        for deadline in view.deadlines
        if deadline.due <= horizon
    ]
    items += [
        CheckItem("order", None, view.order, deadline)
        for view in orders
        for deadline in view.deadlines
        if deadline.due <= horizon
    ]
    return sorted(items, key=lambda item: (item.deadline.due, item.dispute_id or 0))
