"""Evidence the buyer can trust: what attaching refuses, what it keeps once, and ``verify``.

Issue 4: a file is stored once by SHA-256 beside the ledger; attaching follows a link to a
regular file and refuses what is not one (a directory, a device, a pipe, without blocking on it;
a broken link), an empty file and one over the size limit, each with exit 2, one line and the
ledger unchanged. The same content attached to the same dispute twice is said, not recorded.
``status DISPUTE`` shows whether each stored file is present and intact; ``verify`` re-hashes
them all, checks SQLite's own integrity, exits 1 naming each missing or altered file and never
writes to the ledger.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from refundctl.errors import BadInput
from refundctl.ledger.evidence import EvidenceStore, sniff
from tests.conftest import Cli, Run, snapshot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x01" * 40


def store_of(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.stem + ".evidence")


def stored_files(ledger_path: Path) -> list[Path]:
    root = store_of(ledger_path)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def refused(run: Run) -> str:
    """Exit 2, one line on stderr starting 'error: ', nothing raw reaching the terminal."""
    assert run.exit_code == 2, (run.exit_code, run.stdout, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr and "\x1b" not in run.stderr
    return lines[0]


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


@contextmanager
def no_hang(seconds: int = 5) -> Iterator[None]:
    """Fail, instead of hanging the suite, if the block blocks (on a FIFO, say)."""

    def alarm(signum: int, frame: object) -> None:
        raise TimeoutError("blocked")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- what attaching refuses ----------------------------------------------------------------------


def _refusals(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each thing that is not a storable file, and the words its refusal must use."""
    folder = tmp_path / "photos"
    folder.mkdir()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    dangling = tmp_path / "latest.jpg"
    dangling.symlink_to(tmp_path / "deleted.jpg")
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    link_to_folder = tmp_path / "album"
    link_to_folder.symlink_to(folder)
    return {
        "directory": (folder, "is a directory"),
        "link to a directory": (link_to_folder, "is a directory"),
        "empty file": (empty, "is empty"),
        "broken link": (dangling, "is a broken link: it points to"),
        "link loop": (loop, "cannot read"),
        "missing file": (tmp_path / "nope.jpg", "no such file"),
        "character device": (Path(os.devnull), "a character device, not a regular file"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "directory",
        "link to a directory",
        "empty file",
        "broken link",
        "link loop",
        "missing file",
        "character device",
    ],
)
def test_what_is_not_a_file_is_refused_and_nothing_changes(
    story: Cli, ledger_path: Path, tmp_path: Path, case: str
) -> None:
    path, words = _refusals(tmp_path)[case]
    before = snapshot(ledger_path)
    line = refused(story("attach", "1", str(path)))
    assert words in line, line
    assert snapshot(ledger_path) == before
    assert stored_files(ledger_path) == []
    # The same refusal, the same way, where evidence comes with a move.
    line = refused(story("escalate", "1", "--evidence", str(path)))
    assert words in line, line
    assert snapshot(ledger_path) == before


def test_a_file_over_the_configured_limit_is_refused(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "config.toml").write_text('timezone = "UTC"\nevidence_max_mib = 1\n')
    video = tmp_path / "unboxing.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (1024 * 1024))
    before = snapshot(ledger_path)
    line = refused(story("attach", "1", str(video)))
    assert "larger than the 1 MiB limit" in line and "evidence_max_mib" in line
    assert snapshot(ledger_path) == before
    assert stored_files(ledger_path) == []
    exactly = tmp_path / "exactly.bin"
    exactly.write_bytes(b"\x01" * (1024 * 1024))
    ok(story("attach", "1", str(exactly)))


