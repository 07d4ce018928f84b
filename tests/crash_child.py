"""Run refundctl in a child process that kills itself (SIGKILL) at a chosen step.

``python tests/crash_child.py ARGS...`` runs ``refundctl ARGS...``. Every SQL statement SQLite
starts and every file-system call that writes (create a folder, rename, link, unlink, fsync)
is a step. With ``CRASH_KILL_AT=N`` the process sends itself SIGKILL just before step N, so a
test can stop a command between any two of the things it does; with ``CRASH_COUNT_TO=FILE`` it
writes how many steps it took, so the test knows where the points are. With
``CRASH_READY_FD=N`` it writes one byte to that descriptor at its first step, so a test that
kills it from outside at a random moment can aim at the work rather than at Python starting.

``CRASH_FAKE_MIGRATION=1`` registers a second schema migration, to crash an upgrade.

A test counts the steps of a command in its own process with ``counting()``, which installs the
same hooks for as long as it lasts.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KILL_AT = int(os.environ.get("CRASH_KILL_AT", "0"))
COUNT_TO = os.environ.get("CRASH_COUNT_TO")
READY_FD = int(os.environ.get("CRASH_READY_FD", "-1"))
steps = 0


def step(*_: object) -> None:
    global steps, READY_FD
    steps += 1
    if READY_FD >= 0:
        os.write(READY_FD, b"r")
        os.close(READY_FD)
        READY_FD = -1
    if steps == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


def counted(function: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        step()
        return function(*args, **kwargs)

    return wrapper


_connect = sqlite3.connect


def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    step()
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(step)
    return conn


WRITES = ("replace", "rename", "link", "unlink", "fsync", "mkdir", "rmdir", "truncate")


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the steps of what runs inside (in this process); yields [steps] when done."""
    global steps
    saved = {name: getattr(os, name) for name in WRITES}
    saved_connect = sqlite3.connect
    steps = 0
    result = [0]
    install()
    try:
        yield result
    finally:
        sqlite3.connect = saved_connect  # type: ignore[assignment]
        for name, function in saved.items():
            setattr(os, name, function)
        result[0] = steps


def install() -> None:
    sqlite3.connect = connect  # type: ignore[assignment]
    for name in WRITES:
        setattr(os, name, counted(getattr(os, name)))


def fake_migration(set_attribute: Any = setattr) -> None:
    """Pretend this refundctl knows a second schema: a column, and rows written into it.
    A test passes ``monkeypatch.setattr`` to have it undone."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from refundctl.ledger import connection, schema
    from refundctl.ledger import migrations as module

    upgraded = Migrations(schema.MIGRATION_SET)
    upgraded._migrations = list(module.migrations._migrations)

    @upgraded()
    def m999_add_dispute_priority(db: Database) -> None:
        db.execute("ALTER TABLE disputes ADD COLUMN priority INTEGER")
        db.execute("UPDATE disputes SET priority = id * 10")
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        db.execute("INSERT INTO notes (text) SELECT title FROM orders WHERE title IS NOT NULL")

    names = (*schema.MIGRATION_NAMES, "m999_add_dispute_priority")
    set_attribute(module, "migrations", upgraded)
    set_attribute(schema, "MIGRATION_NAMES", names)
    set_attribute(connection, "MIGRATION_NAMES", names)


def main() -> None:
    install()
    if os.environ.get("CRASH_FAKE_MIGRATION") == "1":
        fake_migration()
    if COUNT_TO:
        import atexit

        atexit.register(lambda: Path(COUNT_TO).write_text(str(steps)))
    from refundctl.cli import app

    app(args=sys.argv[1:], prog_name="refundctl")


if __name__ == "__main__":
    main()
