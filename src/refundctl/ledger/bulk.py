"""A large import read in two processes, its second part copied into the ledger by SQL.

Reading a file's orders and turning them into the ledger's rows is pure Python, most of an
import's time. A file of at least ``WORKER_FROM`` records, on a machine with a second core and
``os.fork``, is read in two parts: a forked worker reads the second part and writes the rows its
orders make, as new orders numbered from 1, into a scratch SQLite file, while this process reads
the first. ``Ledger.import_orders`` then writes this process's orders as usual and copies the
worker's rows after them with ``INSERT ... SELECT``, their numbers shifted past its own, in the
same transaction. The ledger ends exactly as a one-process import leaves it (tested): the same
rows with the same numbers. If the worker fails, or one of its orders is in the ledger already
(an update, which needs the ledger), this process reads the worker's part itself.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from refundctl.importing import ImportedOrder, ImportResult, Reader, Records, RowProblem, repeated
from refundctl.ledger import deadline_index
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import (
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    NewOrders,
    with_paid_default,
)

# Records below which a second process costs more than it saves (a fork, a scratch file).
WORKER_FROM = 2000
# The share of the records this process reads. It also writes every row into the ledger, the
# worker's included, so it takes less than half: timed at 100,000 rows (docs/performance.md).
MAIN_SHARE = 0.46
# The worker's reports on its pipe: its reading is done (problems and keys in a file beside
# the scratch ledger), then its rows are written.
_READ, _WRITTEN = b"r", b"w"
_ROWS, _READING = "rows.db", "read.pickle"  # in the scratch folder
_SCRATCH_TABLES = {
    "orders": ORDER_COLUMNS,
    "order_items": ITEM_COLUMNS,
    "order_events": EVENT_COLUMNS,
    "deadlines": deadline_index.COLUMNS,
}


@dataclass
class Prepared:
    """The worker's part of a file: its orders' keys, and their rows in a scratch ledger."""

    keys: list[tuple[str, str]]  # each order's (marketplace, order_no), in file order
    reread: Callable[[], ImportResult]  # this process reads the part itself instead
    _worker: _Worker
    _attached: bool = False

    @property
    def marketplaces(self) -> list[str]:
        """In the order they first appear, as a one-process import meets them."""
        return list(dict.fromkeys(marketplace for marketplace, _ in self.keys))

    def written(self) -> bool:
        """Wait for the worker to finish writing its rows; False when it failed."""
        return self._worker.wait_for(_WRITTEN)

    def copy_into(self, conn: sqlite3.Connection, offset: int) -> None:
        """Copy the rows into the ledger ``conn``, inside its open transaction, each order's
        number shifted by ``offset``. The caller detaches ``scratch`` after the transaction
        (SQLite detaches no database while one is open)."""
        conn.execute("ATTACH DATABASE ? AS scratch", (str(self._worker.database),))
        self._attached = True
        for table, columns in _SCRATCH_TABLES.items():
            shifted = ", ".join(
                f"{name} + :offset" if name in ("id", "order_id") else name for name in columns
            )
            # In the order the worker wrote them: orders by number, windows in key order.
            conn.execute(
                f"INSERT INTO main.{table} ({', '.join(columns)}) "
                f"SELECT {shifted} FROM scratch.{table} ORDER BY rowid",
                {"offset": offset},
            )

    def detach(self, conn: sqlite3.Connection) -> None:
        if self._attached:
            conn.execute("DETACH DATABASE scratch")
            self._attached = False


@dataclass
class Batch:
    """A file read for import: its problems, or its orders, part of them maybe prepared."""

    orders: list[ImportedOrder] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    prepared: Prepared | None = None

    def __len__(self) -> int:
        return len(self.orders) + (len(self.prepared.keys) if self.prepared else 0)


@contextmanager
def in_parts(found: Records, reader: Reader, settings: Settings) -> Iterator[Parts]:
    """Start a worker on the second part of ``found`` when that pays (and the system has a
    process and a scratch folder to spare); on the way out the worker is ended and its
    scratch folder removed."""
    split = _split_at(len(found))
    worker = None
    scratch = None
    try:
        if split is not None:
            scratch = Path(tempfile.mkdtemp(prefix="refundctl-import-"))
            worker = _Worker.start(found, split, reader, settings, scratch)
    except OSError:  # no room, no process: one process reads it all, as on one core
        pass
    try:
        if worker is None or split is None:
            yield Parts(found, reader, len(found), None)
        else:
            yield Parts(found, reader, split, worker)
    finally:
        try:
            if worker is not None:
                worker.end()
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class Parts:
    found: Records
    reader: Reader
    split: int  # this process reads the records before it, the worker those from it
    worker: _Worker | None

    def read(self, progress: Callable[[int], None] | None = None) -> Batch:
        """This process's part, and what the worker found in its own."""
        seen: dict[tuple[str, str], int] = {}  # each order's first row, as in one reading
        mine = self.reader.read(self.found, 0, self.split, progress=progress, seen=seen)
        batch = Batch(mine.orders, mine.problems)
        if self.worker is None:
            return batch
        reading = self.worker.reading()
        if reading is None:  # the worker failed: read its part here
            theirs = self.reader.read(self.found, self.split, seen=seen)
            batch.orders += theirs.orders
            batch.problems += theirs.problems
        else:
            problems, keys = reading
            # The worker does not know this part's orders, so second rows for one order are
            # found here, against the first row in the whole file.
            for row, marketplace, order_no in keys:
                first = seen.setdefault((marketplace, order_no), row)
                if first != row:
                    problems.append(repeated(row, first, order_no))
            batch.problems += sorted(problems, key=lambda problem: problem.row)
            if not batch.problems:
                keys_only = [(marketplace, order_no) for _, marketplace, order_no in keys]
                batch.prepared = Prepared(keys_only, self.reread, self.worker)
        if progress is not None:
            progress(len(self.found))
        return batch

    def reread(self) -> ImportResult:
        """The worker's part, read here."""
        return self.reader.read(self.found, self.split)


