"""A large import read in two processes, most of its rows built while the file is read.

Reading a file's orders and turning them into the ledger's rows is pure Python, most of an
import's time. A file of at least ``WORKER_FROM`` records, on a machine with a second core and
``os.fork``, is read in two parts. A forked worker reads the second part and writes the rows its
orders make, as new orders numbered from 1, into scratch SQLite files, a quarter of its orders
to a file. Meanwhile this process reads the first part, and until the worker has read its
own (it reads more), builds its orders' rows the same way, in case they are all new. Inside the
import's one transaction ``Ledger.import_orders`` builds the rest of them, writes them numbered
on from the ledger's, then copies the worker's after them with ``INSERT ... SELECT``, a file as
soon as it is written. The ledger ends exactly as a one-process import leaves it (tested): the
same rows with the same numbers. An order already in the ledger (an update, which needs the
ledger) has its part read and written the usual way, in the transaction; if the worker fails,
this process reads what was not copied yet.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
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
from refundctl.ledger.schema import ORDER_NUMBERS
from refundctl.ledger.store import (
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    NewOrders,
)

# Records below which a second process costs more than it saves (a fork, scratch files).
WORKER_FROM = 2000
# The share of the records this process reads. It also writes every row into the ledger, the
# worker's included, so it takes less than half: timed at 100,000 rows (docs/performance.md).
MAIN_SHARE = 0.44
# The files the worker writes its rows into, one after the other, so that this process copies
# the first ones while the worker still builds the last, rather than all of them at the end.
# Each stays attached to the ledger's connection until the commit (SQLite detaches none inside
# a transaction), and SQLite allows ten at most (tested); eight measured no quicker than four.
CHUNKS = 4
# The worker's reports on its pipe: its reading is done (problems and keys in a file in the
# scratch folder), then one for each file of rows written.
_READ, _WRITTEN = b"r", b"w"
_LOOK_EVERY = 256  # orders built between looks for the worker's report
_READING = "read.pickle"  # in the scratch folder, beside rows-0.db, rows-1.db...
_SCRATCH_TABLES = {
    "orders": ORDER_COLUMNS,
    "order_items": ITEM_COLUMNS,
    "order_events": EVENT_COLUMNS,
    "deadlines": deadline_index.COLUMNS,
}


@dataclass
class Prepared:
    """What was built of a file's rows while it was read: those of this process's first
    orders, as new orders numbered from 1, and the worker's part, its orders' keys, and their
    rows in scratch files as the worker writes them."""

    own: NewOrders  # the rows of the first of the batch's own orders, or of all of them
    keys: list[tuple[str, str]]  # each of the worker's orders' (marketplace, order_no), in order
    # This process reads the part itself instead, from its ``start``th order.
    reread: Callable[[int], ImportResult]
    _worker: _Worker
    _attached: list[str] = field(default_factory=list)

    @property
    def marketplaces(self) -> list[str]:
        """In the order they first appear, as a one-process import meets them."""
        return list(dict.fromkeys(marketplace for marketplace, _ in self.keys))

    def copy_into(
        self, conn: sqlite3.Connection, offset: int, copied: Callable[[int], None]
    ) -> int:
        """Copy the rows into the ledger ``conn``, inside its open transaction, each order's
        number shifted by ``offset``, a file as soon as the worker has written it; ``copied``
        hears how many orders each file held. Returns how many of the part's orders were
        copied: all of them, or those before the first file the worker failed to write (or
        that could not be read). The caller detaches the files after the transaction
        (``detach``)."""
        done = 0
        for number, part in enumerate(chunks(len(self.keys))):
            written = self._worker.wait_for(_WRITTEN, number + 1)
            if not (written and self._copy(conn, number, offset)):
                break  # the worker failed, or its file did: the rest are read here
            done = part.stop
            copied(len(part))
        return done

    def _copy(self, conn: sqlite3.Connection, number: int, offset: int) -> bool:
        """Copy the worker's ``number``th file; False, with none of it copied, if SQLite
        cannot read it as the worker left it (removed or spoilt by something else since)."""
        name = f"scratch{number}"
        try:
            conn.execute(
                f"ATTACH DATABASE ? AS {name}", (str(_rows_file(self._worker.scratch, number)),)
            )
        except sqlite3.DatabaseError:
            return False
        self._attached.append(name)
        conn.execute("SAVEPOINT copy")
        try:
            for table, columns in _SCRATCH_TABLES.items():
                shifted = ", ".join(
                    f"{column} + :offset" if column in ORDER_NUMBERS else column
                    for column in columns
                )
                # As the worker wrote them: orders by number, windows in key order.
                conn.execute(
                    f"INSERT INTO main.{table} ({', '.join(columns)}) "
                    f"SELECT {shifted} FROM {name}.{table} ORDER BY rowid",
                    {"offset": offset},
                )
        except sqlite3.DatabaseError:
            conn.execute("ROLLBACK TO copy")
            return False
        finally:
            conn.execute("RELEASE copy")
        return True

    def detach(self, conn: sqlite3.Connection) -> None:
        """Once the transaction has ended, let go of the worker's files. (If it could not end,
        SQLite would refuse, hiding why: closing the connection lets go of them then.)"""
        if conn.in_transaction:
            return
        while self._attached:
            conn.execute(f"DETACH DATABASE {self._attached.pop()}")


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
            yield Parts(found, reader, settings, len(found), None)
        else:
            yield Parts(found, reader, settings, split, worker)
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
    settings: Settings
    split: int  # this process reads the records before it, the worker those from it
    worker: _Worker | None

    def read(self, progress: Callable[[int], None] | None = None) -> Batch:
        """This process's part, and what the worker found in its own. With a worker, and no
        problem in this part, the rows of this part's first orders are built while the
        worker reads, in case they are all new."""
        seen: dict[tuple[str, str], int] = {}  # each order's first row, as in one reading
        mine = self.reader.read(self.found, 0, self.split, progress=progress, seen=seen)
        batch = Batch(mine.orders, mine.problems)
        if self.worker is None:
            return batch
        own = NewOrders()
        if not mine.problems:
            # Rather than wait with a core idle; no longer, as the orders may not be new ones.
            for start in range(0, len(mine.orders), _LOOK_EVERY):
                if self.worker.has_news():
                    break
                part = range(start, min(start + _LOOK_EVERY, len(mine.orders)))
                own.add_imported(mine.orders, part, self.reader.now, self.settings)
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
                batch.prepared = Prepared(own, keys_only, self.reread, self.worker)
        if progress is not None:
            progress(len(self.found))
        return batch

    def reread(self, start: int = 0) -> ImportResult:
        """The worker's part, read here, but for its first ``start`` records (one order each:
        a part with problems or repeated orders is never prepared)."""
        return self.reader.read(self.found, self.split + start)


def _split_at(count: int) -> int | None:
    """Where the worker's part starts, or None to read everything here."""
    if count < WORKER_FROM or not hasattr(os, "fork") or _cores() < 2:
        return None
    return int(count * MAIN_SHARE)


