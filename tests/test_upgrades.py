"""Upgrades: a ledger of every released schema opens with this refundctl, and nothing is lost.

``tests/fixtures/`` keeps one ledger per released schema (``ledger-NAME.db``, with its evidence
and a JSON file of what it holds), built by ``tests/fixtures/build_fixture.py`` with the code of
that release and never rebuilt. Every fixture found there is opened with the current code: it
is upgraded (after a backup copy beside it) if it is older, and must still show every order,
dispute, event, offer and evidence file it held. When a migration lands, the check that a
fixture exists for the newest schema fails until its fixture is built and committed.

An upgrade itself is tried with a second migration registered for the test (the one
``tests/crash_child.py`` uses): the copy made beforehand, a migration that fails half way, two
processes upgrading at once. A ledger written by a newer refundctl is refused, and never
written to, by every command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from refundctl.due import CheckItem
from refundctl.ledger import deadline_index
from refundctl.ledger import migrations as migrations_module
from refundctl.ledger.connection import PAGE_SIZE
from refundctl.ledger.schema import MIGRATION_NAMES, MIGRATION_SET
from refundctl.render import jsonshape
from refundctl.render.jsonshape import check_parts
from tests import crash_child
from tests.conftest import NOW, Cli, page_size, row_order

FIXTURES = Path(__file__).parent / "fixtures"
LEDGERS = sorted(FIXTURES.glob("ledger-*.db"))
OLDEST = FIXTURES / f"ledger-{MIGRATION_NAMES[0]}.db"
NEWEST = FIXTURES / f"ledger-{MIGRATION_NAMES[-1]}.db"


def contains(actual: Any, expected: Any, where: str = "") -> None:
    """``actual`` shows everything ``expected`` does (fields may have been added since)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} is gone"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (where, actual)
        for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{where}[{n}]")
    else:
        assert actual == expected, f"{where}: {actual!r}, was {expected!r}"


def install(fixture: Path, ledger: Path) -> None:
    shutil.copyfile(fixture, ledger)
    shutil.copytree(
        fixture.with_name(fixture.stem + ".evidence"), ledger.with_name(ledger.stem + ".evidence")
    )


def content(path: Path) -> str:
    """Every row of every table but the migrations' own timestamps."""
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    for (table,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall():
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]
        kept = ", ".join(f"[{c}]" for c in columns if c != "applied_at")
        digest.update(f"{table}({kept})".encode())
        for row in conn.execute(f"SELECT {kept} FROM [{table}] ORDER BY {row_order(conn, table)}"):
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


