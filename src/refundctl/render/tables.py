"""Rich renderables for people: the status tables, one dispute in full, orders.

Pure: views in, renderables out; nothing here prints or touches the ledger. Every piece of user
text (seller names, notes, file names) goes in as ``Text`` after ``clean``, so it is never read
as Rich markup nor reaches the terminal as a control code. Tables are laid out for 80 columns:
two-line cells instead of many columns, and a long order number keeps its tail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from refundctl.deadlines import Deadline, Earliest
from refundctl.domain import DisputeRecord, EventKind, Order
from refundctl.money import format_money
from refundctl.render.fmt import clean, short_date, tail, when
from refundctl.render.text import deadline_to_do
from refundctl.timeparse import humanize
from refundctl.views import DisputeView, OrderView


def urgency_style(deadline: Deadline, now: datetime) -> str:
    left = (deadline.due - now).total_seconds()
    if left <= 0:
        return "bold red"
    if left < 86400:
        return "red"
    if left < 3 * 86400:
        return "yellow"
    return "green"


def time_left(deadline: Deadline, now: datetime) -> Text:
    """``2d 4h left`` or ``overdue 1d``, coloured by urgency."""
    delta = deadline.due - now
    label = (
        f"overdue {humanize(delta)}" if delta.total_seconds() <= 0 else f"{humanize(delta)} left"
    )
    return Text(label, style=urgency_style(deadline, now))


def _lines(*parts: str | Text, style: str = "") -> Text:
    text = Text(style=style)
    for index, part in enumerate(parts):
        if index:
            text.append("\n")
        text.append(part if isinstance(part, Text) else Text(part))
    return text


def _who(order: Order) -> str:
    seller = clean(order.seller) if order.seller else ""
    return f"{order.marketplace} · {seller}" if seller else order.marketplace


def _deadline_cell(
    deadline: Deadline | None,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None = None,
    marketplace: str = "",
) -> Text:
    if deadline is None:
        return Text("—", style="dim")
    first = time_left(deadline, now)
    first.append(f" · {short_date(deadline.due, zone, now)}", style="dim")
    return _lines(first, Text(deadline_to_do(deadline, now, dispute_id, marketplace)))


def _money_cell(record: DisputeRecord) -> Text:
    d, currency = record.dispute, record.order.currency
    first = Text(format_money(d.requested, currency))
    if d.refunded is not None:
        second = Text(f"got {format_money(d.refunded, currency)}", style="green")
    elif d.agreed is not None:
        second = Text(f"agreed {format_money(d.agreed, currency)}", style="green")
    elif d.offer is not None:
        second = Text(f"offer {format_money(d.offer, currency)}", style="bold cyan")
    else:
        second = Text("")
    return _lines(first, second)


def status_view(
    disputes: Sequence[DisputeView],
    more_disputes: int,
    orders: Sequence[OrderView],
    more_orders: int,
    now: datetime,
    zone: tzinfo,
) -> RenderableType:
    """The default screen: disputes, then orders still in their window, most urgent first;
    ``more_*`` say how many rows the ``--limit`` left out of each table."""
    parts: list[RenderableType] = []
    if disputes:
        parts.append(disputes_table(disputes, now, zone))
        if more_disputes:
            parts.append(_more(more_disputes, "dispute"))
    else:
        parts.append(Text("No active disputes.", style="dim"))
    if orders:
        parts.append(Text(""))
        parts.append(orders_table(orders, now, zone))
        if more_orders:
            parts.append(_more(more_orders, "order"))
    generic = sorted(
        {v.record.order.marketplace for v in disputes if v.generic_fallback}
        | {v.order.marketplace for v in orders if v.generic_fallback}
    )
    if generic:
        parts.append(
            Text(
                f"No policy known for {', '.join(generic)}: generic, assumed deadlines "
                "(add one in the config file; see 'refundctl policies').",
                style="dim",
            )
        )
    return Group(*parts)


def _more(count: int, what: str) -> Text:
    plural = "" if count == 1 else "s"
    return Text(f"… and {count:,} more {what}{plural}; --limit 0 shows all", style="dim")


def disputes_table(views: Sequence[DisputeView], now: datetime, zone: tzinfo) -> Table:
    table = Table(
        title="Disputes",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        expand=False,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Order", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("Claim", no_wrap=True, overflow="ellipsis", max_width=17)
    table.add_column("Asked", justify="right", max_width=13)
    table.add_column("Next deadline", min_width=24, ratio=1)
    for view in views:
        record = view.record
        order = record.order
        table.add_row(
            str(record.id),
            _lines(tail(order.order_no), Text(_who(order), style="dim")),
            _lines(str(record.reason), Text(str(record.dispute.state), style="bold")),
            _money_cell(record),
            _deadline_cell(view.next, now, zone, record.id, order.marketplace),
        )
    return table


def orders_table(views: Sequence[OrderView], now: datetime, zone: tzinfo) -> Table:
    table = Table(
        title="Orders: time left to open a dispute",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    table.add_column("Order", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=18)
    table.add_column("Total", justify="right", no_wrap=True)
    table.add_column("Window closes", min_width=22, ratio=1)
    for view in views:
        order = view.order
        table.add_row(
            _lines(tail(order.order_no), Text(_who(order), style="dim")),
            Text(clean(order.title)),
            format_money(order.total, order.currency),
            _deadline_cell(view.next, now, zone),
        )
    return table


def order_list(orders: Sequence[Order], zone: tzinfo, now: datetime) -> RenderableType:
    if not orders:
        return Text("No orders yet. Add one with 'refundctl order add'.", style="dim")
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        title="Orders",
        title_justify="left",
    )
    table.add_column("Order", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=22)
    table.add_column("Total", justify="right", no_wrap=True)
    table.add_column("Ordered", no_wrap=True)
    table.add_column("Received", no_wrap=True)
    for order in orders:
        table.add_row(
            _lines(tail(order.order_no), Text(_who(order), style="dim")),
            Text(clean(order.title)),
            format_money(order.total, order.currency),
            when(order.ordered, zone, now),
            when(order.received, zone, now) or Text("not yet", style="dim"),
        )
    return table


def _facts(rows: Sequence[tuple[str, str | Text]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value:
            grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def order_detail(view: OrderView, zone: tzinfo, now: datetime) -> RenderableType:
    order = view.order
    items = ", ".join(
        f"{clean(i.name)} x{i.quantity}"
        + (f" @{format_money(i.price, order.currency)}" if i.price is not None else "")
        for i in order.items
    )
    facts = _facts(
        [
            ("Order", clean(order.order_no)),
            ("Marketplace", order.marketplace + _policy_note(view.generic_fallback)),
            ("Seller", clean(order.seller)),
            ("Title", clean(order.title)),
            ("Items", items),
            ("Total", format_money(order.total, order.currency)),
            ("Refundable", format_money(view.refundable, order.currency)),
            ("Payment", clean(order.payment)),
            ("Ordered", when(order.ordered, zone, now)),
            ("Shipped", when(order.shipped, zone, now)),
            ("Expected by", when(order.expected_by, zone, now)),
            ("Received", when(order.received, zone, now)),
            ("Protection ends", when(order.protection_ends, zone, now)),
            ("Can open from", _earliest(view.can_open_from, zone, now)),
        ]
    )
    parts: list[RenderableType] = [facts]
    if view.deadlines:
        parts += [Text(""), deadlines_table(view.deadlines, now, zone)]
    return Group(*parts)


def _policy_note(generic: bool) -> str:
    return " (no policy known: generic, assumed deadlines)" if generic else ""


def _earliest(earliest: Earliest | None, zone: tzinfo, now: datetime) -> Text | str:
    """``Dec 04 09:00 (opening ... + 7 days)``, or that the moment has come."""
    if earliest is None:
        return ""
    text = Text(when(earliest.at, zone, now))
    if earliest.at <= now:
        text.append(" (passed: you may act now)", style="green")
    text.append(f"\n{earliest.rule.described}", style="dim")
    return text


def deadlines_table(
    deadlines: Sequence[Deadline],
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None = None,
    marketplace: str = "",
) -> Table:
    table = Table(
        title="Open deadlines", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD
    )
    table.add_column("Deadline", no_wrap=True)
    table.add_column("Due", no_wrap=True)
    table.add_column("Left", no_wrap=True)
    table.add_column("What to do, and why", overflow="fold")
    for deadline in deadlines:
        rule = deadline.rule
        why = rule.described + (" (assumed)" if rule.assumed else "")
        table.add_row(
            deadline.name,
            when(deadline.due, zone, now),
            time_left(deadline, now),
            _lines(
                Text(deadline_to_do(deadline, now, dispute_id, marketplace)),
                Text(why, style="dim"),
                *([Text(rule.source, style="dim")] if rule.source else []),
            ),
        )
    return table


def dispute_detail(view: DisputeView, zone: tzinfo, now: datetime) -> RenderableType:
    record = view.record
    d, order, currency = record.dispute, record.order, record.order.currency

    def money(value: object) -> str:
        return "" if value is None else format_money(value, currency)  # type: ignore[arg-type]

    waiting = d.state.waiting_on
    state = Text(str(d.state), style="bold")
    if waiting:
        state.append(f"  (waiting on {'you' if waiting == 'buyer' else waiting})", style="dim")
    facts = _facts(
        [
            ("Dispute", f"#{record.id} · {record.reason}"),
            ("State", state),
            ("Order", f"{clean(order.order_no)} · {clean(order.title)}".rstrip(" ·")),
            ("Marketplace", order.marketplace + _policy_note(view.generic_fallback)),
            ("Seller", clean(order.seller)),
            ("Item", clean(record.item)),
            ("Case ref", clean(record.case_ref)),
            ("Asked", money(d.requested)),
            ("Offer", money(d.offer) + (f" ({d.offer_kind})" if d.offer_kind else "")),
            ("Agreed", money(d.agreed) + (f" ({d.agreed_kind})" if d.agreed_kind else "")),
            ("Refunded", money(d.refunded) + (" (store credit)" if d.credit else "")),
            ("Refundable", money(record.refundable)),
            ("Return tracking", clean(d.tracking)),
            ("Opened", when(d.opened_at, zone, now)),
            ("Can escalate from", _earliest(view.can_escalate_from(), zone, now)),
            ("Description", clean(record.description)),
        ]
    )
    parts: list[RenderableType] = [facts, Text("")]
    if view.deadlines:
        parts.append(deadlines_table(view.deadlines, now, zone, record.id, order.marketplace))
    else:
        parts.append(Text("No open deadlines.", style="dim"))
    parts += [
        _offers(record, zone, now),
        _evidence(record, zone, now),
        _timeline(record, zone, now),
    ]
    return Group(*parts)


def _offers(record: DisputeRecord, zone: tzinfo, now: datetime) -> RenderableType:
    proposals = record.dispute.proposals
    table = Table(title="Offers", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for name in ("When", "Who", "Kind", "Amount", "Outcome"):
        table.add_column(name, no_wrap=True, justify="right" if name == "Amount" else "left")
    for p in proposals:
        table.add_row(
            when(p.at, zone, now),
            str(p.actor),
            str(p.kind).replace("_", " "),
            format_money(p.amount, record.order.currency),
            Text(str(p.outcome), style="bold cyan" if p.outcome == "open" else ""),
        )
    return table


def _evidence(record: DisputeRecord, zone: tzinfo, now: datetime) -> RenderableType:
    if not record.evidence:
        return Text("No evidence attached yet.\n", style="dim")
    table = Table(title="Evidence", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right")
    table.add_column("Kind", no_wrap=True)
    table.add_column("Name", overflow="fold")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("SHA-256", no_wrap=True)
    table.add_column("Stored", no_wrap=True)
    table.add_column("Added", no_wrap=True)
    for e in record.evidence:
        # The ledger re-read the store; a link, or a record it did not check, shows nothing.
        if e.sha256 is None or e.present is None:
            stored = Text("")
        elif not e.present:
            stored = Text("MISSING", style="bold red")
        elif not e.intact:
            stored = Text("ALTERED", style="bold red")
        else:
            stored = Text("intact", style="green")
        table.add_row(
            str(e.id),
            e.kind,
            Text(clean(e.name)),
            _size(e.size),
            (e.sha256 or "")[:8],
            stored,
            short_date(e.added, zone, now),
        )
    return table


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""  # pragma: no cover


def _timeline(record: DisputeRecord, zone: tzinfo, now: datetime) -> RenderableType:
    table = Table(title="Timeline", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("When", no_wrap=True)
    table.add_column("Who", no_wrap=True)
    table.add_column("What", no_wrap=True)
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("Note", overflow="fold")
    retracted = {e.retracts for e in record.events if e.retracts is not None}
    evidence_names = {e.id: e.name for e in record.evidence}
    at = {e.id: e.at for e in record.events}
    # In the order things happened (a move recorded late with --on sits where it belongs).
    for e in sorted(record.events, key=lambda e: (e.at, e.id)):
        # Each entry by the command that made it: the words the buyer typed.
        what = Text("undo" if e.kind == EventKind.RETRACT else e.kind.replace("_", "-"))
        if e.id in retracted:
            what.stylize("strike dim")
            what.append(" (undone)")  # in words too: strike-through is lost without colour
        note = clean(e.note)
        if e.retracts is not None:
            undone = at.get(e.retracts)
            note = "undid the entry" + ("" if undone is None else f" of {when(undone, zone, now)}")
        if e.evidence_id is not None:
            name = clean(evidence_names.get(e.evidence_id, ""))
            note = f"{name}: {note}" if note else name
        if e.tracking:
            note = f"{note} tracking {clean(e.tracking)}".strip()
        if e.deadline is not None:
            given = "back to the rule's date" if e.due is None else when(e.due, zone, now)
            note = f"{note} {e.deadline}: {given}".strip()
        table.add_row(
            when(e.at, zone, now),
            str(e.actor),
            what,
            "" if e.amount is None else format_money(e.amount, record.order.currency),
            Text(note),
        )
    return table
