"""The stored deadlines, folds and status lines, and the write transaction that keeps them right.

The ``deadlines`` table (ledger/deadline_index.py) holds every open deadline as the deadline
code computed it, with the basis it was computed on (policies, zone, holidays); each
dispute's fold is its current state; its line in ``dispute_lines`` is what ``status --json``
says of it but for the time, the config and the deadlines (ledger/status_lines.py). All are
rewritten in the transaction of the write that changes them (a dispute's line also with its
order and the order's other disputes), and a marketplace's whenever its basis is not the one
in effect. The listings here always answer correctly: from the stored deadlines where they
are current, else computed afresh with the policies in effect, so no caller needs to know.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from refundctl import domain
from refundctl.deadlines import Deadline, can_escalate_from, order_deadlines
from refundctl.domain import State
from refundctl.due import CheckItem, Filters
from refundctl.errors import LedgerUnusable
from refundctl.ledger import deadline_index
from refundctl.ledger.connection import (
    Settings,
    count_commit,
    refuse_foreign_schema,
)
from refundctl.ledger.health import refuse_damaged
from refundctl.ledger.reads import _BATCH, Reads, Taken, _placeholders
from refundctl.ledger.rows import decoding as _decoding
from refundctl.ledger.rows import fold_text
from refundctl.money import from_minor
from refundctl.records import DisputeRecord, OpenOrder, Order
from refundctl.timeparse import from_iso
from refundctl.views import record_deadlines

if TYPE_CHECKING:
    from refundctl.policies import Policy
    from refundctl.views import DisputeLine


_INSERT_ESCALATION = (
    "INSERT INTO escalation (dispute_id, marketplace, at, rule) VALUES (?, ?, ?, ?)"
)
_STORE_LINE = (
    "INSERT OR REPLACE INTO dispute_lines (dispute_id, marketplace, via, head) VALUES (?, ?, ?, ?)"
)


def _heads(records: Iterable[DisputeRecord]) -> list[tuple[int, str, str | None, str]]:
    """Each dispute's row of ``dispute_lines``: marketplace, rail, ``jsonshape.dispute_head``."""
    from refundctl.render.jsonshape import dispute_head

    return [(r.id, r.order.marketplace, r.via, dispute_head(r)) for r in records]


def _may_have_deadlines(record: DisputeRecord) -> bool:
    """Only an active dispute, or a lost one (an appeal, the next remedy), has deadlines."""
    return record.dispute.active or record.dispute.state is State.LOST