def schema_of(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    return names


def test_there_is_a_fixture_for_every_released_schema() -> None:
    missing = [name for name in MIGRATION_NAMES if not (FIXTURES / f"ledger-{name}.db").exists()]
    assert not missing, (
        f"no fixture ledger for {missing}: run 'python tests/fixtures/build_fixture.py' "
        "and commit what it writes"
    )
    for ledger in LEDGERS:
        assert ledger.with_suffix(".json").exists()
        assert ledger.with_name(ledger.stem + ".evidence").is_dir()


@pytest.mark.parametrize("fixture", LEDGERS, ids=lambda path: path.stem)
def test_a_ledger_of_every_released_schema_opens_with_all_its_data(
    cli: Cli, ledger_path: Path, fixture: Path
) -> None:
    expected = json.loads(fixture.with_suffix(".json").read_text(encoding="utf-8"))
    install(fixture, ledger_path)
    old_schema = schema_of(ledger_path)
    before = content(ledger_path)
    # A read-only command is the first to open it: it may upgrade, and write nothing else.
    assert cli("--as-of", expected["as_of"], "status").exit_code == 0
    assert schema_of(ledger_path) == list(MIGRATION_NAMES)
    backups = list(ledger_path.parent.glob("*.bak"))
    if old_schema == list(MIGRATION_NAMES):
        assert backups == [] and content(ledger_path) == before
    else:
        assert [b.name for b in backups] == [f"ledger.db.{old_schema[-1]}.bak"]
        assert content(backups[0]) == before
    shown = cli("order", "list", "--json").json()["orders"]
    contains(shown, expected["orders"], "orders")
    for dispute in expected["disputes"]:
        run = cli("--as-of", expected["as_of"], "status", str(dispute["id"]), "--json")
        assert run.exit_code == 0, run.stderr
        contains(run.json(), dispute, f"dispute {dispute['id']}")
    assert cli("verify").exit_code == 0
    # And it takes new writes: an order, and a move on its first dispute.
    assert cli("order", "add", "AFTER-UPGRADE", "-m", "ebay", "--total", "5").exit_code == 0
    assert cli("attach", "1", "--message", "still here", "--from", "buyer").exit_code == 0


@pytest.mark.parametrize("fixture", LEDGERS, ids=lambda path: path.stem)
def test_the_check_text_an_upgrade_stores_is_what_the_ledger_writes(
    cli: Cli, ledger_path: Path, fixture: Path
) -> None:
    # m006 writes each stored deadline's check --json text in SQL; the ledger writes it with
    # jsonshape.check_parts (and a ledger from before m005 has every deadline computed again).
    as_of = datetime.fromisoformat(
        json.loads(fixture.with_suffix(".json").read_text(encoding="utf-8"))["as_of"]
    )
    install(fixture, ledger_path)
    assert cli("status").exit_code == 0  # opening it upgrades it
    conn = sqlite3.connect(ledger_path)
    deadline_index.register_functions(conn)
    rows = conn.execute(
        f"SELECT {deadline_index._CHECK_COLUMNS}, check_head, check_tail FROM deadlines d"
    ).fetchall()
    assert rows
    fields = len(CheckItem._fields)
    for row in rows:
        item = CheckItem._make(row[:fields])
        assert row[fields] and check_parts(item) == row[-2:], item
    # And check --json joined from them is jsonshape's text of the items, overdue or not.
    for now in (as_of, as_of - timedelta(days=30)):
        horizon = now + timedelta(days=400)
        items = deadline_index.due(conn, now, horizon, None, everything=True)
        lines = deadline_index.due_json(conn, now, horizon, None, everything=True)
        assert [line.json for line in lines] == [
            jsonshape.check_item(item, now.timestamp()) for item in items
        ]
    conn.close()


@pytest.fixture
def newer_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """This refundctl, with a second migration (see tests/crash_child.py)."""
    crash_child.fake_migration(monkeypatch.setattr)


def test_an_upgrade_copies_the_ledger_aside_first_and_keeps_everything(
    cli: Cli, ledger_path: Path, newer_code: None
) -> None:
    install(NEWEST, ledger_path)
    before = content(ledger_path)
    listed = cli("order", "list", "--json").stdout  # opening it upgrades it
    assert schema_of(ledger_path) == [*MIGRATION_NAMES, "m999_add_dispute_priority"]
    backup = ledger_path.with_name(f"ledger.db.{MIGRATION_NAMES[-1]}.bak")
    assert content(backup) == before
    assert schema_of(backup) == list(MIGRATION_NAMES)
    assert not list(ledger_path.parent.glob(".*.part"))
    conn = sqlite3.connect(ledger_path)
    assert conn.execute("SELECT count(*) FROM disputes WHERE priority = id * 10").fetchone()[0]
    conn.close()
    # The upgraded ledger shows the same, and later commands neither upgrade nor copy again.
    upgraded = content(ledger_path)
    assert cli("order", "list", "--json").stdout == listed
    assert cli("verify").exit_code == 0
    assert content(ledger_path) == upgraded
    assert len(list(ledger_path.parent.glob("*.bak"))) == 1


def test_a_migration_that_fails_leaves_the_ledger_as_it_was(cli: Cli, ledger_path: Path) -> None:
    install(NEWEST, ledger_path)
    before = content(ledger_path)
    broken = Migrations(MIGRATION_SET)
    broken._migrations = list(migrations_module.migrations._migrations)

    @broken()
    def m999_half_done(db: Database) -> None:
        db.execute("ALTER TABLE disputes ADD COLUMN priority INTEGER")
        db.execute("UPDATE disputes SET priority = 1")
        raise RuntimeError("a bug in the migration")

    names = (*MIGRATION_NAMES, "m999_half_done")
    from refundctl.ledger import connection, schema

    with pytest.MonkeyPatch.context() as patch:  # its own: undoing it keeps the test's setup
        patch.setattr(migrations_module, "migrations", broken)
        patch.setattr(schema, "MIGRATION_NAMES", names)
        patch.setattr(connection, "MIGRATION_NAMES", names)
        run = cli("order", "add", "X-1", "-m", "ebay", "--total", "5")
    assert run.exit_code == 70 and "the ledger was left as before" in run.stderr
    assert content(ledger_path) == before
    assert schema_of(ledger_path) == list(MIGRATION_NAMES)
    assert cli("order", "add", "X-1", "-m", "ebay", "--total", "5").exit_code == 0


def test_the_upgrade_and_the_deadlines_it_stores_are_one_transaction(
    cli: Cli, ledger_path: Path
) -> None:
    """A kill while the upgrade stores the new index's deadlines (it dies before its COMMIT,
    as an exception here does) leaves the old ledger whole; once it finishes, every deadline
    is stored, with no part left for the next command."""
    install(OLDEST, ledger_path)
    before = content(ledger_path)
    from refundctl.ledger.store import Ledger

    def dies_midway(self: Ledger) -> None:
        stale = list(self._stale())
        self._ensure_basis(stale[0])  # some rows stored ...
        raise RuntimeError("killed")  # ... and then the process is gone

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ledger, "_finish_upgrade", dies_midway)
        assert cli("status").exit_code == 70
    assert content(ledger_path) == before
    assert schema_of(ledger_path) == [OLDEST.stem.removeprefix("ledger-")]
    assert cli("status").exit_code == 0
    conn = sqlite3.connect(ledger_path)
    try:
        assert conn.execute("SELECT count(*) FROM deadline_basis WHERE basis = ''").fetchone() == (
            0,
        )
        assert conn.execute("SELECT count(*) FROM deadlines").fetchone()[0] > 0
    finally:
        conn.close()


