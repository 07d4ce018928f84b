"""Orders and disputes as the ledger reads them: the first room behind the face.

Rows become domain values through ledger/rows.py. A dispute read for a listing takes its state
from the stored fold (no events, no evidence); read in full (``dispute``), it replays its
events. Reads that span several queries run in one snapshot. Nothing here writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple

from refundctl import domain
from refundctl.domain import Dispute, Event, Reason, State
from refundctl.errors import BadInput
from refundctl.ledger.connection import (
    LedgerFile,
)
from refundctl.ledger.rows import decoding as _decoding
from refundctl.ledger.rows import event as _event
from refundctl.ledger.rows import evidence as _evidence
from refundctl.ledger.rows import from_fold_text
from refundctl.ledger.rows import left as _left
from refundctl.ledger.rows import order as _decode_order
from refundctl.ledger.rows import took as _took
from refundctl.money import from_minor
from refundctl.records import (
    CloseReason,
    DisputeRecord,
    EvidenceRecord,
    OpenOrder,
    Order,
    OrderEvent,
)
from refundctl.timeparse import from_iso

if TYPE_CHECKING:  # only the commands that use them import these: `check` stays quick
    from refundctl.due import Filters
    from refundctl.ledger.evidence import EvidenceStore


@dataclass(frozen=True, slots=True)
class OrderRef:
    """How the user names an order: its number, and the marketplace when two share it."""

    order_no: str
    marketplace: str | None = None

    def __str__(self) -> str:
        return (
            self.order_no if self.marketplace is None else f"{self.order_no} on {self.marketplace}"
        )


def _closed_words(order: Order) -> str:
    if order.closed is CloseReason.REMOVED:
        return "removed"
    return "closed" if order.closed is None else f"closed ({order.closed})"


class Taken(NamedTuple):
    """What an order's disputes hold of it, from the state the ledger keeps beside each."""

    took: Decimal  # agreed or recovered
    whole: bool  # an active dispute covers the whole order
    covered: Decimal  # what active disputes on single items cover beyond what they took
    disputed: bool  # it had a dispute at all

    def left(self, order: Order) -> Decimal:
        return order.total - self.took

    def undisputed(self, order: Order) -> Decimal:
        """What is refundable and under no active dispute: what the order's window is for."""
        return Decimal(0) if self.whole else max(self.left(order) - self.covered, Decimal(0))

    def open_order(self, order: Order) -> OpenOrder:
        return OpenOrder(order, self.left(order), self.disputed, self.undisputed(order))


NOTHING_TAKEN = Taken(Decimal(0), False, Decimal(0), False)


# Disputes read (or reindexed) per batch: few queries each, and SQLite's limit on
# parameters is far away.
_BATCH = 500


def _placeholders(values: frozenset[State]) -> str:
    return ", ".join("?" for _ in values)


def _in(column: str, values: Sequence[object]) -> str:
    return f"{column} IN ({', '.join('?' for _ in values)})"


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# What shell completion reads (``Reads.completion``).
Completing = Literal["disputes", "orders", "marketplaces"]
_COMPLETION_SQL: dict[Completing, str] = {
    "disputes": "SELECT d.id, o.marketplace, o.order_no, d.state FROM disputes d "
    "JOIN orders o ON o.id = d.order_id ORDER BY d.id",
    "orders": "SELECT order_no, marketplace, title FROM orders ORDER BY id",
    "marketplaces": "SELECT DISTINCT marketplace FROM orders ORDER BY 1",
}


class OrderDetail(NamedTuple):
    """An order with what its disputes hold of it, the disputes on it, and what was recorded
    of it, oldest first."""

    standing: OpenOrder
    disputes: list[DisputeRecord]
    history: list[OrderEvent]


