"""What a backup archive is, as both writing and restoring one read it: the names of its
members, its manifest's format and version, and what a ledger holds (``Contents``, and the
stored files it names) as a backup and a restore report it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from refundctl.ledger import schema

# An archive holds:
#
#     refundctl-backup.json   format, version, when, which refundctl and schema, what it holds
#     ledger.db               the ledger, one self-contained SQLite file
#     evidence/ab/abcdef…     every stored file the ledger names, under its SHA-256
FORMAT = "refundctl-backup"
VERSION = 1
MANIFEST = "refundctl-backup.json"
LEDGER_MEMBER = "ledger.db"
EVIDENCE_MEMBER = re.compile(r"evidence/([0-9a-f]{2})/([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Contents:
    """What a ledger holds, as a backup or a restore reports it."""

    schema: str
    orders: int
    disputes: int
    events: int


def read_contents(conn: sqlite3.Connection) -> Contents:
    """What the ledger behind ``conn`` holds: its schema and how many rows of each kind."""

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


def named_files(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Every stored file the ledger names, with the size it recorded."""
    return {
        str(row[0]): row[1]
        for row in conn.execute(
            "SELECT sha256, max(size) FROM evidence WHERE sha256 IS NOT NULL GROUP BY sha256"
        )
    }