def test_processes_that_upgrade_at_once_upgrade_once(cli: Cli, ledger_path: Path) -> None:
    install(OLDEST, ledger_path)
    env = {**os.environ, "CRASH_FAKE_MIGRATION": "1", "REFUNDCTL_NOW": NOW}
    children = [
        subprocess.Popen(
            [sys.executable, str(crash_child.__file__), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for args in [
            ["status"],
            ["check"],
            ["order", "add", "RACE", "-m", "temu", "--total", "2"],
            *[["order", "list"]] * 3,
        ]
    ]
    results = [(child.wait(timeout=60), child.communicate()[1]) for child in children]
    assert all(code in {0, 1} for code, _ in results), results  # check: 1 when something is due
    assert all(code == 0 for code, _ in results[2:]), results
    assert schema_of(ledger_path) == [*MIGRATION_NAMES, "m999_add_dispute_priority"]
    assert len(list(ledger_path.parent.glob("*.bak"))) == 1


# -- a ledger from a newer refundctl -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("status", "1"),
        ("check",),
        ("export",),
        ("verify",),
        ("backup", "{tmp}/b.zip"),
        ("order", "add", "77", "-m", "ebay", "--total", "5"),
        ("respond", "1", "accept"),
        ("attach", "1", "--message", "hello", "--from", "seller"),
    ],
    ids=" ".join,
)
def test_a_ledger_from_a_newer_refundctl_is_refused_and_never_written(
    cli: Cli, ledger_path: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    install(OLDEST, ledger_path)
    conn = sqlite3.connect(ledger_path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('refundctl', 'm999_from_the_future', '2027-01-01')"
        )
    conn.close()
    digest = hashlib.sha256(ledger_path.read_bytes()).hexdigest()
    run = cli(*(a.format(tmp=tmp_path) for a in args))
    assert run.exit_code == 3, (run.exit_code, run.stderr)
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1
    assert "newer refundctl" in run.stderr and "m999_from_the_future" in run.stderr
    assert hashlib.sha256(ledger_path.read_bytes()).hexdigest() == digest
    wal = ledger_path.with_name("ledger.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert not list(tmp_path.glob("*.bak")) and not (tmp_path / "b.zip").exists()


def test_a_new_ledger_has_large_pages(cli: Cli, ledger_path: Path) -> None:
    """16 KiB pages make a large import's commit quicker (docs/performance.md)."""
    assert cli("order", "add", "N-1", "-m", "ebay", "--total", "5").exit_code == 0
    assert page_size(ledger_path) == PAGE_SIZE
    conn = sqlite3.connect(ledger_path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.mark.parametrize("fixture", LEDGERS, ids=lambda path: path.stem)
def test_a_ledger_made_before_keeps_its_pages_upgraded_or_not(
    cli: Cli, ledger_path: Path, fixture: Path
) -> None:
    """Changing them would rewrite the whole file."""
    install(fixture, ledger_path)
    size = page_size(ledger_path)
    # The ledgers made before 16 KiB pages (m003's fixture was made after).
    assert size == (4096 if fixture.stem < "ledger-m003" else PAGE_SIZE)
    assert cli("order", "add", "N-2", "-m", "ebay", "--total", "5").exit_code == 0
    assert schema_of(ledger_path) == list(MIGRATION_NAMES)
    assert page_size(ledger_path) == size
