"""Order writes: add, change, receive, close and reopen an order, each one transaction.

An order's change appends an order event and stores its window and its active disputes'
deadlines again (a dispute's outer limit counts from the order's dates). ``NewOrders`` gathers
the rows of many new orders, so that an import writes them in four statements.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, tzinfo
from typing import Any, assert_never

from refundctl import records
from refundctl.domain import State
from refundctl.errors import BadInput
from refundctl.ledger import deadline_index
from refundctl.ledger.cache import Cache, _may_have_deadlines, _order_window_rows
from refundctl.ledger.connection import (
    Settings,
)
from refundctl.ledger.reads import NOTHING_TAKEN, OrderRef, _closed_words
from refundctl.ledger.rows import ORDER_TIMES as _ORDER_TIMES
from refundctl.ledger.rows import took
from refundctl.ledger.rows import ts as _ts
from refundctl.ledger.schema import insert_sql
from refundctl.money import to_minor
from refundctl.records import CloseReason, OpenOrder, Order
from refundctl.timeparse import iso, local_text

# The columns a new order's rows fill, in the order ``NewOrders`` builds them.
ORDER_COLUMNS = (
    "id",
    "marketplace",
    "order_no",
    "seller",
    "title",
    "total",
    "currency",
    *_ORDER_TIMES,
    "payment",
    "created",
    "updated",
)


ITEM_COLUMNS = ("order_id", "position", "name", "quantity", "price")


EVENT_COLUMNS = ("order_id", "kind", "changes", "at", "recorded")


_INSERT_ITEM = insert_sql("order_items", ITEM_COLUMNS)


_INSERT_EVENT = insert_sql("order_events", EVENT_COLUMNS)


def _item_rows(order_id: int, order: Order) -> list[tuple[object, ...]]:
    return [
        (
            order_id,
            position,
            item.name,
            item.quantity,
            None if item.price is None else to_minor(item.price, order.currency),
        )
        for position, item in enumerate(order.items)
    ]


@dataclass(frozen=True)
class Update:
    """New values for an order's fields (``order update``)."""

    changes: dict[str, Any]


@dataclass(frozen=True)
class Receive:
    """The order arrived at ``at``; a second arrival only as a ``correction`` of the date."""

    at: datetime
    correction: bool = False


@dataclass(frozen=True)
class Close:
    """Stop watching the order's windows from ``at``; ``REMOVED`` hides it from the lists."""

    reason: CloseReason | None
    at: datetime


@dataclass(frozen=True)
class Reopen:
    """Watch a closed or removed order again."""


# What can happen to an order once it is in the ledger: ``Ledger.change_order`` takes one.
OrderChange = Update | Receive | Close | Reopen


@dataclass
class NewOrders:
    """The rows of new orders, written together: an import of many orders makes four
    statements of them instead of four per order."""

    orders: list[tuple[object, ...]] = field(default_factory=list)
    items: list[tuple[object, ...]] = field(default_factory=list)
    events: list[tuple[object, ...]] = field(default_factory=list)
    windows: list[tuple[object, ...]] = field(default_factory=list)
    next_id: int = 0  # the number the next new order takes; 0 until asked

    def add(
        self, order_id: int, order: Order, now: datetime, kind: str, settings: Settings
    ) -> None:
        """A new order's row, its items, its event and its window."""
        stamp = _stamp(now)
        recorded = _order_fields(order)
        self.orders.append(
            (
                order_id,
                order.marketplace,
                order.order_no,
                order.seller,
                order.title,
                to_minor(order.total, order.currency),
                order.currency,
                *(recorded[name] for name in _ORDER_TIMES),
                order.payment,
                stamp,
                stamp,
            )
        )
        self.items += _item_rows(order_id, order)
        self.events.append((order_id, kind, _event_json(recorded), stamp, stamp))
        self.windows += _order_window_rows(order, NOTHING_TAKEN, settings, order_id)

    def write(self, conn: sqlite3.Connection) -> None:
        """Insert the rows gathered so far, and start afresh."""
        conn.executemany(insert_sql("orders", ORDER_COLUMNS), self.orders)
        conn.executemany(insert_sql("order_items", ITEM_COLUMNS), self.items)
        conn.executemany(insert_sql("order_events", EVENT_COLUMNS), self.events)
        deadline_index.insert(conn, sorted(self.windows))  # appended in key order: faster
        self.orders, self.items, self.events, self.windows = [], [], [], []


@functools.lru_cache(maxsize=4)
def _stamp(now: datetime) -> str:
    """``iso(now)``, written once per import rather than once per order."""
    return iso(now)


# One encoder, made once: json.dumps with options builds a new one for every call.
_event_json = json.JSONEncoder(sort_keys=True).encode


