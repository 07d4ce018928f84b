"""The calendar feed: one iCalendar event per open deadline, with an alarm a day before.

Pure: views in, bytes out. UIDs are stable (the dispute or order and the deadline's name), so a
calendar that re-imports or subscribes to the file updates events instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from refundctl import __version__
from refundctl.deadlines import Deadline
from refundctl.money import format_money
from refundctl.records import Order
from refundctl.render.fmt import clean, deadline_words
from refundctl.views import DisputeView, OrderView, at_stake

EVENT_LENGTH = timedelta(minutes=15)


def _uid_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def uid(order: Order, dispute_id: int | None, deadline: Deadline) -> str:
    """Stable across exports: the same deadline of the same dispute or order keeps its UID."""
    if dispute_id is not None:
        owner = f"dispute-{dispute_id}"
    else:
        # The readable part may fold different numbers together ("A/1", "A 1"); the digest of
        # the exact marketplace and number keeps them apart.
        exact = hashlib.sha256(f"{order.marketplace}\0{order.order_no}".encode()).hexdigest()
        owner = f"order-{_uid_part(order.marketplace)}-{_uid_part(order.order_no)}-{exact[:10]}"
    return f"{owner}-{deadline.name}@refundctl"


def feed(disputes: Sequence[DisputeView], orders: Sequence[OrderView], now: datetime) -> bytes:
    """An iCalendar file of every open deadline."""
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", f"-//refundctl//refundctl {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Refund deadlines")

    def add(order: Order, dispute_id: int | None, deadline: Deadline, stake: str) -> None:
        who = f"dispute {dispute_id}" if dispute_id is not None else "order"
        name = deadline_words(deadline.name, deadline.rule.assumed)
        summary = f"{order.marketplace} {clean(order.order_no)}: {name}: {deadline.action}"
        lines = [
            f"{name}, {deadline.name} ({who}), binds the {deadline.binds}.",
            f"Why this date: {deadline.rule.described}"
            + (" (assumed)" if deadline.rule.assumed else "")
            + ".",
            f"At stake: {stake}.",
        ]
        if order.seller:
            lines.append(f"Seller: {clean(order.seller)}.")
        if deadline.rule.source:
            lines.append(f"Rule: {deadline.rule.source}")
        if dispute_id is not None:
            lines.append(f"Details: refundctl status {dispute_id}")
        event = Event()
        event.add("uid", uid(order, dispute_id, deadline))
        event.add("dtstamp", now)
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + EVENT_LENGTH)
        event.add("summary", summary)
        event.add("description", "\n".join(lines))
        event.add("categories", ["refundctl", order.marketplace])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        calendar.add_component(event)

    for view in disputes:
        money = format_money(at_stake(view.record), view.record.order.currency)
        for deadline in view.deadlines:
            add(view.record.order, view.id, deadline, money)
    for order_view in orders:
        money = format_money(order_view.refundable, order_view.order.currency)
        for deadline in order_view.deadlines:
            add(order_view.order, None, deadline, money)
    return bytes(calendar.to_ical())
