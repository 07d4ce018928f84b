"""Every test runs against a temporary ledger and config, with a frozen clock and no colour.

The autouse fixture points REFUNDCTL_DB and REFUNDCTL_CONFIG at ``tmp_path`` so no test can
touch a real ledger, fixes "now" through REFUNDCTL_NOW, and clears the variables that would
change how Rich draws. ``cli`` runs the real command group (with its error handling) in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.config import default_ledger_path

NOW = "2026-11-26T12:00:00+00:00"

# The ledger a user of this machine would get by default, found before any test moves HOME:
# a test that makes it has written where a real ledger lives (the guard below names it).
_REAL_LEDGER = default_ledger_path()
_REAL_LEDGER_WAS_THERE = _REAL_LEDGER.exists()

# Typer rebuilds the whole Click command tree on every CliRunner.invoke (about 50 ms, most of
# the suite's time once there are a few thousand invocations); the tree never changes while
# the tests run, so it is built once.
_COMMAND = typer.main.get_command(app)
typer.testing._get_command = lambda given: (  # type: ignore[attr-defined]
    _COMMAND if given is app else typer.main.get_command(given)
)

# The default keeps the suite inside its time budget; HYPOTHESIS_PROFILE=stress digs deeper.
settings.register_profile("default", deadline=None)
settings.register_profile(
    "stress", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _never_the_real_ledger() -> Iterator[None]:
    yield
    if not _REAL_LEDGER_WAS_THERE:
        assert not _REAL_LEDGER.exists(), f"this test made the real default ledger {_REAL_LEDGER}"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ledger = tmp_path / "ledger.db"
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n')
    monkeypatch.setenv("REFUNDCTL_DB", str(ledger))
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(config))
    monkeypatch.setenv("REFUNDCTL_NOW", NOW)
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "REFUNDCTL_DEBUG", "TERM"):
        monkeypatch.delenv(name, raising=False)
    # platformdirs must never resolve to the real home directory in a test.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    return ledger


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Cli = Callable[..., Run]


def invoke(*args: str, input: str | None = None) -> Run:
    """The CLI run in this process, as the ``cli`` fixture runs it (for a hypothesis test,
    which may not take a function-scoped fixture)."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Cli:
    return invoke


@pytest.fixture
def ledger_path(isolated: Path) -> Path:
    return isolated


@pytest.fixture
def empty_ledger(isolated: Path) -> Path:
    """A ledger that exists and holds nothing yet (a read of a missing one is refused)."""
    from datetime import UTC

    from refundctl.ledger.connection import Settings
    from refundctl.ledger.store import Ledger
    from refundctl.policies import policy_for

    with Ledger.open(isolated, Settings(zone=UTC, policy_for=policy_for), write=True):
        pass
    return isolated


def row_order(conn: sqlite3.Connection, table: str) -> str:
    """How to read a table's rows in a stable order: by rowid, or by the primary key of a
    WITHOUT ROWID table (the deadline index)."""
    keys = sorted((row[5], row[1]) for row in conn.execute(f"PRAGMA table_info([{table}])"))
    without_rowid = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
    ).fetchone()[0]
    if "WITHOUT ROWID" not in without_rowid.upper():
        return "rowid"
    return ", ".join(f"[{name}]" for rank, name in keys if rank)


def page_size(path: Path) -> int:
    """The SQLite page size of the ledger at ``path``."""
    conn = sqlite3.connect(path)
    try:
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        return int(size)
    finally:
        conn.close()


def snapshot(path: Path) -> str:
    """A digest of everything in the ledger, to prove a refused command changed nothing."""
    if not path.exists():
        return "absent"
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            digest.update(table.encode())
            for row in conn.execute(f"SELECT * FROM [{table}] ORDER BY {row_order(conn, table)}"):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def story(cli: Cli) -> Cli:
    """The README's AliExpress order, received on Nov 20, with dispute 1 open since Nov 22."""
    assert (
        cli(
            "order",
            "add",
            "8101234567890123",
            "--marketplace",
            "aliexpress",
            "--total",
            "45.90",
            "--seller",
            "Best Store",
            "--title",
            "USB-C hub",
            "--item",
            "USB-C hub x1 @45.90",
            "--ordered",
            "2026-11-01",
            "--shipped",
            "2026-11-03",
        ).exit_code
        == 0
    )
    assert cli("order", "receive", "8101234567890123", "--on", "2026-11-20").exit_code == 0
    opened = cli(
        "open",
        "8101234567890123",
        "--reason",
        "missing-parts",
        "--amount",
        "12.50",
        "--note",
        "HDMI adapter missing",
        "--on",
        "2026-11-22",
    )
    assert opened.exit_code == 0, opened.stderr
    return cli
