"""Backups: the ledger and its evidence in one zip archive, and back again.

``write_backup`` copies an open ledger with SQLite's online backup API, which reads one
consistent snapshot and, in WAL mode, never blocks a writer: it is safe while other commands
run. It then adds every stored file that the snapshot names. Evidence is content-addressed and
written before the rows naming it commit, so every file the snapshot names is in the store
already and never changes; each is still checked against its SHA-256 before it goes in, and one
that is missing or altered is listed in the manifest instead.

``restore_backup`` checks everything before it touches anything: the manifest, SQLite's
integrity check of the ledger in the archive, its schema (not newer than this refundctl, and
exactly what refundctl's migrations make at that version: a trigger or view of the archive's
own is refused), and every evidence file against its hash. No member is inflated past the size
the manifest gives it (an archive's ledger of 8 MB that inflates to 8 GiB stops at 8 MB). Only
then does it add the files to the evidence folder (content-addressed, so adding never harms)
and put the ledger in place in one step: a new ledger by a rename, an existing one (``force``)
through SQLite's backup API in one transaction, which processes that have it open see as one
change. The ledger it replaces is kept beside it.

Both build what they write in a private folder (mode 700, its files 600) beside its place,
named after it and their process id (``.NAME.PID.part`` or ``.NAME.PID.restore``), and remove it
whether they succeed or are refused. One killed meanwhile leaves it behind: every backup and
restore removes those of dead processes from the folders it works in (the ledger's and the
archive's).

``install_new_ledger`` is that last step for any ledger built beside its target (``demo``).

An archive holds:

    refundctl-backup.json   format, version, when, which refundctl and schema, what it holds
    ledger.db               the ledger, one self-contained SQLite file
    evidence/ab/abcdef…     every stored file the ledger names, under its SHA-256
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from refundctl import __version__
from refundctl.errors import BadInput, LedgerLocked, LedgerUnusable, NoSpace
from refundctl.integrity import FileStatus
from refundctl.ledger import schema
from refundctl.ledger.connection import lock_timeout
from refundctl.ledger.evidence import EvidenceStore, evidence_dir, is_sha256
from refundctl.ledger.files import (
    fsync_dir,
    fsync_file,
    move_into_place,
    partial_name,
    pid_alive,
)
from refundctl.ledger.store import Ledger
from refundctl.timeparse import iso

FORMAT = "refundctl-backup"
VERSION = 1
MANIFEST = "refundctl-backup.json"
LEDGER_MEMBER = "ledger.db"
_EVIDENCE_MEMBER = re.compile(r"evidence/([0-9a-f]{2})/([0-9a-f]{64})")
_CHUNK = 1024 * 1024
# What backup and restore leave behind when killed (files.partial_name: named after the file
# they were making and their process id): a private work folder, whatever its file was called
# (so that the next backup into that folder, to any name, removes it), and beside a file of
# theirs only its own temporaries and journals.
_WORK_FOLDER = re.compile(r"\..+\.(\d{1,9})\.(?:part|restore)")
_TEMPORARY = r"\.{name}\.(\d{{1,9}})\.(?:part|db|restore)(?:-journal|-wal|-shm)?"
# The manifest lists every evidence file the archive holds, and the missing ones: 16 MiB is
# some 200,000 missing files, and far more than any manifest refundctl writes needs.
_MANIFEST_BYTES = 16 * 1024 * 1024
_MANIFEST_BYTES_PER_MEMBER = 256


@dataclass(frozen=True, slots=True)
class Contents:
    """What a ledger holds, as a backup or a restore reports it."""

    schema: str
    orders: int
    disputes: int
    events: int


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


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    archive: Path
    ledger: Path
    evidence_dir: Path
    created: str
    contents: Contents
    files: int
    written: int  # files the evidence folder did not hold intact before
    # Files the ledger names that were already missing when the backup was taken, and that
    # the evidence folder does not hold either.
    missing: tuple[str, ...]
    kept: Path | None  # where the ledger that was replaced is now


# -- backup ----------------------------------------------------------------------------------


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
        _private_folder(work)
        copy = _private_database(snapshot)
        try:
            ledger.conn.backup(copy, progress=_give_up_after(lock_timeout()))
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            contents = _contents(copy)
            named = _named_files(copy)
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
            _create(partial) as raw,
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
        raise _locked_or(error, BadInput(f"cannot write {target}: {error}"), ledger.path) from None
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
    ours = [ledger, *(ledger.with_name(ledger.name + s) for s in ("-wal", "-shm", "-journal"))]
    resolved = target.resolve()
    if resolved in {p.resolve() for p in ours} or resolved.is_relative_to(
        evidence_dir(ledger).resolve()
    ):
        raise BadInput(f"{target} is part of the ledger itself; write the backup somewhere else")
    if (target.exists() or target.is_symlink()) and not force:
        raise BadInput(f"{target} exists already; use --force to replace it")


@contextlib.contextmanager
def _create(path: Path) -> Iterator[IO[bytes]]:
    """A new file at ``path`` that only its owner can read, never following or replacing what
    is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        yield raw


