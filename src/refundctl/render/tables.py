"""Rich renderables for people: the status tables (disputes, orders in their window), order list.

Pure: views in, renderables out; nothing here prints or touches the ledger. Every piece of user
text (seller names, notes, file names) goes in as ``Text`` after ``clean``, so it is never read
as Rich markup nor reaches the terminal as a control code. An order number, an amount or a
deadline is never cut: words wrap, and where the table cannot fit the terminal (60 columns)
the same rows are stacked instead (``Adaptive``). One dispute or one order in full is
``render.detail``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from rich import box
from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from refundctl.deadlines import Deadline
from refundctl.domain import shortfall
from refundctl.money import format_money
from refundctl.records import DisputeRecord, Order
from refundctl.render.fmt import clean, deadline_words, due_when, state_words, when
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


def cell_lines(*parts: str | Text, style: str = "") -> Text:
    text = Text(style=style)
    for index, part in enumerate(parts):
        if index:
            text.append("\n")
        text.append(part if isinstance(part, Text) else Text(part))
    return text


def _who(order: Order) -> str:
    seller = clean(order.seller) if order.seller else ""
    return f"{order.marketplace} · {seller}" if seller else order.marketplace


class Adaptive:
    """Rows as a table where it fits, else stacked one under another: an identifier, an
    amount or a deadline is never cut to fit a narrow terminal. ``fixed`` are the widths
    of every column but the last, which takes the rest, down to ``_ACTION_WIDTH``."""

    def __init__(
        self,
        title: str,
        headers: Sequence[tuple[str, JustifyMethod]],
        fixed: Sequence[tuple[int, int]],
        rows: Sequence[Sequence[RenderableType]],
        stacked: RenderableType,
        least: int = 0,
    ) -> None:
        """``fixed``: each column's narrowest and natural width (that of its longest line)
        but the last's, which takes the rest; ``least`` the narrowest it may be."""
        self.title, self.headers, self.fixed, self.rows = title, headers, fixed, rows
        self.stacked, self.least = stacked, least or _ACTION_WIDTH

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = [narrowest for narrowest, _ in self.fixed]
        # What the table adds around its cells (padding, the space between columns), as Rich
        # measures it with the last column one character wide.
        around = console.measure(self._table(widths, 1), options=options).maximum - sum(widths) - 1
        rest = options.max_width - sum(widths) - around
        if rest < self.least:
            yield self.stacked
            return
        # Room to spare goes to the other columns first, up to their natural widths, while
        # the last keeps a comfortable line.
        for index, (narrowest, natural) in reversed(list(enumerate(self.fixed))):
            extra = min(natural - narrowest, max(rest - _COMFORTABLE, 0))
            widths[index] += extra
            rest -= extra
        # No wider than its longest line: piped, a table is not stretched to 200 columns.
        longest = max(
            (console.measure(row[-1], options=options).maximum for row in self.rows), default=1
        )
        table = self._table(widths, min(rest, max(longest, self.least)))
        for row in self.rows:
            table.add_row(*row)
        yield table

    def _table(self, widths: Sequence[int], last: int) -> Table:
        table = _table(self.title)
        for (header, justify), width in zip(self.headers, [*widths, last], strict=True):
            table.add_column(header, justify=justify, width=width, overflow="fold")
        return table


def _deadline_cell(
    deadline: Deadline | None,
    now: datetime,
    zone: tzinfo,
    dispute_id: int | None = None,
    marketplace: str = "",
    order_no: str = "",
) -> Text:
    """``2d 4h left · Dec 03 10:00``, short enough never to wrap; then the deadline in words
    and what to do."""
    if deadline is None:
        return Text("—", style="dim")
    first = time_left(deadline, now)
    first.append(f" · {due_when(deadline.due, zone, now)}", style="dim")
    action = deadline_to_do(deadline, now, zone, dispute_id, marketplace, order_no)
    second = Text(f"{deadline_words(deadline.name, deadline.rule.assumed)} — ", style="bold")
    second.append(action, style="")
    return cell_lines(first, second)


def _money_cell(record: DisputeRecord) -> Text:
    d, currency = record.dispute, record.order.currency
    first = Text(format_money(d.requested, currency))
    short = shortfall(d)
    if d.refunded is not None and short is not None:
        second = Text(f"got {format_money(d.refunded, currency)}", style="yellow")
        second.append(f", {format_money(short, currency)} short", style="bold yellow")
    elif d.refunded is not None:
        second = Text(f"got {format_money(d.refunded, currency)}", style="green")
    elif d.agreed is not None:
        second = Text(f"agreed {format_money(d.agreed, currency)}", style="green")
    elif d.offer is not None:
        second = Text(f"offer {format_money(d.offer, currency)}", style="bold cyan")
    else:
        second = Text("")
    return cell_lines(first, second)


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


# The narrowest a "what to do" column may be before the rows are stacked instead: wide
# enough for "2d 11h left · Dec 04 11:25" on one line (longer ones wrap at a " · ").
_ACTION_WIDTH = 26
# ...and the width it keeps before the other columns widen to their natural widths.
_COMFORTABLE = 56


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )


def _stacked(title: str, blocks: Sequence[tuple[Text, Sequence[Text]]]) -> RenderableType:
    """Rows one under another: a head line, then its lines indented."""
    parts: list[RenderableType] = [Text(title, style="bold")]
    for head, lines in blocks:
        parts += [head, Padding(Group(*lines), (0, 0, 0, 2))]
    return Group(*parts)


def _widest(texts: Sequence[str], floor: int = 1) -> int:
    return max([floor, *(len(line) for text in texts for line in text.split("\n"))])


def _order_cell(order: Order) -> Text:
    return cell_lines(clean(order.order_no), Text(_who(order), style="dim"))


