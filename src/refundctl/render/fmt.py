"""Small text formatters shared by the tables and the one-line summaries; no Rich here."""

from __future__ import annotations

import unicodedata
from datetime import datetime, tzinfo

ORDER_WIDTH = 14


def clean(text: str | None) -> str:
    """User text made safe for a terminal: control characters shown as escapes, not run."""
    if text is None:
        return ""
    out = []
    for char in text:
        if char == "\n":
            out.append(" ")
        elif unicodedata.category(char) in {"Cc", "Cf"} and char != "\u200d":
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


def tail(order_no: str, width: int = ORDER_WIDTH) -> str:
    """An order number shortened from the left: the last digits tell orders apart."""
    order_no = clean(order_no)
    return order_no if len(order_no) <= width else "…" + order_no[-(width - 1) :]


def when(moment: datetime | None, zone: tzinfo, now: datetime) -> str:
    """``Dec 01 08:00`` in the buyer's zone; with the year when it is not this year's."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if local.year != now.astimezone(zone).year:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%b %d %H:%M}"


def short_date(moment: datetime, zone: tzinfo, now: datetime) -> str:
    """``Nov 28`` in the buyer's zone, with the year when it is not this year's."""
    local = moment.astimezone(zone)
    if local.year != now.astimezone(zone).year:
        return f"{local:%Y-%m-%d}"
    return f"{local:%b %d}"
