"""The content-addressed evidence store beside the ledger.

Each file is stored once, under its SHA-256, in ``<ledger>.evidence/ab/abcdef…``, so the ledger
keeps working when the original is moved or deleted and the same photo attached twice costs
nothing. A file is copied to a temporary name, hashed while it is copied, flushed to disk and
only then renamed into place: a crash leaves at most a stray temporary file, never a half file
under a hash the ledger names, and the next attach removes temporaries whose process is gone.
The media type comes from the content, not the name.

What is not a regular file is refused before it is opened, and every file is opened without
blocking and checked again once open, so a pipe or a device swapped in at the last moment can
neither hang refundctl nor be read. ``check`` re-hashes a stored file for ``verify``, ``status``
and ``bundle``.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from refundctl.errors import BadInput
from refundctl.integrity import FileCheck, FileStatus
from refundctl.ledger.files import pid_alive

MAX_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024
_HEAD = 4096
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEMPORARY = re.compile(r"\.incoming-(\d+)-.*")

# Leading bytes of the formats a phone, a scanner or a browser produces.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-office"),
)
# ISO base media files (MP4, MOV, HEIC, AVIF): the brand after "ftyp" says which.
_FTYP_BRANDS: dict[bytes, str] = {
    **dict.fromkeys(
        (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"), "image/heic"
    ),
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"qt  ": "video/quicktime",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
    b"M4A ": "audio/mp4",
}
_RIFF: dict[bytes, str] = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_OOXML: tuple[tuple[bytes, str], ...] = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)


def sniff(head: bytes) -> str:
    """The media type that the first bytes of a file say it has."""
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head[:4] == b"\x1aE\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":
        return "image/bmp"
    if head[:4] == b"PK\x03\x04":
        return _zip_type(head)
    for offset, magic, media_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    return _text_type(head)


def _zip_type(head: bytes) -> str:
    """A zip, or one of the document formats that are zips inside."""
    if head[30:38] == b"mimetype":
        declared = re.match(rb"[a-z0-9.+/-]+", head[38:120])
        if declared and b"/" in declared.group():
            return declared.group().decode("ascii")
    for marker, media_type in _OOXML:
        if b"[Content_Types].xml" in head and marker in head:
            return media_type
    return "application/zip"


def _text_type(head: bytes) -> str:
    """Text (a saved page, an e-mail, a chat export) or unknown bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text/plain"
    try:
        # The head may end inside a character: decode it as the start of a longer text.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "application/octet-stream"
    if "\x00" in text:
        return "application/octet-stream"
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith(("<!doctype html", "<html")):
        return "text/html"
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in start):
        return "image/svg+xml"
    if "content-type: multipart/related" in start:
        return "multipart/related"  # a page saved as MHTML
    if re.match(r"(?:[a-z-]+: .*\n)+", start) and re.search(r"^from: ", start, re.MULTILINE):
        return "message/rfc822"  # an e-mail saved from the mail program
    return "text/plain"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str
    # The store held no intact copy before: the file is new, or it replaced a missing or
    # altered copy (attaching the original again repairs what ``verify`` found).
    written: bool = True


def evidence_dir(ledger_path: Path) -> Path:
    """Evidence lives beside the ledger, in a folder named after it."""
    return ledger_path.with_name(ledger_path.stem + ".evidence")


def stored_name(path: Path) -> str:
    """The name kept for a file: as given, with bytes that are not UTF-8 written as ``\\xff``."""
    return os.fsencode(path.name).decode("utf-8", errors="backslashreplace")


def is_sha256(text: str | None) -> bool:
    return text is not None and _SHA256.fullmatch(text) is not None


class _NotRegular(OSError):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"  # pragma: no cover - doors, whiteouts


