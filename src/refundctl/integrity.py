"""What ``refundctl verify`` finds: the ledger's own health and every stored evidence file's.

Pure values, no I/O: the ledger fills them in (it runs SQLite's checks and re-hashes the store),
the renderers turn them into a report for people or JSON for scripts. A file is ``intact`` when
the bytes under its name still hash to that name and have the size the ledger recorded. A
ledger's schema is refundctl's when it holds exactly the tables, indexes, triggers and views
that refundctl's migrations make (``foreign_schema`` says what else it holds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# One row of sqlite_master: type, name, the table it belongs to, its SQL (None for the indexes
# SQLite makes for a table's own UNIQUE and PRIMARY KEY constraints).
SchemaObject = tuple[str, str, str, str | None]

# A string literal, a quoted name ("…", […] or `…`), a word, or one other character.
_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\[[^\]]*\]|`(?:[^`]|``)*`|\w+|\S")


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


def foreign_schema(
    found: Iterable[SchemaObject], expected: Iterable[SchemaObject]
) -> tuple[str, ...]:
    """How the schema ``found`` differs from the ``expected`` one, the worst first: objects
    refundctl never makes (a trigger that rewrites rows), then objects it makes otherwise, then
    objects missing. SQL is compared as tokens, so that spacing, quoting and the case of keywords
    and names, which versions of sqlite-utils and SQLite write differently, do not count."""
    have, want = _normalised(found), _normalised(expected)
    extra = [f"{kind} {name} is not refundctl's" for kind, name in sorted(have.keys() - want)]
    changed = [
        f"{kind} {name} is not as refundctl makes it"
        for kind, name in sorted(have.keys() & want.keys())
        if have[kind, name] != want[kind, name]
    ]
    missing = [f"{kind} {name} is missing" for kind, name in sorted(want.keys() - have)]
    return (*extra, *changed, *missing)


def _normalised(
    objects: Iterable[SchemaObject],
) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    return {
        (kind, name.lower()): (table.lower(), _tokens(sql))
        for kind, name, table, sql in objects
        # ANALYZE's statistics for the query planner: SQLite's own, and they hold no code.
        if not (kind == "table" and name.lower().startswith("sqlite_stat"))
    }


def _tokens(sql: str | None) -> tuple[str, ...]:
    tokens = []
    for match in _SQL_TOKEN.finditer(sql or ""):
        token = match[0]
        if token[0] == "'":
            tokens.append(token)  # a literal: exactly as written
        elif token[0] in '"[`':
            tokens.append(token[1:-1].lower())  # a quoted name is the name
        else:
            tokens.append(token.lower())
    return tuple(tokens)
