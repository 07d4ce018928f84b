"""What ``refundctl verify`` finds: the ledger's own health and every stored evidence file's.

Pure values, no I/O: the ledger fills them in (it runs SQLite's checks and re-hashes the store),
the renderers turn them into a report for people or JSON for scripts. A file is ``intact`` when
the bytes under its name still hash to that name and have the size the ledger recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FileStatus(StrEnum):
    INTACT = "intact"
    MISSING = "missing"
    ALTERED = "altered"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """One stored file: what the ledger says it is, and what is there now."""

    sha256: str
    size: int | None
    status: FileStatus
    found_sha256: str | None = None
    found_size: int | None = None
    why: str | None = None  # for missing or altered: "not found", "not a regular file", …


@dataclass(frozen=True, slots=True)
class Reference:
    """A piece of evidence that names a stored file."""

    evidence_id: int
    dispute_id: int
    name: str


@dataclass(frozen=True, slots=True)
class StoredFileReport:
    check: FileCheck
    references: tuple[Reference, ...]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Everything ``verify`` looked at. ``ok`` is what its exit code says."""

    ledger: str
    evidence_dir: str
    evidence_dir_exists: bool
    database_problems: tuple[str, ...]
    disputes: int
    files: tuple[StoredFileReport, ...]
    unreferenced: tuple[str, ...] = ()

    @property
    def bad_files(self) -> tuple[StoredFileReport, ...]:
        return tuple(f for f in self.files if f.check.status is not FileStatus.INTACT)

    @property
    def ok(self) -> bool:
        return not self.database_problems and not self.bad_files
