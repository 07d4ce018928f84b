"""``backup`` and ``restore``: one archive holds it all, and nothing half-checked comes back.

A backup restored elsewhere is the same ledger, row for row, with the same files; a backup
taken while another process writes is a consistent ledger; restore refuses to replace a ledger
unless told, keeps the one it replaces, refuses an archive with a single wrong byte in a file
or the ledger (leaving nothing behind), and swaps a ledger that another process has open in one
step that process sees whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from refundctl.ledger.schema import MIGRATION_NAMES
from tests import crash_child
from tests.conftest import Cli, Run, page_size, snapshot

JPEG = b"\xff\xd8\xff\xe0" + b"a photo of the box" * 50
PNG = b"\x89PNG\r\n\x1a\n" + b"a label" * 30


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def refused(run: Run, code: int = 2) -> str:
    assert run.exit_code == code, (run.exit_code, run.stdout, run.stderr)
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def evidence_of(ledger: Path) -> dict[str, bytes]:
    folder = ledger.with_name(ledger.stem + ".evidence")
    return {p.name: p.read_bytes() for p in sorted(folder.glob("??/*"))}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


@pytest.fixture
def files(story: Cli, tmp_path: Path) -> Cli:
    """The story, with a photo and a label attached to dispute 1."""
    (tmp_path / "box.jpg").write_bytes(JPEG)
    (tmp_path / "label.png").write_bytes(PNG)
    ok(story("attach", "1", str(tmp_path / "box.jpg"), str(tmp_path / "label.png")))
    ok(story("attach", "1", "--url", "https://example.com/item/1"))
    return story


def test_a_backup_restored_elsewhere_is_the_same_ledger(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    run = ok(files("backup", str(archive)))
    assert run.stdout == (
        f"Backed up {ledger_path} to {archive}:\n"
        "  1 order, 1 dispute, 4 events; 2 evidence files (1.1 KiB).\n"
    )
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("refundctl-backup.json"))
    assert names[:2] == ["refundctl-backup.json", "ledger.db"]
    assert sorted(names[2:]) == sorted(f"evidence/{s[:2]}/{s}" for s in evidence_of(ledger_path))
    assert manifest["format"] == "refundctl-backup" and manifest["version"] == 1
    assert manifest["missing"] == [] and len(manifest["evidence"]) == 2

    elsewhere = tmp_path / "elsewhere" / "restored.db"
    run = ok(files("--db", str(elsewhere), "restore", str(archive)))
    assert run.stdout.startswith(f"Restored {archive} (taken 2026-11-26 12:00 UTC) to {elsewhere}")
    assert snapshot(elsewhere) == snapshot(ledger_path)
    assert evidence_of(elsewhere) == evidence_of(ledger_path)
    assert ok(files("--db", str(elsewhere), "verify")).stdout.endswith("All intact.\n")
    # The restored ledger is a ledger like any other: WAL, and it takes the next move.
    conn = sqlite3.connect(elsewhere)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    ok(files("--db", str(elsewhere), "respond", "1", "seller-offers", "8.00"))
    assert leftovers(tmp_path) == []


def test_backup_and_restore_print_json(files: Cli, ledger_path: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.zip"
    made = ok(files("backup", str(archive), "--json")).json()
    assert made == {
        "archive": str(archive),
        "ledger": str(ledger_path),
        "created": "2026-11-26T12:00:00+00:00",
        "schema": MIGRATION_NAMES[-1],  # the newest schema
        "orders": 1,
        "disputes": 1,
        "events": 4,
        "files": 2,
        "bytes": len(JPEG) + len(PNG),
        "missing": [],
        "ok": True,
    }
    target = tmp_path / "r" / "ledger.db"
    back = ok(files("--db", str(target), "restore", str(archive), "--json")).json()
    assert back == {
        "archive": str(archive),
        "ledger": str(target),
        "evidence_dir": str(tmp_path / "r" / "ledger.evidence"),
        "created": "2026-11-26T12:00:00+00:00",
        "schema": MIGRATION_NAMES[-1],  # the newest schema
        "orders": 1,
        "disputes": 1,
        "events": 4,
        "files": 2,
        "written": 2,
        "missing": [],
        "replaced": None,
        "ok": True,
    }


def test_backup_refuses_to_overwrite_a_file_or_the_ledger_itself(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    archive.write_bytes(b"something precious")
    assert "exists already; use --force" in refused(files("backup", str(archive)))
    assert archive.read_bytes() == b"something precious"
    ok(files("backup", str(archive), "--force"))
    assert zipfile.is_zipfile(archive)
    before = snapshot(ledger_path)
    store = ledger_path.with_name("ledger.evidence")
    for target in (ledger_path, store / "b.zip", tmp_path / "ledger.db-wal"):
        assert "part of the ledger itself" in refused(files("backup", str(target), "--force"))
    assert snapshot(ledger_path) == before
    assert "is a directory" in refused(files("backup", str(tmp_path)))
    assert "no folder" in refused(files("backup", str(tmp_path / "nope" / "b.zip")))
    assert leftovers(tmp_path) == []


def test_there_is_nothing_to_back_up_without_a_ledger(cli: Cli, ledger_path: Path) -> None:
    assert "nothing to back up" in refused(cli("backup", str(ledger_path.parent / "b.zip")))
    assert not ledger_path.exists()


def test_a_lost_evidence_file_is_said_and_the_rest_is_backed_up(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    lost = hashlib.sha256(PNG).hexdigest()
    (ledger_path.with_name("ledger.evidence") / lost[:2] / lost).unlink()
    run = files("backup", str(tmp_path / "b.zip"), "--json")
    assert run.exit_code == 1
    assert f"stored file {lost[:12]}… is missing or altered" in run.stderr
    assert run.json()["missing"] == [lost] and run.json()["files"] == 1
    target = tmp_path / "r" / "ledger.db"
    run = files("--db", str(target), "restore", str(tmp_path / "b.zip"))
    assert run.exit_code == 1 and "already missing when the backup was taken" in run.stderr
    assert snapshot(target) == snapshot(ledger_path)


def test_restore_replaces_a_ledger_only_when_told_and_keeps_the_old_one(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    ok(files("backup", str(archive)))
    backed_up = snapshot(ledger_path)
    ok(files("respond", "1", "seller-offers", "8.00"))
    ok(files("order", "add", "LATER", "-m", "ebay", "--total", "3"))
    later = snapshot(ledger_path)
    line = refused(files("restore", str(archive)))
    assert "there is a ledger at" in line and "--force" in line
    assert snapshot(ledger_path) == later
    run = ok(files("restore", str(archive), "--force", "--json")).json()
    kept = ledger_path.with_name("ledger.db.replaced-20261126T120000Z")
    assert run["replaced"] == str(kept) and run["written"] == 0
    assert snapshot(ledger_path) == backed_up
    assert snapshot(kept) == later
    # Twice in one second: the second keeps its own copy.
    ok(files("restore", str(archive), "--force"))
    assert kept.with_name(kept.name + "-2").exists()
    assert leftovers(tmp_path) == []


def test_restore_replaces_a_damaged_ledger_and_keeps_the_damaged_file(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    ok(files("backup", str(archive)))
    good = snapshot(ledger_path)
    ledger_path.write_bytes(b"this was a ledger once" * 300)
    refused(files("status"), 3)
    ok(files("restore", str(archive), "--force"))
    assert snapshot(ledger_path) == good
    kept = ledger_path.with_name("ledger.db.replaced-20261126T120000Z")
    assert kept.read_bytes() == b"this was a ledger once" * 300
    ok(files("verify"))


def _rewrite(archive: Path, change: dict[str, bytes | None]) -> None:
    """Rewrite the zip with some members' bytes changed (None: left out)."""
    with zipfile.ZipFile(archive) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    for name, data in change.items():
        if data is None:
            members.pop(name)
        else:
            members[name] = data
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _damaged_ledger(data: bytes) -> bytes:
    """The ledger with a page in the middle of it emptied."""
    size = int.from_bytes(data[16:18], "big")  # the header's page size
    middle = len(data) // size // 2
    page = bytearray(data)
    page[size * middle : size * (middle + 1)] = b"\x0d" + bytes(size - 1)
    return bytes(page)


