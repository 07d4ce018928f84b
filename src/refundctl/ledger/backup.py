"""Backups: the ledger and its evidence written to one zip archive.

``write_backup`` copies an open ledger with SQLite's online backup API, which reads one
consistent snapshot and, in WAL mode, never blocks a writer: it is safe while other commands
run. It then adds every stored file that the snapshot names. Evidence is content-addressed and
written before the rows naming it commit, so every file the snapshot names is in the store
already and never changes; each is still checked against its SHA-256 before it goes in, and one
that is missing or altered is listed in the manifest instead.

What an archive holds is in archive.py, checking and restoring one in restore.py, putting a
ledger in place in install.py, and the private work folders all three build in copies.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from refundctl import __version__
from refundctl.errors import BadInput, NoSpace
from refundctl.integrity import FileStatus
from refundctl.ledger.archive import (
    FORMAT,
    LEDGER_MEMBER,
    MANIFEST,
    VERSION,
    Contents,
    named_files,
    read_contents,
)
from refundctl.ledger.connection import lock_timeout
from refundctl.ledger.copies import (
    CHUNK,
    create_private,
    give_up_after,
    locked_or,
    private_database,
    private_folder,
    sweep_temporaries,
)
from refundctl.ledger.evidence import EvidenceStore
from refundctl.ledger.files import fsync_file, move_into_place, partial_name, refuse_ledger_part
from refundctl.ledger.install import install_new_ledger
from refundctl.ledger.restore import RestoreSummary, restore_backup
from refundctl.ledger.store import Ledger
from refundctl.timeparse import iso

# Imported from here by the commands (backup, restore, demo, order import), though they live in
# the modules above: one place to import backing up and restoring from.
__all__ = [
    "FORMAT",
    "LEDGER_MEMBER",
    "MANIFEST",
    "VERSION",
    "Contents",
    "RestoreSummary",
    "install_new_ledger",
    "restore_backup",
    "sweep_temporaries",
]


@dataclass(frozen=True, slots=True)
class BackupSummary:
    archive: Path
    ledger: Path
    created: datetime
    contents: Contents
    files: int
    size: int
    # Stored files the ledger names that were missing or altered: not in the archive.
    missing: tuple[str, ...]


def write_backup(ledger: Ledger, target: Path, *, force: bool, now: datetime) -> BackupSummary:
    """Write ``ledger`` and its evidence to the zip ``target``; replace a file only if ``force``."""
    if ledger.path is None:
        raise BadInput("there is no ledger here yet, so nothing to back up")
    sweep_temporaries(target, ledger.path)
    _refuse_backup_target(target, ledger.path, force=force)
    store = ledger.evidence_store
    work = partial_name(target)
    snapshot, partial = work / LEDGER_MEMBER, work / target.name
    try:
        private_folder(work)
        copy = private_database(snapshot)
        try:
            ledger.conn.backup(copy, progress=give_up_after(lock_timeout()))
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            contents = read_contents(copy)
            named = named_files(copy)
        finally:
            copy.close()
        checks = {sha256: store.check(sha256, size) for sha256, size in named.items()}
        kept = {s: c.found_size or 0 for s, c in checks.items() if c.status is FileStatus.INTACT}
        missing = tuple(sorted(set(named) - set(kept)))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": iso(now),
            "refundctl": __version__,
            "ledger": ledger.path.name,
            "schema": contents.schema,
            "ledger_size": snapshot.stat().st_size,
            "orders": contents.orders,
            "disputes": contents.disputes,
            "events": contents.events,
            "evidence": [{"sha256": s, "size": kept[s]} for s in sorted(kept)],
            "missing": list(missing),
        }
        stamp = now.astimezone(UTC).timetuple()[:6]
        with (
            create_private(partial) as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            text = json.dumps(manifest, indent=2) + "\n"
            archive.writestr(_info(MANIFEST, stamp, compress=True), text)
            with snapshot.open("rb") as source:
                _add(archive, _info(LEDGER_MEMBER, stamp, compress=True), source, None)
            for sha256 in sorted(kept):
                _add_stored(archive, store, sha256, kept[sha256], stamp)
        fsync_file(partial)
        move_into_place(partial, target, replace=force)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpace(target) from None
        raise BadInput(f"cannot write {target}: {error.strerror or error}") from None
    except sqlite3.OperationalError as error:  # the copy of the ledger: a full disk, mostly
        if "disk is full" in str(error):
            raise NoSpace(target) from None
        raise locked_or(error, BadInput(f"cannot write {target}: {error}"), ledger.path) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupSummary(
        archive=target,
        ledger=ledger.path,
        created=now,
        contents=contents,
        files=len(kept),
        size=sum(kept.values()),
        missing=missing,
    )


def _refuse_backup_target(target: Path, ledger: Path, *, force: bool) -> None:
    if target.is_dir():
        raise BadInput(f"{target} is a directory; give a file name such as refundctl-backup.zip")
    if not target.parent.is_dir():
        raise BadInput(f"cannot write {target}: there is no folder {target.parent}")
    refuse_ledger_part(target, ledger, "backup")
    if (target.exists() or target.is_symlink()) and not force:
        raise BadInput(f"{target} exists already; use --force to replace it")


def _info(name: str, stamp: tuple[int, ...], *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.external_attr = 0o100600 << 16  # a regular file, rw-------: it is private
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    return info


def _add(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: IO[bytes], size: int | None
) -> str:
    """Copy ``source`` into the archive; return its SHA-256."""
    digest = hashlib.sha256()
    if size is None:
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(0)
    info.file_size = size
    with archive.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _add_stored(
    archive: zipfile.ZipFile, store: EvidenceStore, sha256: str, size: int, stamp: tuple[int, ...]
) -> None:
    # Photos and videos are compressed already: store them as they are.
    info = _info(f"evidence/{sha256[:2]}/{sha256}", stamp, compress=False)
    with store.open(sha256) as source:
        found = _add(archive, info, source, size)
    if found != sha256:
        raise BadInput(
            f"the stored file {sha256[:12]}… changed while it was backed up; "
            "run 'refundctl verify', then back up again"
        )
