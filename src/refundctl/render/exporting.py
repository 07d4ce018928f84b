"""The ledger as data: one versioned JSON document, JSON Lines, or flat CSV tables.

Pure: orders and dispute views in, text out, with no Rich. CSV cells that a spreadsheet would
run as a formula are neutralised (``importing.neutralise``), and ``order import`` undoes that,
so an exported orders CSV imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from refundctl.deadlines import Deadline
from refundctl.due import CheckItem
from refundctl.importing import FIELDS, neutralise
from refundctl.money import to_json
from refundctl.records import Order
from refundctl.render import jsonshape
from refundctl.timeparse import iso
from refundctl.views import DisputeLine, DisputeView, OrderView, dispute_line

EXPORT_VERSION = 1

# The columns `order import` reads, in its order: one list, so the CSV round trip cannot drift.
ORDER_COLUMNS = FIELDS
DISPUTE_COLUMNS = (
    "id",
    "marketplace",
    "order_no",
    "item",
    "reason",
    "state",
    "waiting_on",
    "currency",
    "requested",
    "offer",
    "agreed",
    "refunded",
    "credit",
    "case_ref",
    "opened",
    "next_deadline",
    "next_due",
    "description",
)
EVENT_COLUMNS = (
    "dispute_id",
    "event_id",
    "marketplace",
    "order_no",
    "at",
    "recorded",
    "actor",
    "kind",
    "amount",
    "currency",
    "note",
    "tracking",
    "retracts",
)


def item_text(order: Order) -> str:
    """Items as one cell, in the form ``--item`` and import read: ``Cable x2 @3.50; Case``.

    A name that would read back as something else (it holds ``;``, ``|``, ``@`` or a line
    break, ends in ``x2``-like text, or starts with ``[``) makes the whole cell a JSON list
    instead: ``NAME xQTY @PRICE`` is one line.
    """
    if any(_needs_json(item.name) for item in order.items):
        return json.dumps(
            [
                {"name": i.name, "quantity": i.quantity, "price": to_json(i.price)}
                for i in order.items
            ],
            ensure_ascii=False,
        )
    parts = []
    for item in order.items:
        text = item.name + (f" x{item.quantity}" if item.quantity != 1 else "")
        if item.price is not None:
            text += f" @{item.price}"
        parts.append(text)
    return "; ".join(parts)


def _needs_json(name: str) -> bool:
    return (
        any(ch in name for ch in ";|@\n\r")
        or name.lstrip().startswith("[")
        or re.search(r"\sx\d+$", name) is not None
        or name != name.strip()
    )


def order_row(order: Order) -> dict[str, Any]:
    shape = jsonshape.order(order)
    return {
        "marketplace": order.marketplace,
        "order_no": order.order_no,
        "seller": order.seller,
        "title": order.title,
        "total": shape["total"],
        "currency": order.currency,
        **{name: shape[name] for name in ("ordered", "shipped", "expected_by", "received")},
        "protection_ends": shape["protection_ends"],
        "payment": order.payment,
        "items": item_text(order),
    }


def dispute_row(line: DisputeLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "marketplace": line.marketplace,
        "order_no": line.order_no,
        "item": line.item,
        "reason": line.reason,
        "state": str(line.state),
        "waiting_on": line.state.waiting_on,
        "currency": line.currency,
        "requested": to_json(line.requested),
        "offer": to_json(line.offer),
        "agreed": to_json(line.agreed),
        "refunded": to_json(line.refunded),
        "credit": line.credit,
        "case_ref": line.case_ref,
        "opened": iso(line.opened),
        "next_deadline": line.next_name,
        "next_due": None if line.next_due is None else iso(line.next_due),
        "description": line.description,
    }


def event_rows(views: Iterable[DisputeView]) -> list[dict[str, Any]]:
    rows = []
    for view in views:
        record = view.record
        for event in record.events:
            rows.append(
                {
                    "dispute_id": record.id,
                    "event_id": event.id,
                    "marketplace": record.order.marketplace,
                    "order_no": record.order.order_no,
                    "at": iso(event.at),
                    "recorded": iso(event.recorded),
                    "actor": str(event.actor),
                    "kind": event.kind,
                    "amount": to_json(event.amount),
                    "currency": record.order.currency,
                    "note": event.note,
                    "tracking": event.tracking,
                    "retracts": event.retracts,
                }
            )
    return rows


def whole_ledger(
    orders: Sequence[Order], disputes: Sequence[DisputeView], now: datetime
) -> dict[str, Any]:
    """Everything, in the versioned shape of docs/export.md."""
    return {
        "format": "refundctl-export",
        "version": EXPORT_VERSION,
        "exported": iso(now),
        "orders": [jsonshape.order(o) for o in orders],
        "disputes": [jsonshape.dispute(v, now, detail=True) for v in disputes],
    }


def table(
    what: str, orders: Sequence[Order], disputes: Sequence[DisputeView], now: datetime
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    columns, rows = stream_table(what, orders, disputes, now)
    return columns, list(rows)


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    return "".join(csv_lines(columns, rows))


def csv_lines(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV text of ``rows``, a line (or a few) at a time, as the rows come."""
    out = io.StringIO()
    # RFC 4180 line ends: with them, a cell holding a lone carriage return is quoted too.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(row.get(name)) for name in columns])
        if count % 512 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value))