@pytest.mark.parametrize(
    ("change", "says", "code"),
    [
        pytest.param("evidence", "does not match its SHA-256", 2, id="a file altered"),
        pytest.param("drop evidence", "not the ones its manifest lists", 2, id="a file missing"),
        # Which words depend on the page the damage hits: SQLite's check, or the schema.
        pytest.param("ledger", "fails SQLite's check|cannot be read", 2, id="the ledger damaged"),
        pytest.param("not a ledger", "does not hold a refundctl ledger", 2, id="not a ledger"),
        pytest.param("manifest", "no refundctl-backup.json", 2, id="no manifest"),
        pytest.param("bad manifest", "is not JSON", 2, id="manifest not JSON"),
        pytest.param("newer format", "newer refundctl", 3, id="a newer format"),
        pytest.param("newer schema", "newer refundctl (schema m999", 3, id="a newer schema"),
        pytest.param("stranger", "which refundctl never writes", 2, id="an odd member"),
        pytest.param("truncated", "not a readable zip", 2, id="truncated"),
        pytest.param("not a zip", "not a readable zip", 2, id="not a zip"),
    ],
)
def test_restore_refuses_an_archive_that_is_not_whole(
    files: Cli, ledger_path: Path, tmp_path: Path, change: str, says: str, code: int
) -> None:
    archive = tmp_path / "b.zip"
    ok(files("backup", str(archive)))
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    photo = next(name for name in members if name.startswith("evidence/"))
    manifest = json.loads(members["refundctl-backup.json"])
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE photos (name TEXT)").connection.close()
    newer = tmp_path / "newer.db"
    newer.write_bytes(members["ledger.db"])
    with sqlite3.connect(newer) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('refundctl', 'm999_new', 'now')"
        )
    conn.close()
    match change:
        case "evidence":
            _rewrite(archive, {photo: members[photo][:-1] + b"!"})
        case "drop evidence":
            _rewrite(archive, {photo: None})
        case "ledger":
            _rewrite(archive, {"ledger.db": _damaged_ledger(members["ledger.db"])})
        case "not a ledger":
            _rewrite(archive, {"ledger.db": other.read_bytes()})
        case "manifest":
            _rewrite(archive, {"refundctl-backup.json": None})
        case "bad manifest":
            _rewrite(archive, {"refundctl-backup.json": b"{"})
        case "newer format":
            _rewrite(archive, {"refundctl-backup.json": json.dumps({**manifest, "version": 2})})
        case "newer schema":
            _rewrite(archive, {"ledger.db": newer.read_bytes()})
        case "stranger":
            _rewrite(archive, {"../../etc/evil": b"x"})
        case "truncated":
            archive.write_bytes(archive.read_bytes()[:-100])
        case "not a zip":
            archive.write_bytes(b"PK but not really")
    target = tmp_path / "r" / "ledger.db"
    line = refused(files("--db", str(target), "restore", str(archive)), code)
    assert any(words in line for words in says.split("|")), line
    assert not target.exists()
    assert not target.with_name("ledger.evidence").exists()
    assert leftovers(tmp_path) == []
    # And over an existing ledger with --force: that ledger is not touched either.
    before = snapshot(ledger_path)
    refused(files("restore", str(archive), "--force"), code)
    assert snapshot(ledger_path) == before
    assert not list(tmp_path.glob("ledger.db.replaced-*"))


