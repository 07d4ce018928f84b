"""Files a user hands over (a config, an import, an archive): what kind they may be, how much
of them is read.

A path that names a device (``/dev/zero``), a folder or a socket is refused before it is
opened, and so is a FIFO where a file is needed (opening one blocks until a writer comes, so a
config named by mistake would hang every command). Where a stream makes sense (an import from
``<(…)``, a pipe the user made, or ``-``) a FIFO is read like a file. Every read is bounded: a
file larger than its limit is refused by name instead of being read until memory runs out.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import BinaryIO

from refundctl.errors import BadInput

MiB = 1024 * 1024
CHUNK = 4 * MiB


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_kind(path: Path, what: str, *, stream_ok: bool = False) -> None:
    """Refuse ``path`` unless it is a regular file (or, with ``stream_ok``, a pipe).

    A missing file raises ``FileNotFoundError`` for the caller to word."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode) or (stream_ok and stat.S_ISFIFO(mode)):
        return
    raise BadInput(f"{what} {path} is {_kind(mode)}, not a file; name a regular file")


def too_large(path: Path | str, what: str, limit: int) -> BadInput:
    return BadInput(
        f"{what} {path} is larger than {limit // MiB} MiB, more than refundctl reads for it; "
        "check the file name"
    )


def read_bounded(path: Path, what: str, limit: int, *, stream_ok: bool = False) -> bytes:
    """The whole content of ``path``: a regular file (or a pipe) of at most ``limit`` bytes."""
    check_kind(path, what, stream_ok=stream_ok)
    with path.open("rb") as file:
        return read_stream(file, path, what, limit)


def read_stream(stream: BinaryIO, name: Path | str, what: str, limit: int) -> bytes:
    """All of ``stream`` (a file, a pipe, standard input), refused past ``limit`` bytes; read
    in pieces, as one read(limit + 1) would allocate the whole limit up front."""
    pieces, taken = [], 0
    while piece := stream.read(min(CHUNK, limit + 1 - taken)):
        pieces.append(piece)
        taken += len(piece)
        if taken > limit:
            raise too_large(name, what, limit)
    return b"".join(pieces)