def _order_fields(order: Order) -> dict[str, Any]:
    """An order as plain JSON-able values, for the order's event log."""
    return {
        "seller": order.seller,
        "title": order.title,
        "total": str(order.total),
        "currency": order.currency,
        "items": [
            {
                "name": i.name,
                "quantity": i.quantity,
                "price": None if i.price is None else str(i.price),
            }
            for i in order.items
        ],
        "payment": order.payment,
        **{name: _ts(getattr(order, name)) for name in _ORDER_TIMES},
    }


def _with_paid_default(order: Order, now: datetime) -> Order:
    """An order imported without a payment date was paid no later than anything else known."""
    if order.ordered is not None:
        return order
    known = [m for m in (now, order.shipped, order.received) if m is not None]
    return replace(order, ordered=min(known))


def _refuse_problems(order: Order, now: datetime, zone: tzinfo) -> None:
    problems = records.order_problems(order, now, zone)
    if problems:
        raise BadInput(f"order {order.order_no}: " + "; ".join(problems))


class OrderWrites(Cache):
    """Order writes, each one transaction (``_write``)."""

    def add_order(self, order: Order, now: datetime) -> OpenOrder:
        """Add a new order; it comes back as stored, with nothing disputed yet."""
        _refuse_problems(order, now, self.settings.zone)
        with self._write():
            existing = self.conn.execute(
                "SELECT 1 FROM orders WHERE marketplace = ? AND order_no = ?",
                (order.marketplace, order.order_no),
            ).fetchone()
            if existing:
                raise BadInput(
                    f"order {order.order_no} on {order.marketplace} exists already; "
                    "change it with 'refundctl order update' (or, if you closed or removed "
                    "it, bring it back with 'refundctl order reopen')"
                )
            order_id = self._insert_order(order, now, "added")
            return NOTHING_TAKEN.open_order(self._order_by_id(order_id))

    def _insert_order(
        self, order: Order, now: datetime, kind: str, later: NewOrders | None = None
    ) -> int:
        """Insert an order with its items, its event and its window. An import passes
        ``later`` to have the items, events and windows of all its rows written together."""
        pending = later or NewOrders()
        order_id = self._next_order_id(pending)
        pending.next_id = order_id + 1
        self._ensure_basis(order.marketplace)
        pending.add(order_id, order, now, kind, self.settings)
        if later is None:
            pending.write(self.conn)
        return order_id

    def _next_order_id(self, pending: NewOrders) -> int:
        """The number the next new order takes: one more than the largest, inside this write
        transaction, as SQLite would number it; counted on in ``pending`` as it takes them,
        so that a whole file's orders go in with one statement."""
        if pending.next_id == 0:
            (largest,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()
            pending.next_id = largest + 1
        return pending.next_id

    def change_order(self, ref: OrderRef, change: OrderChange, now: datetime) -> OpenOrder:
        """Change an order in one transaction; it comes back as stored, with what its
        disputes hold of it, so that the command shows it without reading again."""
        with self._write():
            old = self._find_order(ref)
            match change:
                case Update(changes):
                    new = self._update(old, changes, now)
                case Receive(at, correction):
                    new = self._receive(old, at, correction, now)
                case Close(reason, at):
                    new = self._close(old, reason, at, now)
                case Reopen():
                    if old.closed_at is None:
                        raise BadInput(f"order {old.order_no} is open; nothing to reopen")
                    new = self._set_closed(old, None, None, "reopened", now)
                case _:
                    assert_never(change)
            return self._taken(new).open_order(new)

    def _update(self, old: Order, changes: dict[str, Any], now: datetime) -> Order:
        unknown = set(changes) - {f.name for f in fields(Order)} - {"id"}
        assert not unknown, f"not order fields: {unknown}"
        if "total" in changes or "currency" in changes:
            self._refuse_money_change(old, changes)
        new = replace(old, **changes)
        _refuse_problems(new, now, self.settings.zone)
        return self._store_order_change(old, new, "updated", now, now)

    def _receive(self, old: Order, at: datetime, correction: bool, now: datetime) -> Order:
        # A second arrival only as a correction of the date (``--on`` given), never by
        # accident: it would move the window.
        if old.received is not None and not correction:
            raise BadInput(
                f"order {old.order_no} was received already, on "
                f"{local_text(old.received, self.settings.zone)}; to correct the date, "
                f"give it: 'refundctl order receive {old.order_no} --on WHEN'"
            )
        new = replace(old, received=at)
        _refuse_problems(new, now, self.settings.zone)
        return self._store_order_change(old, new, "received", at, now)

    def _close(self, old: Order, reason: CloseReason | None, at: datetime, now: datetime) -> Order:
        # Its disputes keep their deadlines; ``order reopen`` takes it back.
        if old.closed_at is not None:
            raise BadInput(
                f"order {old.order_no} is {_closed_words(old)} already; "
                f"'refundctl order reopen {old.order_no}' opens it again"
            )
        if reason is CloseReason.REMOVED:
            disputes = self._dispute_numbers(old.id)
            if disputes:
                raise BadInput(
                    f"order {old.order_no} has disputes ({disputes}), which keep it on "
                    f"record; stop watching its window with 'refundctl order close "
                    f"{old.order_no}' instead"
                )
        if at < (old.ordered or at):
            raise BadInput("--on is before the order was placed")
        kind = "removed" if reason is CloseReason.REMOVED else "closed"
        return self._set_closed(old, reason, at, kind, now)

    def _set_closed(
        self,
        old: Order,
        reason: CloseReason | None,
        at: datetime | None,
        kind: str,
        now: datetime,
    ) -> Order:
        self.conn.execute(
            "UPDATE orders SET closed = ?, closed_at = ?, updated = ? WHERE id = ?",
            (None if reason is None else str(reason), _ts(at), iso(now), old.id),
        )
        changes = {"closed": None if reason is None else str(reason)}
        self._order_event(old.id, kind, changes, at or now, now)
        stored = self._order_by_id(old.id)
        self._index_order(stored)
        # A closed order's remedy windows are not watched either (remedies.dispute_remedies).
        for record in self._records(self._dispute_ids_with_deadlines(old.id), history=False):
            self._index_dispute(record)
        return stored

    def _refuse_money_change(self, old: Order, changes: dict[str, Any]) -> None:
        has_disputes = self.conn.execute(
            "SELECT 1 FROM disputes WHERE order_id = ? LIMIT 1", (old.id,)
        ).fetchone()
        if "currency" in changes and changes["currency"] != old.currency and has_disputes:
            raise BadInput(f"order {old.order_no} has disputes; its currency cannot change")
        if "total" in changes and has_disputes:
            taken = old.total - self._refundable(old, None)
            if changes["total"] < taken:
                raise BadInput(
                    f"total {changes['total']} is less than the {taken} its disputes "
                    "already agreed or recovered"
                )

    def _refuse_item_change(self, old: Order, new: Order) -> None:
        """An item an active dispute is about, or one that took money, stays on the order,
        worth at least what that dispute already agreed or recovered (as the total does for
        the whole order). A closed dispute that took nothing holds no item."""
        for row in self.conn.execute(
            "SELECT id, item, state, agreed, refunded FROM disputes "
            "WHERE order_id = ? AND item IS NOT NULL ORDER BY id",
            (old.id,),
        ):
            taken = took(row["state"], row["agreed"], row["refunded"], old.currency)
            if not State(row["state"]).active and taken == 0:
                continue
            item = new.item(row["item"])
            if item is None:
                raise BadInput(
                    f"dispute {row['id']} is about {row['item']!r}; keep that item on the order"
                )
            if item.value is not None and item.value < taken:
                raise BadInput(
                    f"{item.name} at {item.value} is less than the {taken} dispute "
                    f"{row['id']} already agreed or recovered"
                )

    def _store_order_change(
        self, old: Order, new: Order, kind: str, at: datetime, now: datetime
    ) -> Order:
        before, after = _order_fields(old), _order_fields(new)
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if not changed:
            return old
        if "items" in changed:
            self._refuse_item_change(old, new)
        self.conn.execute(
            "UPDATE orders SET seller = ?, title = ?, total = ?, currency = ?, ordered = ?, "
            "shipped = ?, expected_by = ?, received = ?, protection_ends = ?, payment = ?, "
            "updated = ? WHERE id = ?",
            (
                new.seller,
                new.title,
                to_minor(new.total, new.currency),
                new.currency,
                *(_ts(getattr(new, name)) for name in _ORDER_TIMES),
                new.payment,
                iso(now),
                old.id,
            ),
        )
        if "items" in changed:
            self.conn.execute("DELETE FROM order_items WHERE order_id = ?", (old.id,))
            self._write_items(old.id, new)
        self._order_event(old.id, kind, changed, at, now)
        stored = self._order_by_id(old.id)
        self._index_order(stored)
        # A dispute's outer claim limit counts from the order's dates, and a remedy's window
        # from them and its payment.
        # Each dispute's line says its order's seller, total and items: what it may still ask.
        records = self._records(self._dispute_ids(old.id), history=False)
        for record in records:
            if _may_have_deadlines(record):
                self._index_dispute(record)
        self._store_lines(records)
        return stored

    def _write_items(self, order_id: int, order: Order) -> None:
        self.conn.executemany(_INSERT_ITEM, _item_rows(order_id, order))

    def _order_event(
        self, order_id: int, kind: str, changes: dict[str, Any], at: datetime, now: datetime
    ) -> None:
        self.conn.execute(_INSERT_EVENT, (order_id, kind, _event_json(changes), iso(at), iso(now)))