class Reads(LedgerFile):
    """Reads of orders and disputes, in a few queries per batch rather than several per row."""

    @property
    def evidence_store(self) -> EvidenceStore:
        from refundctl.ledger.evidence import EvidenceStore, evidence_dir

        if self.path is None:
            raise BadInput("this ledger has no evidence store")  # pragma: no cover
        return EvidenceStore(evidence_dir(self.path), self.settings.evidence_max_bytes)

    def _dispute_ids(self, order_id: int) -> list[int]:
        """The order's disputes, oldest first."""
        rows = self.conn.execute(
            "SELECT id FROM disputes WHERE order_id = ? ORDER BY id", (order_id,)
        )
        return [row[0] for row in rows]

    def _dispute_numbers(self, order_id: int) -> str:
        return ", ".join(str(i) for i in self._dispute_ids(order_id))

    def order(self, ref: OrderRef) -> Order:
        with self._read():
            return self._find_order(ref)

    def order_count(self, filters: Filters | None = None, *, removed: bool = True) -> int:
        """How many orders the filters keep (with those removed by ``order remove``, or not),
        counted by SQLite."""
        where, params = self._order_filter(filters, removed)
        found = self.conn.execute(f"SELECT count(*) FROM orders o WHERE {where}", params)
        return int(found.fetchone()[0])

    def _order_filter(
        self, filters: Filters | None, removed: bool
    ) -> tuple[str, dict[str, object]]:
        """``order_lines.where`` for these filters, from the first order on."""
        from refundctl.due import Filters
        from refundctl.ledger import order_lines

        order_lines.register(self.conn)
        where, params = order_lines.where(filters or Filters(), removed)
        return where, {**params, "after": 0}

    def orders(
        self, filters: Filters | None = None, *, removed: bool = True, batch: int = 2000
    ) -> Generator[Order, None, None]:
        """Every order the filters keep (in SQL: ``order_lines.where``; with those removed by
        ``order remove``, or not), by id, a batch at a time in one read snapshot: a listing
        of any size in flat memory. Iterate it inside the ``with`` that opened the ledger."""
        where, params = self._order_filter(filters, removed)
        next_batch = f"id IN (SELECT o.id FROM orders o WHERE {where} ORDER BY o.id LIMIT :batch)"
        with self._read():
            while orders := self._orders_where(next_batch, {**params, "batch": batch}):
                params["after"] = orders[-1].id
                yield from orders

    def order_lines(self, filters: Filters, *, removed: bool) -> Generator[str, None, None]:
        """``order list --json``'s orders as JSON text, each built by SQLite from the stored
        row (``ledger/order_lines.py``), by number, in one read snapshot."""
        from refundctl.ledger import order_lines

        order_lines.register(self.conn)
        with self._read():
            yield from order_lines.order_lines(self.conn, filters, removed=removed)

    def order_detail(
        self, ref: OrderRef, *, disputes: bool = True, dispute_history: bool = False
    ) -> OrderDetail:
        """One order in full, in one snapshot: what its disputes hold of it (its window is
        shown while some of it is under no active dispute), every dispute on it oldest first
        (as a listing reads them; with ``dispute_history``, with their events; none read
        without ``disputes``), and its own history."""
        with self._read():
            order = self._find_order(ref)
            rows = self.conn.execute(
                "SELECT kind, changes, at FROM order_events WHERE order_id = ? ORDER BY at, id",
                (order.id,),
            ).fetchall()
            standing = self._taken(order).open_order(order)
            ids = self._dispute_ids(order.id) if disputes else []
            records = self._records(ids, history=dispute_history)
        with _decoding(f"the history of order {order.id}"):
            history = [
                OrderEvent(row["kind"], json.loads(row["changes"] or "{}"), from_iso(row["at"]))
                for row in rows
            ]
        return OrderDetail(standing, records, history)

    def _every_open_order(self) -> list[OpenOrder]:
        """Orders with something refundable that no active dispute covers: a whole-order
        dispute replaces the order's window, a dispute on one item leaves it for the rest."""
        with self._read():
            rows = self.conn.execute(
                "SELECT * FROM orders WHERE closed_at IS NULL AND id NOT IN (SELECT order_id "
                f"FROM disputes WHERE item IS NULL AND state IN ({_placeholders(domain.ACTIVE)})) "
                "ORDER BY id",
                tuple(domain.ACTIVE),
            ).fetchall()
            found = []
            for row in rows:
                order = self._order_from_row(row)
                taken = self._taken(order)
                if taken.undisputed(order) > 0:
                    found.append(taken.open_order(order))
            return found

    def _dispute_ids_with_deadlines(self, order_id: int) -> list[int]:
        """The order's disputes that may have deadlines: the active ones, and the lost ones
        (an appeal window, the next remedy's)."""
        return [
            row[0]
            for row in self.conn.execute(
                f"SELECT id FROM disputes WHERE order_id = ? "
                f"AND state IN ({_placeholders(domain.ACTIVE)}, ?) ORDER BY id",
                (order_id, *domain.ACTIVE, State.LOST.value),
            )
        ]

    def _find_order(self, ref: OrderRef) -> Order:
        if ref.marketplace is None:
            rows = self.conn.execute(
                "SELECT * FROM orders WHERE order_no = ?", (ref.order_no,)
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT * FROM orders WHERE order_no = ? AND marketplace = ?",
                (ref.order_no, ref.marketplace),
            ).fetchall()
        if not rows:
            raise BadInput(f"unknown order {ref}; 'refundctl order list' shows your orders")
        if len(rows) > 1:
            places = " and ".join(sorted(row["marketplace"] for row in rows))
            raise BadInput(f"order {ref.order_no} exists on {places}; say which with --marketplace")
        return self._order_from_row(rows[0])

    def _order_by_id(self, order_id: int) -> Order:
        row = self.conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        return self._order_from_row(row)

    def _order_from_row(
        self, row: sqlite3.Row, item_rows: Sequence[sqlite3.Row] | None = None
    ) -> Order:
        if item_rows is None:
            item_rows = self.conn.execute(
                "SELECT * FROM order_items WHERE order_id = ? ORDER BY position", (row["id"],)
            ).fetchall()
        with _decoding(f"order {row['id']}"):
            return _decode_order(row, item_rows)

    def _taken(self, order: Order, exclude: int = 0) -> Taken:
        """What the order's disputes (but ``exclude``) hold of it, from the state the ledger
        keeps beside each dispute. An active dispute on one item covers that item's price
        (its ask, when the item has no price), less what it already took."""
        took, whole, covered, disputed = Decimal(0), False, Decimal(0), False
        for row in self.conn.execute(
            "SELECT state, agreed, refunded, item, requested FROM disputes "
            "WHERE order_id = ? AND id != ?",
            (order.id, exclude),
        ):
            share = _took(row["state"], row["agreed"], row["refunded"], order.currency)
            took += share
            disputed = True
            if not State(row["state"]).active:
                continue
            if row["item"] is None:
                whole = True
                continue
            item = order.item(row["item"])
            value = item.value if item is not None else None
            if value is None:
                value = from_minor(row["requested"], order.currency)
            covered += max(value - share, Decimal(0))
        return Taken(took, whole, covered, disputed)

    def _open_orders(self, ids: Sequence[int]) -> list[OpenOrder]:
        """These orders, in this order, as ``open_orders`` gives them."""
        found = {o.id: o for o in self._orders_where(_in("id", ids), ids)} if ids else {}
        return [self._taken(found[order_id]).open_order(found[order_id]) for order_id in ids]

    def _resolve_item(self, order: Order, name: str | None) -> str | None:
        if name is None:
            return None
        item = order.item(name)
        if item is None:
            known = ", ".join(i.name for i in order.items) or "none recorded"
            raise BadInput(
                f"order {order.order_no} has no item {name!r} (items: {known}); "
                "add it with 'order update --item'"
            )
        return item.name

    def _refundable(self, order: Order, exclude: int | None, item: str | None = None) -> Decimal:
        """The total less what other disputes on the order agreed or recovered."""
        return _left(order, self._taken(order, exclude or 0).took, item)

    def dispute(self, dispute_id: int, *, check_files: bool = True) -> DisputeRecord:
        """One dispute in full; with ``check_files``, each stored file re-read and checked
        against its SHA-256 (a command that only needs the state skips that cost)."""
        with self._read():
            record = self._record(dispute_id)
        return self._with_file_checks(record) if check_files else record

    def _with_file_checks(self, record: DisputeRecord) -> DisputeRecord:
        if self.path is None or all(e.sha256 is None for e in record.evidence):
            return record
        store = self.evidence_store
        from refundctl.integrity import FileStatus

        status: dict[str, FileStatus] = {}
        checked = []
        for e in record.evidence:
            if e.sha256 is None:
                checked.append(e)
                continue
            if e.sha256 not in status:
                status[e.sha256] = store.check(e.sha256, e.size).status
            found = status[e.sha256]
            checked.append(
                replace(
                    e, present=found is not FileStatus.MISSING, intact=found is FileStatus.INTACT
                )
            )
        return replace(record, evidence=tuple(checked))

    def completion(self, what: Completing) -> list[tuple[str, ...]]:
        """What shell completion offers, as text: for disputes their number, marketplace,
        order number and state; for orders their number, marketplace and title; the
        marketplaces in the ledger by name."""
        with self._read():
            rows = self.conn.execute(_COMPLETION_SQL[what]).fetchall()
        return [tuple("" if value is None else str(value) for value in row) for row in rows]

    def _events(self, dispute_id: int, currency: str) -> list[Event]:
        rows = self.conn.execute(
            "SELECT * FROM events WHERE dispute_id = ? ORDER BY id", (dispute_id,)
        ).fetchall()
        return [_event(row, currency) for row in rows]

    def _replay(self, dispute_id: int, currency: str) -> Dispute:
        with _decoding(f"dispute {dispute_id}"):
            return domain.replay(self._events(dispute_id, currency))

    def _record(self, dispute_id: int) -> DisputeRecord:
        # A number past SQLite's integer range cannot name a dispute (and would overflow).
        found = self._records([dispute_id]) if 0 < dispute_id < 2**63 else []
        if not found:
            raise BadInput(
                f"unknown dispute {dispute_id}; 'refundctl status --all' lists your disputes"
            )
        return found[0]

    def _records(self, ids: Sequence[int], *, history: bool = True) -> list[DisputeRecord]:
        """The disputes with these ids, in that order (unknown ids skipped), each in full:
        a few queries per batch of disputes rather than several per dispute."""
        records: list[DisputeRecord] = []
        for start in range(0, len(ids), _BATCH):
            records += self._record_batch(ids[start : start + _BATCH], history=history)
        return records

    def _record_batch(self, ids: Sequence[int], *, history: bool = True) -> list[DisputeRecord]:
        """The disputes with these ids, in that order. Without ``history`` a record has no
        events and no evidence, and its state is the stored fold (replayed where there is
        none): what a listing shows, at a small part of the cost."""
        marks = ", ".join("?" for _ in ids)
        rows = {
            row["id"]: row
            for row in self.conn.execute(f"SELECT * FROM disputes WHERE id IN ({marks})", ids)
        }
        if not rows:
            return []
        order_ids = sorted({row["order_id"] for row in rows.values()})
        orders = {o.id: o for o in self._orders_where(_in("id", order_ids), order_ids)}
        siblings: dict[int, list[sqlite3.Row]] = {}
        for row in self.conn.execute(
            f"SELECT id, order_id, state, agreed, refunded, via FROM disputes "
            f"WHERE {_in('order_id', order_ids)}",
            order_ids,
        ):
            siblings.setdefault(row["order_id"], []).append(row)
        folds: dict[int, Dispute] = {}
        if not history:
            for dispute_id, row in rows.items():
                if row["folded"] is not None:
                    with _decoding(f"the stored state of dispute {dispute_id}"):
                        fold = from_fold_text(row["folded"])
                    if fold is not None:
                        folds[dispute_id] = fold
        replayed = [i for i in ids if i not in folds]
        events: dict[int, list[sqlite3.Row]] = {}
        if replayed:
            for row in self.conn.execute(
                f"SELECT * FROM events WHERE {_in('dispute_id', replayed)} ORDER BY dispute_id, id",
                replayed,
            ):
                events.setdefault(row["dispute_id"], []).append(row)
        evidence: dict[int, list[sqlite3.Row]] = {}
        if history:
            for row in self.conn.execute(
                f"SELECT * FROM evidence WHERE dispute_id IN ({marks}) ORDER BY dispute_id, id",
                ids,
            ):
                evidence.setdefault(row["dispute_id"], []).append(row)
        records = []
        for dispute_id in ids:
            row = rows.get(dispute_id)
            if row is None:
                continue
            order = orders[row["order_id"]]
            currency = order.currency
            with _decoding(f"dispute {dispute_id}"):
                told = [_event(e, currency) for e in events.get(dispute_id, [])]
                dispute = folds.get(dispute_id) or domain.replay(told)
                reason = Reason(row["reason"])
            taken = sum(
                (
                    _took(other["state"], other["agreed"], other["refunded"], currency)
                    for other in siblings.get(order.id, [])
                    if other["id"] != dispute_id
                ),
                Decimal(0),
            )
            used = frozenset(
                other["via"]
                for other in siblings.get(order.id, [])
                if other["id"] != dispute_id and other["via"] is not None
            )
            records.append(
                DisputeRecord(
                    id=dispute_id,
                    order=order,
                    item=row["item"],
                    reason=reason,
                    case_ref=row["case_ref"],
                    description=row["description"],
                    dispute=dispute,
                    events=tuple(told) if history else (),
                    evidence=self._evidence_of(dispute_id, evidence),
                    max_ask=_left(order, taken, row["item"]),
                    others_took=taken,
                    via=row["via"],
                    remedies_used=used,
                )
            )
        return records

    @staticmethod
    def _evidence_of(
        dispute_id: int, evidence: dict[int, list[sqlite3.Row]]
    ) -> tuple[EvidenceRecord, ...]:
        with _decoding(f"the evidence of dispute {dispute_id}"):
            return tuple(_evidence(e) for e in evidence.get(dispute_id, []))

    def _orders_where(
        self, condition: str, params: Sequence[object] | Mapping[str, object]
    ) -> list[Order]:
        """The orders matching a condition on ``orders``, with their items, in id order."""
        items: dict[int, list[sqlite3.Row]] = {}
        for item in self.conn.execute(
            "SELECT * FROM order_items WHERE order_id IN "
            f"(SELECT id FROM orders WHERE {condition}) ORDER BY order_id, position",
            params,
        ):
            items.setdefault(item["order_id"], []).append(item)
        return [
            self._order_from_row(row, items.get(row["id"], []))
            for row in self.conn.execute(
                f"SELECT * FROM orders WHERE {condition} ORDER BY id", params
            )
        ]
