"""Parallel invocations wait for each other instead of failing, and every write lands.

Sixteen processes at once (writers and readers), processes creating a ledger at once, readers
that never write a byte (not even the one-time upgrade, which ``test_upgrades`` covers) and
never block a writer, and a lock held past ``REFUNDCTL_LOCK_TIMEOUT``: exit 75.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from refundctl.ledger.schema import MIGRATION_NAMES
from tests.conftest import Cli


def test_parallel_writers_all_land(cli: Cli, ledger_path: Path) -> None:
    # Create the ledger first, then race eight processes that each add an order.
    assert cli("order", "add", "seed", "-m", "temu", "--total", "1").exit_code == 0
    env = dict(os.environ)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "refundctl",
                "order",
                "add",
                f"PO-{n}",
                "-m",
                "temu",
                "--total",
                f"{n + 1}.00",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in processes]
    assert all(code == 0 for code, _ in results), results
    listed = cli("order", "list", "--json").json()["orders"]
    assert sorted(o["order"] for o in listed) == sorted(["seed"] + [f"PO-{n}" for n in range(8)])


def test_a_reader_is_not_blocked_by_a_held_write_lock(cli: Cli, ledger_path: Path) -> None:
    import sqlite3

    assert cli("order", "add", "A1", "-m", "ebay", "--total", "5").exit_code == 0
    holder = sqlite3.connect(ledger_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        status = cli("status", "--json")
        assert status.exit_code == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_ledger_locked_past_the_timeout_exits_75(
    cli: Cli, ledger_path: Path, monkeypatch
) -> None:
    import sqlite3

    from refundctl.ledger import connection

    assert cli("order", "add", "A1", "-m", "ebay", "--total", "5").exit_code == 0
    monkeypatch.setattr(connection, "LOCK_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(ledger_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cli("order", "add", "A2", "-m", "ebay", "--total", "5")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 75
    assert "locked" in result.stderr and "try again" in result.stderr


# -- sixteen at once, readers that never write, locks that run out ------------------------------


def _spawn(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "refundctl", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=120), p.communicate()[1]) for p in processes]


def test_sixteen_processes_at_once_every_write_lands(cli: Cli, ledger_path: Path) -> None:
    for n in range(12):
        line = ["order", "add", f"O-{n}", "-m", "ebay", "--total", "20", "--ordered", "2026-11-01"]
        assert cli(*line).exit_code == 0
    writers = [
        _spawn("open", f"O-{n}", "--reason", "damaged", "--amount", f"{n + 1}.00")
        for n in range(12)
    ]
    writers += [_spawn("order", "add", f"N-{n}", "-m", "temu", "--total", "3") for n in range(2)]
    readers = [_spawn("check", "--within", "30d"), _spawn("status", "--json")]
    written, read = _finish(writers), _finish(readers)
    assert all(code == 0 for code, _ in written), written
    assert read[0][0] in {0, 1} and read[1][0] == 0, read
    disputes = cli("status", "--all", "--json").json()["disputes"]
    assert sorted(d["id"] for d in disputes) == list(range(1, 13))
    assert sorted(d["requested"] for d in disputes) == sorted(f"{n + 1}.00" for n in range(12))
    assert {d["order"] for d in disputes} == {f"O-{n}" for n in range(12)}
    orders = cli("order", "list", "--json").json()["orders"]
    assert len(orders) == 14
    assert cli("verify").exit_code == 0


def test_processes_creating_a_new_ledger_at_once_all_land(cli: Cli, ledger_path: Path) -> None:
    assert not ledger_path.exists()
    written = _finish(
        [_spawn("order", "add", f"FIRST-{n}", "-m", "etsy", "--total", "4") for n in range(8)]
    )
    assert all(code == 0 for code, _ in written), written
    assert len(cli("order", "list", "--json").json()["orders"]) == 8
    conn = sqlite3.connect(ledger_path)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone() == (
        len(MIGRATION_NAMES),
    )
    conn.close()


READ_ONLY = [
    ("status",),
    ("status", "1"),
    ("status", "--all", "--json"),
    ("check", "--within", "30d"),
    ("export",),
    ("verify",),
    ("order", "list"),
    ("order", "show", "8101234567890123"),
    ("draft", "1"),
    ("policies",),
    ("backup", "{tmp}/b.zip"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_never_writes(
    story: Cli, ledger_path: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    assert story("attach", "1", "--url", "https://example.com/1").exit_code == 0
    wal = ledger_path.with_name("ledger.db-wal")
    assert not wal.exists()  # the last writer closed it: everything is in the one file
    digest, stamp = hashlib.sha256(ledger_path.read_bytes()).hexdigest(), ledger_path.stat()
    run = story(*(a.format(tmp=tmp_path) for a in args))
    assert run.exit_code in {0, 1}, run.stderr
    assert hashlib.sha256(ledger_path.read_bytes()).hexdigest() == digest
    assert ledger_path.stat().st_mtime_ns == stamp.st_mtime_ns
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_reader_in_the_middle_of_a_read_never_blocks_a_writer(
    story: Cli, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What status, check and export do: a read transaction over several queries.
    reader = sqlite3.connect(ledger_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM events").fetchone() == (1,)
    monkeypatch.setenv("REFUNDCTL_LOCK_TIMEOUT", "0")  # a writer that would wait fails at once
    try:
        assert story("respond", "1", "seller-offers", "8").exit_code == 0
        assert story("attach", "1", "--message", "ok", "--from", "buyer").exit_code == 0
        assert reader.execute("SELECT count(*) FROM events").fetchone() == (1,)
    finally:
        reader.execute("ROLLBACK")
        reader.close()


@pytest.mark.parametrize(
    ("args", "lock"),
    [
        pytest.param(("order", "add", "A2", "-m", "ebay", "--total", "5"), "write", id="writer"),
        pytest.param(("respond", "1", "seller-agrees"), "write", id="move"),
        pytest.param(("restore", "{tmp}/b.zip", "--force"), "write", id="restore"),
        pytest.param(("status",), "exclusive", id="reader, exclusive lock"),
        pytest.param(("verify",), "exclusive", id="verify, exclusive lock"),
        pytest.param(("backup", "{tmp}/c.zip"), "exclusive", id="backup, exclusive lock"),
    ],
)
def test_a_lock_held_past_refundctl_lock_timeout_exits_75(
    story: Cli,
    ledger_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    lock: str,
) -> None:
    assert story("backup", str(tmp_path / "b.zip")).exit_code == 0
    before = hashlib.sha256(ledger_path.read_bytes()).hexdigest()
    monkeypatch.setenv("REFUNDCTL_LOCK_TIMEOUT", "0.2")
    holder = sqlite3.connect(ledger_path, isolation_level=None)
    if lock == "exclusive":  # another program that keeps the file to itself
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM orders").fetchone()
    else:
        holder.execute("BEGIN IMMEDIATE")
    try:
        run = story(*(a.format(tmp=tmp_path) for a in args))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.exit_code == 75, (run.exit_code, run.stderr)
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1
    assert "locked" in run.stderr and "try again" in run.stderr
    assert hashlib.sha256(ledger_path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "c.zip").exists()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "1e9"])
def test_a_bad_lock_timeout_is_refused(
    story: Cli, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REFUNDCTL_LOCK_TIMEOUT", value)
    run = story("status")
    assert run.exit_code == 2 and "REFUNDCTL_LOCK_TIMEOUT" in run.stderr and value in run.stderr
