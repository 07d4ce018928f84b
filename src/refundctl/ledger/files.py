"""Files written beside the ledger, so that a crash never leaves half of one in its place.

Everything refundctl writes outside SQLite's own transactions (an upgrade's backup copy, a
backup archive, a restored or demo ledger) is written under a temporary name that carries the
writer's process id, made durable, and only then moved to its real name in one step. A
temporary left behind by a process that was killed is recognised by that id and removed by the
next writer; one whose process is still running is never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from refundctl.errors import BadInput


def refuse_ledger_part(target: Path, ledger: Path, what: str) -> None:
    """Refuse to write ``what`` over the ledger, its SQLite side files or its evidence: a
    rename over the ledger would replace it with the file."""
    from refundctl.ledger.evidence import evidence_dir

    # SQLite keeps its side files beside the file the ledger's path leads to, links followed.
    real = ledger.resolve()
    ours = {real, *(real.with_name(real.name + s) for s in ("-wal", "-shm", "-journal"))}
    resolved = target.resolve()
    if resolved in ours or any(
        resolved.is_relative_to(evidence_dir(path).resolve()) for path in (ledger, real)
    ):
        raise BadInput(f"{target} is part of the ledger itself; write the {what} somewhere else")


def partial_name(target: Path, label: str = "part") -> Path:
    """A hidden name beside ``target`` for this process's unfinished copy of it."""
    return target.with_name(f".{target.name}.{os.getpid()}.{label}")


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # past any process id: none is running
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale(target: Path, label: str = "part") -> None:
    """Remove the temporaries of ``target`` that killed processes left behind."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.{re.escape(label)}")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found is None or pid_alive(int(found.group(1))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse it; the rename stands
        pass
    finally:
        os.close(fd)


def move_into_place(partial: Path, target: Path, *, replace: bool) -> None:
    """Give ``partial`` its real name in one step; refuse to replace a file unless told.

    Without ``replace`` a hard link makes the check and the move one step, so a file that
    appears at ``target`` meanwhile is never overwritten.
    """
    if replace:
        partial.replace(target)
    else:
        try:
            os.link(partial, target)
        except FileExistsError:
            raise BadInput(f"{target} exists already; use --force to replace it") from None
        except OSError:  # a file system without hard links
            if target.exists() or target.is_symlink():
                raise BadInput(f"{target} exists already; use --force to replace it") from None
            partial.replace(target)
        else:
            partial.unlink()
    fsync_dir(target.parent)


@contextlib.contextmanager
def work_folder(target: Path, label: str) -> Iterator[Path]:
    """A folder of this process's own beside ``target`` to build something in, removed on
    the way out (and by the next one of ``label``, if this process is killed)."""
    sweep_stale(target, label)
    work = partial_name(target, label)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