def test_the_default_limit_is_100_mib_and_is_checked_before_reading(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.mov"
    with huge.open("wb") as out:  # sparse: 100 MiB + 1 that take no disk and no time
        out.truncate(100 * 1024 * 1024 + 1)
    before = snapshot(ledger_path)
    assert "larger than the 100 MiB limit" in refused(story("attach", "1", str(huge)))
    assert snapshot(ledger_path) == before


def _attach_in_a_subprocess(
    ledger_path: Path, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REFUNDCTL_DB": str(ledger_path),
        "REFUNDCTL_CONFIG": str(tmp_path / "config.toml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "refundctl", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


def test_a_fifo_and_a_link_to_one_are_refused_without_blocking(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "camera-pipe"
    os.mkfifo(fifo)
    link = tmp_path / "photo.jpg"
    link.symlink_to(fifo)
    before = snapshot(ledger_path)
    # A real process with a deadline: a FIFO must be refused, not opened and waited on.
    run = _attach_in_a_subprocess(ledger_path, tmp_path, "attach", "1", str(fifo), str(link))
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "a pipe (FIFO), not a regular file" in run.stderr
    with no_hang():
        assert "pipe" in refused(story("attach", "1", str(link)))
    assert snapshot(ledger_path) == before


def test_a_fifo_swapped_in_after_the_check_is_still_not_read(tmp_path: Path) -> None:
    """The check and the copy are two steps; a pipe put there between them must not hang."""
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    store = EvidenceStore(tmp_path / "store")
    store.check_readable = lambda source: None  # type: ignore[method-assign]
    with no_hang(), pytest.raises(BadInput, match=r"pipe \(FIFO\), not a regular file"):
        store.put(fifo)
    assert not any((tmp_path / "store").rglob("*")) if (tmp_path / "store").exists() else True


# -- what attaching keeps ------------------------------------------------------------------------


def test_a_link_to_a_file_stores_the_content_under_the_link_name(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    original = tmp_path / "IMG_0001.dat"  # the name says nothing; the content says PNG
    original.write_bytes(PNG)
    link = tmp_path / "box as delivered.txt"
    link.symlink_to(original)
    ok(story("attach", "1", str(link)))
    original.unlink()  # the ledger no longer needs it
    (evidence,) = ok(story("status", "1", "--json")).json()["evidence"]
    assert evidence["name"] == "box as delivered.txt"
    assert evidence["media_type"] == "image/png" and evidence["kind"] == "photo"
    assert evidence["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert evidence["present"] is True and evidence["intact"] is True
    (stored,) = stored_files(ledger_path)
    assert not stored.is_symlink() and stored.read_bytes() == PNG


def test_the_same_content_twice_on_one_dispute_is_said_not_recorded(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    first, again = tmp_path / "box.jpg", tmp_path / "box (1).jpg"
    first.write_bytes(JPEG)
    again.write_bytes(JPEG)
    ok(story("attach", "1", str(first), "--note", "as delivered"))
    before = snapshot(ledger_path)
    run = ok(story("attach", "1", str(again)))
    assert run.stdout == "Nothing new attached to dispute 1 (1 piece of evidence in all).\n"
    assert run.stderr.startswith("warning: box (1).jpg is already attached to dispute 1 as ")
    assert "evidence #1 (box.jpg, the same content); nothing new was recorded" in run.stderr
    assert snapshot(ledger_path) == before
    # In a batch, the new file is recorded and the repeat noted.
    other = tmp_path / "label.png"
    other.write_bytes(PNG)
    run = ok(story("attach", "1", str(first), str(other)))
    assert run.stdout == "Attached 1 file to dispute 1 (2 pieces of evidence in all).\n"
    assert run.stderr.count("warning: ") == 1
    # A link twice is the same.
    url = "https://www.aliexpress.com/item/1005001.html"
    ok(story("attach", "1", "--url", url))
    before = snapshot(ledger_path)
    run = ok(story("attach", "1", "--url", url, "--json"))
    assert "already attached to dispute 1 as evidence #3" in run.stderr
    assert len(run.json()["evidence"]) == 3
    assert snapshot(ledger_path) == before


def test_evidence_given_with_a_move_is_not_recorded_twice(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "box.jpg"
    photo.write_bytes(JPEG)
    ok(story("attach", "1", str(photo)))
    run = ok(story("escalate", "1", "--evidence", str(photo), "--evidence", str(photo)))
    assert run.stderr.count("box.jpg is already attached to dispute 1 as evidence #1") == 2
    dispute = ok(story("status", "1", "--json")).json()
    assert dispute["state"] == "escalated" and len(dispute["evidence"]) == 1
    ok(story("order", "add", "E-1", "-m", "ebay", "--total", "20", "--ordered", "2026-11-01"))
    run = ok(
        story(
            "open",
            "E-1",
            "--reason",
            "damaged",
            "--full",
            "--evidence",
            str(photo),
            "--evidence",
            str(photo),
            "--json",
        )
    )
    assert len(run.json()["evidence"]) == 1 and run.stderr.count("warning: ") == 1


def test_one_photo_on_two_disputes_is_stored_once(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    ok(story("order", "add", "E-1", "-m", "ebay", "--total", "20", "--ordered", "2026-11-01"))
    ok(story("open", "E-1", "--reason", "damaged", "--full", "--on", "2026-11-20"))
    photo = tmp_path / "box.jpg"
    photo.write_bytes(JPEG)
    ok(story("attach", "1", str(photo)))
    ok(story("attach", "2", str(photo)))
    assert [p.name for p in stored_files(ledger_path)] == [hashlib.sha256(JPEG).hexdigest()]
    for dispute in ("1", "2"):
        assert len(ok(story("status", dispute, "--json")).json()["evidence"]) == 1


def test_a_name_that_is_not_utf8_or_holds_escape_codes_is_kept_and_shown_escaped(
    story: Cli, tmp_path: Path
) -> None:
    raw = os.fsdecode(b"caf\xe9 \x1b[31mred\x07.jpg")  # Latin-1 bytes and terminal codes
    photo = tmp_path / raw
    photo.write_bytes(JPEG)
    ok(story("attach", "1", str(photo)))
    (evidence,) = ok(story("status", "1", "--json")).json()["evidence"]
    assert evidence["name"] == "caf\\xe9 \x1b[31mred\x07.jpg"
    screen = ok(story("status", "1")).stdout
    assert "\x1b" not in screen and "\x07" not in screen
    assert "caf\\xe9" in screen and "\\x1b[31mred\\x07.jpg" in screen


def test_kind_and_note_are_refused_with_a_message(story: Cli, ledger_path: Path) -> None:
    before = snapshot(ledger_path)
    line = refused(story("attach", "1", "--message", "hi", "--from", "seller", "--kind", "chat"))
    assert "--kind goes with FILE or --url" in line
    line = refused(story("attach", "1", "--message", "hi", "--from", "seller", "--note", "x"))
    assert "--note goes with FILE or --url" in line
    assert snapshot(ledger_path) == before


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00", "image/heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00", "image/avif"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00", "video/3gpp"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\x82\x84webm", "video/webm"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"BM\x36\x00\x00\x00\x00\x00\x00\x00", "image/bmp"),
        (b"BMW service receipt, 12 Nov", "text/plain"),
        (b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.text", None),
        (b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml word/document.xml", None),
        (b"<!DOCTYPE html><html><title>Listing</title>", "text/html"),
        (b"From: seller@example.com\nSubject: refund\n\nHello", "message/rfc822"),
        ("Bonjour, le colis est arrivé".encode()[:27], "text/plain"),  # cut inside "é"
        (b"\x00\x01\x02\x03", "application/octet-stream"),
    ],
)
def test_the_media_type_comes_from_the_content(head: bytes, media_type: str | None) -> None:
    found = sniff(head)
    if media_type is None:
        assert found.startswith("application/vnd.o"), found
    else:
        assert found == media_type


# -- status shows whether each stored file is intact ---------------------------------------------


def test_status_shows_each_file_present_and_intact(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    box, label = tmp_path / "box.jpg", tmp_path / "label.png"
    box.write_bytes(JPEG)
    label.write_bytes(PNG)
    ok(story("attach", "1", str(box), str(label)))
    ok(story("attach", "1", "--url", "https://shop.example/item/1"))
    flags = [(e["present"], e["intact"]) for e in story("status", "1", "--json").json()["evidence"]]
    assert flags == [(True, True), (True, True), (None, None)]
    assert ok(story("status", "1")).stdout.count("intact") == 2

    stored = {p.name: p for p in stored_files(ledger_path)}
    altered = stored[hashlib.sha256(JPEG).hexdigest()]
    altered.write_bytes(JPEG[:-1] + b"\x02")  # one byte changed
    stored[hashlib.sha256(PNG).hexdigest()].unlink()
    flags = [(e["present"], e["intact"]) for e in story("status", "1", "--json").json()["evidence"]]
    assert flags == [(True, False), (False, False), (None, None)]
    screen = ok(story("status", "1")).stdout
    assert "ALTERED" in screen and "MISSING" in screen


# -- verify ------------------------------------------------------------------------------------


@pytest.fixture
def two_files(story: Cli, tmp_path: Path) -> Cli:
    """Dispute 1 with a photo and a label; dispute 2 (another order) with the same photo."""
    (tmp_path / "box.jpg").write_bytes(JPEG)
    (tmp_path / "label.png").write_bytes(PNG)
    ok(story("attach", "1", str(tmp_path / "box.jpg"), str(tmp_path / "label.png")))
    ok(story("order", "add", "E-1", "-m", "ebay", "--total", "20", "--ordered", "2026-11-01"))
    ok(
        story(
            "open", "E-1", "--reason", "damaged", "--full", "--evidence", str(tmp_path / "box.jpg")
        )
    )
    return story


def file_state(ledger_path: Path) -> dict[str, bytes]:
    """Every byte of the ledger and its side files, to prove a command wrote nothing."""
    return {
        p.name: p.read_bytes()
        for p in ledger_path.parent.iterdir()
        if p.name.startswith(ledger_path.name)
    }


def test_verify_says_all_is_intact_and_writes_nothing(two_files: Cli, ledger_path: Path) -> None:
    before = file_state(ledger_path)
    run = ok(two_files("verify"))
    assert "  intact: SQLite's checks pass, 2 disputes replayed.\n" in run.stdout
    assert "  2 stored files, all present and intact.\n" in run.stdout
    assert run.stdout.endswith("All intact.\n")
    report = ok(two_files("verify", "--json")).json()
    assert report["ok"] is True and report["problems"] == []
    assert report["database"] == {"ok": True, "problems": []}
    assert sorted(f["status"] for f in report["files"]) == ["intact", "intact"]
    shared = next(f for f in report["files"] if f["sha256"] == hashlib.sha256(JPEG).hexdigest())
    assert [(e["dispute"], e["name"]) for e in shared["evidence"]] == [
        (1, "box.jpg"),
        (2, "box.jpg"),
    ]
    assert file_state(ledger_path) == before


def test_verify_catches_a_changed_byte_and_a_deleted_file(
    two_files: Cli, ledger_path: Path
) -> None:
    stored = {p.name: p for p in stored_files(ledger_path)}
    photo = stored[hashlib.sha256(JPEG).hexdigest()]
    photo.write_bytes(JPEG[:10] + b"\xff" + JPEG[11:])
    stored[hashlib.sha256(PNG).hexdigest()].unlink()
    before = file_state(ledger_path)
    run = two_files("verify")
    assert run.exit_code == 1, run.stderr
    out = run.stdout
    assert "2 stored files; 1 missing, 1 altered:" in out
    assert "ALTERED  dispute 1 evidence #1: box.jpg" in out
    assert "ALTERED  dispute 2 evidence #3: box.jpg" in out
    assert "MISSING  dispute 1 evidence #2: label.png" in out
    assert "content changed: expected " + hashlib.sha256(JPEG).hexdigest()[:12] in out
    assert out.endswith("2 problems found.\n")
    lines = [line for line in out.splitlines() if not line.startswith(("Ledger:", "Evidence:"))]
    assert max(len(line) for line in lines) <= 80, out
    report = two_files("verify", "--json").json()
    assert report["ok"] is False and len(report["problems"]) == 2
    assert {f["status"] for f in report["files"]} == {"altered", "missing"}
    assert file_state(ledger_path) == before


def test_attaching_the_original_again_restores_a_lost_copy(
    two_files: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    for path in stored_files(ledger_path):
        path.write_bytes(b"garbage")
    assert two_files("verify").exit_code == 1
    before = snapshot(ledger_path)
    run = ok(two_files("attach", "1", str(tmp_path / "box.jpg"), str(tmp_path / "label.png")))
    assert run.stderr.count("is now restored") == 2
    assert snapshot(ledger_path) == before  # nothing new recorded
    assert ok(two_files("verify")).stdout.endswith("All intact.\n")


def test_a_missing_evidence_folder_is_reported_not_a_crash(
    two_files: Cli, ledger_path: Path
) -> None:
    store_of(ledger_path).rename(ledger_path.with_name("moved-away"))
    run = two_files("verify")
    assert run.exit_code == 1 and run.stderr == ""
    assert "  the folder is missing, and the ledger names 2 stored files:" in run.stdout
    report = two_files("verify", "--json").json()
    assert report["evidence_dir_exists"] is False
    assert [f["status"] for f in report["files"]] == ["missing", "missing"]


def test_a_ledger_with_no_evidence_and_no_folder_is_intact(story: Cli) -> None:
    run = ok(story("verify"))
    assert "0 stored files, all present and intact." in run.stdout


def test_stray_files_in_the_folder_are_listed_but_not_problems(
    two_files: Cli, ledger_path: Path
) -> None:
    (store_of(ledger_path) / ".incoming-x1y2").write_bytes(b"half a photo")
    run = ok(two_files("verify"))
    assert "named by no evidence (harmless)" in run.stdout and ".incoming-x1y2" in run.stdout
    assert two_files("verify", "--json").json()["unreferenced"] == [".incoming-x1y2"]


def test_verify_catches_a_state_its_events_do_not_explain(story: Cli, ledger_path: Path) -> None:
    conn = sqlite3.connect(ledger_path)
    with conn:
        conn.execute("UPDATE disputes SET state = 'refunded' WHERE id = 1")
    conn.close()
    run = story("verify")
    assert run.exit_code == 1
    assert "dispute 1: the ledger says refunded, its events say awaiting_seller" in run.stdout


def test_verify_reports_sqlite_damage(story: Cli, ledger_path: Path) -> None:
    conn = sqlite3.connect(ledger_path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    (index_page,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'disputes_one_active_per_item'"
    ).fetchone()
    conn.close()
    data = bytearray(ledger_path.read_bytes())
    start = (index_page - 1) * page_size
    data[start : start + page_size] = b"\x0a" + bytes(page_size - 1)  # an index page, emptied
    ledger_path.write_bytes(bytes(data))
    run = story("verify")
    assert run.exit_code == 1, (run.exit_code, run.stdout, run.stderr)
    assert "SQLite integrity check: " in run.stdout, run.stdout
    assert not run.stdout.endswith("All intact.\n")
    report = story("verify", "--json").json()
    assert report["ok"] is False and report["database"]["ok"] is False


def test_verify_without_a_ledger_is_refused(cli: Cli, ledger_path: Path) -> None:
    run = cli("verify")
    assert run.exit_code == 3  # the ledger cannot be used: there is none
    assert f"no ledger at {ledger_path}" in run.stderr
    assert not ledger_path.exists()
