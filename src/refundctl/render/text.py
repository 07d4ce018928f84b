"""One-line summaries a command prints after it records something. Pure strings, no Rich."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from refundctl.money import format_money
from refundctl.render.fmt import clean, tail, when
from refundctl.timeparse import humanize

if TYPE_CHECKING:  # `check` prints its lines without loading the domain model
    from refundctl.deadlines import Deadline
    from refundctl.domain import State
    from refundctl.due import CheckItem
    from refundctl.views import DisputeView


def to_do(
    action: str,
    *,
    binds: str,
    if_missed: str,
    due: datetime,
    now: datetime,
    dispute_id: int | None,
    marketplace: str,
) -> str:
    """What a deadline asks of the buyer now. Once a deadline whose passing closes a case has
    passed, the case is likely closed at the marketplace: say so, and how to record it."""
    if dispute_id is None or binds != "buyer" or if_missed != "you_lose" or due > now:
        return action
    from refundctl.policies import market_name

    return (
        f"missed: {market_name(marketplace)} has likely closed the case; "
        f"if so, record it with 'refundctl resolve {dispute_id} --lost'"
    )


def deadline_to_do(
    deadline: Deadline, now: datetime, dispute_id: int | None, marketplace: str
) -> str:
    return to_do(
        deadline.action,
        binds=str(deadline.binds),
        if_missed=str(deadline.if_missed),
        due=deadline.due,
        now=now,
        dispute_id=dispute_id,
        marketplace=marketplace,
    )


def next_step(
    deadline: Deadline | None,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None = None,
    marketplace: str = "",
) -> str:
    if deadline is None:
        return "No open deadline."
    delta = deadline.due - now
    left = f"overdue {humanize(delta)}" if delta.total_seconds() <= 0 else f"in {humanize(delta)}"
    action = deadline_to_do(deadline, now, dispute_id, marketplace)
    return f"Next: {deadline.name} {left} ({when(deadline.due, zone, now)}): {action}."


def opened(view: DisputeView, now: datetime, zone: tzinfo) -> str:
    record = view.record
    order, currency = record.order, record.order.currency
    item = f" ({clean(record.item)})" if record.item else ""
    return (
        f"Opened dispute {record.id} on order {clean(order.order_no)}{item} ({order.marketplace}), "
        f"asking {format_money(record.dispute.requested, currency)} "
        f"of {format_money(order.total, currency)}.\n"
        + next_step(view.next, now, zone, record.id, order.marketplace)
    )


def moved(before: State, view: DisputeView, now: datetime, zone: tzinfo) -> str:
    from refundctl.domain import State  # loaded by the move itself already

    d = view.record.dispute
    currency = view.record.order.currency
    change = f"{before} → {d.state}" if before is not d.state else f"still {d.state}"
    money = ""
    if d.offer is not None:
        money = f"; offer on the table: {format_money(d.offer, currency)}"
    elif d.refunded is not None and d.state is State.REFUNDED:
        money = f"; received {format_money(d.refunded, currency)}"
    elif d.agreed is not None:
        money = f"; agreed {format_money(d.agreed, currency)}"
    return f"Dispute {view.id}: {change}{money}.\n" + next_step(
        view.next, now, zone, view.id, view.record.order.marketplace
    )


def check_lines(items: Iterable[CheckItem], now: datetime, zone: tzinfo) -> Iterator[str]:
    """One line per deadline, for a terminal or a cron mail; plain text, as the items come."""
    empty = True
    for item in items:
        empty = False
        delta = item.due - now
        left = (
            f"overdue {humanize(delta)}" if delta.total_seconds() <= 0 else f"in {humanize(delta)}"
        )
        who = f"dispute {item.dispute_id}" if item.dispute_id is not None else "order"
        action = to_do(
            item.action,
            binds=item.binds,
            if_missed=item.if_missed,
            due=item.due,
            now=now,
            dispute_id=item.dispute_id,
            marketplace=item.marketplace,
        )
        yield (
            f"{who}: {item.marketplace} {tail(item.order_no)}: {item.name} "
            f"{left} ({when(item.due, zone, now)}): {action}"
        )
    if empty:
        yield "Nothing is due in this window."
