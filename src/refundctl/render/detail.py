"""Rich renderables for one dispute or one order in full: its facts, open deadlines, history.

Pure, as ``render.tables`` is: views in, renderables out; every piece of user text goes in as
``Text`` after ``clean``. These are the screens of ``status DISPUTE`` and ``order show``, where
one thing fills the terminal, so their tables are Rich's own, folding long cells: no
``Adaptive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from refundctl.deadlines import Deadline, Earliest
from refundctl.domain import Dispute, EventKind, State, shortfall
from refundctl.money import format_money
from refundctl.records import DisputeRecord, Order, OrderEvent
from refundctl.render.fmt import (
    clean,
    deadline_words,
    due_when,
    short_date,
    state_words,
    waiting_words,
    when,
)

# Cells built as the status tables build them, so a deadline reads the same in both.
from refundctl.render.tables import cell_lines, time_left
from refundctl.render.text import deadline_to_do
from refundctl.views import DisputeView, OrderView


def _facts(rows: Sequence[tuple[str, str | Text]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value:
            grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def order_detail(
    view: OrderView, history: Sequence[OrderEvent], zone: tzinfo, now: datetime
) -> RenderableType:
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
            ("Payment", _payment(order)),
            ("Ordered", when(order.ordered, zone, now)),
            ("Shipped", when(order.shipped, zone, now)),
            ("Expected by", when(order.expected_by, zone, now)),
            ("Received", when(order.received, zone, now)),
            ("Protection ends", when(order.protection_ends, zone, now)),
            ("Can open from", _earliest(view.can_open_from, zone, now)),
            ("Closed", _closed(order, zone, now)),
        ]
    )
    parts: list[RenderableType] = [facts]
    if view.deadlines:
        parts += [Text(""), deadlines_table(view.deadlines, now, zone, order_no=order.order_no)]
    if history:
        parts += [Text(""), _order_history(history, order.currency, zone, now)]
    return Group(*parts)


def _payment(order: Order) -> str:
    """The payment as written, and the rail refundctl reads in it."""
    from refundctl.payment import recognise

    found = recognise(order.payment)
    text = clean(order.payment)
    return text if found is None else f"{text} ({found.describe()})"


def _closed(order: Order, zone: tzinfo, now: datetime) -> Text | str:
    if order.closed_at is None:
        return ""
    why = "removed" if order.closed == "removed" else order.closed or "closed"
    text = Text(f"{why}, {when(order.closed_at, zone, now)}")
    text.append("\nits windows are not watched; 'refundctl order reopen' takes it back", "dim")
    return text


# The order's facts as its history names them, in words.
_FIELD_WORDS = {
    "expected_by": "expected by",
    "protection_ends": "protection ends",
}


def _order_history(
    history: Sequence[OrderEvent], currency: str, zone: tzinfo, now: datetime
) -> Table:
    table = Table(title="History", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("When", no_wrap=True)
    table.add_column("What", no_wrap=True)
    table.add_column("Changed", overflow="fold")
    for event in history:
        # What an order was added or imported with is its facts above; later entries say
        # what they set.
        changed = (
            ""
            if event.kind in {"added", "imported"}
            else "; ".join(
                _change(name, value, currency, zone, now)
                for name, value in sorted(event.changes.items())
            )
        )
        table.add_row(when(event.at, zone, now), event.kind, Text(changed))
    return table


def _change(name: str, value: object, currency: str, zone: tzinfo, now: datetime) -> str:
    label = _FIELD_WORDS.get(name, name)
    if value is None:
        return f"{label}: none" if name != "closed" else "closed: no reason given"
    if name in {"ordered", "shipped", "expected_by", "received", "protection_ends"}:
        from refundctl.timeparse import from_iso

        return f"{label}: {when(from_iso(str(value)), zone, now)}"
    if name == "total":
        from decimal import Decimal

        return f"{label}: {format_money(Decimal(str(value)), currency)}"
    if name == "items" and isinstance(value, list):
        return f"{label}: {len(value)}"
    return f"{label}: {clean(str(value))}"


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
    order_no: str = "",
) -> Table:
    """Every open deadline in words, with its key (what 'refundctl due' takes) beneath."""
    table = Table(
        title="Open deadlines", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD
    )
    table.add_column("Deadline", overflow="fold")
    # When it falls and the time left, one under the other: side by side (and kept on one
    # line) they left "What to do" so little at 60 columns that Rich cut its words off the
    # edge.
    table.add_column("Due")
    table.add_column("What to do, and why", overflow="fold", ratio=1)
    for deadline in deadlines:
        rule = deadline.rule
        why = rule.described + (" (assumed)" if rule.assumed else "")
        table.add_row(
            cell_lines(
                deadline_words(deadline.name, rule.assumed), Text(deadline.name, style="dim")
            ),
            cell_lines(due_when(deadline.due, zone, now), time_left(deadline, now)),
            cell_lines(
                Text(deadline_to_do(deadline, now, zone, dispute_id, marketplace, order_no)),
                Text(why, style="dim"),
                *([Text(rule.source, style="dim")] if rule.source else []),
            ),
        )
    return table


def _after_name(line: str | None) -> str | None:
    """The seller's record without the seller's name, which the row above shows."""
    return None if line is None else line.partition(": ")[2]


def _words(key: object) -> str:
    """A key a person reads (``refund_with_return``) as words."""
    return str(key).replace("_", " ")


def dispute_detail(
    view: DisputeView, zone: tzinfo, now: datetime, seller_record: str | None = None
) -> RenderableType:
    """One dispute in full; ``seller_record`` is the line on the seller's earlier disputes."""
    record = view.record
    d, order, currency = record.dispute, record.order, record.order.currency

    def money(value: object) -> str:
        return "" if value is None else format_money(value, currency)  # type: ignore[arg-type]

    waiting = d.state.waiting_on
    state = Text(state_words(d.state), style="bold")
    # The key beside the words, as for deadlines: what JSON and scripts call it; and who the
    # state waits on, where its words do not say it already.
    said = d.state in (State.AWAITING_SELLER, State.AWAITING_BUYER)
    beside = [f"waiting on {_waiting(record, waiting)}"] if waiting and not said else []
    beside += [str(d.state)] if state_words(d.state) != d.state else []
    if beside:
        state.append(f"  ({'; '.join(beside)})", style="dim")
    facts = _facts(
        [
            ("Dispute", f"#{record.id} · {record.reason}"),
            ("State", state),
            ("Order", f"{clean(order.order_no)} · {clean(order.title)}".rstrip(" ·")),
            ("Marketplace", order.marketplace + _policy_note(view.generic_fallback)),
            ("Filed with", _filed_with(record)),
            ("Seller", clean(order.seller)),
            ("Seller's record", clean(_after_name(seller_record))),
            ("Item", clean(record.item)),
            ("Case ref", clean(record.case_ref)),
            ("Asked", money(d.requested)),
            ("Offer", money(d.offer) + (f" ({_words(d.offer_kind)})" if d.offer_kind else "")),
            ("Agreed", money(d.agreed) + (f" ({_words(d.agreed_kind)})" if d.agreed_kind else "")),
            ("Refunded", _refunded(d, currency)),
            ("Refundable", money(record.refundable) + " left on the order"),
            ("Most you can ask", money(record.max_ask) if d.active else ""),
            ("Return tracking", clean(d.tracking)),
            ("Opened", when(d.opened_at, zone, now)),
            ("Can escalate from", _earliest(view.can_escalate_from(), zone, now)),
            ("Description", clean(record.description)),
        ]
    )
    parts: list[RenderableType] = [facts, Text("")]
    for warning in _remedy_warnings(view, zone, now):
        parts += [Text(warning, style="yellow"), Text("")]
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


