"""One-line summaries a command prints after it records something. Pure strings, no Rich."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from refundctl.money import format_money
from refundctl.render.fmt import clean, deadline_words, due_when, last_day, state_words
from refundctl.timeparse import humanize

if TYPE_CHECKING:  # `check` prints its lines without loading the domain model
    from refundctl.deadlines import Deadline
    from refundctl.domain import State
    from refundctl.due import CheckItem
    from refundctl.views import DisputeView


def to_do(
    action: str,
    *,
    name: str,
    binds: str,
    if_missed: str,
    assumed: bool,
    due: datetime,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None,
    order_no: str,
    marketplace: str,
) -> str:
    """What a deadline asks of the buyer now. Before it passes, its action; once passed, what
    its passing means and the command that records or follows it: a case the marketplace has
    likely closed, the marketplace stepping in by itself, an escalation the buyer may make,
    someone to chase, an order's window missed. An assumed limit closes nothing for sure:
    say where the real date is."""
    if due > now:
        return action
    from refundctl.deadline_types import REMEDY_DEADLINES
    from refundctl.policies import RULE_KINDS, RuleName, market_name

    if name in REMEDY_DEADLINES:
        rail = "PayPal's" if name == "paypal_claim_by" else "the card network's"
        return (
            f"missed on {last_day(due, zone, now)}: {rail} window has likely closed; "
            "your card issuer (or PayPal) may still take it: ask them"
        )
    market = market_name(marketplace)
    if dispute_id is None:
        return _order_missed(name, assumed, due, now, zone, order_no, market)
    kind = RULE_KINDS[RuleName(name)]
    match if_missed:
        case "you_lose" if binds == "buyer" and assumed:
            return (
                f"passed, but this limit is assumed: if {market} still lets you act, do it now "
                f"and enter its own date with 'refundctl due {dispute_id} {name} WHEN'"
            )
        case "you_lose" if binds == "buyer":
            return (
                f"missed: {market} has likely closed the case; "
                f"if so, record it with 'refundctl resolve {dispute_id} --lost'"
            )
        case "you_may_escalate":
            return f"passed: you may escalate now ('refundctl escalate {dispute_id}')"
        case "platform_steps_in" if name == RuleName.CLAIM_RESPONSE:
            return f"passed: {kind.steps_in.replace('{market}', market)}"
        case "platform_steps_in":
            return (
                f"passed: {market} has likely stepped in; "
                f"record it with 'refundctl escalate {dispute_id} --by platform'"
            )
        case "chase":
            return f"late: chase {kind.whom.replace('{market}', market)}"
    return action


def _order_missed(
    name: str, assumed: bool, due: datetime, now: datetime, zone: tzinfo, order_no: str, market: str
) -> str:
    """An order's window that passed while it never arrived: what happened, and the two
    commands that end the alarm."""
    import shlex

    number = shlex.quote(clean(order_no))
    if assumed:
        return (
            f"passed, but this window is assumed: enter {market}'s own date with "
            f"'refundctl order update {number} --protection-ends WHEN', or stop watching it "
            f"with 'refundctl order close {number}'"
        )
    return (
        f"missed on {last_day(due, zone, now)}: {market}'s protection has likely ended; "
        f"if it came, 'refundctl order receive {number}', else "
        f"'refundctl order close {number} --reason gave-up'"
    )


def deadline_to_do(
    deadline: Deadline,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None,
    marketplace: str,
    order_no: str = "",
) -> str:
    return to_do(
        deadline.action,
        name=deadline.name,
        binds=str(deadline.binds),
        if_missed=str(deadline.if_missed),
        assumed=deadline.rule.assumed,
        due=deadline.due,
        now=now,
        zone=zone,
        dispute_id=dispute_id,
        order_no=order_no,
        marketplace=marketplace,
    )


def left_text(due: datetime, now: datetime) -> str:
    delta = due - now
    return f"overdue {humanize(delta)}" if delta.total_seconds() <= 0 else f"in {humanize(delta)}"


def next_step(
    deadline: Deadline | None,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None = None,
    marketplace: str = "",
    order_no: str = "",
) -> str:
    if deadline is None:
        return "No open deadline."
    action = deadline_to_do(deadline, now, zone, dispute_id, marketplace, order_no)
    name = deadline_words(deadline.name, deadline.rule.assumed)
    return (
        f"Next: {name} {left_text(deadline.due, now)} "
        f"({due_when(deadline.due, zone, now)}): {action}."
    )


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
    change = (
        f"{state_words(before)} → {state_words(d.state)}"
        if before is not d.state
        else f"still {state_words(d.state)}"
    )
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


def entered_due(view: DisputeView, name: str, now: datetime, zone: tzinfo) -> str:
    """Where a deadline stands once its date was entered or cleared: the date that counts
    now and where it comes from."""
    found = next((x for x in view.computed if x.name == name), None)
    words = deadline_words(name)
    if found is None:
        where = f"{words} ({name}) is no longer an open deadline of dispute {view.id}"
    elif found.rule.origin == "entered":
        where = f"{words}: {due_when(found.due, zone, now)}, {found.rule.described}"
    else:
        where = f"{words}: {due_when(found.due, zone, now)}, by the rule ({found.rule.described})"
    return f"Dispute {view.id}: {where}.\n" + next_step(
        view.next, now, zone, view.id, view.record.order.marketplace
    )


def check_lines(items: Iterable[CheckItem], now: datetime, zone: tzinfo) -> Iterator[str]:
    """One line per deadline, for a terminal or a cron mail; plain text, as the items come.
    The order number is whole: it is what people paste into the marketplace's search."""
    empty = True
    for item in items:
        empty = False
        assumed = item.assumed
        who = f"dispute {item.dispute_id}" if item.dispute_id is not None else "order"
        action = to_do(
            item.action,
            name=item.name,
            binds=item.binds,
            if_missed=item.if_missed,
            assumed=assumed,
            due=item.due,
            now=now,
            zone=zone,
            dispute_id=item.dispute_id,
            order_no=item.order_no,
            marketplace=item.marketplace,
        )
        yield (
            f"{who}: {item.marketplace} {clean(item.order_no)}: "
            f"{deadline_words(item.name, assumed)} {left_text(item.due, now)} "
            f"({due_when(item.due, zone, now)}): {action}"
        )
    if empty:
        yield "Nothing is due in this window."
