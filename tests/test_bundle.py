"""The case file: one zip the buyer can hand the marketplace, and trust byte for byte.

``bundle DISPUTE`` writes ``case.md``, ``case.json``, the evidence under safe numbered names and a
``SHA256SUMS`` that covers every other member; the same ledger (and ``--as-of``) gives the same
bytes. A hypothesis test throws every kind of file name at the member namer and the tables: no
name may escape the zip's folder, leave ASCII, or break a row.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import string
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from refundctl.records import EvidenceRecord
from refundctl.render.bundle import code, md, member_name
from tests.conftest import Cli, Run, snapshot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x01" * 40
SAFE_MEMBER = re.compile(r"evidence/\d{2,}-[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]{1,8}")


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


@pytest.fixture
def case(story: Cli, tmp_path: Path) -> Cli:
    """Dispute 1 with two photos (one with an awkward name), a link, a chat and a counter."""
    box = tmp_path / "Box as delivered (front).JPG"
    box.write_bytes(JPEG)
    label = tmp_path / "étiquette\nlabel.png"
    label.write_bytes(PNG)
    ok(story("attach", "1", str(box), "--note", "tape | unbroken", "--on", "2026-11-22T10:00"))
    ok(story("attach", "1", str(label), "--kind", "screenshot", "--on", "2026-11-22T10:05"))
    ok(story("attach", "1", "--url", "https://shop.example/item/1?a=b_c", "--on", "2026-11-22"))
    ok(
        story(
            "attach",
            "1",
            "--message",
            "We can refund 8 USD",
            "--from",
            "seller",
            "--on",
            "2026-11-24",
        )
    )
    ok(story("respond", "1", "seller-offers", "8.00", "--on", "2026-11-24T09:00"))
    ok(story("respond", "1", "counter", "10.00", "--on", "2026-11-25T09:00"))
    return story


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_bundle_holds_the_whole_case(
    case: Cli, tmp_path: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(ledger_path)
    run = ok(case("bundle", "1"))
    assert run.stdout == (
        "Wrote refundctl-dispute-1.zip:\n  case.md, case.json, 2 evidence files and SHA256SUMS.\n"
    )
    assert snapshot(ledger_path) == before  # bundling only reads
    found = members(tmp_path / "refundctl-dispute-1.zip")
    assert list(found) == [
        "case.md",
        "case.json",
        "evidence/01-box-as-delivered-front.jpg",
        "evidence/02-etiquette-label.png",
        "SHA256SUMS",
    ]
    assert found["evidence/01-box-as-delivered-front.jpg"] == JPEG
    assert found["evidence/02-etiquette-label.png"] == PNG

    document = json.loads(found["case.json"])
    assert document["order"]["order"] == "8101234567890123"
    assert document["dispute"]["id"] == 1 and document["dispute"]["requested"] == "10.00"
    assert document["as_of"] == "2026-11-26T12:00:00+00:00"
    assert [f["member"] for f in document["files"]] == [
        "evidence/01-box-as-delivered-front.jpg",
        "evidence/02-etiquette-label.png",
    ]
    assert all(f["included"] for f in document["files"])
    assert [e["kind"] for e in document["dispute"]["events"]] == [
        "open",
        "evidence",
        "evidence",
        "evidence",
        "message",
        "seller-offers",
        "counter",
    ]

    text = found["case.md"].decode()
    for words in (
        "# Dispute 1: order 8101234567890123 on AliExpress",
        "- **Seller:** Best Store",
        "- **Total paid:** $45.90",
        "- **What is wrong:** HDMI adapter missing",
        "- **Asked:** $10.00, 21.8% of the $45.90 paid",
        "| 2026-11-24 09:00 UTC | seller | refund | $8.00 | declined |",
        "| 2026-11-25 09:00 UTC | buyer | refund | $10.00 | open |",
        "| 2026-11-24 00:00 UTC | seller | sent a message |  | We can refund 8 USD |",
        "| 2026-11-22 10:00 UTC | buyer | attached evidence |  | "
        "#1 Box as delivered (front).JPG; tape \\| unbroken |",
        "- `evidence/01-box-as-delivered-front.jpg`: photo, image/jpeg, 50 bytes",
        "  - original name: `étiquette label.png`",
        f"  - SHA-256: `{hashlib.sha256(PNG).hexdigest()}`",
        "- listing: `https://shop.example/item/1?a=b_c`",
    ):
        assert words in text, (words, text)


def test_the_manifest_covers_every_other_member_and_matches(case: Cli, tmp_path: Path) -> None:
    target = tmp_path / "case.zip"
    ok(case("bundle", "1", "-o", str(target)))
    found = members(target)
    manifest = found.pop("SHA256SUMS").decode("ascii")
    lines = manifest.splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    listed = {}
    for line in lines:
        digest, name = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()  # type: ignore[union-attr]
        listed[name] = digest
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in found.items()}


def test_two_bundles_of_one_ledger_are_byte_identical(case: Cli, tmp_path: Path) -> None:
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    ok(case("bundle", "1", "-o", str(first)))
    ok(case("bundle", "1", "-o", str(second)))
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
            assert not info.filename.startswith("/") and ".." not in info.filename
    # The clock alone changes nothing: a day later, with no deadline passed, the same bytes.
    later = tmp_path / "later.zip"
    ok(case("--as-of", "2026-11-27T12:00:00+00:00", "bundle", "1", "-o", str(later)))
    assert later.read_bytes() == first.read_bytes()
    # Once the seller's time is up, the case file says so, dated when it happened.
    overdue = tmp_path / "overdue.zip"
    ok(case("--as-of", "2026-12-10", "bundle", "1", "-o", str(overdue)))
    document = json.loads(members(overdue)["case.json"])
    seller, step_in = document["dispute"]["deadlines"]
    assert seller["name"] == "seller_response" and seller["overdue"] is True
    # AliExpress took the dispute over on Dec 7: the case last changed then.
    assert step_in["name"] == "negotiation_ends" and step_in["overdue"] is True
    assert document["as_of"] == step_in["due"]
    assert json.loads(members(first)["case.json"])["as_of"] == "2026-11-26T12:00:00+00:00"


def test_an_existing_file_is_kept_unless_forced(case: Cli, tmp_path: Path) -> None:
    target = tmp_path / "case.zip"
    target.write_bytes(b"the buyer's other file")
    run = case("bundle", "1", "-o", str(target))
    assert run.exit_code == 2
    assert run.stderr.startswith("error: ") and "exists already; use --force" in run.stderr
    assert target.read_bytes() == b"the buyer's other file"
    ok(case("bundle", "1", "-o", str(target), "--force"))
    assert zipfile.is_zipfile(target)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("no-such-folder/case.zip", "there is no folder"),
        (".", "is a directory"),
    ],
)
def test_a_target_that_cannot_be_written_is_refused(
    case: Cli, tmp_path: Path, where: str, says: str
) -> None:
    run = case("bundle", "1", "-o", str(tmp_path / where))
    assert run.exit_code == 2 and says in run.stderr, run.stderr


def test_an_unknown_dispute_writes_nothing(
    story: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = story("bundle", "9")
    assert run.exit_code == 2 and "unknown dispute 9" in run.stderr
    assert not (tmp_path / "refundctl-dispute-9.zip").exists()


def test_a_lost_file_is_left_out_and_said(case: Cli, tmp_path: Path, ledger_path: Path) -> None:
    store = ledger_path.with_name(ledger_path.stem + ".evidence")
    (store / hashlib.sha256(PNG).hexdigest()[:2] / hashlib.sha256(PNG).hexdigest()).unlink()
    target = tmp_path / "case.zip"
    run = ok(case("bundle", "1", "-o", str(target), "--json"))
    assert "evidence #2 étiquette" in run.stderr and "left out of the bundle" in run.stderr
    found = members(target)
    assert "evidence/02-etiquette-label.png" not in found
    assert [m["name"] for m in run.json()["members"]] == list(found)
    files = json.loads(found["case.json"])["files"]
    assert [(f["included"], f["member"]) for f in files] == [
        (True, "evidence/01-box-as-delivered-front.jpg"),
        (False, None),
    ]
    assert "**not included**" in found["case.md"].decode()


def test_a_stored_file_changed_under_the_bundle_leaves_no_zip(
    case: Cli, tmp_path: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before and the copy are two reads; the copy checks the hash again."""
    from refundctl.ledger.evidence import EvidenceStore

    real_open = EvidenceStore.open
    monkeypatch.setattr(
        EvidenceStore, "open", lambda self, sha: io.BytesIO(real_open(self, sha).read() + b"!")
    )
    target = tmp_path / "case.zip"
    run = case("bundle", "1", "-o", str(target))
    assert run.exit_code == 3 and "changed while it was bundled" in run.stderr
    assert not target.exists()
    assert list(tmp_path.glob(".case.zip.*")) == []


