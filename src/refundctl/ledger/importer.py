"""``order import``: a file's orders, a batch at a time, into the ledger in one transaction.

New orders are gathered per batch and written in four statements; an order already in the
ledger is read only when a batch updates it. A problem anywhere refuses the whole file. Money
an export says came back (``MoneyBack``) is matched to its order once the orders are in: a
refund is recorded on the one active dispute of the order that waits for exactly that money,
in the same transaction; anything else is reported (``MoneyMatch``), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from refundctl.domain import ACTIVE, Move, State
from refundctl.errors import BadInput, ManyProblems
from refundctl.exports.facts import Back, Matched, MoneyBack, MoneyMatch
from refundctl.money import to_minor
from refundctl.records import Order

if TYPE_CHECKING:  # only the commands that use them import these: `check` stays quick
    from refundctl.importing import ImportedOrder
from refundctl.ledger.disputes import DisputeWrites
from refundctl.ledger.orders import (
    NewOrders,
    _order_fields,
    _refuse_problems,
    _with_paid_default,
)
from refundctl.ledger.reads import _in


@dataclass
class _Tally:
    """What an import did so far."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int
    dry_run: bool
    money: tuple[MoneyMatch, ...] = ()


def _refuse_rows(problems: list[str]) -> None:
    """Refuse an import whose rows could not all go in (before anything is committed)."""
    if problems:
        count = len(problems)
        raise ManyProblems(
            f"{count} row{'s' if count != 1 else ''} cannot be imported; nothing was imported",
            problems,
        )


# The page cache of an import. 100,000 orders took 25 s and 239 MiB in all with 64 MiB, the
# same time as with 256 MiB (which took 300 MiB), and 4 s more with 32 MiB (docs/performance.md).
# SQLite takes pages only as it needs them.
_IMPORT_CACHE_KIB = 64 * 1024


# The orders an import reads and writes at a time (``import_orders``): few statements each, a
# few MiB of them in memory.
IMPORT_BATCH = 2000


# States in which a dispute waits for its agreed money to arrive: agreed or awarded, or the
# return on its way to the seller, who refunds once it is there.
_WAITING = frozenset({State.REFUND_PENDING, State.RETURN_IN_TRANSIT})
_CLOSED = frozenset(State) - ACTIVE


class Importer(DisputeWrites):
    """The import of a file's orders, and of the money it says came back."""

    def import_orders(
        self,
        batches: Iterable[Sequence[ImportedOrder]],
        now: datetime,
        *,
        dry_run: bool = False,
        refuse: Callable[[], None] = lambda: None,
        money: Callable[[], Sequence[MoneyBack]] = lambda: (),
    ) -> ImportSummary:
        """Add new orders and update changed ones, all in one transaction or not at all.

        Only the fields the file gave are compared, so a file without a ``seller`` column
        leaves sellers alone; a row identical to the ledger changes nothing, which makes a
        second import of the same file a no-op. The orders come a batch at a time, as the
        file is read: the new orders of a batch go in four statements, and only the orders a
        batch updates are read from the ledger, so that an import costs what its file holds,
        not what the ledger does, in flat memory. Once every batch is in, ``refuse`` raises if
        the reading found a problem: then nothing of it stays. Then ``money`` (what the file
        says came back, known once it is all read) is matched to the orders.
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
            matched = tuple(self._match(back, now) for back in money())
        return ImportSummary(tally.added, tally.updated, tally.unchanged, dry_run, matched)

    def _match(self, back: MoneyBack, now: datetime) -> MoneyMatch:
        """What a refund or a return of the file is to the ledger; a refund that one dispute
        waits for is recorded on it (a savepoint: a dispute that refuses it stays as it was)."""
        found = self.conn.execute(
            "SELECT id, currency FROM orders WHERE marketplace = ? AND order_no = ?",
            (back.marketplace, back.order_no),
        ).fetchone()
        if found is None:
            return MoneyMatch(back, Matched.NO_ORDER)
        disputes = self.conn.execute(
            "SELECT id, state, agreed, refunded FROM disputes WHERE order_id = ? ORDER BY id",
            (found["id"],),
        ).fetchall()
        active = tuple(d["id"] for d in disputes if State(d["state"]) not in _CLOSED)
        if back.kind is Back.RETURN:
            return MoneyMatch(back, Matched.OPEN if active else Matched.NO_DISPUTE, active)
        same = back.currency == found["currency"]
        minor = to_minor(back.amount, back.currency) if same else None
        held = [d["id"] for d in disputes if d["state"] == "refunded" and d["refunded"] == minor]
        if held and not active:
            return MoneyMatch(back, Matched.ALREADY, (held[0],))
        if not active:
            return MoneyMatch(back, Matched.NO_DISPUTE)
        if len(active) > 1:
            return MoneyMatch(back, Matched.SEVERAL, active)
        (dispute,) = [d for d in disputes if d["id"] == active[0]]
        if State(dispute["state"]) not in _WAITING or dispute["agreed"] != minor:
            return MoneyMatch(back, Matched.NOT_WAITING, active)
        note = f"refund {back.reference} (imported)" if back.reference else "refund (imported)"
        try:
            self.move(
                active[0],
                Move.REFUNDED,
                amount=str(back.amount),
                note=note,
                at=back.at or now,
                now=now,
            )
        except BadInput as error:
            return MoneyMatch(back, Matched.REFUSED, active, error.message)
        return MoneyMatch(back, Matched.RECORDED, active)

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
            tally.problems.append(f"{row.place}: {error.message}")