def _split_at(count: int) -> int | None:
    """Where the worker's part starts, or None to read everything here."""
    if count < WORKER_FROM or not hasattr(os, "fork") or _cores() < 2:
        return None
    return int(count * MAIN_SHARE)


def _cores() -> int:
    """The cores this process may run on (a container or ``taskset`` may allow fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS and BSDs


@dataclass
class _Worker:
    pid: int
    pipe: int  # the read end of the worker's pipe
    scratch: Path
    said: bytes = b""  # what it has reported so far

    @property
    def database(self) -> Path:
        return self.scratch / _ROWS

    @classmethod
    def start(
        cls, found: Records, split: int, reader: Reader, settings: Settings, scratch: Path
    ) -> _Worker:
        read_end, write_end = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # pragma: no cover - the worker; its work is tested in-process (work)
            try:
                os.close(read_end)
                gc.disable()  # as for this process's reading: many objects, no cycles
                work(
                    found, split, reader, settings, scratch, lambda said: os.write(write_end, said)
                )
            finally:
                if os.getppid() != parent:  # it was killed: nobody else will remove the rows
                    shutil.rmtree(scratch, ignore_errors=True)
                # No clean-up of this process's copy of the parent: no atexit, no flushing
                # of the parent's buffered output a second time.
                os._exit(0)
        os.close(write_end)
        return cls(pid, read_end, scratch)

    def wait_for(self, said: bytes) -> bool:
        """Whether the worker reports ``said``, waiting for it; False once it has ended
        without (it failed, or was killed)."""
        while said not in self.said:
            more = os.read(self.pipe, 16)
            if not more:
                return False
            self.said += more
        return True

    def reading(self) -> tuple[list[RowProblem], list[tuple[int, str, str]]] | None:
        """The problems and the (row, marketplace, order_no) of each order in its part."""
        if not self.wait_for(_READ):
            return None
        with (self.scratch / _READING).open("rb") as file:
            problems, keys = pickle.load(file)
        return [RowProblem(*p) for p in problems], keys

    def end(self) -> None:
        """Stop the worker if it is still at work (a refused file, an interrupt) and reap it."""
        os.close(self.pipe)
        with contextlib.suppress(ProcessLookupError):  # it has ended: nothing to stop
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def work(
    found: Records,
    split: int,
    reader: Reader,
    settings: Settings,
    scratch: Path,
    say: Callable[[bytes], object],
) -> None:
    """The worker's job: read the records from ``split``, report their problems and every
    order read (second rows for one order included: those are found by the main process,
    which knows the first part), then write the rows of the orders, as new orders numbered
    from 1, into ``scratch``/rows.db."""
    orders: list[ImportedOrder] = []
    problems: list[tuple[int, str, str]] = []
    for _, row in reader.each(found, split):
        if isinstance(row, ImportedOrder):
            orders.append(row)
        else:
            problems += [(p.row, p.column, p.message) for p in row]
    keys = [(o.row, *o.key) for o in orders]
    with (scratch / _READING).open("wb") as file:
        pickle.dump((problems, keys), file, protocol=pickle.HIGHEST_PROTOCOL)
    say(_READ)
    if problems or len({key[1:] for key in keys}) < len(keys):
        return  # nothing will be imported
    rows = NewOrders(next_id=1)
    for number, imported in enumerate(orders, start=1):
        order = with_paid_default(imported.order, reader.now)
        rows.add(number, order, reader.now, "imported", settings)
    conn = sqlite3.connect(scratch / _ROWS, isolation_level=None)
    try:
        # A scratch file: nothing to recover if the machine stops now.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for table, columns in _SCRATCH_TABLES.items():
            conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        rows.write(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    say(_WRITTEN)
