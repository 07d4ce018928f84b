"""Whether a ledger may be written to: SQLite's own quick check, before the first write.

A damaged ledger is refused (exit 3) before a command or an upgrade writes to it, so that a
write can never spread the damage or make it harder to recover what is left; reading it is
still allowed (``verify`` says what is wrong). The check reads every page once, which costs a
few milliseconds for a ledger of thousands of disputes, and only commands that write pay it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from refundctl.errors import LedgerDamaged


def refuse_damaged(conn: sqlite3.Connection, path: Path) -> None:
    """Raise ``LedgerDamaged`` when SQLite finds the ledger's file damaged."""
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.OperationalError:
        raise  # locked or unreadable: the caller says so in its own words
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise  # not SQLite at all: the caller says so
        problems = [str(error)]
    else:
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
    if problems:
        raise LedgerDamaged(problems[0], path)
