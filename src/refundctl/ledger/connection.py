"""An open ledger file, before any dispute is read: connecting, migrating, snapshots, and
the stored deadlines as ``check`` reads them.

``LedgerFile`` opens a ledger (an empty one in memory where there is none yet), waits for
another refundctl rather than failing, brings the schema up to date and turns SQLite's errors
into DESIGN.md's. It can tell whether the stored deadlines were computed with the policies,
zone and holiday data in effect, and list what is due from them; that is all ``check`` needs,
so it runs without the domain model. ``store.Ledger`` builds every other read and write on it.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Self

from refundctl.due import CheckItem, CheckLine, Filters, basis
from refundctl.errors import BadInput, LedgerDamaged, LedgerLocked, LedgerUnusable
from refundctl.ledger import deadline_index
from refundctl.ledger.health import refuse_damaged
from refundctl.ledger.schema import MIGRATION_NAMES, MIGRATION_SET

if TYPE_CHECKING:
    from refundctl.policies import Policy

LOCK_TIMEOUT_SECONDS = 30.0
# The page size of a new ledger. SQLite's default is 4 KiB; with 16 KiB a large write (an
# import of 100,000 orders puts some 130 MB through the write-ahead log) commits in two thirds
# of the time, being a quarter of the pages to log, checksum and copy back, while reads
# measured the same (docs/performance.md). An existing ledger keeps the size it was made with.
PAGE_SIZE = 16384
# Write transactions of a command's own that this process has committed. The CLI reads it to
# tell an interrupt that came before the command recorded anything from one that came after (a
# large import still cleaning up). A new ledger's schema, or an upgrade's, is not counted: it
# records nothing of the buyer's, and "interrupted after the change was recorded" would have
# them believe the import they stopped had happened.
commits = 0


class Settings(NamedTuple):  # not a dataclass: quicker to define (see due.Filters)
    """What the ledger needs from the configuration: the buyer's zone and the policies."""

    zone: tzinfo
    policy_for: Callable[[str], Policy]
    evidence_max_bytes: int = 100 * 1024 * 1024


