"""The ledger: with ledger/connection.py, the one place that speaks SQL.

``Ledger`` builds on ``LedgerFile`` (ledger/connection.py), which opens the file, checks that it
is a refundctl ledger and migrates it (after a backup copy when it holds data). Every write
method here is one ``BEGIN IMMEDIATE`` transaction: the event and the cached current state land
together or not at all, and parallel invocations wait for each other. Rows become domain values
here (minor units to ``Decimal``, text to aware datetimes) and nowhere else.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from refundctl import domain
from refundctl.deadlines import (
    Deadline,
    can_escalate_from,
    can_open_from,
    dispute_deadlines,
    opening_warnings,
    order_deadlines,
    timing_warnings,
)
from refundctl.domain import (
    Actor,
    CloseReason,
    Dispute,
    DisputeRecord,
    Event,
    EventKind,
    EvidenceKind,
    EvidenceRecord,
    Move,
    MoveContext,
    OfferKind,
    OpenOrder,
    Order,
    OrderEvent,
    Reason,
    State,
)
from refundctl.due import CheckItem, Filters
from refundctl.errors import BadInput, LedgerUnusable, ManyProblems
from refundctl.ledger import deadline_index
from refundctl.ledger.connection import (
    LedgerFile,
    Settings,
    count_commit,
    refuse_foreign_schema,
)
from refundctl.ledger.health import refuse_damaged
from refundctl.ledger.rows import ORDER_TIMES as _ORDER_TIMES
from refundctl.ledger.rows import decoding as _decoding
from refundctl.ledger.rows import event as _event
from refundctl.ledger.rows import evidence as _evidence
from refundctl.ledger.rows import fold_text, from_fold_text
from refundctl.ledger.rows import left as _left
from refundctl.ledger.rows import order as _decode_order
from refundctl.ledger.rows import took as _took
from refundctl.ledger.rows import ts as _ts
from refundctl.ledger.schema import insert_sql
from refundctl.money import format_money, from_minor, parse_amount, percent_of, to_minor
from refundctl.policies import has_appeals
from refundctl.render.fmt import state_words
from refundctl.timeparse import from_iso, iso, local_text

if TYPE_CHECKING:  # only the commands that use them import these: `check` stays quick
    from refundctl.importing import ImportedOrder
    from refundctl.integrity import Reference, StoredFileReport, VerifyReport
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


@dataclass(frozen=True, slots=True)
class AmountSpec:
    """What ``open`` asks for: an amount, a percentage of the refundable, or all of it."""

    amount: str | None = None
    percent: Decimal | None = None
    full: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """What a write returns: the dispute after it, and any timing warnings."""

    record: DisputeRecord
    warnings: tuple[str, ...] = ()


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


# A dispute as a listing shows it, with its deadlines (stored or computed).
Listed = tuple[DisputeRecord, list[Deadline]]


@dataclass(frozen=True, slots=True)
class Urgent:
    """What ``status`` shows: the most urgent disputes and open orders, how many there are
    of each, and their deadlines as the index stores them (by dispute and by order id)."""

    records: list[DisputeRecord]
    disputes: int
    orders: list[OpenOrder]
    open_orders: int
    dispute_deadlines: dict[int, list[Deadline]]
    order_deadlines: dict[int, list[Deadline]]


class Ledger(LedgerFile):
    """One open ledger. Create it with ``Ledger.open``; every public write is a transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, settings: Settings) -> None:
        super().__init__(conn, path, settings)
        self._basis_ok: set[str] = set()  # marketplaces whose basis this write has checked

    @contextmanager
    def _write(self, *, commit: bool = True) -> Iterator[None]:
        """One command's transaction. BEGIN IMMEDIATE takes the write lock before reading.
        ``commit=False`` runs everything and then rolls it back: a dry run."""
        # The marketplaces the ledger holds (a config's own among them) besides the built-in.
        held = [row[0] for row in self.conn.execute("SELECT marketplace FROM deadline_basis")]
        _ready_before_the_lock(self.settings, held)
        self.conn.execute("BEGIN IMMEDIATE")
        # What another process (with another config or zone) stored before we took the lock
        # decides what we must recompute: look at the stored basis again in every write, and
        # recompute what is stale inside this command's own transaction, so that a refused
        # command or a dry run leaves the ledger exactly as it was.
        try:
            self._restore_stale()
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT" if commit else "ROLLBACK")
        except KeyboardInterrupt:
            # Ctrl-C during a long COMMIT is raised as it returns: ask SQLite whether it
            # committed, so that the command says so.
            if commit and not self.conn.in_transaction:
                count_commit()
            raise
        if commit:
            count_commit()

    @property
    def evidence_store(self) -> EvidenceStore:
        from refundctl.ledger.evidence import EvidenceStore, evidence_dir

        if self.path is None:
            raise BadInput("this ledger has no evidence store")  # pragma: no cover
        return EvidenceStore(evidence_dir(self.path), self.settings.evidence_max_bytes)

    # -- orders --------------------------------------------------------------------------------

    def add_order(self, order: Order, now: datetime) -> Order:
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
            return self._order_by_id(order_id)

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

    def update_order(self, ref: OrderRef, changes: dict[str, Any], now: datetime) -> Order:
        """Change the given fields; ``changes`` maps ``Order`` field names to new values."""
        unknown = set(changes) - {f.name for f in fields(Order)} - {"id"}
        assert not unknown, f"not order fields: {unknown}"
        with self._write():
            old = self._find_order(ref)
            if "total" in changes or "currency" in changes:
                self._refuse_money_change(old, changes)
            new = replace(old, **changes)
            _refuse_problems(new, now, self.settings.zone)
            return self._store_order_change(old, new, "updated", now, now)

    def receive_order(
        self, ref: OrderRef, at: datetime, now: datetime, *, correction: bool = False
    ) -> Order:
        """Record the order's arrival; a second one only as a ``correction`` of the date
        (``--on`` given), never by accident: it would move the window."""
        with self._write():
            old = self._find_order(ref)
            if old.received is not None and not correction:
                raise BadInput(
                    f"order {old.order_no} was received already, on "
                    f"{local_text(old.received, self.settings.zone)}; to correct the date, "
                    f"give it: 'refundctl order receive {old.order_no} --on WHEN'"
                )
            new = replace(old, received=at)
            _refuse_problems(new, now, self.settings.zone)
            return self._store_order_change(old, new, "received", at, now)

    def close_order(
        self, ref: OrderRef, reason: CloseReason | None, at: datetime, now: datetime
    ) -> Order:
        """Stop watching an order's windows (its disputes keep theirs); ``order reopen``
        takes it back. ``REMOVED`` hides it from the lists too, for an order with no dispute."""
        with self._write():
            old = self._find_order(ref)
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

    def reopen_order(self, ref: OrderRef, now: datetime) -> Order:
        with self._write():
            old = self._find_order(ref)
            if old.closed_at is None:
                raise BadInput(f"order {old.order_no} is open; nothing to reopen")
            return self._set_closed(old, None, None, "reopened", now)

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
        return stored

    def _dispute_numbers(self, order_id: int) -> str:
        rows = self.conn.execute(
            "SELECT id FROM disputes WHERE order_id = ? ORDER BY id", (order_id,)
        ).fetchall()
        return ", ".join(str(row[0]) for row in rows)

    def order_events(self, order: Order) -> list[OrderEvent]:
        """What was recorded of an order, oldest first."""
        with self._read():
            rows = self.conn.execute(
                "SELECT kind, changes, at FROM order_events WHERE order_id = ? ORDER BY at, id",
                (order.id,),
            ).fetchall()
        with _decoding(f"the history of order {order.id}"):
            return [
                OrderEvent(row["kind"], json.loads(row["changes"] or "{}"), from_iso(row["at"]))
                for row in rows
            ]

    def order(self, ref: OrderRef) -> Order:
        with self._read():
            return self._find_order(ref)

    def orders(self) -> list[Order]:
        with self._read():
            return self._all_orders()

    def order_count(self, *, removed: bool) -> int:
        """How many orders there are (with those removed by ``order remove``, or not)."""
        where = "" if removed else " WHERE closed IS NOT 'removed'"
        return int(self.conn.execute(f"SELECT count(*) FROM orders{where}").fetchone()[0])

    def _all_orders(self) -> list[Order]:
        """Every order, with its items, in two queries rather than one per order."""
        items: dict[int, list[sqlite3.Row]] = {}
        for item in self.conn.execute("SELECT * FROM order_items ORDER BY order_id, position"):
            items.setdefault(item["order_id"], []).append(item)
        rows = self.conn.execute("SELECT * FROM orders ORDER BY id").fetchall()
        return [self._order_from_row(row, items.get(row["id"], [])) for row in rows]

    def each_order(self, batch: int = 2000) -> Generator[Order, None, None]:
        """Every order by number, a batch at a time in one read snapshot: a listing of any
        size in flat memory. Iterate it inside the ``with`` that opened the ledger."""
        next_batch = "id IN (SELECT id FROM orders WHERE id > ? ORDER BY id LIMIT ?)"
        with self._read():
            last = 0
            while orders := self._orders_where(next_batch, (last, batch)):
                last = orders[-1].id
                yield from orders

    def import_orders(
        self,
        batches: Iterable[Sequence[ImportedOrder]],
        now: datetime,
        *,
        dry_run: bool = False,
        refuse: Callable[[], None] = lambda: None,
    ) -> ImportSummary:
        """Add new orders and update changed ones, all in one transaction or not at all.

        Only the fields the file gave are compared, so a file without a ``seller`` column
        leaves sellers alone; a row identical to the ledger changes nothing, which makes a
        second import of the same file a no-op. The orders come a batch at a time, as the
        file is read: the new orders of a batch go in four statements, and only the orders a
        batch updates are read from the ledger, so that an import costs what its file holds,
        not what the ledger does, in flat memory. Once every batch is in, ``refuse`` raises if
        the reading found a problem: then nothing of it stays.
        """
        # A large file touches pages of every index of the orders, their items, events and
        # deadlines; SQLite's default cache (2 MiB) would write them out and read them back
        # many times within the one transaction. It takes pages only as it needs them.
        self.conn.execute(f"PRAGMA cache_size = {-_IMPORT_CACHE_KIB}")
        tally = _Tally()
        with self._write(commit=not dry_run):
            known = {
                (row[1], row[2]): row[0]
                for row in self.conn.execute("SELECT id, marketplace, order_no FROM orders")
            }
            pending = NewOrders()
            for batch in batches:
                ids = [known[row.key] for row in batch if row.key in known]
                existing = {o.id: o for o in self._orders_where(_in("id", ids), ids)} if ids else {}
                for row in batch:
                    old_id = known.get(row.key)
                    if old_id is not None and pending.orders:
                        # The new orders before it go first: every row's events in file
                        # order, whatever the batches.
                        pending.write(self.conn)
                    old = None if old_id is None else existing[old_id]
                    self._import_row(row, old, pending, now, tally)
                pending.write(self.conn)
            refuse()
            _refuse_rows(tally.problems)
        return ImportSummary(tally.added, tally.updated, tally.unchanged, dry_run)

    def _import_row(
        self,
        row: ImportedOrder,
        old: Order | None,
        pending: NewOrders,
        now: datetime,
        tally: _Tally,
    ) -> None:
        try:
            if old is None:
                self._insert_order(_with_paid_default(row.order, now), now, "imported", pending)
                tally.added += 1
                return
            changes = {
                name: getattr(row.order, name)
                for name in row.given
                if name not in {"marketplace", "order_no"}
            }
            new = replace(old, **changes)
            if _order_fields(new) == _order_fields(old):
                tally.unchanged += 1
                return
            if "total" in changes or "currency" in changes:
                self._refuse_money_change(old, changes)
            _refuse_problems(new, now, self.settings.zone)
            self._store_order_change(old, new, "imported", now, now)
            tally.updated += 1
        except BadInput as error:
            tally.problems.append(f"row {row.row}: {error.message}")

    def standing(self, order: Order) -> OpenOrder:
        """What is refundable on the order, whether it had disputes, and how much of it no
        active dispute covers (its window is shown while that is more than nothing)."""
        with self._read():
            taken = self._taken(order)
        return taken.open_order(order)

    def open_orders(self) -> list[OpenOrder]:
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

    def _store_order_change(
        self, old: Order, new: Order, kind: str, at: datetime, now: datetime
    ) -> Order:
        before, after = _order_fields(old), _order_fields(new)
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if not changed:
            return old
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
        # A dispute's outer claim limit counts from the order's dates.
        for record in self._records(self._active_dispute_ids(old.id)):
            self._index_dispute(record)
        return stored

    def _active_dispute_ids(self, order_id: int) -> list[int]:
        return [
            row[0]
            for row in self.conn.execute(
                f"SELECT id FROM disputes WHERE order_id = ? "
                f"AND state IN ({_placeholders(domain.ACTIVE)}) ORDER BY id",
                (order_id, *domain.ACTIVE),
            )
        ]

    def _write_items(self, order_id: int, order: Order) -> None:
        self.conn.executemany(_INSERT_ITEM, _item_rows(order_id, order))

    def _order_event(
        self, order_id: int, kind: str, changes: dict[str, Any], at: datetime, now: datetime
    ) -> None:
        self.conn.execute(_INSERT_EVENT, (order_id, kind, _event_json(changes), iso(at), iso(now)))

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

    # -- disputes: writes ----------------------------------------------------------------------

    def open_dispute(
        self,
        ref: OrderRef,
        *,
        reason: Reason,
        ask: AmountSpec,
        item: str | None,
        note: str | None,
        case_ref: str | None,
        evidence: Sequence[Path],
        evidence_kind: EvidenceKind | None,
        at: datetime,
        now: datetime,
    ) -> Result:
        store = self.evidence_store
        for path in evidence:
            store.check_readable(path)
        _refuse_future(at, now, self.settings.zone)
        with self._write():
            order = self._find_order(ref)
            if order.closed_at is not None:
                raise BadInput(
                    f"order {order.order_no} is {_closed_words(order)}; reopen it first with "
                    f"'refundctl order reopen {order.order_no}'"
                )
            item_name = self._resolve_item(order, item)
            self._refuse_overlap(order, item_name)
            if order.ordered is not None and at < order.ordered:
                raise BadInput("--on is before the order was placed")
            refundable = self._refundable(order, None, item_name)
            if refundable <= 0:
                raise BadInput(f"nothing is left to refund on order {order.order_no}")
            amount = _asked_amount(ask, refundable, order.currency)
            policy = self.settings.policy_for(order.marketplace)
            zone = self.settings.zone
            earliest = can_open_from(order, policy, zone) if reason is Reason.NOT_RECEIVED else None
            warnings = timing_warnings(
                order_deadlines(order, policy, zone), Move.OPEN, at, zone, earliest
            )
            cursor = self.conn.execute(
                "INSERT INTO disputes (order_id, item, reason, case_ref, description, state, "
                "requested, opened_at, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.id,
                    item_name,
                    reason.value,
                    case_ref,
                    note,
                    State.AWAITING_SELLER.value,
                    to_minor(amount, order.currency),
                    iso(at),
                    iso(now),
                ),
            )
            dispute_id = int(cursor.lastrowid or 0)
            opening = Event(Move.OPEN, Actor.BUYER, at, now, amount=amount, note=note)
            self._append(dispute_id, opening, order.currency)
            notes = self._store_files(dispute_id, evidence, evidence_kind, None, at, now)
            record = self._record(dispute_id)
            self._save_state(record)
            found = self._deadlines_of(record)
            warnings += opening_warnings(
                order,
                policy,
                zone,
                found,
                can_escalate_from(record.dispute, order, reason, policy, zone, found),
            )
            return Result(record, (*warnings, *notes))

    def move(
        self,
        dispute_id: int,
        move: Move,
        *,
        amount: str | None = None,
        offer_kind: OfferKind | None = None,
        note: str | None = None,
        tracking: str | None = None,
        credit: bool = False,
        actor: Actor | None = None,
        case_ref: str | None = None,
        evidence: Sequence[Path] = (),
        at: datetime,
        now: datetime,
    ) -> Result:
        """Record one move on a dispute, after the domain has allowed it."""
        store = self.evidence_store
        for path in evidence:
            store.check_readable(path)
        _refuse_future(at, now, self.settings.zone)
        with self._write():
            record = self._record(dispute_id)
            order = record.order
            policy = self.settings.policy_for(order.marketplace)
            ctx = MoveContext(record.max_ask, order.currency, has_appeals(policy))
            value = None
            if amount is not None:
                value = parse_amount(amount, order.currency)
            domain.check(record.dispute, move, ctx, value, offer_kind)
            if at < record.dispute.last_move_at:
                zone = self.settings.zone
                raise BadInput(
                    f"--on {_local(at, zone)} is before the dispute's last move "
                    f"({_local(record.dispute.last_move_at, zone)}); moves are recorded "
                    "in the order they happened"
                )
            if move is Move.ESCALATE and record.dispute.state is State.LOST:
                self._refuse_overlap(order, record.item, exclude=dispute_id)
            zone = self.settings.zone
            before = self._deadlines_of(record)
            earliest = None
            if move is Move.ESCALATE:
                earliest = can_escalate_from(
                    record.dispute, order, record.reason, policy, zone, before
                )
            by_platform = actor is Actor.PLATFORM
            warnings = [] if by_platform else timing_warnings(before, move, at, zone, earliest)
            event = Event(
                move,
                actor or domain.ACTOR_OF[move],
                at,
                now,
                amount=value,
                offer_kind=offer_kind,
                note=note,
                tracking=tracking,
                credit=credit,
            )
            self._append(dispute_id, event, order.currency)
            warnings += self._store_files(dispute_id, evidence, None, None, at, now)
            if case_ref is not None:
                self.conn.execute(
                    "UPDATE disputes SET case_ref = ? WHERE id = ?", (case_ref, dispute_id)
                )
            updated = self._record(dispute_id)
            self._save_state(updated)
            short = domain.shortfall(updated.dispute)
            if short is not None:
                d, currency = updated.dispute, order.currency
                warnings.append(
                    f"received {format_money(d.refunded or short, currency)} of the "
                    f"{format_money(d.agreed or short, currency)} agreed: "
                    f"{format_money(short, currency)} short, and the dispute is closed; if "
                    f"the rest is still owed, 'refundctl undo {dispute_id}' reopens it to "
                    "chase or escalate"
                )
            return Result(updated, tuple(warnings))

    def undo(self, dispute_id: int, now: datetime) -> tuple[Result, Event]:
        """Retract the last move by appending a retraction; returns the move taken back."""
        with self._write():
            record = self._record(dispute_id)
            last = domain.last_move(record.events)
            if last is None:
                raise BadInput(
                    f"dispute {dispute_id} has no move to undo; "
                    f"to withdraw it, use 'refundctl cancel {dispute_id}'"
                )
            retraction = Event(EventKind.RETRACT, Actor.BUYER, now, now, retracts=last.id)
            self._append(dispute_id, retraction, record.order.currency)
            updated = self._record(dispute_id)
            if updated.dispute.active and not record.dispute.active:
                self._refuse_overlap(record.order, record.item, exclude=dispute_id)
            if domain.counts_toward_order(updated.dispute) > updated.max_ask:
                raise BadInput(
                    "undoing this would take more than the order's total "
                    f"({updated.max_ask} {record.order.currency} is still refundable); "
                    "correct the total or close the other dispute first"
                )
            self._save_state(updated)
            return Result(updated), last

    def enter_due(self, dispute_id: int, name: str, due: datetime | None, now: datetime) -> Result:
        """Record the marketplace's own date for one of the dispute's open deadlines, or with
        ``due`` None go back to the rule's (an event either way, so ``undo`` takes it back)."""
        with self._write():
            record = self._record(dispute_id)
            open_now = [d.name for d in self._deadlines_of(record)]
            entered = record.dispute.entered_for(name)
            if due is None and entered is None:
                raise BadInput(
                    f"dispute {dispute_id} has no date entered for {name}; nothing to clear"
                )
            if due is not None and name not in open_now:
                listed = ", ".join(open_now) if open_now else "none"
                raise BadInput(
                    f"dispute {dispute_id} ({state_words(record.dispute.state)}) has no open "
                    f"deadline {name}; its open deadlines: {listed}"
                )
            event = Event(EventKind.DUE, Actor.BUYER, now, now, deadline=name, due=due)
            self._append(dispute_id, event, record.order.currency)
            updated = self._record(dispute_id)
            self._save_state(updated)
            return Result(updated)

    def attach_files(
        self,
        dispute_id: int,
        paths: Sequence[Path],
        kind: EvidenceKind | None,
        note: str | None,
        at: datetime,
        now: datetime,
    ) -> Result:
        """Store and record files; one already attached to this dispute is noted, not recorded."""
        store = self.evidence_store
        for path in paths:
            store.check_readable(path)
        _refuse_future(at, now, self.settings.zone)
        with self._write():
            self._record(dispute_id)
            notes = self._store_files(dispute_id, paths, kind, note, at, now)
            record = self._record(dispute_id)
            self._save_state(record)
            return Result(record, tuple(notes))

    def attach_url(
        self,
        dispute_id: int,
        url: str,
        kind: EvidenceKind | None,
        note: str | None,
        at: datetime,
        now: datetime,
    ) -> Result:
        _refuse_future(at, now, self.settings.zone)
        with self._write():
            self._record(dispute_id)
            existing = self.conn.execute(
                "SELECT id FROM evidence WHERE dispute_id = ? AND sha256 IS NULL AND url = ? "
                "ORDER BY id LIMIT 1",
                (dispute_id, url),
            ).fetchone()
            if existing is not None:
                note_text = (
                    f"{url} is already attached to dispute {dispute_id} as evidence "
                    f"#{existing['id']}; nothing new was recorded"
                )
                return Result(self._record(dispute_id), (note_text,))
            cursor = self.conn.execute(
                "INSERT INTO evidence (dispute_id, kind, name, url, note, added, recorded) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    dispute_id,
                    (kind or EvidenceKind.LISTING).value,
                    url,
                    url,
                    note,
                    iso(at),
                    iso(now),
                ),
            )
            self._evidence_event(dispute_id, int(cursor.lastrowid or 0), note, at, now)
            record = self._record(dispute_id)
            self._save_state(record)
            return Result(record)

    def attach_message(
        self, dispute_id: int, text: str, sender: Actor, at: datetime, now: datetime
    ) -> DisputeRecord:
        _refuse_future(at, now, self.settings.zone)
        with self._write():
            record = self._record(dispute_id)
            event = Event(EventKind.MESSAGE, sender, at, now, note=text)
            self._append(dispute_id, event, record.order.currency)
            record = self._record(dispute_id)
            self._save_state(record)
            return record

    def _store_files(
        self,
        dispute_id: int,
        paths: Sequence[Path],
        kind: EvidenceKind | None,
        note: str | None,
        at: datetime,
        now: datetime,
    ) -> list[str]:
        """Store and record each file; return a note for each one the dispute has already."""
        store = self.evidence_store
        notes = []
        for path in paths:
            stored = store.put(path)
            name = _stored_name(path)
            existing = self.conn.execute(
                "SELECT id, name FROM evidence WHERE dispute_id = ? AND sha256 = ? "
                "ORDER BY id LIMIT 1",
                (dispute_id, stored.sha256),
            ).fetchone()
            if existing is not None:
                notes.append(_already_attached(name, dispute_id, existing, stored.written))
                continue
            chosen = kind or _kind_for(stored.media_type)
            cursor = self.conn.execute(
                "INSERT INTO evidence (dispute_id, kind, name, sha256, size, media_type, note, "
                "added, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dispute_id,
                    chosen.value,
                    name,
                    stored.sha256,
                    stored.size,
                    stored.media_type,
                    note,
                    iso(at),
                    iso(now),
                ),
            )
            self._evidence_event(dispute_id, int(cursor.lastrowid or 0), note, at, now)
        return notes

    def _evidence_event(
        self, dispute_id: int, evidence_id: int, note: str | None, at: datetime, now: datetime
    ) -> None:
        self.conn.execute(
            "INSERT INTO events (dispute_id, kind, actor, note, evidence_id, credit, at, "
            "recorded) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (
                dispute_id,
                EventKind.EVIDENCE.value,
                Actor.BUYER.value,
                note,
                evidence_id,
                iso(at),
                iso(now),
            ),
        )

    def _append(self, dispute_id: int, event: Event, currency: str) -> None:
        self.conn.execute(
            "INSERT INTO events (dispute_id, kind, actor, amount, offer_kind, note, tracking, "
            "credit, retracts, deadline, due, at, recorded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dispute_id,
                str(event.kind),
                event.actor.value,
                None if event.amount is None else to_minor(event.amount, currency),
                None if event.offer_kind is None else event.offer_kind.value,
                event.note,
                event.tracking,
                int(event.credit),
                event.retracts,
                event.deadline,
                _ts(event.due),
                iso(event.at),
                iso(event.recorded),
            ),
        )

    def _save_state(self, record: DisputeRecord) -> None:
        """Refresh the cached current state from what the events say."""
        d, currency = record.dispute, record.order.currency

        def minor(value: Decimal | None) -> int | None:
            return None if value is None else to_minor(value, currency)

        try:
            self.conn.execute(
                "UPDATE disputes SET state = ?, requested = ?, offer = ?, agreed = ?, "
                "refunded = ?, folded = ?, updated = ? WHERE id = ?",
                (
                    d.state.value,
                    minor(d.requested),
                    minor(d.offer),
                    minor(d.agreed),
                    minor(d.refunded),
                    fold_text(d),
                    iso(record.events[-1].recorded),
                    record.id,
                ),
            )
        except sqlite3.IntegrityError:
            raise BadInput(
                f"order {record.order.order_no} already has an active dispute"
                + (f" on {record.item}" if record.item else "")
            ) from None
        self._index_dispute(record)
        self._index_order(record.order)

    # -- the deadline index (ledger/deadline_index.py) -----------------------------------------

    def _finish_upgrade(self) -> None:
        """Inside the upgrade's transaction: store every deadline the new index lacks (m002
        made it with an empty basis), so that a kill leaves the old schema or the whole new
        ledger, never the schema without its deadlines."""
        self._restore_stale()

    def _restore_stale(self) -> None:
        """Inside a write: store again the deadlines of every marketplace whose stored basis
        is not the one in effect (or is an upgrade's empty one)."""
        self._basis_ok.clear()
        for marketplace in self._stale():
            self._ensure_basis(marketplace)
        self._store_folds()

    def _unfolded(self) -> bool:
        """Whether a dispute has no stored fold yet (one step, through a partial index)."""
        found = self.conn.execute("SELECT 1 FROM disputes WHERE folded IS NULL LIMIT 1")
        return found.fetchone() is not None

    def _store_folds(self) -> None:
        """Inside a write: store the fold of every dispute that has none (an upgrade's, or
        rows written around the ledger layer), a batch at a time."""
        while ids := [
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM disputes WHERE folded IS NULL ORDER BY id LIMIT ?", (_BATCH,)
            )
        ]:
            self.conn.executemany(
                "UPDATE disputes SET folded = ? WHERE id = ?",
                [(fold_text(r.dispute), r.id) for r in self._record_batch(ids)],
            )

    def _check_index(self) -> None:
        """Before a read: whether the stored deadlines can be trusted (``index_current``),
        and the m002 upgrade finished where it left them unfilled.

        DESIGN.md: read-only commands never write, apart from the one-time upgrade. An empty
        basis is that upgrade's unfinished part (m002 made the table), so a read completes it;
        a read never rewrites rows for a changed config: the commands compute afresh instead,
        and so they do when the upgrade cannot be finished (a read-only or damaged file)."""
        stale = self._stale()
        if not stale and not self._unfolded():
            return
        if any(stale.values()):
            self.index_current = False
            return
        try:
            assert self.path is not None
            refuse_damaged(self.conn, self.path)
            refuse_foreign_schema(self.conn, self.path)
            with self._write():
                pass  # a write recomputes what is stale first
        except (LedgerUnusable, sqlite3.OperationalError) as error:
            if isinstance(error, sqlite3.OperationalError) and "readonly" not in str(error):
                raise
            self.index_current = False

    def _ensure_basis(self, marketplace: str) -> None:
        """Inside a write: make the marketplace's stored deadlines match what is in effect."""
        if marketplace in self._basis_ok:
            return
        current = self._basis(marketplace)
        row = self.conn.execute(
            "SELECT basis FROM deadline_basis WHERE marketplace = ?", (marketplace,)
        ).fetchone()
        if row is None or row[0] != current:
            if row is not None:
                self._reindex(marketplace)
            self.conn.execute(
                "INSERT OR REPLACE INTO deadline_basis (marketplace, basis) VALUES (?, ?)",
                (marketplace, current),
            )
        self._basis_ok.add(marketplace)

    def reindex(self) -> None:
        """Recompute every stored deadline in one transaction: for tools that write disputes
        in bulk (benchmarks/make_ledger.py); commands keep the index current themselves."""
        with self._write():
            for (marketplace,) in self.conn.execute(
                "SELECT DISTINCT marketplace FROM orders"
            ).fetchall():
                self._reindex(marketplace)
                self.conn.execute(
                    "INSERT OR REPLACE INTO deadline_basis (marketplace, basis) VALUES (?, ?)",
                    (marketplace, self._basis(marketplace)),
                )

    def _reindex(self, marketplace: str) -> None:
        """Recompute every stored deadline of one marketplace, a batch of disputes at a time."""
        self.conn.execute(
            "DELETE FROM deadlines WHERE marketplace = ?",
            (marketplace,),
        )
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT d.id FROM disputes d JOIN orders o ON o.id = d.order_id "
                f"WHERE o.marketplace = ? AND d.state IN ({_placeholders(domain.ACTIVE)}, ?) "
                "ORDER BY d.id",
                (marketplace, *domain.ACTIVE, State.LOST.value),
            )
        ]
        for start in range(0, len(ids), _BATCH):
            rows: list[tuple[object, ...]] = []
            for record in self._records(ids[start : start + _BATCH], history=False):
                rows += self._dispute_index_rows(record)
            deadline_index.insert(self.conn, sorted(rows))
        order_rows: list[tuple[object, ...]] = []
        for order in self._orders_where("marketplace = ?", (marketplace,)):
            order_rows += _order_window_rows(order, self._taken(order), self.settings)
        deadline_index.insert(self.conn, sorted(order_rows))

    def _dispute_index_rows(self, record: DisputeRecord) -> list[tuple[object, ...]]:
        return deadline_index.rows_for(
            record.order,
            record.id,
            self._deadlines_of(record),
            domain.at_stake(record.dispute),
            # A closed dispute's deadline (an appeal window) is history once it passed.
            lapses=not record.dispute.active,
        )

    def _deadlines_of(self, record: DisputeRecord) -> list[Deadline]:
        policy = self.settings.policy_for(record.order.marketplace)
        return dispute_deadlines(
            record.dispute, record.order, record.reason, policy, self.settings.zone
        )

    def _index_dispute(self, record: DisputeRecord) -> None:
        self._ensure_basis(record.order.marketplace)
        deadline_index.replace(
            self.conn, "dispute_id = ?", (record.id,), self._dispute_index_rows(record)
        )

    def _index_order(self, order: Order) -> None:
        """Rewrite an order's own window."""
        self._ensure_basis(order.marketplace)
        deadline_index.replace(
            self.conn,
            "order_id = ? AND dispute_id = 0",
            (order.id,),
            _order_window_rows(order, self._taken(order), self.settings),
        )

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

    def most_urgent(
        self, now: datetime, limit: int, *, include_closed: bool, filters: Filters | None
    ) -> Urgent:
        """The ``limit`` most urgent disputes and open orders (as ``open_orders`` gives them),
        with their deadlines and how many there are in all: what ``status`` shows on a
        terminal. From the stored deadlines where they are current, else computed afresh."""
        with self.snapshot():
            if self.index_current:
                ids, disputes = deadline_index.top_disputes(
                    self.conn, now, limit, include_closed=include_closed, filters=filters
                )
                order_ids, orders = deadline_index.top_orders(self.conn, now, limit, filters)
                return Urgent(
                    self._records(ids, history=False),
                    disputes,
                    self._open_orders(order_ids),
                    orders,
                    deadline_index.stored(self.conn, "dispute_id", ids),
                    deadline_index.stored(self.conn, "order_id", order_ids),
                )
        every, open_orders = self._afresh(now, include_closed, filters)
        return Urgent(
            [r for r, _ in every[:limit]],
            len(every),
            [o for o, _ in open_orders[:limit]],
            len(open_orders),
            {r.id: found for r, found in every[:limit]},
            {o.order.id: found for o, found in open_orders[:limit]},
        )

    @contextmanager
    def ranked(
        self, now: datetime, *, include_closed: bool, filters: Filters | None
    ) -> Iterator[tuple[Iterable[Listed], Iterable[tuple[OpenOrder, list[Deadline]]]]]:
        """Every dispute (active ones, and closed ones with a deadline open, unless
        ``include_closed``) and every open order with a window on show, most urgent first,
        each with its deadlines: read a batch at a time from the stored deadlines where they
        are current, so that a long listing is never held in memory whole; else computed
        afresh. Iterate both inside the ``with``."""
        with self.snapshot():
            if self.index_current:
                yield (
                    self._ranked_disputes(now, include_closed=include_closed, filters=filters),
                    self._ranked_orders(now, filters),
                )
                return
        yield self._afresh(now, include_closed, filters)

    def _afresh(
        self, now: datetime, include_closed: bool, filters: Filters | None
    ) -> tuple[list[Listed], list[tuple[OpenOrder, list[Deadline]]]]:
        """``ranked`` with every deadline computed from the policies in effect: what the
        stored deadlines would say if they had been computed with them."""
        from refundctl.views import by_urgency, dispute_view, order_view, orders_by_urgency

        zone, policy_for = self.settings.zone, self.settings.policy_for
        views = [
            dispute_view(r, policy_for, zone, now)
            for r in self.disputes(include_closed=include_closed, history=False)
        ]
        if not include_closed:
            # A closed dispute stays on show while a deadline of it is open (an appeal window).
            views = [v for v in views if v.record.dispute.active or v.deadlines]
        shown = {o.order.id: o for o in self.open_orders()}
        windows = [order_view(o, policy_for, zone, now) for o in shown.values()]
        windows = [v for v in windows if v.deadlines]
        if filters is not None:
            views = [v for v in views if filters.dispute(v)]
            windows = [v for v in windows if filters.order(v.order)]
        return (
            [(v.record, list(v.computed)) for v in by_urgency(views, now)],
            [
                (shown[v.order.id], list(order_deadlines(v.order, v.policy, zone)))
                for v in orders_by_urgency(windows, now)
            ],
        )

    def _ranked_disputes(
        self, now: datetime, *, include_closed: bool, filters: Filters | None
    ) -> Iterator[Listed]:
        ids, _ = deadline_index.top_disputes(
            self.conn, now, None, include_closed=include_closed, filters=filters
        )
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            stored = deadline_index.stored(self.conn, "dispute_id", batch)
            for record in self._records(batch, history=False):
                yield record, stored.get(record.id, [])

    def _ranked_orders(
        self, now: datetime, filters: Filters | None
    ) -> Iterator[tuple[OpenOrder, list[Deadline]]]:
        ids, _ = deadline_index.top_orders(self.conn, now, None, filters)
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            stored = deadline_index.stored(self.conn, "order_id", batch)
            for shown in self._open_orders(batch):
                yield shown, stored.get(shown.order.id, [])

    def _due_afresh(
        self, now: datetime, horizon: datetime, filters: Filters | None, everything: bool
    ) -> Iterator[CheckItem]:
        from refundctl.views import check_items, dispute_view, order_view

        zone, policy_for = self.settings.zone, self.settings.policy_for
        disputes, orders = self._afresh(now, False, filters)
        return iter(
            check_items(
                [dispute_view(r, policy_for, zone, now, found) for r, found in disputes],
                [order_view(o, policy_for, zone, now, found) for o, found in orders],
                now,
                horizon - now,
                everything=everything,
            )
        )

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

    def _refuse_overlap(self, order: Order, item: str | None, exclude: int = 0) -> None:
        rows = self.conn.execute(
            f"SELECT id, item, state FROM disputes WHERE order_id = ? AND id != ? "
            f"AND state IN ({_placeholders(domain.ACTIVE)})",
            (order.id, exclude, *domain.ACTIVE),
        ).fetchall()
        for row in rows:
            if item is None or row["item"] is None or row["item"] == item:
                what = f" on {row['item']}" if row["item"] else ""
                raise BadInput(
                    f"order {order.order_no} already has an active dispute{what} "
                    f"(#{row['id']}, {state_words(row['state'])}); work with it, or close it first"
                )

    def _refundable(self, order: Order, exclude: int | None, item: str | None = None) -> Decimal:
        """The total less what other disputes on the order agreed or recovered."""
        return _left(order, self._taken(order, exclude or 0).took, item)

    # -- disputes: reads -----------------------------------------------------------------------

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

    # -- verify --------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """SQLite's own checks, every dispute replayed, every stored file re-hashed. Reads only."""
        from refundctl.integrity import StoredFileReport, VerifyReport

        if self.path is None:
            raise BadInput("there is no ledger here yet, so nothing to verify")
        problems: list[str] = []
        disputes = 0
        files: tuple[StoredFileReport, ...] = ()
        unreferenced: tuple[str, ...] = ()
        store = self.evidence_store
        try:
            problems += self._database_problems()
            with self._read():
                disputes, replay_problems = self._replay_problems()
                problems += replay_problems
                named = self._named_files()
            files = tuple(
                StoredFileReport(store.check(sha256, size), refs)
                for sha256, (size, refs) in named.items()
            )
            expected = {f"{sha256[:2]}/{sha256}" for sha256 in named}
            unreferenced = tuple(name for name in store.stored() if name not in expected)
        except sqlite3.DatabaseError as error:
            problems.append(f"SQLite cannot read the ledger: {error}")
        return VerifyReport(
            ledger=str(self.path),
            evidence_dir=str(store.root),
            evidence_dir_exists=store.root.is_dir(),
            database_problems=tuple(problems),
            disputes=disputes,
            files=files,
            unreferenced=unreferenced,
        )

    def _database_problems(self) -> list[str]:
        problems = [
            f"SQLite integrity check: {row[0]}"
            for row in self.conn.execute("PRAGMA integrity_check")
            if row[0] != "ok"
        ]
        problems += [
            f"table {row[0]}, row {row[1]}, names a {row[2]} row that does not exist"
            for row in self.conn.execute("PRAGMA foreign_key_check")
        ]
        from refundctl.ledger.migrations import schema_problems

        problems += [f"schema: {problem}" for problem in schema_problems(self.conn)]
        return problems

    def _replay_problems(self) -> tuple[int, list[str]]:
        """Every dispute's events still replay, to the state the ledger has cached."""
        problems = []
        rows = self.conn.execute(
            "SELECT id, state, order_id, folded FROM disputes ORDER BY id"
        ).fetchall()
        for row in rows:
            currency = self.conn.execute(
                "SELECT currency FROM orders WHERE id = ?", (row["order_id"],)
            ).fetchone()
            try:
                if currency is None:
                    raise LedgerUnusable(f"dispute {row['id']} names an order that is gone")
                dispute = self._replay(row["id"], currency[0])
            except (LedgerUnusable, ValueError, KeyError) as error:
                problems.append(str(error))
                continue
            if dispute.state.value != row["state"]:
                problems.append(
                    f"dispute {row['id']}: the ledger says {row['state']}, "
                    f"its events say {dispute.state}"
                )
            elif row["folded"] is not None and row["folded"] != fold_text(dispute):
                problems.append(
                    f"dispute {row['id']}: its stored state is not what its events say; "
                    "a write to it stores it again"
                )
        return len(rows), problems

    def _named_files(self) -> dict[str, tuple[int | None, tuple[Reference, ...]]]:
        """Every stored file the ledger names, with its size and the evidence naming it."""
        from refundctl.integrity import Reference

        named: dict[str, tuple[int | None, tuple[Reference, ...]]] = {}
        for row in self.conn.execute(
            "SELECT id, dispute_id, name, sha256, size FROM evidence "
            "WHERE sha256 IS NOT NULL ORDER BY id"
        ):
            size, refs = named.get(row["sha256"], (row["size"], ()))
            named[row["sha256"]] = (
                size,
                (*refs, Reference(row["id"], row["dispute_id"], row["name"])),
            )
        return named

    def disputes(self, *, include_closed: bool, history: bool = True) -> list[DisputeRecord]:
        """Active disputes (and lost ones that may still be appealed), or all of them;
        without ``history``, as a listing shows them (``_record_batch``)."""
        with self._read():
            if include_closed:
                rows = self.conn.execute("SELECT id FROM disputes ORDER BY id").fetchall()
            else:
                rows = self.conn.execute(
                    f"SELECT id FROM disputes WHERE state IN ({_placeholders(domain.ACTIVE)}, ?) "
                    "ORDER BY id",
                    (*domain.ACTIVE, State.LOST.value),
                ).fetchall()
            records = self._records([row["id"] for row in rows], history=history)
        if include_closed:
            return records
        return [r for r in records if r.dispute.active or self._deadlines_of(r)]

    def each_dispute(self, *, history: bool = True) -> Generator[Listed, None, None]:
        """Every dispute by number (in full, or as a listing shows it without ``history``)
        with its deadlines (stored, or computed where the stored ones are not current), a
        batch at a time in one read snapshot: an export of any size in flat memory. Iterate
        it inside the ``with`` that opened the ledger."""
        with self.snapshot():
            last = 0
            while ids := [
                row[0]
                for row in self.conn.execute(
                    "SELECT id FROM disputes WHERE id > ? ORDER BY id LIMIT ?", (last, _BATCH)
                )
            ]:
                last = ids[-1]
                records = self._record_batch(ids, history=history)
                if not self.index_current:
                    yield from ((r, self._deadlines_of(r)) for r in records)
                    continue
                stored = deadline_index.stored(self.conn, "dispute_id", ids)
                for r in records:
                    yield r, stored.get(r.id, [])

    def completion_disputes(self) -> list[tuple[int, str, str, str]]:
        """Dispute number, marketplace, order number and state, for shell completion."""
        with self._read():
            return [
                (row[0], row[1], row[2], row[3])
                for row in self.conn.execute(
                    "SELECT d.id, o.marketplace, o.order_no, d.state FROM disputes d "
                    "JOIN orders o ON o.id = d.order_id ORDER BY d.id"
                )
            ]

    def completion_marketplaces(self) -> list[str]:
        with self._read():
            return [
                row[0]
                for row in self.conn.execute("SELECT DISTINCT marketplace FROM orders ORDER BY 1")
            ]

    def completion_orders(self) -> list[tuple[str, str, str | None]]:
        """Order number, marketplace and title, for shell completion."""
        with self._read():
            return [
                (row[0], row[1], row[2])
                for row in self.conn.execute(
                    "SELECT order_no, marketplace, title FROM orders ORDER BY id"
                )
            ]

    def dispute_ids(self) -> list[int]:
        with self._read():
            return [row["id"] for row in self.conn.execute("SELECT id FROM disputes")]

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
            f"SELECT id, order_id, state, agreed, refunded FROM disputes "
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
                )
            )
        return records

    @staticmethod
    def _evidence_of(
        dispute_id: int, evidence: dict[int, list[sqlite3.Row]]
    ) -> tuple[EvidenceRecord, ...]:
        with _decoding(f"the evidence of dispute {dispute_id}"):
            return tuple(_evidence(e) for e in evidence.get(dispute_id, []))

    def _orders_where(self, condition: str, params: Sequence[object]) -> list[Order]:
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


