"""Putting a ledger built beside its place (by a restore, ``demo`` or an order import) into it:
its evidence first, file by file, then the ledger in one step, a new one by a rename, an
existing one through SQLite's backup API in one transaction, which processes that have it open
see as one change. The ledger it replaces is kept beside it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from refundctl.errors import BadInput, LedgerLocked
from refundctl.integrity import FileStatus
from refundctl.ledger.connection import lock_timeout
from refundctl.ledger.copies import (
    CHUNK,
    create_private,
    give_up_after,
    locked_or,
    private_database,
)
from refundctl.ledger.evidence import EvidenceStore, evidence_dir, is_sha256
from refundctl.ledger.files import fsync_dir, fsync_file, move_into_place


def install_new_ledger(
    built: Path, target: Path, *, replace: bool, now: datetime
) -> tuple[int, Path | None]:
    """Move a closed ledger built beside ``target`` (and its evidence) into place.

    The evidence goes first, file by file (a file the folder holds intact already is left as
    it is); the ledger last, in one step, so a crash in between leaves the old ledger, with at
    most some files that nothing names yet. Returns how many files were added and where the
    ledger that was replaced (``replace``) is kept.
    """
    settled = sqlite3.connect(str(built), isolation_level=None)
    try:  # everything in the one file: no journal may stay behind to be renamed apart from it
        settled.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        settled.close()
    written = _install_files(evidence_dir(built), EvidenceStore(evidence_dir(target)))
    if not (target.exists() or target.is_symlink()):
        move_into_place(built, target, replace=False)
        return written, None
    if not replace:
        raise BadInput(f"{target} exists already; use --force to replace it")
    return written, _replace_ledger(built, target, now)


def _install_files(source: Path, store: EvidenceStore) -> int:
    store.sweep_temporaries()
    written = 0
    for folder, _, names in os.walk(source):
        for name in sorted(names):
            if not is_sha256(name):
                continue
            path = Path(folder) / name
            if store.check(name, None).status is FileStatus.INTACT:
                continue
            destination = store.path_of(name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.replace(destination)
            except OSError:  # another file system: copy beside it, then rename
                partial = destination.with_name(f".incoming-{os.getpid()}-restore")
                partial.unlink(missing_ok=True)
                try:
                    with path.open("rb") as source_file, create_private(partial) as out:
                        shutil.copyfileobj(source_file, out, CHUNK)
                    fsync_file(partial)
                    partial.replace(destination)
                finally:
                    partial.unlink(missing_ok=True)
            fsync_dir(destination.parent)
            written += 1
    return written


def _replace_ledger(built: Path, target: Path, now: datetime) -> Path:
    """Put ``built`` in the place of the ledger at ``target``; keep that one beside it. The
    copy that is kept is made in ``built``'s private folder, and removed again if the ledger
    cannot be replaced (locked by another refundctl): a refused restore leaves nothing."""
    kept = _kept_name(target, now)
    old = _healthy_connection(target)
    if old is None:
        # Not a ledger SQLite can use: keep the file (and its journal) as it is, by a second
        # name, and rename the new one over it.
        try:
            os.link(target, kept)
        except OSError:
            shutil.copy2(target, kept)
        for suffix in ("-wal", "-shm"):
            companion = target.with_name(target.name + suffix)
            if companion.exists():
                companion.replace(kept.with_name(kept.name + suffix))
        built.replace(target)
        fsync_dir(target.parent)
        return kept
    spare = False  # a kept copy of a ledger that is still in its place
    try:
        partial = built.with_name(f"{built.name}.replaced")
        copy = private_database(partial)
        try:
            old.backup(copy, progress=give_up_after(lock_timeout()))
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        move_into_place(partial, kept, replace=False)
        spare = True
        new = sqlite3.connect(str(built), isolation_level=None)
        try:
            # SQLite copies into a ledger in WAL mode only pages of its own size: the ledger
            # keeps its size (one made before 16 KiB pages keeps 4 KiB), and the archive's copy,
            # a scratch file, is rewritten to it first.
            (size,) = old.execute("PRAGMA page_size").fetchone()
            if new.execute("PRAGMA page_size").fetchone() != (size,):
                new.execute("PRAGMA journal_mode = DELETE")  # VACUUM resizes no WAL file
                new.execute(f"PRAGMA page_size = {int(size)}")
                new.execute("VACUUM")
            # One transaction in the live ledger: whoever has it open sees the old or the new.
            new.backup(old, progress=give_up_after(lock_timeout()))
            spare = False
        finally:
            new.close()
    except BaseException as error:
        if spare:
            kept.unlink(missing_ok=True)
        if isinstance(error, sqlite3.OperationalError):
            otherwise = BadInput(f"cannot replace the ledger {target}: {error}")
            raise locked_or(error, otherwise, target) from None
        raise
    finally:
        old.close()
    return kept


def _healthy_connection(path: Path) -> sqlite3.Connection | None:
    """A connection to the SQLite database at ``path`` if it passes a quick check, else None."""
    try:
        conn = sqlite3.connect(
            f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=lock_timeout()
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout() * 1000)}")
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as error:
        conn.close()
        if "locked" in str(error) or "busy" in str(error):
            raise LedgerLocked(
                f"the ledger {path} is locked by another refundctl; try again"
            ) from None
        return None
    except sqlite3.DatabaseError:
        conn.close()
        return None
    if rows != [("ok",)]:
        conn.close()
        return None
    return conn


def _kept_name(target: Path, now: datetime) -> Path:
    stamp = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    kept = target.with_name(f"{target.name}.replaced-{stamp}")
    number = 1
    while kept.exists() or kept.is_symlink():
        number += 1
        kept = target.with_name(f"{target.name}.replaced-{stamp}-{number}")
    return kept