# -- names, however strange ----------------------------------------------------------------------

NAMES = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.printable + "../\\\x00\x1b\u202e\u200b…é中文", max_size=60),
    st.sampled_from(
        [
            "../../etc/passwd",
            "/absolute/photo.jpg",
            "C:\\Users\\me\\photo.jpg",
            "..",
            ".",
            "",
            ".hidden",
            "photo.",
            "a" * 300 + ".jpg",
            "\x1b[2J\x1b[31mred.png",
            "evil\u202egpj.exe",
            "con.jpg",
            "tab\there.jpg",
        ]
    ),
)
MEDIA = st.sampled_from([None, "image/jpeg", "image/png", "application/octet-stream", "text/plain"])


@given(name=NAMES, number=st.integers(1, 1500), media_type=MEDIA)
def test_no_file_name_makes_an_unsafe_member(
    name: str, number: int, media_type: str | None
) -> None:
    member = member_name(number, max(2, len(str(number))), name, media_type)
    assert SAFE_MEMBER.fullmatch(member), member
    assert member.isascii() and ".." not in member and len(member) < 80
    assert member.startswith(f"evidence/{number:02d}-")


def _evidence_table(names: list[str]) -> str:
    from refundctl.render.detail import _evidence

    moment = datetime(2026, 11, 22, 10, tzinfo=UTC)
    records = tuple(
        EvidenceRecord(
            id=index,
            kind="photo",
            name=name,
            sha256="ab" * 32,
            size=1234,
            media_type="image/jpeg",
            url=None,
            note=None,
            added=moment,
            recorded=moment,
            present=True,
            intact=index % 2 == 0,
        )
        for index, name in enumerate(names, start=1)
    )

    class Record:  # what _evidence reads of a dispute record
        evidence = records

    out = io.StringIO()
    Console(width=80, file=out, color_system=None).print(
        _evidence(Record, UTC, moment),  # type: ignore[arg-type]
        crop=False,
    )
    return out.getvalue()


@given(names=st.lists(NAMES, min_size=1, max_size=3))
def test_no_file_name_breaks_the_evidence_table(names: list[str]) -> None:
    screen = _evidence_table(names)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", screen), repr(screen)
    # Columns on screen, not characters: a combining mark takes none, a wide character two.
    assert max(cell_len(line) for line in screen.splitlines()) <= 80, screen
    # Every row is there, in order: its number, and its stored state.
    numbers = [int(m) for m in re.findall(r"^\s+(\d+)\s+photo", screen, re.MULTILINE)]
    assert numbers == list(range(1, len(names) + 1)), screen


@given(name=NAMES)
def test_no_file_name_breaks_the_case_file(name: str) -> None:
    for shown in (md(name), code(name)):
        assert "\n" not in shown and "\r" not in shown
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), repr(shown)
    assert "|" not in md(name).replace("\\|", "")  # a table cell stays one cell
    fence = re.match(r"`+", code(name))
    assert fence is not None and code(name).endswith(fence.group())
