"""Parallel invocations wait for each other instead of failing, and every write lands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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

    from refundctl.ledger import store

    assert cli("order", "add", "A1", "-m", "ebay", "--total", "5").exit_code == 0
    monkeypatch.setattr(store, "LOCK_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(ledger_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cli("order", "add", "A2", "-m", "ebay", "--total", "5")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 75
    assert "locked" in result.stderr and "try again" in result.stderr