def _money(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else from_minor(minor, currency)


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


def _order_window_rows(
    order: Order, taken: Taken, settings: Settings, order_id: int | None = None
) -> list[tuple[object, ...]]:
    """An order's own window, while part of what is refundable is under no active dispute
    (``taken``); ``order_id`` for an order just inserted (``order.id`` is not set yet)."""
    undisputed = taken.undisputed(order)
    if undisputed <= 0 or order.closed_at is not None:
        return []
    found = order_deadlines(
        order, settings.policy_for(order.marketplace), settings.zone, remedy=not taken.disputed
    )
    # A passed window stays on show only for an order that never arrived and was never
    # disputed (views.order_view).
    lapses = order.received is not None or taken.disputed
    return deadline_index.rows_for(order, None, found, undisputed, lapses=lapses, order_id=order_id)


def _ready_before_the_lock(settings: Settings, marketplaces: Iterable[str]) -> None:
    """Load what a write's deadline arithmetic needs before the write lock is taken: the
    public-holiday tables (the ``holidays`` package imports some 350 modules, about 100 ms)
    loaded inside BEGIN IMMEDIATE made every other writer wait that long, and with dozens of
    writers some waited past the lock timeout (exit 75)."""
    from refundctl.policies import KNOWN_MARKETPLACES
    from refundctl.timeparse import holiday_checker

    for name in {*KNOWN_MARKETPLACES, "generic", *marketplaces}:
        holiday_checker(settings.policy_for(name).holidays)


class Cache(Reads):
    """The cache's upkeep (``_write``, ``_restore_stale``) and the listings that read it."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, settings: Settings) -> None:
        super().__init__(conn, path, settings)
        self._basis_ok: set[str] = set()  # marketplaces whose basis this write has checked

    @contextmanager
    def _write(self, *, commit: bool = True) -> Iterator[None]:
        """One command's transaction. BEGIN IMMEDIATE takes the write lock before reading.
        ``commit=False`` runs everything and then rolls it back: a dry run. A write inside
        another's transaction (an import recording a refund on a dispute) is a savepoint of
        it: refused, it leaves the rest of the transaction as it was."""
        if self.conn.in_transaction:
            with self._savepoint():
                yield
            return
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

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT inner_write")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO inner_write")
            self.conn.execute("RELEASE inner_write")
            raise
        self.conn.execute("RELEASE inner_write")

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

    def _reindex_all(self) -> None:
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
        """Recompute every stored deadline and line of one marketplace, a batch of disputes
        at a time."""
        self.conn.execute("DELETE FROM deadlines WHERE marketplace = ?", (marketplace,))
        self.conn.execute("DELETE FROM escalation WHERE marketplace = ?", (marketplace,))
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT d.id FROM disputes d JOIN orders o ON o.id = d.order_id "
                "WHERE o.marketplace = ? ORDER BY d.id",
                (marketplace,),
            )
        ]
        for start in range(0, len(ids), _BATCH):
            rows: list[tuple[object, ...]] = []
            earliest: list[tuple[object, ...]] = []
            records = self._record_batch(ids[start : start + _BATCH], history=False)
            for record in records:
                if _may_have_deadlines(record):
                    found, escalation = self._cache_rows(record)
                    rows += found
                    earliest += escalation
            deadline_index.insert(self.conn, sorted(rows))
            self.conn.executemany(_INSERT_ESCALATION, earliest)
            self._store_lines(records)
        order_rows: list[tuple[object, ...]] = []
        for order in self._orders_where("marketplace = ?", (marketplace,)):
            order_rows += _order_window_rows(order, self._taken(order), self.settings)
        deadline_index.insert(self.conn, sorted(order_rows))

    def _cache_rows(
        self, record: DisputeRecord
    ) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        """The dispute's rows of the deadline index, and of ``escalation`` (when it may
        first be escalated; none where nothing makes the buyer wait)."""
        order = record.order
        policy = self._policy_of(record)
        zone = self.settings.zone
        found = record_deadlines(record, policy, zone)
        rows = deadline_index.rows_for(
            order,
            record.id,
            found,
            domain.at_stake(record.dispute),
            # A closed dispute's deadline (an appeal window) is history once it passed.
            lapses=not record.dispute.active,
        )
        earliest = can_escalate_from(record.dispute, order, record.reason, policy, zone, found)
        if earliest is None:
            return rows, []
        at = int(earliest.at.timestamp())
        return rows, [(record.id, order.marketplace, at, earliest.rule.json_text())]

    def _policy_of(self, record: DisputeRecord) -> Policy:
        """The policy the dispute moves by: its marketplace's, or the rail's it was filed
        through."""
        from refundctl.remedies import dispute_policy

        return dispute_policy(record.via, record.order.marketplace, self.settings.policy_for)

    def _deadlines_of(self, record: DisputeRecord) -> list[Deadline]:
        return record_deadlines(record, self._policy_of(record), self.settings.zone)

    def _index_dispute(self, record: DisputeRecord) -> None:
        self._ensure_basis(record.order.marketplace)
        rows, escalation = self._cache_rows(record)
        deadline_index.replace(self.conn, "dispute_id = ?", (record.id,), rows)
        stored = self.conn.execute(
            "SELECT dispute_id, marketplace, at, rule FROM escalation WHERE dispute_id = ?",
            (record.id,),
        ).fetchall()
        if [tuple(row) for row in stored] != escalation:  # an unchanged file stays untouched
            self.conn.execute("DELETE FROM escalation WHERE dispute_id = ?", (record.id,))
            self.conn.executemany(_INSERT_ESCALATION, escalation)

    def _index_order(self, order: Order) -> None:
        """Rewrite an order's own window."""
        self._ensure_basis(order.marketplace)
        deadline_index.replace(
            self.conn,
            "order_id = ? AND dispute_id = 0",
            (order.id,),
            _order_window_rows(order, self._taken(order), self.settings),
        )

    def _store_lines(self, records: Iterable[DisputeRecord]) -> None:
        """Store again the ``status --json`` head of each of these disputes, as they now are."""
        self.conn.executemany(_STORE_LINE, _heads(records))

    def _store_order_lines(self, record: DisputeRecord) -> None:
        """Inside a write that changed this dispute: store again its head and those of its
        order's other disputes, since what each may still ask counts what the others took."""
        others = [i for i in self._dispute_ids(record.order.id) if i != record.id]
        self._store_lines([*self._records(others, history=False), record])

    def _texts(self, ids: Sequence[int], now: datetime) -> Iterator[str]:
        """The ``status --json`` text of these disputes, in this order, a batch at a time."""
        from refundctl.ledger import status_lines

        policy = status_lines.policy_text(self.settings.policy_for)

        def heads(missing: Sequence[int]) -> list[tuple[int, str, str | None, str]]:
            return _heads(self._record_batch(missing, history=False))

        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            found = status_lines.dispute_lines(self.conn, batch, now, policy, heads)
            yield from (found[i] for i in batch if i in found)

    def most_urgent(
        self, now: datetime, limit: int, *, include_closed: bool, filters: Filters | None
    ) -> Urgent:
        """The ``limit`` most urgent disputes and open orders (as ``open_orders`` gives them),
        with their deadlines and how many there are in all: what ``status`` shows on a
        terminal. From the stored deadlines where they are current, else computed afresh."""
        with self._snapshot():
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
        with self._snapshot():
            if self.index_current:
                yield (
                    self._ranked_disputes(now, include_closed=include_closed, filters=filters),
                    self._ranked_orders(now, filters),
                )
                return
        yield self._afresh(now, include_closed, filters)

    @contextmanager
    def ranked_json(
        self,
        now: datetime,
        *,
        include_closed: bool,
        filters: Filters | None,
        shape: Callable[[DisputeRecord, list[Deadline]], str],
    ) -> Iterator[tuple[Iterable[str], Iterable[tuple[OpenOrder, list[Deadline]]]]]:
        """``ranked``, each dispute as its JSON text: built by SQLite from the stored state
        and deadlines where they are current (``ledger/status_lines.py``), else ``shape``d
        from the dispute read and computed as ``ranked`` gives it. Iterate both inside the
        ``with``."""
        with self._snapshot():
            if self.index_current and not self._unfolded():
                ids, _ = deadline_index.top_disputes(
                    self.conn, now, None, include_closed=include_closed, filters=filters
                )
                texts = self._texts(ids, now)
                yield texts, self._ranked_orders(now, filters)
                return
        with self.ranked(now, include_closed=include_closed, filters=filters) as (
            disputes,
            orders,
        ):
            yield (shape(record, found) for record, found in disputes), orders

    def _afresh(
        self, now: datetime, include_closed: bool, filters: Filters | None
    ) -> tuple[list[Listed], list[tuple[OpenOrder, list[Deadline]]]]:
        """``ranked`` with every deadline computed from the policies in effect: what the
        stored deadlines would say if they had been computed with them."""
        from refundctl.views import by_urgency, dispute_view, order_view, orders_by_urgency

        zone, policy_for = self.settings.zone, self.settings.policy_for
        views = [
            dispute_view(r, policy_for, zone, now)
            for r in self._disputes(include_closed=include_closed, history=False)
        ]
        if not include_closed:
            # A closed dispute stays on show while a deadline of it is open (an appeal window).
            views = [v for v in views if v.record.dispute.active or v.deadlines]
        shown = {o.order.id: o for o in self._every_open_order()}
        windows = [order_view(o, policy_for, zone, now) for o in shown.values()]
        windows = [v for v in windows if v.deadlines]
        if filters is not None:
            views = [v for v in views if filters.dispute(v)]
            windows = [v for v in windows if filters.order(v.order)]
        return (
            [(v.record, list(v.computed)) for v in by_urgency(views, now)],
            [
                (
                    shown[v.order.id],
                    order_deadlines(v.order, v.policy, zone, remedy=not shown[v.order.id].disputed),
                )
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

    def _disputes(self, *, include_closed: bool, history: bool = True) -> list[DisputeRecord]:
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

    def each_dispute_line(self, now: datetime) -> Generator[DisputeLine, None, None]:
        """Every dispute by number as an export's line, a batch at a time in one snapshot:
        straight from the stored state, fold and deadlines where they are current (a few
        queries per batch, no replay, no deadline computed), else from ``disputes``.
        Iterate it inside the ``with`` that opened the ledger."""
        from refundctl.views import DisputeLine, dispute_line, dispute_view

        with self._snapshot():
            if not self.index_current or self._unfolded():
                zone, policy_for = self.settings.zone, self.settings.policy_for
                for record, found in self.disputes(history=False):
                    yield dispute_line(dispute_view(record, policy_for, zone, now, found))
                return
            last = 0
            while rows := self.conn.execute(
                "SELECT d.id, o.marketplace, o.order_no, d.item, d.reason, d.state, o.currency, "
                "d.requested, d.offer, d.agreed, d.refunded, "
                "json_extract(d.folded, '$.credit'), d.case_ref, d.opened_at, d.description "
                "FROM disputes d JOIN orders o ON o.id = d.order_id "
                "WHERE d.id > ? ORDER BY d.id LIMIT ?",
                (last, _BATCH),
            ).fetchall():
                last = rows[-1][0]
                shown = deadline_index.next_of_disputes(self.conn, [r[0] for r in rows], now)
                for row in rows:
                    with _decoding(f"dispute {row[0]}"):
                        currency = row[6]
                        name, due_at = shown.get(row[0], (None, None))
                        yield DisputeLine(
                            row[0],
                            row[1],
                            row[2],
                            row[3],
                            row[4],
                            State(row[5]),
                            currency,
                            from_minor(row[7], currency),
                            _money(row[8], currency),
                            _money(row[9], currency),
                            _money(row[10], currency),
                            bool(row[11]),
                            row[12],
                            from_iso(row[13]),
                            row[14],
                            name,
                            None if due_at is None else datetime.fromtimestamp(due_at, UTC),
                        )

    def disputes(self, *, history: bool = True) -> Generator[Listed, None, None]:
        """Every dispute by number (in full, or as a listing shows it without ``history``)
        with its deadlines (stored, or computed where the stored ones are not current), a
        batch at a time in one read snapshot: an export of any size in flat memory. Iterate
        it inside the ``with`` that opened the ledger."""
        with self._snapshot():
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
