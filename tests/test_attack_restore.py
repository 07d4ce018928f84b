"""Archives built to harm, and commands killed or refused half-way (issue 17, items 2 and 10).

A backup is a file from elsewhere: its ledger may carry a trigger of its own that would rewrite
every order on the next write, or tables that only look like refundctl's, and its members may
inflate a thousandfold. ``restore`` refuses every one of them, leaving nothing, and never writes
more of a member than the manifest gives it. What a backup or a restore builds is private while
it is built (mode 600, folders 700), and what a killed or refused one leaves is removed by the
next backup or restore that works in the same folder, whatever file it names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from refundctl.ledger.schema import MIGRATION_NAMES
from tests import crash_child
from tests.conftest import Cli, snapshot
from tests.test_backup import ok, refused

FIXTURES = Path(__file__).parent / "fixtures"
CHILD = Path(__file__).with_name("crash_child.py")
NEWEST = MIGRATION_NAMES[-1]
EVIL = "CREATE TRIGGER evil AFTER INSERT ON events BEGIN UPDATE orders SET seller = 'PWNED'; END"

# Runs refundctl with no file allowed to grow past argv[1] bytes: what it would write past
# that fails (EFBIG) instead, as on a full disk.
BOUNDED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from refundctl.cli import app
app(args=sys.argv[2:], prog_name="refundctl")
"""


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