def to_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(jsonl_lines(rows))


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    return (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def stream_table(
    what: str, orders: Iterable[Order], disputes: Iterable[DisputeView], now: datetime
) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    """``table``'s rows as they come, for an export that is written while it is read."""
    if what == "orders":
        return ORDER_COLUMNS, (order_row(o) for o in orders)
    if what == "disputes":
        return DISPUTE_COLUMNS, (dispute_row(dispute_line(v)) for v in disputes)
    return EVENT_COLUMNS, event_rows_of(disputes)


def event_rows_of(disputes: Iterable[DisputeView]) -> Iterator[dict[str, Any]]:
    """Every event of these disputes, a dispute at a time."""
    return (row for v in disputes for row in event_rows([v]))


STATUS_COLUMNS = (
    "kind",
    "id",
    "marketplace",
    "order_no",
    "seller",
    "reason",
    "state",
    "currency",
    "requested",
    "offer",
    "agreed",
    "refunded",
    "total",
    "deadline",
    "due",
    "binds",
    "action",
    "overdue",
    "if_missed",
)
CHECK_COLUMNS = (
    "kind",
    "id",
    "marketplace",
    "order_no",
    "deadline",
    "due",
    "binds",
    "action",
    "overdue",
    "if_missed",
)


def _deadline_cells(deadline: Deadline | None, now: datetime) -> dict[str, Any]:
    if deadline is None:
        return {}
    return {
        "deadline": deadline.name,
        "due": iso(deadline.due),
        "binds": str(deadline.binds),
        "action": deadline.action,
        "overdue": deadline.overdue(now),
        "if_missed": str(deadline.if_missed),
    }


def status_rows(
    disputes: Sequence[DisputeView], orders: Sequence[OrderView], now: datetime
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for view in disputes:
        record, d = view.record, view.record.dispute
        rows.append(
            {
                "kind": "dispute",
                "id": record.id,
                "marketplace": record.order.marketplace,
                "order_no": record.order.order_no,
                "seller": record.order.seller,
                "reason": str(record.reason),
                "state": str(d.state),
                "currency": record.order.currency,
                "requested": to_json(d.requested),
                "offer": to_json(d.offer),
                "agreed": to_json(d.agreed),
                "refunded": to_json(d.refunded),
                "total": to_json(record.order.total),
                **_deadline_cells(view.next, now),
            }
        )
    for order_view in orders:
        order = order_view.order
        rows.append(
            {
                "kind": "order",
                "marketplace": order.marketplace,
                "order_no": order.order_no,
                "seller": order.seller,
                "currency": order.currency,
                "total": to_json(order.total),
                **_deadline_cells(order_view.next, now),
            }
        )
    return rows


def check_rows(items: Iterable[CheckItem], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "kind": item.kind,
            "id": item.dispute_id,
            "marketplace": item.marketplace,
            "order_no": item.order_no,
            "deadline": item.name,
            "due": item.due_text,
            "binds": item.binds,
            "action": item.action,
            "overdue": item.overdue(now),
            "if_missed": item.if_missed,
        }
        for item in items
    ]
