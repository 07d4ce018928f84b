"""Writing the bundle's zip: the same members always give the same bytes.

Every entry gets the same date (1980-01-01, the zip format's first), the same permissions
(``rw-r--r--``) and the same system, in the order the case file lists them; nothing comes from
the clock or the file system. Evidence is copied from the store and hashed on the way: if its
bytes no longer match the hash the ledger keeps, no zip is left behind. The zip is written
beside its target under a temporary name and moved into place only when complete, and an
existing file is replaced only when asked.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

from refundctl.errors import BadInput, LedgerUnusable
from refundctl.ledger.evidence import EvidenceStore
from refundctl.render.bundle import Member

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, rw-r--r--
UNIX = 3
_CHUNK = 1024 * 1024


def write_zip(
    target: Path, members: Sequence[Member], store: EvidenceStore, *, force: bool
) -> None:
    """Write ``members`` to ``target``; refuse to replace a file unless ``force``."""
    refuse_target(target, force=force)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for member in members:
                _add(archive, member, store)
        _move_into_place(partial, target, force=force)
    except OSError as error:
        raise BadInput(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        partial.unlink(missing_ok=True)


def refuse_target(target: Path, *, force: bool) -> None:
    if target.is_dir():
        raise BadInput(f"{target} is a directory; give -o a file name such as case.zip")
    if not target.parent.is_dir():
        raise BadInput(f"cannot write {target}: there is no folder {target.parent}")
    if (target.exists() or target.is_symlink()) and not force:
        raise BadInput(f"{target} exists already; use --force to replace it")


def _move_into_place(partial: Path, target: Path, *, force: bool) -> None:
    if force:
        partial.replace(target)
        return
    try:
        # A hard link never replaces what is there: the check and the move are one step.
        os.link(partial, target)
    except FileExistsError:
        raise BadInput(f"{target} exists already; use --force to replace it") from None
    except OSError:  # a file system without hard links
        refuse_target(target, force=False)
        partial.replace(target)


def _info(member: Member) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member.name, date_time=FIXED_DATE_TIME)
    info.create_system = UNIX
    info.external_attr = FILE_MODE << 16
    info.compress_type = zipfile.ZIP_DEFLATED if member.compress else zipfile.ZIP_STORED
    return info


def _add(archive: zipfile.ZipFile, member: Member, store: EvidenceStore) -> None:
    info = _info(member)
    if member.data is not None:
        archive.writestr(info, member.data)
        return
    assert member.sha256 is not None
    digest = hashlib.sha256()
    size = 0
    info.file_size = member.size or 0
    try:
        source = store.open(member.sha256)
    except OSError:
        raise LedgerUnusable(
            f"{member.name}: the stored file is gone; 'refundctl verify' shows every problem"
        ) from None
    big = (member.size or 0) >= zipfile.ZIP64_LIMIT
    with source, archive.open(info, "w", force_zip64=big) as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if digest.hexdigest() != member.sha256 or (member.size is not None and size != member.size):
        raise LedgerUnusable(
            f"{member.name}: the stored file changed while it was bundled; "
            "'refundctl verify' shows every problem"
        )