def _open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, never blocking on a pipe or a device.

    O_NONBLOCK makes opening a FIFO return at once; the file is then checked again, through
    its descriptor, so what is read is what was checked.
    """
    flags = os.O_RDONLY
    for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"):
        flags |= getattr(os, name, 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _NotRegular(_what(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    while chunk := reader.read(_CHUNK):
        yield chunk


def _digest(reader: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(reader):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def check_readable(self, source: Path) -> None:
        """Refuse, before anything is written, what cannot be stored: raise ``BadInput``."""
        try:
            info = source.stat()  # follows a symlink to what it points at
        except FileNotFoundError:
            if source.is_symlink():
                target = source.readlink()
                raise BadInput(
                    f"{source} is a broken link: it points to {target}, which does not exist"
                ) from None
            raise BadInput(f"no such file: {source}") from None
        except OSError as error:
            raise BadInput(f"cannot read {source}: {error.strerror}") from None
        if stat.S_ISDIR(info.st_mode):
            raise BadInput(f"{source} is a directory; attach the files in it instead")
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(
                f"{source} is {_what(info.st_mode)}, not a regular file; save it to a file "
                "and attach that"
            )
        if info.st_size == 0:
            raise BadInput(f"{source} is empty")
        self._refuse_large(source, info.st_size)
        try:
            _open_regular(source).close()
        except _NotRegular as error:
            raise BadInput(f"{source} is {error.what}, not a regular file") from None
        except OSError as error:
            raise BadInput(f"cannot read {source}: {error.strerror}") from None

    def _refuse_large(self, source: Path, size: int) -> None:
        if size > self.max_bytes:
            raise BadInput(
                f"{source} is larger than the {_mib(self.max_bytes)} limit "
                "(evidence_max_mib in the config file)"
            )

    def put(self, source: Path) -> StoredFile:
        """Copy ``source`` into the store and return its hash, size and media type."""
        self.check_readable(source)
        try:
            reader = _open_regular(source)
        except _NotRegular as error:
            raise BadInput(f"{source} is {error.what}, not a regular file") from None
        except OSError as error:
            raise BadInput(f"cannot read {source}: {error.strerror}") from None
        with reader:
            self.root.mkdir(parents=True, exist_ok=True)
            self.sweep_temporaries()
            handle, name = tempfile.mkstemp(dir=self.root, prefix=f".incoming-{os.getpid()}-")
            temporary = Path(name)
            try:
                with os.fdopen(handle, "wb") as out:
                    sha256, size, head = self._copy(source, reader, out)
                    out.flush()
                    os.fsync(out.fileno())
                if size == 0:
                    raise BadInput(f"{source} is empty")
                target = self.path_of(sha256)
                written = self.check(sha256, size).status is not FileStatus.INTACT
                if written:
                    target.parent.mkdir(exist_ok=True)
                    temporary.replace(target)
                else:
                    temporary.unlink()
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        return StoredFile(sha256=sha256, size=size, media_type=sniff(head), written=written)

    def _copy(self, source: Path, reader: BinaryIO, out: BinaryIO) -> tuple[str, int, bytes]:
        digest = hashlib.sha256()
        size = 0
        head = b""
        for chunk in _chunks(reader):
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            digest.update(chunk)
            size += len(chunk)
            self._refuse_large(source, size)  # it may have grown since it was checked
            out.write(chunk)
        return digest.hexdigest(), size, head

    def sweep_temporaries(self) -> None:
        """Remove the temporary copies that killed processes left (``.incoming-PID-…``)."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return
        for entry in entries:
            found = _TEMPORARY.fullmatch(entry.name)
            if found and entry.is_file(follow_symlinks=False) and not pid_alive(int(found[1])):
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()

    def open(self, sha256: str) -> BinaryIO:
        """A stored file, for reading; ``OSError`` when it is gone or not a regular file."""
        return _open_regular(self.path_of(sha256))

    def check(self, sha256: str, size: int | None) -> FileCheck:
        """Whether the file the ledger names by ``sha256`` is there with the same bytes."""
        if not is_sha256(sha256):
            return FileCheck(sha256, size, FileStatus.MISSING, why="the ledger's hash is damaged")
        try:
            with _open_regular(self.path_of(sha256)) as reader:
                found, found_size = _digest(reader)
        except FileNotFoundError:
            return FileCheck(sha256, size, FileStatus.MISSING, why="not in the evidence folder")
        except _NotRegular as error:
            return FileCheck(sha256, size, FileStatus.ALTERED, why=f"it is {error.what} now")
        except OSError as error:
            return FileCheck(sha256, size, FileStatus.MISSING, why=f"unreadable: {error.strerror}")
        if found == sha256 and (size is None or found_size == size):
            return FileCheck(sha256, size, FileStatus.INTACT, found, found_size)
        return FileCheck(sha256, size, FileStatus.ALTERED, found, found_size, why="content changed")

    def stored(self) -> list[str]:
        """Every file in the store, as ``ab/abcdef…`` (stray temporary files included)."""
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                found.append((Path(folder) / name).relative_to(self.root).as_posix())
        return sorted(found)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