class LedgerFile:
    """One open ledger file, for reading its stored deadlines; ``Ledger`` (ledger/store.py)
    adds the disputes and orders, and every write."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, settings: Settings) -> None:
        self.conn = conn
        self.path = path
        self.settings = settings
        self.conn.row_factory = sqlite3.Row
        deadline_index.register_functions(conn)
        # Whether the stored deadlines match the policies in effect (see _check_index).
        self.index_current = True
        self._bases: dict[str, str] = {}

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def open(
        cls,
        path: Path,
        settings: Settings,
        *,
        write: bool,
        make_folder: bool = False,
        missing_ok: bool = False,
    ) -> Iterator[Self]:
        """Open (creating and migrating as needed) the ledger at ``path``.

        A read of a ledger that does not exist (or is an empty file) is refused: answering
        "nothing is due" from a mistyped path would be a false all-clear. Only ``missing_ok``
        (shell completion, a dry run) reads it as an empty ledger, in memory, leaving no file.
        A write creates the ledger, but its folder only where ``make_folder`` says (the
        default data directory). A file that is not an SQLite database is refused before
        SQLite opens it, and left as it is.
        """
        with _translate_errors(path):
            _refuse_foreign_file(path)
            if not write and _nothing_at(path):
                if not missing_ok:
                    raise LedgerUnusable(no_ledger_message(path))
                conn = _empty_ledger()
                store_path = None
            else:
                if write:
                    ready_folder(path, make=make_folder)
                conn = _connect(path)
                # No page-by-page check before a write: it cost 0.4 s at 100,000 disputes and
                # still missed an index that disagrees with its table. SQLite refuses the pages
                # a write touches when they are damaged (the transaction rolls back, exit 3);
                # `verify`, `backup` and `restore` run the full integrity check (docs/data.md).
                _migrate(conn, path, cls(conn, path, settings)._finish_upgrade)
                if write:
                    refuse_foreign_schema(conn, path)
                store_path = path
            ledger = cls(conn, store_path, settings)
            try:
                if store_path is not None and not write:
                    ledger._check_index()
                if not write:
                    conn.execute("PRAGMA query_only = ON")
                yield ledger
            finally:
                conn.close()

    @contextmanager
    def _read(self) -> Iterator[None]:
        """A consistent snapshot for a read that spans several queries."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("ROLLBACK")

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One consistent view of the ledger for reads that span several calls. Inside it,
        ``index_current`` holds for this very view: another process with another config may
        have re-stored the deadlines since the ledger was opened."""
        with self._read():
            if self.index_current and self.path is not None and self._stale():
                self.index_current = False
            yield

    def _basis(self, marketplace: str) -> str:
        found = self._bases.get(marketplace)
        if found is None:
            policy_for = self.settings.policy_for
            found = basis(policy_for(marketplace), self.settings.zone, policy_for("paypal"))
            self._bases[marketplace] = found
        return found

    def _stale(self) -> dict[str, str]:
        """The marketplaces whose stored deadlines were computed with other policies, another
        zone or other holiday data than those in effect, with the basis they were."""
        return {
            marketplace: stored
            for marketplace, stored in self.conn.execute(
                "SELECT marketplace, basis FROM deadline_basis"
            )
            if stored != self._basis(marketplace)
        }

    def _finish_upgrade(self) -> None:
        """Inside the upgrade's own transaction, what its new tables need filled. The file
        layer cannot compute deadlines; ``Ledger`` stores them, so that an upgrade is one
        transaction (``check``'s quick path leaves them to the next read, see below)."""

    def _check_index(self) -> None:
        """Before a read: whether the stored deadlines can be trusted (``index_current``).
        An upgrade's unfinished part (an empty basis) is ``Ledger``'s to finish: it loads the
        domain model, once."""
        stale = self._stale()
        if stale and not any(stale.values()):
            from refundctl.ledger.store import Ledger

            full = Ledger(self.conn, self.path, self.settings)
            full._check_index()
            self.index_current = full.index_current
        elif stale:
            self.index_current = False

    def due(
        self,
        now: datetime,
        horizon: datetime,
        filters: Filters | None,
        everything: bool = False,
    ) -> Iterator[CheckItem]:
        """What needs the buyer by ``horizon``, most urgent first: from the stored deadlines
        (``deadline_index.due``) where they are current, in one snapshot; else computed afresh
        with the domain model (loaded only then)."""
        with self._snapshot():
            if self.index_current:
                yield from deadline_index.due(
                    self.conn, now, horizon, filters, everything=everything
                )
                return
        yield from self._due_afresh(now, horizon, filters, everything)

    def due_json(
        self,
        now: datetime,
        horizon: datetime,
        filters: Filters | None,
        everything: bool,
        shape: Callable[[CheckItem], str],
    ) -> Iterator[CheckLine]:
        """``due``, each item with its JSON text: joined by SQLite from what the stored
        deadlines keep (``deadline_index.due_json``) where they are current, else ``shape``d
        from the item computed afresh."""
        with self._snapshot():
            if self.index_current:
                yield from deadline_index.due_json(
                    self.conn, now, horizon, filters, everything=everything
                )
                return
        for item in self._due_afresh(now, horizon, filters, everything):
            yield CheckLine(item.due_at, item.binds, item.name, item.order_no, shape(item))

    def _due_afresh(
        self, now: datetime, horizon: datetime, filters: Filters | None, everything: bool
    ) -> Iterator[CheckItem]:
        from refundctl.ledger.store import Ledger

        return Ledger(self.conn, self.path, self.settings)._due_afresh(
            now, horizon, filters, everything
        )


def ready_folder(path: Path, *, make: bool) -> None:
    """The folder a new ledger goes into: there, or made where ``make`` allows (the default
    data directory); otherwise the path is likely mistyped."""
    if path.parent.is_dir():
        return
    if not make or path.parent.exists():
        raise BadInput(
            f"there is no folder {path.parent} for the ledger {path.name}: "
            "create it first, or check --db / REFUNDCTL_DB"
        )
    path.parent.mkdir(parents=True, exist_ok=True)


def lock_timeout() -> float:
    """How long to wait for another refundctl: ``REFUNDCTL_LOCK_TIMEOUT`` seconds, or 30."""
    text = os.environ.get("REFUNDCTL_LOCK_TIMEOUT", "").strip()
    if not text:
        return LOCK_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:  # also refuses nan
        raise BadInput(f"REFUNDCTL_LOCK_TIMEOUT must be a number of seconds, got {text!r}")
    return seconds


def no_ledger_message(path: Path) -> str:
    """Why a read found no ledger, with the ledgers it may have meant."""
    from refundctl.config import default_ledger_path

    if path.exists():
        where = f"{path} is an empty file, not a ledger yet"
    elif not path.parent.is_dir():
        where = f"no ledger at {path} (there is no folder {path.parent})"
    else:
        where = f"no ledger at {path}"
    near = []
    if path.parent.is_dir():
        import difflib

        try:
            names = [p.name for p in path.parent.iterdir() if p.suffix == ".db" and p != path]
        except OSError:
            names = []
        near = [str(path.parent / n) for n in difflib.get_close_matches(path.name, names, 3, 0.6)]
    default = default_ledger_path()
    if default != path and default.is_file() and str(default) not in near:
        near.append(str(default))
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    return f"{where}{hint}; create one with 'refundctl order add'"


SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_foreign_file(path: Path) -> None:
    """Refuse a path that holds something other than a ledger, before SQLite opens it.

    SQLite would take a device or a pipe as a database, and rewrite a file shorter than its
    header (a ledger cut to one byte) as a new empty one: a read would then answer "nothing is
    due" and a write would replace what the file held. Either is left exactly as it was."""
    import stat

    try:
        status = path.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise LedgerUnusable(f"cannot open the ledger {path}: {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        what = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file"
        raise LedgerUnusable(
            f"{path} is {what}, not a ledger; --db or REFUNDCTL_DB must name a ledger file"
        )
    if status.st_size == 0:
        return  # nothing written yet (or only the WAL holds it): see _nothing_at
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise LedgerUnusable(f"cannot open the ledger {path}: {error.strerror}") from None
    if head != SQLITE_HEADER or status.st_size < 512:  # SQLite's smallest page is 512 bytes
        size = f"{status.st_size:,} byte{'s' if status.st_size != 1 else ''}"
        raise LedgerUnusable(
            f"{path} is not a refundctl ledger (not an SQLite database, {size}); it was left "
            "as it is: check --db / REFUNDCTL_DB, or restore a backup ('refundctl restore "
            "ARCHIVE --force')"
        )


# The migrations empty_schema.STATEMENTS is the result of (tests/test_deadline_index.py).
_SCHEMA_OF_STATEMENTS = tuple(MIGRATION_NAMES)


@functools.cache
def _current_schema() -> tuple[tuple[str, str, str, str | None], ...]:
    """The schema objects of a ledger at the newest schema, from the SQL a new one is built
    with (a few milliseconds in memory; no sqlite-utils)."""
    conn = _empty_ledger()
    try:
        return tuple(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        conn.close()


def refuse_foreign_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Before anything is written (a command's write, an upgrade, a read finishing one): the
    ledger holds refundctl's tables, indexes, triggers and views and nothing else. A trigger
    slipped into a copy of the ledger would run inside refundctl's own writes (rewriting every
    seller, say); a table without its columns would fail them."""
    from refundctl.integrity import foreign_schema

    if tuple(_applied(conn, MIGRATION_SET)) != _SCHEMA_OF_STATEMENTS:
        # Another set of migrations than the one empty_schema's SQL was made from (a test's
        # extra one): build what those make, the slow way.
        from refundctl.ledger.migrations import schema_problems

        problems = schema_problems(conn)
    else:
        found = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        problems = foreign_schema([tuple(row) for row in found], _current_schema())
    if problems:
        raise LedgerDamaged(f"its schema is not refundctl's: {problems[0]}", path)


def _nothing_at(path: Path) -> bool:
    """No ledger here yet: no file, or an empty one that no transaction has reached."""
    if not path.exists():
        return True
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
    timeout = lock_timeout()
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _migrate(
    conn: sqlite3.Connection, path: Path | None, finish: Callable[[], None] | None = None
) -> None:
    """Bring the schema up to date; refuse a file that is not ours or is newer than we are.
    ``finish`` fills what the new schema holds, in the same transaction as the migrations."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    known = list(MIGRATION_NAMES)
    applied: list[str] = []
    if "_sqlite_migrations" in tables:
        applied = _applied(conn, MIGRATION_SET)
    if tables and not applied:
        raise LedgerUnusable(f"{path} is not a refundctl ledger (it holds other tables)")
    newer = [name for name in applied if name not in known]
    if newer:
        raise LedgerUnusable(
            f"{path} was written by a newer refundctl (schema {newer[-1]}); upgrade refundctl"
        )
    if len(applied) == len(known):
        return
    if path is not None:
        if not tables:  # a new file: the size is fixed by its first write, the next line
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
    if applied and path is not None:
        refuse_damaged(conn, path)
        # Before the upgrade writes: a trigger of the file's own would run inside it.
        refuse_foreign_schema(conn, path)
        _backup(conn, path, applied[-1])
    if not tables:
        _create(conn)
        return
    from sqlite_utils import Database

    from refundctl.ledger.migrations import migrations

    db = Database(conn, execute_plugins=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if len(_applied(conn, MIGRATION_SET)) < len(known):  # another process may have won
            migrations.apply(db)
            if finish is not None:
                finish()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def count_commit() -> None:
    global commits
    commits += 1


def _create(conn: sqlite3.Connection) -> None:
    """A new ledger's schema in one transaction: the SQL every migration applied makes
    (``empty_schema``, which a test holds to the migrations), without loading sqlite-utils
    and running them one by one (a new ledger took 44 ms that way, most of a first command).
    Another process that made the schema meanwhile wins; this one then finds it there."""
    from datetime import UTC, datetime

    from refundctl.ledger.empty_schema import STATEMENTS

    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            for statement in STATEMENTS:
                conn.execute(statement)
            now = datetime.now(UTC).isoformat()
            conn.executemany(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
                [(MIGRATION_SET, name, now) for name in MIGRATION_NAMES],
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _empty_ledger() -> sqlite3.Connection:
    """An empty ledger in memory, built from the schema's SQL rather than the migrations."""
    from refundctl.ledger.empty_schema import STATEMENTS

    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in STATEMENTS:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO _sqlite_migrations (migration_set, name) VALUES (?, ?)",
        [(MIGRATION_SET, name) for name in MIGRATION_NAMES],
    )
    return conn


def _applied(conn: sqlite3.Connection, migration_set: str) -> list[str]:
    try:
        return [
            row[0]
            for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                (migration_set,),
            )
        ]
    except sqlite3.OperationalError as error:
        # No migrations table yet means nothing applied; a locked or damaged file is not that.
        if "no such table" not in str(error):
            raise
        return []


def _backup(conn: sqlite3.Connection, path: Path, schema: str) -> None:
    """Copy a ledger aside before its first upgrade, with SQLite's online backup. The copy is
    complete before it takes its name, so a crash never leaves a partial one to be trusted."""
    from refundctl.ledger.files import move_into_place, partial_name, sweep_stale

    target = path.with_name(f"{path.name}.{schema}.bak")
    if target.exists():
        return
    sweep_stale(target)
    partial = partial_name(target)
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(str(partial))
    try:
        conn.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
    move_into_place(partial, target, replace=True)


@contextmanager
def _translate_errors(path: Path) -> Iterator[None]:
    """SQLite's own errors, in the words and exit codes of DESIGN.md."""
    try:
        yield
    except LedgerDamaged as error:
        if error.where is None:  # noticed by a layer that did not know the file
            raise LedgerDamaged(error.detail, path) from None
        raise
    except sqlite3.OperationalError as error:
        text = str(error)
        if "Could not decode" in text:  # a text column whose bytes a flipped bit broke
            raise LedgerDamaged(text.split(" with text ")[0], path) from None
        if "locked" in text or "busy" in text:
            raise LedgerLocked(
                f"the ledger {path} is locked by another refundctl; try again"
            ) from None
        if "unable to open" in text or "readonly" in text:
            raise LedgerUnusable(f"cannot open the ledger {path}: {text}") from None
        raise
    except sqlite3.DatabaseError as error:
        raise LedgerUnusable(
            f"{path} is not a usable refundctl ledger ({error}); restore it from a backup "
            "('refundctl restore ARCHIVE --force')"
        ) from None