def test_restore_of_what_is_not_there(cli: Cli, tmp_path: Path) -> None:
    assert "no such file" in refused(cli("restore", str(tmp_path / "nope.zip")))
    assert "is a directory" in refused(cli("restore", str(tmp_path)))


def test_a_backup_taken_while_another_process_writes_is_consistent(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    # Another process adds orders, one transaction each, while backups are taken.
    script = (
        "from refundctl.cli import app\n"
        "for n in range(25):\n"
        "    args = ['order', 'add', f'W-{n}', '-m', 'temu', '--total', '1']\n"
        "    assert app(args=args, standalone_mode=False) == 0\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    counts = []
    try:
        while writer.poll() is None and len(counts) < 5:
            archive = tmp_path / f"b{len(counts)}.zip"
            ok(files("backup", str(archive)))
            restored = tmp_path / f"r{len(counts)}" / "ledger.db"
            ok(files("--db", str(restored), "restore", str(archive)))
            ok(files("--db", str(restored), "verify"))
            shown = files("--db", str(restored), "order", "list", "--json").json()
            counts.append(len(shown["orders"]))
    finally:
        assert writer.wait(timeout=120) == 0
    assert counts == sorted(counts)


def test_restore_swaps_a_ledger_a_reader_has_open_in_one_step(
    files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    ok(files("backup", str(archive)))
    for n in range(3):
        ok(files("order", "add", f"NEW-{n}", "-m", "ebay", "--total", "2"))
    reader = sqlite3.connect(ledger_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM orders").fetchone() == (4,)
    try:
        ok(files("restore", str(archive), "--force"))
        # The reader's snapshot is whole: it still sees what it saw.
        assert reader.execute("SELECT count(*) FROM orders").fetchone() == (4,)
    finally:
        reader.execute("ROLLBACK")
    assert reader.execute("SELECT count(*) FROM orders").fetchone() == (1,)
    assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    reader.close()


def test_a_backup_of_an_older_schema_is_restored_and_then_upgraded(
    cli: Cli, ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newest = MIGRATION_NAMES[-1]  # the schema this refundctl writes, older than the fake one
    fixture = Path(__file__).parent / "fixtures" / f"ledger-{newest}.db"
    old = tmp_path / "old" / "ledger.db"
    old.parent.mkdir()
    shutil.copyfile(fixture, old)
    shutil.copytree(fixture.with_name(fixture.stem + ".evidence"), old.with_name("ledger.evidence"))
    ok(cli("--db", str(old), "backup", str(tmp_path / "old.zip")))
    crash_child.fake_migration(monkeypatch.setattr)  # this refundctl now has a newer schema
    ok(cli("restore", str(tmp_path / "old.zip")))
    assert snapshot(ledger_path) == snapshot(old)
    ok(cli("status"))  # upgrades, after a copy
    assert ledger_path.with_name(f"ledger.db.{newest}.bak").exists()
    ok(cli("verify"))


@pytest.mark.parametrize("archive_from", ["old", "new"])
def test_restore_force_across_page_sizes(
    cli: Cli, ledger_path: Path, tmp_path: Path, archive_from: str
) -> None:
    """A backup of a ledger made before 16 KiB pages restores over one made after, and the
    other way round: the ledger replaced keeps its page size and takes the archive's rows."""
    # The newest fixture made before 16 KiB pages.
    fixture = Path(__file__).parent / "fixtures" / "ledger-m002_create_deadline_index.db"
    old = tmp_path / "old" / "ledger.db"
    old.parent.mkdir()
    shutil.copyfile(fixture, old)
    shutil.copytree(fixture.with_name(fixture.stem + ".evidence"), old.with_name("ledger.evidence"))
    ok(cli("order", "add", "N-1", "-m", "ebay", "--total", "5"))  # a new ledger: 16 KiB
    source, target = (old, ledger_path) if archive_from == "old" else (ledger_path, old)
    sizes = page_size(source), page_size(target)
    assert sorted(sizes) == [4096, 16384]
    archive = tmp_path / "archive.zip"
    ok(cli("--db", str(source), "backup", str(archive)))
    ok(cli("--db", str(target), "restore", str(archive), "--force"))
    assert snapshot(target) == snapshot(source)
    assert page_size(target) == sizes[1]
    ok(cli("--db", str(target), "verify"))
