"""Issue 17's attacks on the files refundctl is handed: a ledger path that is not a ledger, a
config that is a device or a pipe, input that would exhaust memory or recursion, a full disk,
a wall time the clocks skipped, an upgrade killed half way. Each one ends in one line and exit
2 or 3, never exit 70 or a hang, and the ledger is left exactly as it was."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(text: str) -> str:
    assert text.startswith("error: ") and text.count("\n") == 1, text
    return text


@pytest.fixture
def a_ledger(cli: Cli, ledger_path: Path) -> Path:
    assert cli("order", "add", "A-1", "-m", "ebay", "--total", "5").exit_code == 0
    return ledger_path


# -- 7. a read never creates or rewrites a ledger -------------------------------------------------


@pytest.mark.parametrize("size", [1, 15, 99, 511])
@pytest.mark.parametrize(
    "command", [("status",), ("check",), ("order", "add", "B", "-m", "ebay", "--total", "1")]
)
def test_a_ledger_cut_to_a_few_bytes_is_refused_and_left_byte_for_byte(
    cli: Cli, a_ledger: Path, size: int, command: tuple[str, ...]
) -> None:
    """`head -c1 ledger.db > t && mv t ledger.db && refundctl status` made a new empty ledger."""
    a_ledger.write_bytes(a_ledger.read_bytes()[:size])
    before = digest(a_ledger)
    run = cli(*command)
    assert run.exit_code == 3
    assert "is not a refundctl ledger" in one_line(run.stderr)
    assert digest(a_ledger) == before


@pytest.mark.parametrize("kind", ["/dev/null", "fifo", "folder"])
def test_a_ledger_path_that_is_no_file_is_refused_without_opening_it(
    cli: Cli, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REFUNDCTL_DB=/dev/null said "an empty file, not a ledger yet"; a FIFO could block."""
    target = Path(kind) if kind.startswith("/") else tmp_path / kind
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target = tmp_path / "folder" / "ledger.db"
        target.mkdir(parents=True)
    monkeypatch.setenv("REFUNDCTL_DB", str(target))
    for command in (("status",), ("check",), ("order", "add", "B", "-m", "ebay", "--total", "1")):
        run = cli(*command)
        if kind == "folder":  # a path typed wrong: the option's own check says so
            assert run.exit_code == 2 and "is a directory" in one_line(run.stderr)
        else:
            assert run.exit_code == 3, (command, run.stderr)
            assert "is not a regular file, not a ledger" in one_line(run.stderr)