def disputes_table(views: Sequence[DisputeView], now: datetime, zone: tzinfo) -> RenderableType:
    rows: list[list[Text]] = []
    blocks = []
    for view in views:
        record = view.record
        order = record.order
        claim = Text(str(record.reason).replace("-", " "))
        state = Text(state_words(record.dispute.state), style="bold")
        money = _money_cell(record)
        deadline = _deadline_cell(view.next, now, zone, record.id, order.marketplace)
        # A chargeback or PayPal claim says which rail it went through.
        claimed = cell_lines(claim, state, *([Text(f"via {record.via}")] if record.via else []))
        rows.append([Text(str(record.id)), _order_cell(order), claimed, money, deadline])
        head = Text(f"#{record.id} ", style="bold")
        head.append(clean(order.order_no))
        head.append(f" · {_who(order)}", style="dim")
        facts = Text(f"{claim.plain} · " + (f"via {record.via} · " if record.via else ""))
        facts.append(state)
        facts.append(" · asked " + money.plain.replace("\n", " · ").rstrip(" ·"))
        blocks.append((head, [facts, deadline]))
    ids = _widest([str(v.id) for v in views])
    numbers = _widest([clean(v.record.order.order_no) for v in views], floor=16)
    claims = _widest([row[2].plain for row in rows], floor=5)
    amounts = _widest([row[3].plain for row in rows], floor=5)
    fixed = [
        (ids, ids),
        # The order number whole; the marketplace and seller beneath it wrap.
        (numbers, max(numbers, _widest([row[1].plain for row in rows]))),
        # "waiting for the seller" may wrap between words.
        (min(claims, 14), claims),
        (amounts, amounts),
    ]
    headers: list[tuple[str, JustifyMethod]] = [
        ("#", "right"),
        ("Order", "left"),
        ("Claim", "left"),
        ("Asked", "right"),
    ]
    return Adaptive(
        "Disputes",
        [*headers, ("Next deadline", "left")],
        fixed,
        rows,
        _stacked("Disputes", blocks),
    )


def orders_table(views: Sequence[OrderView], now: datetime, zone: tzinfo) -> RenderableType:
    title = "Orders: time left to open a dispute"
    rows: list[list[Text]] = []
    blocks = []
    for view in views:
        order = view.order
        total = format_money(order.total, order.currency)
        deadline = _deadline_cell(view.next, now, zone, None, order.marketplace, order.order_no)
        rows.append([_order_cell(order), Text(clean(order.title)), Text(total), deadline])
        head = Text(clean(order.order_no))
        head.append(f" · {_who(order)}", style="dim")
        facts = Text(" · ".join(x for x in (clean(order.title), total) if x))
        blocks.append((head, [facts, deadline]))
    numbers = _widest([clean(v.order.order_no) for v in views], floor=16)
    titles = _widest([row[1].plain for row in rows], floor=5)
    totals = _widest([row[2].plain for row in rows], floor=5)
    fixed = [
        (numbers, max(numbers, _widest([row[0].plain for row in rows]))),
        (min(titles, 16), min(titles, 30)),
        (totals, totals),
    ]
    headers: list[tuple[str, JustifyMethod]] = [
        ("Order", "left"),
        ("Title", "left"),
        ("Total", "right"),
        ("Window closes", "left"),
    ]
    return Adaptive(title, headers, fixed, rows, _stacked(title, blocks))


def order_list(
    orders: Sequence[Order], zone: tzinfo, now: datetime, more: int = 0, *, filtered: bool = False
) -> RenderableType:
    """``order list``'s table; ``filtered`` when a filter chose the orders (none kept is then
    no sign of an empty ledger)."""
    if not orders and filtered:
        return Text(
            "No order matches these filters; 'refundctl order list' without them lists all.",
            style="dim",
        )
    if not orders:
        return Text("No orders yet. Add one with 'refundctl order add'.", style="dim")
    if more:
        return Group(
            order_list(orders, zone, now),
            Text(f"… and {more:,} more: --limit N shows more, --json or --format csv all of them"),
        )
    rows: list[list[Text]] = []
    blocks = []
    for order in orders:
        total = format_money(order.total, order.currency)
        arrived = when(order.received, zone, now)
        received = Text(arrived) if arrived else Text("not yet", style="dim")
        if order.closed_at is not None:
            received = cell_lines(received, Text(order.closed or "closed", style="dim"))
        ordered = when(order.ordered, zone, now)
        rows.append(
            [_order_cell(order), Text(total), Text(ordered), received, Text(clean(order.title))]
        )
        head = Text(clean(order.order_no))
        head.append(f" · {_who(order)}", style="dim")
        facts = [clean(order.title), total, f"ordered {ordered}"]
        facts.append(f"received {arrived}" if arrived else "not received yet")
        if order.closed_at is not None:
            facts.append(order.closed or "closed")
        blocks.append((head, [Text(" · ".join(x for x in facts if x))]))
    numbers = _widest([clean(o.order_no) for o in orders], floor=16)
    fixed = [
        (numbers, max(numbers, _widest([row[0].plain for row in rows]))),
        *(
            (width, width)
            for width in (
                _widest([row[1].plain for row in rows], floor=5),
                _widest([row[2].plain for row in rows], floor=7),
                _widest([row[3].plain for row in rows], floor=8),
            )
        ),
    ]
    headers: list[tuple[str, JustifyMethod]] = [
        ("Order", "left"),
        ("Total", "right"),
        ("Ordered", "left"),
        ("Received", "left"),
    ]
    return Adaptive(
        "Orders", [*headers, ("Title", "left")], fixed, rows, _stacked("Orders", blocks), least=12
    )
