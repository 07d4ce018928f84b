"""``verify``: the whole ledger checked against itself.

SQLite's full integrity check, every dispute replayed against its stored state and fold,
its stored ``status --json`` head made again, and every stored evidence file against its
checksum.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from refundctl.errors import BadInput, LedgerUnusable
from refundctl.ledger.rows import fold_text

if TYPE_CHECKING:  # only the commands that use them import these: `check` stays quick
    from refundctl.integrity import Reference, StoredFileReport, VerifyReport
    from refundctl.records import DisputeRecord
from refundctl.ledger.reads import _BATCH, Reads


class Verifier(Reads):
    """A full check of the ledger, for ``verify``: never before a write, as it costs the ledger."""

    def verify(self) -> VerifyReport:
        """SQLite's own checks, every dispute replayed, every stored file re-hashed. Reads only."""
        from refundctl.integrity import StoredFileReport, VerifyReport

        if self.path is None:
            raise BadInput("there is no ledger here yet, so nothing to verify")
        problems: list[str] = []
        disputes = 0
        files: tuple[StoredFileReport, ...] = ()
        unreferenced: tuple[str, ...] = ()
        store = self.evidence_store
        try:
            problems += self._database_problems()
            with self._read():
                disputes, replay_problems = self._replay_problems()
                problems += replay_problems
                problems += self._line_problems()
                named = self._named_files()
            files = tuple(
                StoredFileReport(store.check(sha256, size), refs)
                for sha256, (size, refs) in named.items()
            )
            expected = {f"{sha256[:2]}/{sha256}" for sha256 in named}
            unreferenced = tuple(name for name in store.stored() if name not in expected)
        except sqlite3.DatabaseError as error:
            problems.append(f"SQLite cannot read the ledger: {error}")
        return VerifyReport(
            ledger=str(self.path),
            evidence_dir=str(store.root),
            evidence_dir_exists=store.root.is_dir(),
            database_problems=tuple(problems),
            disputes=disputes,
            files=files,
            unreferenced=unreferenced,
        )

    def _database_problems(self) -> list[str]:
        problems = [
            f"SQLite integrity check: {row[0]}"
            for row in self.conn.execute("PRAGMA integrity_check")
            if row[0] != "ok"
        ]
        problems += [
            f"table {row[0]}, row {row[1]}, names a {row[2]} row that does not exist"
            for row in self.conn.execute("PRAGMA foreign_key_check")
        ]
        from refundctl.ledger.migrations import schema_problems

        problems += [f"schema: {problem}" for problem in schema_problems(self.conn)]
        return problems

    def _replay_problems(self) -> tuple[int, list[str]]:
        """Every dispute's events still replay, to the state the ledger has cached."""
        problems = []
        rows = self.conn.execute(
            "SELECT id, state, order_id, folded FROM disputes ORDER BY id"
        ).fetchall()
        for row in rows:
            currency = self.conn.execute(
                "SELECT currency FROM orders WHERE id = ?", (row["order_id"],)
            ).fetchone()
            try:
                if currency is None:
                    raise LedgerUnusable(f"dispute {row['id']} names an order that is gone")
                dispute = self._replay(row["id"], currency[0])
            except (LedgerUnusable, ValueError, KeyError) as error:
                problems.append(str(error))
                continue
            if dispute.state.value != row["state"]:
                problems.append(
                    f"dispute {row['id']}: the ledger says {row['state']}, "
                    f"its events say {dispute.state}"
                )
            elif row["folded"] is not None and row["folded"] != fold_text(dispute):
                problems.append(
                    f"dispute {row['id']}: its stored state is not what its events say; "
                    "a write to it stores it again"
                )
        return len(rows), problems

    def _line_problems(self) -> list[str]:
        """Every stored ``status --json`` line is what the dispute, its order and the order's
        other disputes say now (a dispute without one has it made as it is read)."""
        from refundctl.render.jsonshape import dispute_head

        problems = []
        last = 0
        while rows := self.conn.execute(
            "SELECT dispute_id, marketplace, via, head FROM dispute_lines WHERE dispute_id > ? "
            "ORDER BY dispute_id LIMIT ?",
            (last, _BATCH),
        ).fetchall():
            last = rows[-1][0]
            stored = {row[0]: tuple(row[1:]) for row in rows}
            problems += [
                f"dispute {r.id}: its stored status line is not what the dispute says; "
                "a write to it or to its order stores it again"
                for r in self._readable_records(list(stored))
                if stored[r.id] != (r.order.marketplace, r.via, dispute_head(r))
            ]
        return problems

    def _readable_records(self, ids: list[int]) -> list[DisputeRecord]:
        """These disputes as a listing reads them, but for those that do not read (the replay
        reports them): one alone is read apart, so that it hides none of the others."""
        try:
            return self._records(ids, history=False)
        except (LedgerUnusable, ValueError, KeyError):
            if len(ids) == 1:
                return []
            return [r for i in ids for r in self._readable_records([i])]

    def _named_files(self) -> dict[str, tuple[int | None, tuple[Reference, ...]]]:
        """Every stored file the ledger names, with its size and the evidence naming it."""
        from refundctl.integrity import Reference

        named: dict[str, tuple[int | None, tuple[Reference, ...]]] = {}
        for row in self.conn.execute(
            "SELECT id, dispute_id, name, sha256, size FROM evidence "
            "WHERE sha256 IS NOT NULL ORDER BY id"
        ):
            size, refs = named.get(row["sha256"], (row["size"], ()))
            named[row["sha256"]] = (
                size,
                (*refs, Reference(row["id"], row["dispute_id"], row["name"])),
            )
        return named