def _private_folder(path: Path) -> None:
    """A new, empty folder at ``path`` that only its owner can enter."""
    # One of this process id's is from a life before a reboot (or a file, from a refundctl
    # that wrote its archive there directly).
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    path.mkdir(mode=0o700)


def _private_database(path: Path) -> sqlite3.Connection:
    """A new SQLite file at ``path`` that only its owner can read (SQLite gives its journal the
    file's mode; left to itself it makes both readable by all)."""
    with _create(path):
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


def _locked_or(error: sqlite3.OperationalError, otherwise: Exception, path: Path) -> Exception:
    if "locked" in str(error) or "busy" in str(error):
        return LedgerLocked(f"the ledger {path} is locked by another refundctl; try again")
    return otherwise


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
        while chunk := source.read(_CHUNK):
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


def _give_up_after(seconds: float) -> Callable[[int, int, int], None]:
    """A backup progress callback that stops waiting for a lock after ``seconds``."""
    deadline = time.monotonic() + seconds

    def progress(status: int, remaining: int, total: int) -> None:
        busy = status in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
        if busy and time.monotonic() > deadline:
            raise LedgerLocked("the ledger is locked by another refundctl; try again")

    return progress


def _contents(conn: sqlite3.Connection) -> Contents:
    def count(table: str) -> int:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    latest = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid DESC LIMIT 1",
        (schema.MIGRATION_SET,),
    ).fetchone()
    return Contents(
        schema="" if latest is None else str(latest[0]),
        orders=count("orders"),
        disputes=count("disputes"),
        events=count("events"),
    )


