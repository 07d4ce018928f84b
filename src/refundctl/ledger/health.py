"""Whether a ledger may be rewritten: SQLite's own quick check, before an upgrade.

An upgrade (a migration, or the stored deadlines and folds written again for a changed
config) rewrites much of the ledger at once, so a damaged ledger is refused (exit 3) before
one, that it never spreads the damage. An ordinary write does not pay for it: the check reads
every page (0.4 s at 100,000 disputes), and SQLite refuses the damaged pages a write touches
by itself; ``verify``, ``backup`` and ``restore`` run the full integrity check.
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