def _filed_with(record: DisputeRecord) -> str:
    if record.via is None:
        return ""
    from refundctl.payment import Network

    network = Network(record.via)
    return f"{network.brand} (your card issuer)" if network.card else network.brand


def _waiting(record: DisputeRecord, waiting: str) -> str:
    """Who the state waits on; for a dispute filed with a rail, the rail decides."""
    if waiting == "platform" and record.via is not None:
        return _filed_with(record)
    return waiting_words(waiting)


def _remedy_warnings(view: DisputeView, zone: tzinfo, now: datetime) -> list[str]:
    """While the marketplace case runs, a remedy window that closes before it is likely to
    be decided (remedies.dispute_remedies): file by then, or lose that option."""
    from refundctl.deadline_types import REMEDY_DEADLINES

    if not view.record.dispute.active:
        return []
    return [
        "Mind: " + x.action.replace("by then", f"by {due_when(x.due, zone, now)}", 1)
        for x in view.deadlines
        if x.name in REMEDY_DEADLINES and x.due > now
    ]


def _refunded(d: Dispute, currency: str) -> str:
    if d.refunded is None:
        return ""
    text = format_money(d.refunded, currency) + (" (store credit)" if d.credit else "")
    short = shortfall(d)
    if short is not None and d.agreed is not None:
        text += (
            f": {format_money(short, currency)} short of the "
            f"{format_money(d.agreed, currency)} agreed"
        )
    return text


def _offers(record: DisputeRecord, zone: tzinfo, now: datetime) -> RenderableType:
    proposals = record.dispute.proposals
    table = Table(title="Offers", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for name in ("When", "Who", "Kind", "Amount", "Outcome"):
        table.add_column(name, no_wrap=True, justify="right" if name == "Amount" else "left")
    for p in proposals:
        table.add_row(
            when(p.at, zone, now),
            str(p.actor),
            _words(p.kind),
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