def chunks(count: int) -> list[range]:
    """The worker's orders, numbered from 0, in the files it writes them to: ``CHUNKS`` runs
    (fewer for fewer orders), as even as can be, none empty."""
    files = min(CHUNKS, count)
    return [range(count * k // files, count * (k + 1) // files) for k in range(files)]


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

    def has_news(self) -> bool:
        """Whether the worker has something to report, or has ended: never waits."""
        poller = select.poll()  # select.select would refuse a descriptor over 1023
        poller.register(self.pipe, select.POLLIN)
        return bool(poller.poll(0))

    def wait_for(self, said: bytes, times: int = 1) -> bool:
        """Whether the worker reports ``said`` (``times`` times in all), waiting for it;
        False once it has ended without (it failed, or was killed)."""
        while self.said.count(said) < times:
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
    from 1, into ``scratch``/rows-0.db and on, a run of orders (``chunks``) to a file, saying
    when each is written."""
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
    for number, part in enumerate(chunks(len(orders))):
        rows = NewOrders()
        rows.add_imported(orders, part, reader.now, settings)
        _write_rows(rows, _rows_file(scratch, number))
        say(_WRITTEN)


def _rows_file(scratch: Path, number: int) -> Path:
    """The scratch file of the worker's ``number``th run of orders (``chunks``)."""
    return scratch / f"rows-{number}.db"


def _write_rows(rows: NewOrders, path: Path) -> None:
    """Write ``rows`` into a new scratch file at ``path``, in tables without keys or indexes:
    they are only read once, in order, into the ledger."""
    conn = sqlite3.connect(path, isolation_level=None)
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
