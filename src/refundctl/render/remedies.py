"""``refundctl remedies ORDER`` for people: each remedy in the order to try it, stacked, so
that it reads the same at 60 columns as at 120: where it stands, its window, what filing it
excludes, what to do, where the rule is written.

Pure, as the other renderers: an ``OrderRemedies`` in, a renderable out.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from refundctl.remedy_view import OrderRemedies, Remedy, Standing
from refundctl.render.fmt import clean, deadline_words, due_when, when
from refundctl.render.tables import time_left

_STANDING_STYLE = {
    Standing.OPEN: "bold green",
    Standing.IN_PROGRESS: "bold cyan",
    Standing.USED: "green",
    Standing.CLOSED: "dim",
    Standing.NOT_AVAILABLE: "dim",
}
_STANDING_WORDS = {
    Standing.OPEN: "open",
    Standing.IN_PROGRESS: "in progress",
    Standing.USED: "used: refunded",
    Standing.CLOSED: "closed",
    Standing.NOT_AVAILABLE: "not available",
}


def _heading(found: OrderRemedies) -> Text:
    order = found.order
    text = Text(f"Order {clean(order.order_no)}", style="bold")
    text.append(f" ({order.marketplace})")
    if found.payment is not None:
        text.append(f" · paid by {found.payment.describe()}")
    elif order.payment:
        text.append(f" · paid by {clean(order.payment)}")
    if found.family is not None:
        text.append(f" · {found.family}")
    return text


def _remedy(number: int, remedy: Remedy, zone: tzinfo, now: datetime) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    head = Text(f"{remedy.title}", style="bold")
    head.append(f" ({remedy.kind})", style="dim")
    head.append(" · ")
    head.append(_STANDING_WORDS[remedy.standing], style=_STANDING_STYLE[remedy.standing])
    grid.add_row(f"{number}.", head)
    deadline = remedy.deadline
    if deadline is not None:
        window = Text(f"{deadline_words(deadline.name, deadline.rule.assumed)}: ")
        window.append(due_when(deadline.due, zone, now))
        window.append(" (")
        window.append(time_left(deadline, now))
        window.append(")")
        window.append(f"\n{deadline.rule.described}", style="dim")
        grid.add_row("", window)
    if remedy.can_file_from is not None:
        grid.add_row("", Text(f"from {when(remedy.can_file_from, zone, now)}: the issuer's wait"))
    for excluded in remedy.excludes:
        grid.add_row("", Text(f"mind: {excluded}", style="yellow"))
    grid.add_row("", Text(remedy.to_do))
    if remedy.source:
        grid.add_row("", Text(remedy.source, style="dim"))
    elif remedy.assumed:
        grid.add_row("", Text("assumed: no published number found", style="dim"))
    return grid


def remedies_view(found: OrderRemedies, zone: tzinfo, now: datetime) -> RenderableType:
    parts: list[RenderableType] = [_heading(found), Text("")]
    for number, remedy in enumerate(found.remedies, start=1):
        parts += [_remedy(number, remedy, zone, now), Text("")]
    for note in found.notes:
        parts.append(Text(f"· {note}", style="dim"))
    return Group(*parts)