# -- helpers -------------------------------------------------------------------------------------


# Disputes read (or reindexed) per batch: few queries each, and SQLite's limit on
# parameters is far away.
_BATCH = 500
# The page cache of an import. 100,000 orders took 25 s and 239 MiB in all with 64 MiB, the
# same time as with 256 MiB (which took 300 MiB), and 4 s more with 32 MiB (docs/performance.md).
# SQLite takes pages only as it needs them.
_IMPORT_CACHE_KIB = 64 * 1024
# The orders an import reads and writes at a time (``import_orders``): few statements each, a
# few MiB of them in memory.
IMPORT_BATCH = 2000


def _placeholders(values: frozenset[State]) -> str:
    return ", ".join("?" for _ in values)


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


@dataclass
class _Tally:
    """What an import did so far."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


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


def _order_window_rows(
    order: Order, taken: Taken, settings: Settings, order_id: int | None = None
) -> list[tuple[object, ...]]:
    """An order's own window, while part of what is refundable is under no active dispute
    (``taken``); ``order_id`` for an order just inserted (``order.id`` is not set yet)."""
    undisputed = taken.undisputed(order)
    if undisputed <= 0 or order.closed_at is not None:
        return []
    found = order_deadlines(order, settings.policy_for(order.marketplace), settings.zone)
    # A passed window stays on show only for an order that never arrived and was never
    # disputed (views.order_view).
    lapses = order.received is not None or taken.disputed
    return deadline_index.rows_for(order, None, found, undisputed, lapses=lapses, order_id=order_id)


def _in(column: str, values: Sequence[object]) -> str:
    return f"{column} IN ({', '.join('?' for _ in values)})"


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


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int
    dry_run: bool


def _with_paid_default(order: Order, now: datetime) -> Order:
    """An order imported without a payment date was paid no later than anything else known."""
    if order.ordered is not None:
        return order
    known = [m for m in (now, order.shipped, order.received) if m is not None]
    return replace(order, ordered=min(known))


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _refuse_rows(problems: list[str]) -> None:
    """Refuse an import whose rows could not all go in (before anything is committed)."""
    if problems:
        count = len(problems)
        raise ManyProblems(
            f"{count} row{'s' if count != 1 else ''} cannot be imported; nothing was imported",
            problems,
        )


def _ready_before_the_lock(settings: Settings, marketplaces: Iterable[str]) -> None:
    """Load what a write's deadline arithmetic needs before the write lock is taken: the
    public-holiday tables (the ``holidays`` package imports some 350 modules, about 100 ms)
    loaded inside BEGIN IMMEDIATE made every other writer wait that long, and with dozens of
    writers some waited past the lock timeout (exit 75)."""
    from refundctl.policies import KNOWN_MARKETPLACES
    from refundctl.timeparse import holiday_checker

    for name in {*KNOWN_MARKETPLACES, "generic", *marketplaces}:
        holiday_checker(settings.policy_for(name).holidays)


def _refuse_problems(order: Order, now: datetime, zone: tzinfo) -> None:
    problems = domain.order_problems(order, now, zone)
    if problems:
        raise BadInput(f"order {order.order_no}: " + "; ".join(problems))


def _local(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}".strip()


def _refuse_future(at: datetime, now: datetime, zone: tzinfo) -> None:
    if at > now:
        raise BadInput(
            f"--on {_local(at, zone)} is in the future; record a move once it has happened"
        )


def _asked_amount(ask: AmountSpec, refundable: Decimal, currency: str) -> Decimal:
    if ask.full:
        return refundable
    if ask.percent is not None:
        amount = percent_of(refundable, ask.percent, currency)
        if amount <= 0:
            raise BadInput(f"{ask.percent}% of {refundable} {currency} rounds down to nothing")
        return amount
    assert ask.amount is not None
    amount = parse_amount(ask.amount, currency)
    domain.check_amount(amount, refundable, currency)
    return amount


def _already_attached(name: str, dispute_id: int, existing: sqlite3.Row, restored: bool) -> str:
    same = "" if existing["name"] == name else f" ({existing['name']}, the same content)"
    note = (
        f"{name} is already attached to dispute {dispute_id} as evidence #{existing['id']}"
        f"{same}; nothing new was recorded"
    )
    if restored:
        note += "; its stored copy was missing or altered and is now restored"
    return note


def _stored_name(path: Path) -> str:
    from refundctl.ledger.evidence import stored_name

    return stored_name(path)


def _kind_for(media_type: str) -> EvidenceKind:
    if media_type.startswith("image/"):
        return EvidenceKind.PHOTO
    if media_type.startswith("video/"):
        return EvidenceKind.VIDEO
    if media_type.startswith("audio/"):
        return EvidenceKind.OTHER
    return EvidenceKind.DOCUMENT
