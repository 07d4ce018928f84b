"""Checking and restoring a backup archive: everything is checked before anything is touched,
the manifest, SQLite's integrity check of the ledger in the archive, its schema (not newer than
this refundctl, and exactly what refundctl's migrations make at that version: a trigger or
view of the archive's own is refused) and every evidence file against its hash, and no member
is inflated past the size the manifest gives it (an archive's ledger of 8 MB that inflates to
8 GiB stops at 8 MB). Only then are the files added to the evidence folder (content-addressed,
so adding never harms) and the ledger put in place (install.py), the one it replaces kept
beside it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from refundctl.errors import BadInput, LedgerUnusable, NoSpace
from refundctl.integrity import FileStatus
from refundctl.ledger import schema
from refundctl.ledger.archive import (
    EVIDENCE_MEMBER,
    FORMAT,
    LEDGER_MEMBER,
    MANIFEST,
    VERSION,
    Contents,
    named_files,
    read_contents,
)
from refundctl.ledger.copies import CHUNK, create_private, private_folder, sweep_temporaries
from refundctl.ledger.evidence import EvidenceStore, evidence_dir, is_sha256
from refundctl.ledger.files import fsync_file, partial_name
from refundctl.ledger.install import install_new_ledger

# The manifest lists every evidence file the archive holds, and the missing ones: 16 MiB is
# some 200,000 missing files, and far more than any manifest refundctl writes needs.
_MANIFEST_BYTES = 16 * 1024 * 1024
_MANIFEST_BYTES_PER_MEMBER = 256


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
                private_folder(work)
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
        match = EVIDENCE_MEMBER.fullmatch(info.filename)
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
        contents = read_contents(conn)
        named = named_files(conn)
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
    with zf.open(info) as source, create_private(path) as out:
        while chunk := source.read(min(CHUNK, size - written + 1)):
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
