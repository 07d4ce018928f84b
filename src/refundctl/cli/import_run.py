"""Running ``order import``: the file read within bounds and told apart by its header, its
orders into the ledger a batch at a time, a new ledger built beside its place, and the garbage
collector paused meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from refundctl.cli.common import Env
from refundctl.errors import BadInput, ManyProblems

if TYPE_CHECKING:
    from refundctl.exports import OwnReading, Reading, Source
    from refundctl.importing import Reader
    from refundctl.ledger.store import ImportSummary


def import_file(
    e: Env, file: str, reader: Reader, *, dry_run: bool, source: Source | None = None
) -> tuple[ImportSummary, Reading | OwnReading]:
    """Import the file in one transaction, a batch of orders at a time as it is read; refuse
    it, with every problem in it, leaving the ledger as it was. A new ledger is built beside
    its place and moved there once the import is in: a refused file leaves no ledger. Returns
    what the ledger did and what the file held (its format, what it skipped)."""
    from refundctl import exports
    from refundctl.cli.progress import progress_reporter
    from refundctl.ledger import importer

    data = _read_import(file)
    sniffed = exports.sniff(data, source, reader.mapping)
    reading: Reading | OwnReading
    if sniffed.layout is None:
        text = _decoded(data, file)
        del data  # the text stands for it now: the bytes need not stay while it is read
        reading = exports.read_own(text, reader, importer.IMPORT_BATCH)
        del text
    else:
        reading = exports.read(data, sniffed, reader, importer.IMPORT_BATCH)
        del data
    with contextlib.ExitStack() as stack:
        reading.progress = stack.enter_context(progress_reporter("Importing", total=reading.rows))

        def refuse() -> None:
            if reading.problems:
                count = len(reading.problems)
                raise ManyProblems(
                    f"{count} problem{'s' if count != 1 else ''} in {file}; nothing was imported",
                    [str(p) for p in reading.problems],
                )

        path = _beside(e, stack) if not e.db.exists() else None
        with e.ledger(write=True, path=path) as ledger:
            summary = ledger.import_orders(
                reading, e.now, dry_run=dry_run, refuse=refuse, money=lambda: reading.money
            )
        if path is not None and not dry_run:
            from refundctl.ledger.backup import install_new_ledger

            try:
                install_new_ledger(path, e.db, replace=False, now=e.now)
            except BadInput:
                raise BadInput(
                    f"{e.db} was created by another command while this import ran; "
                    "nothing was imported: import again"
                ) from None
        return summary, reading


def _beside(e: Env, stack: contextlib.ExitStack) -> Path:
    """Where a new ledger is built: a folder of its own beside the ledger's place, removed on
    the way out (and by the next import, if this process is killed)."""
    from refundctl.ledger.connection import ready_folder
    from refundctl.ledger.files import work_folder

    ready_folder(e.db, make=e.default_db)
    return stack.enter_context(work_folder(e.db, "import")) / e.db.name


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Reading a file builds several objects per row, all kept, and so does writing them: the
    cyclic garbage collector would walk them again and again as they pile up (a quarter of the
    reading time at 100,000 rows) and find nothing, since none of them form cycles. It runs
    again afterwards."""
    import gc

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Ten times a file of a million orders; more is a file named by mistake (or /dev/zero).
IMPORT_LIMIT = 2048 * 1024 * 1024


def _read_import(file: str) -> bytes:
    import sys

    from refundctl.userfiles import read_bounded, read_stream

    try:
        if file == "-":
            data = read_stream(sys.stdin.buffer, "the input", "import", IMPORT_LIMIT)
        else:
            # A pipe (`<(…)`, one the user made) is read like a file; a device is refused.
            data = read_bounded(Path(file).expanduser(), "import", IMPORT_LIMIT, stream_ok=True)
    except FileNotFoundError:
        raise BadInput(f"no such file: {file}") from None
    except IsADirectoryError:
        raise BadInput(f"{file} is a directory; give the file to import") from None
    except OSError as error:
        raise BadInput(f"cannot read {file}: {error.strerror}") from None
    except ValueError:  # the only one Path raises: a NUL byte, which no file name holds
        raise BadInput(f"{file!r} cannot be a file name: it holds a null byte") from None
    return data


def _decoded(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{file} is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel)") from None
