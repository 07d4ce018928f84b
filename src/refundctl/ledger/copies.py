"""The private files and folders that backup, restore and installing a ledger build what they
write in, beside its place (mode 700, files 600, named after it and the process id:
``.NAME.PID.part`` or ``.NAME.PID.restore``), the sweep that removes those a killed process
left behind, and SQLite's backup API copying a live ledger without waiting forever for its lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from refundctl.errors import LedgerLocked
from refundctl.ledger.files import pid_alive

# How much a copy reads and writes at a time.
CHUNK = 1024 * 1024
# What backup and restore leave behind when killed (files.partial_name: named after the file
# they were making and their process id): a private work folder, whatever its file was called
# (so that the next backup into that folder, to any name, removes it), and beside a file of
# theirs only its own temporaries and journals.
_WORK_FOLDER = re.compile(r"\..+\.(\d{1,9})\.(?:part|restore)")
_TEMPORARY = r"\.{name}\.(\d{{1,9}})\.(?:part|db|restore)(?:-journal|-wal|-shm)?"


@contextlib.contextmanager
def create_private(path: Path) -> Iterator[IO[bytes]]:
    """A new file at ``path`` that only its owner can read, never following or replacing what
    is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        yield raw


def private_folder(path: Path) -> None:
    """A new, empty folder at ``path`` that only its owner can enter."""
    # One of this process id's is from a life before a reboot (or a file, from a refundctl
    # that wrote its archive there directly).
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    path.mkdir(mode=0o700)


def private_database(path: Path) -> sqlite3.Connection:
    """A new SQLite file at ``path`` that only its owner can read (SQLite gives its journal the
    file's mode; left to itself it makes both readable by all)."""
    with create_private(path):
        pass
    return sqlite3.connect(str(path), isolation_level=None)


def sweep_temporaries(*targets: Path) -> None:
    """Remove what killed backups and restores left beside these files: their work folders,
    and the temporaries of these very files, only a dead process's (a file of another
    program's, whatever its name, is left alone)."""
    for target in targets:
        pattern = re.compile(_TEMPORARY.format(name=re.escape(target.name)))
        try:
            entries = list(os.scandir(target.parent))
        except OSError:
            continue
        for entry in entries:
            folder = entry.is_dir(follow_symlinks=False)
            found = (_WORK_FOLDER if folder else pattern).fullmatch(entry.name)
            if found is None or pid_alive(int(found[1])):
                continue
            if folder:
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()


def locked_or(error: sqlite3.OperationalError, otherwise: Exception, path: Path) -> Exception:
    if "locked" in str(error) or "busy" in str(error):
        return LedgerLocked(f"the ledger {path} is locked by another refundctl; try again")
    return otherwise


def give_up_after(seconds: float) -> Callable[[int, int, int], None]:
    """A backup progress callback that stops waiting for a lock after ``seconds``."""
    deadline = time.monotonic() + seconds

    def progress(status: int, remaining: int, total: int) -> None:
        busy = status in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
        if busy and time.monotonic() > deadline:
            raise LedgerLocked("the ledger is locked by another refundctl; try again")

    return progress