# -- 6. a config that would hang or exhaust every command -----------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "folder", "huge", "deep"])
def test_a_config_that_is_no_config_is_refused_in_one_line(
    cli: Cli, a_ledger: Path, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO as the config blocked every command; /dev/zero read until memory ran out; a
    config nested 100,000 deep raised RecursionError (exit 70)."""
    config = tmp_path / "named.toml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "/dev/zero":
        config = Path("/dev/zero")
    elif kind == "folder":
        config.mkdir()
    elif kind == "huge":
        config.write_text("# " + "x" * (2 * 1024 * 1024) + '\ntimezone = "UTC"\n')
    else:
        config.write_text("a = " + "[" * 100_000 + "\n")
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(config))
    before = digest(a_ledger)
    run = cli("status")
    assert run.exit_code == 2
    assert "config file" in one_line(run.stderr)
    assert digest(a_ledger) == before


# -- 5. exit 70 for conditions and files ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("order", "add", "B", "-m", "ebay", "--total", "9" * 5000),
        ("order", "add", "B", "-m", "ebay", "--total", "5", "--item", "Cable x" + "9" * 30),
        ("order", "add", "B", "-m", "ebay", "--total", "5", "--item", "Cable x" + "9" * 5000),
    ],
    ids=["5,000-digit total", "30-digit quantity", "5,000-digit quantity"],
)
def test_numbers_too_long_to_store_are_refused_briefly(
    cli: Cli, a_ledger: Path, args: tuple[str, ...]
) -> None:
    before = digest(a_ledger)
    run = cli(*args)
    assert run.exit_code == 2
    line = one_line(run.stderr)
    assert "too large" in line and len(line) < 200, line  # the number is not echoed whole
    assert digest(a_ledger) == before


@pytest.mark.parametrize(
    "failure",
    [
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device", "/media/full/ledger.db"),
        OSError(errno.EROFS, "Read-only file system", "/media/ro/ledger.evidence/ab"),
        PermissionError(errno.EACCES, "Permission denied", "/srv/ledger.evidence/ab"),
    ],
    ids=["SQLite full", "disk full", "read-only file system", "permission denied"],
)
def test_a_full_disk_or_a_file_refundctl_may_not_write_exits_3_not_70(
    cli: Cli, a_ledger: Path, failure: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Such a machine's state reached the last-resort handler: "internal error … a bug"."""
    from refundctl.ledger.store import Ledger

    def fails(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(Ledger, "add_order", fails)
    before = digest(a_ledger)
    run = cli("order", "add", "B", "-m", "ebay", "--total", "1")
    assert run.exit_code == 3
    line = one_line(run.stderr)
    assert "bug" not in line and "the ledger was left as before" in line
    if isinstance(failure, OSError):
        assert str(failure.filename) in line
    assert digest(a_ledger) == before


# -- a wall time the clocks skipped ---------------------------------------------------------------


def test_a_wall_time_that_does_not_exist_is_refused_with_its_two_readings(
    cli: Cli, a_ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "berlin.toml"
    config.write_text('timezone = "Europe/Berlin"\n')
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(config))
    run = cli("--as-of", "2026-04-02", "order", "add", "W", "-m", "ebay", "--total", "5",
              "--ordered", "2026-03-29T02:30")  # fmt: skip
    assert run.exit_code == 2
    line = one_line(run.stderr)
    assert "2026-03-29 02:30 does not exist in Europe/Berlin" in line
    assert "2026-03-29T02:30+01:00" in line and "2026-03-29T02:30+02:00" in line
    # Either reading, given with its offset, is taken; so is the bare day.
    for when in ("2026-03-29T02:30+02:00", "2026-03-29"):
        added = cli("--as-of", "2026-04-02", "order", "add", f"W{when[-5:]}", "-m", "ebay",
                    "--total", "5", "--ordered", when)  # fmt: skip
        assert added.exit_code == 0, added.stderr


# -- 6. hangs and unbounded reads; 5. RecursionError and an encrypted member ---------------------


def test_an_import_of_a_device_is_refused_and_a_pipe_still_works(
    cli: Cli, a_ledger: Path, tmp_path: Path
) -> None:
    """`order import /dev/zero` read until memory ran out; a FIFO the user made must work."""
    before = digest(a_ledger)
    run = cli("order", "import", "/dev/zero")
    assert run.exit_code == 2 and "is a device, not a file" in one_line(run.stderr)
    assert digest(a_ledger) == before
    pipe = tmp_path / "orders.csv"
    os.mkfifo(pipe)
    pid = os.fork()
    if pid == 0:  # the writer at the pipe's other end
        with pipe.open("w") as end:
            end.write("marketplace,order_no,total\nebay,P-1,5\n")
        os._exit(0)
    run = cli("order", "import", str(pipe))
    os.waitpid(pid, 0)
    assert run.exit_code == 0, run.stderr
    assert "1 added" in run.stdout


def test_json_nested_past_any_order_is_refused_not_a_recursion_error(
    cli: Cli, a_ledger: Path, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    before = digest(a_ledger)
    run = cli("order", "import", str(deep))
    assert run.exit_code == 2 and "too deeply" in one_line(run.stderr)
    assert digest(a_ledger) == before


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_restore_from_a_pipe_or_a_device_is_refused_at_once(
    cli: Cli, a_ledger: Path, tmp_path: Path, kind: str
) -> None:
    """`restore FIFO` blocked forever; `restore /dev/zero` read until memory ran out."""
    source = Path(kind) if kind.startswith("/") else tmp_path / kind
    if kind == "fifo":
        os.mkfifo(source)
    before = digest(a_ledger)
    run = cli("restore", str(source), "--force")
    assert run.exit_code == 2 and "not a file" in one_line(run.stderr)
    assert digest(a_ledger) == before


def _rewritten(archive: Path, target: Path, change: str) -> Path:
    import zipfile

    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if change == "deep manifest" and info.filename.endswith(".json"):
                data = b"[" * 100_000
            out.writestr(info, data)
    if change == "encrypted":  # the "encrypted" flag of every member, local and central
        raw = bytearray(target.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.find(signature)
            while at >= 0:
                raw[at + offset] |= 1
                at = raw.find(signature, at + 4)
        target.write_bytes(bytes(raw))
    return target


@pytest.mark.parametrize("change", ["encrypted", "deep manifest"])
def test_an_archive_with_an_encrypted_member_or_a_nested_manifest_is_refused(
    cli: Cli, a_ledger: Path, tmp_path: Path, change: str
) -> None:
    assert cli("backup", str(tmp_path / "good.zip")).exit_code == 0
    bad = _rewritten(tmp_path / "good.zip", tmp_path / "bad.zip", change)
    before = digest(a_ledger)
    run = cli("restore", str(bad), "--force")
    assert run.exit_code == 2, run.stderr
    assert ("encrypted" if change == "encrypted" else "is not JSON") in one_line(run.stderr)
    assert digest(a_ledger) == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB file system of its own (tmpfs), where the machine lets the test mount one."""
    import shutil
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("this machine does not let the test mount a file system")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_write_backup_or_import_on_a_full_disk_says_so_and_exits_3(
    cli: Cli, small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real full disk: SQLite's "database or disk is full" and the OS's ENOSPC."""
    ledger = small_disk / "ledger.db"
    monkeypatch.setenv("REFUNDCTL_DB", str(ledger))
    assert cli("order", "add", "A-1", "-m", "ebay", "--total", "5").exit_code == 0
    rows = "".join(f"ebay,F-{n},5,{'x' * 200}\n" for n in range(3000))
    orders = tmp_path / "orders.csv"
    orders.write_text("marketplace,order_no,total,title\n" + rows)
    for args in (
        ("order", "import", str(orders)),
        ("backup", str(small_disk / "backup.zip")),
    ):
        (small_disk / "filler").write_bytes(b"")
        with contextlib.suppress(OSError), (small_disk / "filler").open("wb") as filler:
            while True:  # whatever room is left
                filler.write(bytes(4096))
                filler.flush()
        run = cli(*args)
        assert run.exit_code == 3, (args, run.stderr)
        line = one_line(run.stderr)
        assert "no space left on the device that holds" in line or "may be full" in line, line
        (small_disk / "filler").unlink()
        listed = cli("order", "list", "--json")
        assert [o["order"] for o in listed.json()["orders"]] == ["A-1"]  # the ledger as it was


def test_dev_null_as_the_config_is_no_config(
    cli: Cli, a_ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFUNDCTL_CONFIG", "/dev/null")
    assert cli("status").exit_code == 0


def test_a_backup_leaves_another_programs_hidden_files_alone(
    cli: Cli, a_ledger: Path, tmp_path: Path
) -> None:
    """The sweep of killed backups' leftovers took any `.NAME.DIGITS.db` (and exit 70 for a
    number past any process id)."""
    folder = tmp_path / "backups"
    folder.mkdir()
    theirs = [folder / ".ledger.2025.db", folder / ".x.99999999999.db", folder / ".a.1.part"]
    for path in theirs:
        path.write_text("someone else's")
    assert cli("backup", str(folder / "b.zip")).exit_code == 0
    assert all(path.exists() for path in theirs)


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("schema", "trigger", "command"),
    [
        # An upgrade (m002 -> newest) would run the trigger inside its own transaction.
        ("m002_create_deadline_index", "AFTER UPDATE ON deadline_basis", ("order", "list")),
        (
            "m002_create_deadline_index",
            "AFTER UPDATE ON deadline_basis",
            ("order", "add", "Z", "-m", "ebay", "--total", "3"),
        ),
        # A read that finishes storing the deadlines would run it.
        ("m003_entered_deadlines_and_closed_orders", "AFTER INSERT ON deadlines", ("status",)),
    ],
)
def test_a_trigger_of_the_files_own_never_runs_not_even_in_an_upgrade(
    cli: Cli, ledger_path: Path, schema: str, trigger: str, command: tuple[str, ...]
) -> None:
    import shutil

    shutil.copyfile(FIXTURES / f"ledger-{schema}.db", ledger_path)
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    conn.execute("UPDATE deadline_basis SET basis = ''")  # the stored deadlines to be redone
    conn.execute(f"CREATE TRIGGER evil {trigger} BEGIN UPDATE orders SET seller = 'pwned'; END")
    conn.close()
    run = cli(*command)
    assert run.exit_code in (0, 3), run.stderr
    conn = sqlite3.connect(ledger_path)
    sellers = {row[0] for row in conn.execute("SELECT seller FROM orders")}
    conn.close()
    assert "pwned" not in sellers, (command, run.stderr)
