"""Damaged ledgers: exit 3 with what to do, and never a byte written by a refused command.

A ledger cut short (a copy that stopped half way, a full disk), with a page of zeros or of
noise where a table or an index was, or with its header overwritten. A file whose header is
not SQLite's is refused before it is opened; a command refuses (exit 3, "restore your last
backup") as soon as SQLite meets the damage, inside its transaction, so a refused write leaves
the file as it was; a write that touches none of the damage lands beside it (no page-by-page
check runs before a write: docs/data.md); ``verify`` says what is wrong (exit 1). A read
never writes to the file or leaves anything beside it, and ``restore --force`` brings the
ledger back (``test_backup``). A journal torn by a crash is ignored by SQLite, and the ledger
is as it was at its last commit.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from refundctl.cli import app
from tests.conftest import NOW, Cli, snapshot

ORDER = "8101234567890123"


def _pages(path: Path) -> tuple[dict[str, int], int]:
    """Where each table and index starts, and the file's page size."""
    conn = sqlite3.connect(path)
    pages = dict(conn.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
    (size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    return pages, size


def _write_page(path: Path, page: int, data: bytes, size: int) -> None:
    with path.open("r+b") as file:
        file.seek((page - 1) * size)
        file.write(data)


def _damage(path: Path, how: str) -> None:
    length = path.stat().st_size
    pages, size = _pages(path)
    match how:
        case "cut in half":
            with path.open("r+b") as file:
                file.truncate(length // 2)
        case "cut to one page":
            with path.open("r+b") as file:
                file.truncate(size)
        case "cut inside the header":
            with path.open("r+b") as file:
                file.truncate(60)
        case "events page zeroed":
            _write_page(path, pages["events"], bytes(size), size)
        case "disputes page noise":
            _write_page(path, pages["disputes"], random.Random(7).randbytes(size), size)
        case "index page emptied":
            _write_page(
                path, pages["disputes_one_active_per_item"], b"\x0a" + bytes(size - 1), size
            )
        case "header overwritten":
            _write_page(path, 1, b"XQLite format 3\x00" + random.Random(3).randbytes(84), size)
        case _:
            raise AssertionError(how)


DAMAGE = [
    "cut in half",
    "cut to one page",
    "cut inside the header",
    "events page zeroed",
    "disputes page noise",
    "index page emptied",
    "header overwritten",
]
WRITES = [
    ("order", "add", "NEW", "-m", "ebay", "--total", "5"),
    ("order", "receive", ORDER),
    ("respond", "1", "seller-offers", "8"),
    ("attach", "1", "--message", "hello", "--from", "seller"),
    ("undo", "1"),
]
READS = [("status",), ("status", "1"), ("check",), ("order", "list"), ("export",)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's ledger, with a few more orders so that every table has rows of its own."""
    folder = tmp_path_factory.mktemp("damaged")
    (folder / "config.toml").write_text('timezone = "UTC"\n')
    path = folder / "ledger.db"
    env = {"REFUNDCTL_DB": str(path), "REFUNDCTL_CONFIG": str(folder / "config.toml")}
    env["REFUNDCTL_NOW"] = NOW
    lines = [
        ["order", "add", ORDER, "-m", "aliexpress", "--total", "45.90", "--ordered",
         "2026-11-01", "--item", "hub x1 @45.90"],
        ["open", ORDER, "--reason", "missing-parts", "--amount", "12.50", "--on", "2026-11-22"],
        *[["order", "add", f"MORE-{n}", "-m", "temu", "--total", "3", "--title", "x" * 200]
          for n in range(30)],
    ]  # fmt: skip
    for args in lines:
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def damaged(template: Path, ledger_path: Path, request: pytest.FixtureRequest) -> Path:
    shutil.copyfile(template, ledger_path)
    _damage(ledger_path, request.param)
    return ledger_path


def _untouched(path: Path, digest: str) -> None:
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, "the damaged file changed"
    beside = sorted(p.name for p in path.parent.iterdir() if p.name.startswith("ledger.db"))
    assert set(beside) <= {"ledger.db", "ledger.db-wal", "ledger.db-shm"}, beside
    wal = path.with_name("ledger.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0


# Damage to the file itself is refused before SQLite opens it, by every write. Damage inside a
# page is refused by SQLite when a write reads that page (inside the transaction, so nothing
# lands); a write that touches none of it lands beside it, and `verify` still reports it.
FILE_DAMAGE = {"cut in half", "cut to one page", "cut inside the header", "header overwritten"}


@pytest.mark.parametrize("damaged", DAMAGE, indirect=True)
def test_a_write_that_meets_the_damage_is_refused_and_changes_nothing(
    cli: Cli, damaged: Path, request: pytest.FixtureRequest
) -> None:
    how = request.node.callspec.params["damaged"]
    for args in WRITES:
        digest = hashlib.sha256(damaged.read_bytes()).hexdigest()
        run = cli(*args)
        if how in FILE_DAMAGE:
            assert run.exit_code == 3, (args, run.exit_code, run.stderr)
        if run.exit_code == 3:
            line = run.stderr
            assert line.startswith("error: ") and line.count("\n") == 1, line
            assert str(damaged) in line and "restore" in line, line
            _untouched(damaged, digest)
        else:
            assert run.exit_code in {0, 2}, (args, run.exit_code, run.stderr)
    run = cli("verify")  # the damage is still found, and named
    assert run.exit_code in {1, 3}, (run.exit_code, run.stdout, run.stderr)
    assert "All intact." not in run.stdout


@pytest.mark.parametrize("damaged", DAMAGE, indirect=True)
def test_a_damaged_ledger_is_read_as_far_as_it_can_be_and_never_written(
    cli: Cli, damaged: Path
) -> None:
    digest = hashlib.sha256(damaged.read_bytes()).hexdigest()
    for args in READS:
        run = cli(*args)
        assert run.exit_code in {0, 1, 3}, (args, run.exit_code, run.stderr)
        if run.exit_code == 3:
            assert "restore" in run.stderr and run.stderr.count("\n") == 1, run.stderr
        _untouched(damaged, digest)
    run = cli("verify")
    assert run.exit_code in {1, 3}, (run.exit_code, run.stdout, run.stderr)
    assert "All intact." not in run.stdout
    _untouched(damaged, digest)


def test_a_torn_journal_is_ignored_and_the_last_commit_stands(
    cli: Cli, template: Path, ledger_path: Path
) -> None:
    shutil.copyfile(template, ledger_path)
    before = snapshot(ledger_path)
    # What a crash while writing the journal's header can leave: bytes that are not a journal.
    ledger_path.with_name("ledger.db-wal").write_bytes(random.Random(5).randbytes(5000))
    assert cli("status").exit_code == 0
    assert snapshot(ledger_path) == before
    assert cli("verify").exit_code == 0
    assert cli("order", "add", "AFTER", "-m", "ebay", "--total", "1").exit_code == 0


def test_an_empty_file_is_a_new_ledger_to_write_and_not_one_to_read(
    cli: Cli, ledger_path: Path
) -> None:
    ledger_path.touch()
    run = cli("status", "--json")
    assert run.exit_code == 3
    assert f"{ledger_path} is an empty file, not a ledger yet" in run.stderr
    assert ledger_path.stat().st_size == 0  # reading wrote nothing
    assert cli("order", "add", "FIRST", "-m", "ebay", "--total", "1").exit_code == 0
    assert len(cli("order", "list", "--json").json()["orders"]) == 1