def bounded(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOUNDED, str(limit), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def archive_of(ledger: Path, out: Path) -> None:
    """A backup of ``ledger`` (and its evidence folder) as refundctl writes one, without
    opening it with refundctl (which would upgrade an older schema first)."""
    folder = ledger.with_name(ledger.stem + ".evidence")
    stored = sorted(folder.glob("??/*")) if folder.is_dir() else []
    data = ledger.read_bytes()
    manifest = {
        "format": "refundctl-backup",
        "version": 1,
        "created": "2026-11-26T12:00:00+00:00",
        "ledger_size": len(data),
        "evidence": [{"sha256": p.name, "size": p.stat().st_size} for p in stored],
        "missing": [],
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("refundctl-backup.json", json.dumps(manifest))
        zf.writestr("ledger.db", data)
        for path in stored:
            zf.writestr(f"evidence/{path.name[:2]}/{path.name}", path.read_bytes())


def tampered(archive: Path, out: Path, *statements: str) -> None:
    """``archive`` with its ledger changed by ``statements``, and its manifest changed to
    match, as whoever changed it would."""
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    scratch = out.with_suffix(".db")
    scratch.write_bytes(members["ledger.db"])
    conn = sqlite3.connect(scratch, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()
    members["ledger.db"] = scratch.read_bytes()
    scratch.unlink()
    manifest = json.loads(members["refundctl-backup.json"])
    manifest["ledger_size"] = len(members["ledger.db"])
    members["refundctl-backup.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def private(folder: Path) -> list[str]:
    """What under ``folder`` others could read: each entry that is not 700 (folders) or 600."""
    exposed = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            exposed.append(f"{path.name} {mode:o}")
    return exposed


# -- a schema that is not refundctl's ----------------------------------------------------------

ATTACKS = [
    pytest.param([EVIL], "trigger evil is not refundctl's", id="a trigger of its own"),
    pytest.param(
        ["DROP TRIGGER events_no_update", "CREATE TRIGGER events_no_update BEFORE UPDATE "
         "ON events BEGIN SELECT 1; END"],
        "trigger events_no_update is not as refundctl makes it",
        id="the append-only trigger disarmed",
    ),
    pytest.param(
        ["CREATE VIEW open_orders AS SELECT * FROM orders"],
        "view open_orders is not refundctl's",
        id="a view",
    ),
    pytest.param(
        ["ALTER TABLE orders ADD COLUMN note TEXT"],
        "table orders is not as refundctl makes it",
        id="a column more",
    ),
    pytest.param(["DROP INDEX idx_evidence_sha256"], "index idx_evidence_sha256 is missing",
                 id="an index less"),
]  # fmt: skip


@pytest.mark.parametrize(("statements", "says"), ATTACKS)
def test_restore_refuses_a_ledger_whose_schema_is_not_refundctls(
    story: Cli, ledger_path: Path, tmp_path: Path, statements: list[str], says: str
) -> None:
    genuine, evil = tmp_path / "b.zip", tmp_path / "evil.zip"
    ok(story("backup", str(genuine)))
    tampered(genuine, evil, *statements)
    target = tmp_path / "new" / "folder" / "ledger.db"
    line = refused(story("--db", str(target), "restore", str(evil)))
    assert says in line and "nothing was restored" in line, line
    assert not target.parent.parent.exists()  # not even the folders it would have made
    assert leftovers(tmp_path) == []
    before = snapshot(ledger_path)
    assert says in refused(story("restore", str(evil), "--force"))
    assert snapshot(ledger_path) == before
    assert not list(tmp_path.glob("ledger.db.replaced-*"))
    assert leftovers(tmp_path) == []
    # The next write does what it says, and nothing more.
    ok(story("respond", "1", "seller-offers", "8.00"))
    shown = ok(story("order", "show", "8101234567890123", "--json")).json()
    assert "PWNED" not in json.dumps(shown)


@pytest.mark.parametrize("schema", MIGRATION_NAMES)
def test_a_backup_of_every_released_schema_restores_and_one_with_a_trigger_does_not(
    cli: Cli, tmp_path: Path, schema: str
) -> None:
    fixture = FIXTURES / f"ledger-{schema}.db"
    old = tmp_path / "old" / "ledger.db"
    old.parent.mkdir()
    shutil.copyfile(fixture, old)
    shutil.copytree(fixture.with_name(fixture.stem + ".evidence"), old.with_name("ledger.evidence"))
    archive_of(old, tmp_path / "old.zip")
    ok(cli("--db", str(tmp_path / "good" / "ledger.db"), "restore", str(tmp_path / "old.zip")))
    tampered(tmp_path / "old.zip", tmp_path / "evil.zip", EVIL)
    line = refused(
        cli("--db", str(tmp_path / "bad" / "ledger.db"), "restore", str(tmp_path / "evil.zip"))
    )
    assert "trigger evil is not refundctl's" in line, line
    assert not (tmp_path / "bad").exists()


def test_restore_refuses_bare_tables_under_a_migrations_table_that_names_this_schema(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.db"
    conn = sqlite3.connect(bare, isolation_level=None)
    conn.execute(
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, "
        "name TEXT, applied_at TEXT)"
    )
    for name in MIGRATION_NAMES:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('refundctl', ?, 'now')",
            (name,),
        )
    for table in ("orders", "disputes", "events", "evidence"):
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, sha256 TEXT, size INT)")
    conn.close()
    archive_of(bare, tmp_path / "bare.zip")
    target = tmp_path / "r" / "ledger.db"
    line = refused(story("--db", str(target), "restore", str(tmp_path / "bare.zip")))
    assert "has a schema refundctl does not make (table disputes is not as" in line, line
    assert not target.exists()
    before = snapshot(ledger_path)
    refused(story("restore", str(tmp_path / "bare.zip"), "--force"))
    assert snapshot(ledger_path) == before
    ok(story("status"))  # the ledger there still works: no exit 70


def test_verify_reports_a_trigger_of_its_own_in_the_live_ledger(
    story: Cli, ledger_path: Path
) -> None:
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    conn.execute(EVIL)
    conn.close()
    run = story("verify")
    assert run.exit_code == 1, (run.stdout, run.stderr)
    assert "trigger evil is not refundctl's" in run.stdout


# -- a member that inflates past what the manifest says -------------------------------------


def test_a_zip_bomb_is_refused_before_more_than_its_declared_size_is_written(
    story: Cli, tmp_path: Path
) -> None:
    ok(story("backup", str(tmp_path / "b.zip")))
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        manifest, ledger = json.loads(zf.read("refundctl-backup.json")), zf.read("ledger.db")
    manifest["ledger_size"] = len(ledger)  # as backup writes it: the ledger's true size
    bomb = tmp_path / "bomb.zip"
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("refundctl-backup.json", json.dumps(manifest))
        with zf.open("ledger.db", "w", force_zip64=True) as out:
            out.write(ledger)
            for _ in range(200):  # 200 MiB of zeros, 200 KiB in the zip
                out.write(zeros)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    # No file may grow past the declared size (and a little): more would fail to be written.
    target = tmp_path / "r" / "ledger.db"
    done = bounded(len(ledger) + 1024 * 1024, "--db", str(target), "restore", str(bomb))
    assert done.returncode == 2, done.stderr
    assert "its ledger is larger than its manifest says; nothing was restored" in done.stderr
    assert not target.exists() and leftovers(tmp_path) == []


# -- temporaries: private, and removed by the next backup or restore ------------------------


def kill_points(*args: str, cli: Cli) -> list[int]:
    """Steps at which to kill ``args`` (see tests/crash_child.py), from a run counted here."""
    with crash_child.counting() as counted:
        ok(cli(*args))
    steps = counted[0]
    return sorted({max(1, steps * tenth // 10) for tenth in (3, 5, 7, 9)})


def killed_at(step: int, *args: str) -> None:
    env = {**os.environ, "CRASH_KILL_AT": str(step)}
    done = subprocess.run([sys.executable, str(CHILD), *args], env=env, capture_output=True)
    assert done.returncode == -9, (step, done.returncode, done.stderr)


def test_a_killed_backup_leaves_a_private_folder_that_the_next_backup_removes(
    story: Cli, tmp_path: Path
) -> None:
    points = kill_points("backup", str(tmp_path / "learn.zip"), cli=story)
    left = []
    for n, step in enumerate(points):
        folder = tmp_path / f"k{n}"
        folder.mkdir()
        killed_at(step, "backup", str(folder / "b.zip"))
        for path in folder.glob(".*"):
            left.append(path.name)
            assert private(path) == [], (step, private(path))
        # The next backup into that folder, to another name, removes what the killed one left.
        ok(story("backup", str(folder / "other.zip")))
        assert leftovers(folder) == [], step
    assert left, "no kill point left a temporary: the test tried nothing"


def test_a_killed_restore_leaves_a_private_folder_that_the_next_restore_removes(
    story: Cli, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    ok(story("backup", str(archive)))
    points = kill_points("--db", str(tmp_path / "learn" / "ledger.db"), "restore", str(archive),
                         cli=story)  # fmt: skip
    left = []
    for n, step in enumerate(points):
        folder = tmp_path / f"k{n}"
        killed_at(step, "--db", str(folder / "ledger.db"), "restore", str(archive))
        for path in folder.glob(".*") if folder.exists() else []:
            left.append(path.name)
            assert private(path) == [], (step, private(path))
        # The next restore into that folder, of another ledger, removes it.
        ok(story("--db", str(folder / "other.db"), "restore", str(archive)))
        assert leftovers(folder) == [], step
    assert left, "no kill point left a temporary: the test tried nothing"


def test_a_restore_force_refused_for_a_lock_leaves_no_copy_of_the_ledger(
    story: Cli, ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "b.zip"
    ok(story("backup", str(archive)))
    ok(story("respond", "1", "seller-offers", "8.00"))
    before = hashlib.sha256(ledger_path.read_bytes()).hexdigest()
    monkeypatch.setenv("REFUNDCTL_LOCK_TIMEOUT", "0.2")
    holder = sqlite3.connect(ledger_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = refused(story("restore", str(archive), "--force"), 75)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in line and "try again" in line
    assert hashlib.sha256(ledger_path.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob("ledger.db.replaced-*"))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("limit", [64 * 1024, 300 * 1024], ids=["64 KiB", "300 KiB"])
def test_a_backup_to_a_full_disk_is_refused_in_one_line_and_leaves_nothing(
    story: Cli, ledger_path: Path, tmp_path: Path, limit: int
) -> None:
    assert ledger_path.stat().st_size > limit
    before = snapshot(ledger_path)
    out = tmp_path / "out"
    out.mkdir()
    done = bounded(limit, "backup", str(out / "b.zip"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: cannot write ") and done.stderr.count("\n") == 1
    assert list(out.iterdir()) == [] and leftovers(tmp_path) == []
    assert snapshot(ledger_path) == before