def _named_files(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Every stored file the ledger names, with the size it recorded."""
    return {
        str(row[0]): row[1]
        for row in conn.execute(
            "SELECT sha256, max(size) FROM evidence WHERE sha256 IS NOT NULL GROUP BY sha256"
        )
    }


# -- restore ---------------------------------------------------------------------------------


def restore_backup(archive: Path, target: Path, *, force: bool, now: datetime) -> RestoreSummary:
    """Restore the backup ``archive`` to the ledger path ``target`` (and its evidence folder)."""
    sweep_temporaries(archive, target)
    if target.is_dir():
        raise BadInput(f"the ledger path {target} is a directory")
    if (target.exists() or target.is_symlink()) and not force:
        raise BadInput(
            f"there is a ledger at {target} already; use --force to replace it "
            "(it is kept beside it)"
        )
    with _open_archive(archive) as zf:
        manifest = _read_manifest(zf, archive)
        members = _members(zf, archive)
        work = partial_name(target, "restore")
        created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
        try:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _private_folder(work)
                built = work / target.name
                contents, named, files = _unpack(zf, manifest, members, built, archive)
                written, kept = install_new_ledger(built, target, replace=force, now=now)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        except BaseException as error:
            for folder in created:  # the deepest first: a refused restore leaves no folder
                with contextlib.suppress(OSError):
                    folder.rmdir()
            if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise NoSpace(target) from None
            if isinstance(error, sqlite3.OperationalError) and "disk is full" in str(error):
                raise NoSpace(target) from None
            if isinstance(error, OSError):
                why = error.strerror or error
                raise BadInput(f"cannot restore to {target}: {why}") from None
            raise
    store = EvidenceStore(evidence_dir(target))
    missing = tuple(
        sorted(
            sha256
            for sha256 in set(named) - set(files)
            if store.check(sha256, named[sha256]).status is not FileStatus.INTACT
        )
    )
    return RestoreSummary(
        archive=archive,
        ledger=target,
        evidence_dir=store.root,
        created=str(manifest["created"]),
        contents=contents,
        files=len(files),
        written=written,
        missing=missing,
        kept=kept,
    )


def _unpack(
    zf: zipfile.ZipFile,
    manifest: dict[str, Any],
    members: dict[str, zipfile.ZipInfo],
    built: Path,
    archive: Path,
) -> tuple[Contents, dict[str, int | None], dict[str, int]]:
    """The archive's ledger at ``built`` and its evidence beside it, every one checked: what
    the ledger holds, the files it names, and the files extracted."""
    ledger_member = zf.getinfo(LEDGER_MEMBER)
    # A backup made before the manifest gave the ledger's size: the zip's own word.
    size = manifest.get("ledger_size", ledger_member.file_size)
    needed = size + sum(e["size"] for e in manifest["evidence"])
    free = shutil.disk_usage(built.parent).free
    if needed > free:
        raise NoSpace(
            built.parent.parent,
            f"{archive} holds {needed:,} bytes, and {free:,} are free; nothing was restored",
        )
    _extract(zf, ledger_member, built, size, f"{archive} is damaged: its ledger")
    contents, named = _check_ledger(built, archive)
    files = _extract_evidence(zf, members, manifest, evidence_dir(built), archive)
    lacking = set(named) - set(files) - set(manifest["missing"])
    if lacking:
        raise BadInput(
            f"{archive} is incomplete: the ledger in it names {len(lacking)} evidence "
            "file(s) it does not hold; nothing was restored"
        )
    return contents, named, files


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[zipfile.ZipFile]:
    from refundctl.userfiles import check_kind

    try:
        check_kind(archive, "backup")  # a pipe would block, a device read forever
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise BadInput(f"no such file: {archive}") from None
    except IsADirectoryError:
        raise BadInput(f"{archive} is a directory, not a backup") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise BadInput(
            f"{archive} is not a refundctl backup (not a readable zip archive)"
        ) from None
    encrypted = [info.filename for info in zf.infolist() if info.flag_bits & 0x1]
    if encrypted:  # zipfile would raise RuntimeError asking for a password
        zf.close()
        raise BadInput(
            f"{archive} is not a refundctl backup: {encrypted[0]!r} is encrypted, and "
            "refundctl's backups never are"
        )
    try:
        yield zf
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as error:
        raise BadInput(f"{archive} is damaged ({error}); nothing was restored") from None
    finally:
        zf.close()


def _read_manifest(zf: zipfile.ZipFile, archive: Path) -> dict[str, Any]:
    limit = _MANIFEST_BYTES + _MANIFEST_BYTES_PER_MEMBER * len(zf.infolist())
    try:
        with zf.open(MANIFEST) as source:
            text = source.read(limit + 1)
    except KeyError:
        raise BadInput(f"{archive} is not a refundctl backup (it has no {MANIFEST})") from None
    if len(text) > limit:
        raise BadInput(f"{archive} is damaged: its {MANIFEST} is larger than refundctl writes")
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadInput(f"{archive} is damaged: its {MANIFEST} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadInput(f"{archive} is not a refundctl backup")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadInput(f"{archive} is damaged: its format version is {version!r}")
    if version > VERSION:
        raise LedgerUnusable(
            f"{archive} was made by a newer refundctl (backup format {version}); "
            "upgrade refundctl to restore it"
        )
    evidence, missing = data.get("evidence"), data.get("missing")
    well_formed = (
        isinstance(evidence, list)
        and all(
            isinstance(e, dict) and is_sha256(e.get("sha256")) and _is_size(e.get("size"))
            for e in evidence
        )
        and isinstance(missing, list)
        and all(isinstance(m, str) and is_sha256(m) for m in missing)
        and isinstance(data.get("created"), str)
        and _is_size(data.get("ledger_size", 0))
    )
    if not well_formed:
        raise BadInput(f"{archive} is damaged: its {MANIFEST} is not what refundctl writes")
    return data


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _members(zf: zipfile.ZipFile, archive: Path) -> dict[str, zipfile.ZipInfo]:
    """The archive's evidence members by SHA-256; refuse anything refundctl does not write."""
    found: dict[str, zipfile.ZipInfo] = {}
    names = [info.filename for info in zf.infolist()]
    if names.count(LEDGER_MEMBER) != 1 or names.count(MANIFEST) != 1:
        raise BadInput(f"{archive} is damaged: it must hold one {LEDGER_MEMBER} and one {MANIFEST}")
    for info in zf.infolist():
        if info.filename in {LEDGER_MEMBER, MANIFEST}:
            continue
        match = _EVIDENCE_MEMBER.fullmatch(info.filename)
        if match is None or match[2][:2] != match[1] or match[2] in found:
            raise BadInput(f"{archive} holds {info.filename!r}, which refundctl never writes")
        found[match[2]] = info
    return found


def _check_ledger(path: Path, archive: Path) -> tuple[Contents, dict[str, int | None]]:
    """The ledger in the archive is whole, refundctl's, and not newer than this refundctl."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as error:  # pragma: no cover - a new file in our own folder
        raise BadInput(f"cannot read the ledger in {archive}: {error}") from None
    try:
        # Until its schema is known to be refundctl's, nothing in it may run a function that
        # SQLite does not know to be harmless.
        conn.execute("PRAGMA trusted_schema = OFF")
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [
            f"a {row[0]} row names a {row[2]} row that does not exist"
            for row in conn.execute("PRAGMA foreign_key_check")
        ]
        if problems:
            raise BadInput(
                f"{archive} is damaged: the ledger in it fails SQLite's check ({problems[0]}); "
                "nothing was restored"
            )
        try:
            applied = [
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                    (schema.MIGRATION_SET,),
                )
            ]
        except sqlite3.OperationalError:
            applied = []
        if not applied:
            raise BadInput(f"{archive} does not hold a refundctl ledger")
        newer = [name for name in applied if name not in schema.MIGRATION_NAMES]
        if newer:
            raise LedgerUnusable(
                f"{archive} holds a ledger written by a newer refundctl (schema {newer[-1]}); "
                "upgrade refundctl to restore it"
            )
        _refuse_foreign_schema(conn, archive)
        contents = _contents(conn)
        named = _named_files(conn)
        conn.execute("PRAGMA journal_mode = WAL")  # as every ledger refundctl makes
    except sqlite3.DatabaseError as error:
        raise BadInput(
            f"{archive} is damaged: the ledger in it cannot be read ({error}); nothing was restored"
        ) from None
    finally:
        conn.close()
    fsync_file(path)
    return contents, named


def _refuse_foreign_schema(conn: sqlite3.Connection, archive: Path) -> None:
    """Refuse a ledger whose tables, indexes, triggers or views are not exactly those that
    refundctl's migrations make at its schema: a trigger of the archive's own would run on the
    next write, and a table without its columns would fail every command."""
    from refundctl.ledger.migrations import schema_problems

    problems = schema_problems(conn)
    if problems:
        more = f", and {len(problems) - 1} more difference(s)" if len(problems) > 1 else ""
        raise BadInput(
            f"{archive} is damaged: the ledger in it has a schema refundctl does not make "
            f"({problems[0]}{more}); nothing was restored"
        )


def _extract(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, size: int, what: str
) -> tuple[str, int]:
    """Inflate ``info`` to the new private file ``path``, never past ``size`` bytes (a member
    of 8 MB can inflate to 8 GiB); its SHA-256 and size. ``what`` starts the refusal."""
    if info.file_size > size:
        raise BadInput(f"{what} is larger than its manifest says; nothing was restored")
    digest = hashlib.sha256()
    written = 0
    with zf.open(info) as source, _create(path) as out:
        while chunk := source.read(min(_CHUNK, size - written + 1)):
            written += len(chunk)
            if written > size:
                raise BadInput(f"{what} is larger than its manifest says; nothing was restored")
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), written


def _extract_evidence(
    zf: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    manifest: dict[str, Any],
    folder: Path,
    archive: Path,
) -> dict[str, int]:
    """Every evidence file, extracted and checked against its name and the manifest."""
    listed = {e["sha256"]: e["size"] for e in manifest["evidence"]}
    if set(listed) != set(members):
        raise BadInput(
            f"{archive} is damaged: its evidence files are not the ones its manifest lists; "
            "nothing was restored"
        )
    sizes: dict[str, int] = {}
    folder.mkdir(mode=0o700, exist_ok=True)
    for sha256, info in sorted(members.items()):
        path = folder / sha256[:2] / sha256
        path.parent.mkdir(mode=0o700, exist_ok=True)
        what = f"{archive} is damaged: evidence {sha256[:12]}…"
        found, size = _extract(zf, info, path, listed[sha256], what)
        if found != sha256 or size != listed[sha256]:
            raise BadInput(
                f"{archive} is damaged: evidence {sha256[:12]}… does not match its SHA-256; "
                "nothing was restored"
            )
        sizes[sha256] = size
    return sizes


# -- putting a ledger in place ---------------------------------------------------------------


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
                    with path.open("rb") as source_file, _create(partial) as out:
                        shutil.copyfileobj(source_file, out, _CHUNK)
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
        copy = _private_database(partial)
        try:
            old.backup(copy, progress=_give_up_after(lock_timeout()))
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
            new.backup(old, progress=_give_up_after(lock_timeout()))
            spare = False
        finally:
            new.close()
    except BaseException as error:
        if spare:
            kept.unlink(missing_ok=True)
        if isinstance(error, sqlite3.OperationalError):
            otherwise = BadInput(f"cannot replace the ledger {target}: {error}")
            raise _locked_or(error, otherwise, target) from None
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
