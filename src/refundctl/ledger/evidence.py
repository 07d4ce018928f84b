"""The content-addressed evidence store beside the ledger.

Each file is stored once, under its SHA-256, in ``<ledger>.evidence/ab/abcdef…``, so the ledger
keeps working when the original is moved or deleted and the same photo attached twice costs
nothing. A file is copied to a temporary name, hashed while it is copied, flushed to disk and
only then renamed into place: a crash leaves at most a stray temporary file, never a half file
under a hash the ledger names. The media type comes from the content, not the name.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from refundctl.errors import BadInput

MAX_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024

# Leading bytes of the formats a phone or a browser produces.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (4, b"ftypheic", "image/heic"),
    (4, b"ftypheix", "image/heic"),
    (4, b"ftypmif1", "image/heif"),
    (4, b"ftypqt", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"BM", "image/bmp"),
)


def sniff(head: bytes) -> str:
    """The media type that the first bytes of a file say it has."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for offset, magic, media_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str


def evidence_dir(ledger_path: Path) -> Path:
    """Evidence lives beside the ledger, in a folder named after it."""
    return ledger_path.with_name(ledger_path.stem + ".evidence")


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def check_readable(self, source: Path) -> None:
        """Refuse, before anything is written, what cannot be stored: raise ``BadInput``."""
        try:
            info = source.stat()  # follows a symlink to what it points at
        except FileNotFoundError:
            raise BadInput(f"no such file: {source}") from None
        except OSError as error:
            raise BadInput(f"cannot read {source}: {error.strerror}") from None
        if stat.S_ISDIR(info.st_mode):
            raise BadInput(f"{source} is a directory; attach the files in it instead")
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(f"{source} is not a regular file (a device, pipe or socket)")
        if info.st_size == 0:
            raise BadInput(f"{source} is empty")
        if info.st_size > self.max_bytes:
            raise BadInput(f"{source} is larger than the {_mib(self.max_bytes)} limit")
        if not os.access(source, os.R_OK):
            raise BadInput(f"cannot read {source}: permission denied")

    def put(self, source: Path) -> StoredFile:
        """Copy ``source`` into the store and return its hash, size and media type."""
        self.check_readable(source)
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        handle, name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                try:
                    reader = source.open("rb")
                except OSError as error:
                    raise BadInput(f"cannot read {source}: {error.strerror}") from None
                with reader:
                    while chunk := reader.read(_CHUNK):
                        if not head:
                            head = chunk[:64]
                        digest.update(chunk)
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise BadInput(
                                f"{source} is larger than the {_mib(self.max_bytes)} limit"
                            )
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            target = self.path_of(sha256)
            if target.exists():
                temporary.unlink()
            else:
                target.parent.mkdir(exist_ok=True)
                temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(sha256=sha256, size=size, media_type=sniff(head))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
