"""``export``: the whole ledger for scripts, flat tables for spreadsheets, and round trips.

Issue 5: JSON is the whole ledger in a versioned shape (orders; disputes with their offers,
evidence and events); CSV and JSON Lines give one flat table per ``--what``; ``-o FILE`` writes
atomically and takes its format from the extension. CSV cells a spreadsheet would run as a
formula are neutralised with a leading quote, and ``order import`` takes it away again, so an
orders CSV imports back unchanged: export, import into a new ledger, export again gives the same
bytes, for the demo ledger, for hostile text, and for whatever hypothesis makes up.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.importing import neutralise, unneutralise
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import Ledger
from refundctl.policies import policy_for
from refundctl.records import Item, Order
from refundctl.render.exporting import to_csv
from tests.conftest import NOW, Cli, Run, invoke, snapshot

ORDER_COLUMNS = [
    "marketplace",
    "order_no",
    "seller",
    "title",
    "total",
    "currency",
    "ordered",
    "shipped",
    "expected_by",
    "received",
    "protection_ends",
    "payment",
    "items",
]
DISPUTE_COLUMNS = [
    "id",
    "marketplace",
    "order_no",
    "item",
    "reason",
    "state",
    "waiting_on",
    "currency",
    "requested",
    "offer",
    "agreed",
    "refunded",
    "credit",
    "case_ref",
    "opened",
    "next_deadline",
    "next_due",
    "description",
]
EVENT_COLUMNS = [
    "dispute_id",
    "event_id",
    "marketplace",
    "order_no",
    "at",
    "recorded",
    "actor",
    "kind",
    "amount",
    "currency",
    "note",
    "tracking",
    "retracts",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ["=SUM(A1)", "+1", "@x", "'q", "-5", '=HYPERLINK("http://x","y")', "a,b", 'say "hi"']


@pytest.fixture(autouse=True, scope="module")
def _command_built_once() -> Iterator[None]:
    """Typer's runner rebuilds the command from the app on every call, three quarters of an
    in-process run; build it once for this module (the runner and the group are unchanged)."""
    command = typer.main.get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda _app: command)
        yield


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo ledger, built once: export only reads it (and must leave it as it was)."""
    folder = tmp_path_factory.mktemp("demo")
    config = folder / "config.toml"
    config.write_text('timezone = "UTC"\n')
    path = folder / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REFUNDCTL_CONFIG", str(config))
        patch.setenv("REFUNDCTL_NOW", NOW)
        patch.setenv("HOME", str(folder / "home"))
        result = CliRunner().invoke(app, ["--db", str(path), "demo"])
    assert result.exit_code == 0, result.output
    yield path


@pytest.fixture
def demo(cli: Cli, demo_db: Path) -> Cli:
    """``cli`` pointed at the demo ledger."""

    def run(*args: str, input: str | None = None) -> Run:
        return cli("--db", str(demo_db), *args, input=input)

    return run


# -- the whole ledger as JSON ------------------------------------------------------------------


def test_json_is_the_whole_ledger_in_a_versioned_shape(demo: Cli, demo_db: Path) -> None:
    before = snapshot(demo_db)
    document = ok(demo("export")).json()
    assert document["format"] == "refundctl-export"
    assert document["version"] == 1
    assert document["exported"] == NOW
    assert set(document) >= {"format", "version", "exported", "orders", "disputes"}
    assert len(document["orders"]) == 11 and len(document["disputes"]) == 10
    order = document["orders"][0]
    assert set(order) >= {
        "order",
        "marketplace",
        "seller",
        "title",
        "total",
        "currency",
        "items",
        "ordered",
        "shipped",
        "expected_by",
        "received",
        "protection_ends",
        "payment",
    }
    assert order["items"] == [{"name": "USB-C hub", "quantity": 1, "price": "45.90"}]
    # Closed disputes are part of the record too.
    states = {d["state"] for d in document["disputes"]}
    assert {"refunded", "lost", "withdrawn", "cancelled", "awaiting_buyer"} <= states
    for dispute in document["disputes"]:
        assert {"id", "order", "state", "offers", "evidence", "events"} <= set(dispute)
        assert dispute["events"], dispute["id"]
        for event in dispute["events"]:
            assert {"at", "recorded", "actor", "kind", "amount", "note"} <= set(event)
    first = next(d for d in document["disputes"] if d["id"] == 1)
    assert [(o["actor"], o["amount"], o["outcome"]) for o in first["offers"]] == [
        ("buyer", "12.50", "declined"),
        ("seller", "8.00", "open"),
    ]
    evidence = first["evidence"][0]
    assert {"id", "kind", "name", "sha256", "size", "media_type", "note", "added"} <= set(evidence)
    assert len(evidence["sha256"]) == 64
    assert first["events"][0]["kind"] == "open"
    assert snapshot(demo_db) == before  # export only reads


def test_json_export_is_the_same_however_it_is_asked_for(demo: Cli, tmp_path: Path) -> None:
    plain = ok(demo("export")).stdout
    assert ok(demo("export", "--format", "json")).stdout == plain
    assert ok(demo("export", "-f", "json")).stdout == plain
    target = tmp_path / "ledger.json"
    run = ok(demo("export", "-o", str(target)))
    assert run.stdout == f"Wrote 11 orders and 10 disputes to {target}.\n"
    assert target.read_text(encoding="utf-8") == plain


def test_an_empty_ledger_exports_an_empty_document_and_writes_nothing(
    cli: Cli, empty_ledger: Path
) -> None:
    before = snapshot(empty_ledger)
    document = ok(cli("export")).json()
    assert (document["orders"], document["disputes"]) == ([], [])
    assert ok(cli("export", "-f", "csv")).stdout == ",".join(ORDER_COLUMNS) + "\n"
    assert ok(cli("export", "-f", "jsonl", "--what", "events")).stdout == ""
    assert snapshot(empty_ledger) == before


# -- flat tables -------------------------------------------------------------------------------


def test_csv_orders_is_one_row_per_order(demo: Cli) -> None:
    text = ok(demo("export", "--format", "csv", "--what", "orders")).stdout
    assert ok(demo("export", "--format", "csv")).stdout == text  # orders is the default
    assert header(text) == ORDER_COLUMNS
    table = rows(text)
    document = ok(demo("export")).json()
    assert [r["order_no"] for r in table] == [o["order"] for o in document["orders"]]
    first = table[0]
    assert first["marketplace"] == "aliexpress" and first["total"] == "45.90"
    assert first["currency"] == "USD" and first["items"] == "USB-C hub @45.90"
    assert first["received"] == "2026-11-20T12:00:00+00:00"
    assert first["expected_by"] == ""  # null is an empty cell


def test_csv_disputes_is_one_row_per_dispute(demo: Cli) -> None:
    text = ok(demo("export", "--format", "csv", "--what", "disputes")).stdout
    assert header(text) == DISPUTE_COLUMNS
    table = rows(text)
    document = ok(demo("export")).json()
    assert [int(r["id"]) for r in table] == [d["id"] for d in document["disputes"]]
    by_id = {r["id"]: r for r in table}
    assert by_id["1"]["state"] == "awaiting_buyer" and by_id["1"]["waiting_on"] == "buyer"
    assert by_id["1"]["requested"] == "12.50" and by_id["1"]["offer"] == "8.00"
    assert by_id["1"]["next_deadline"] == "negotiation_ends"  # AliExpress: no buyer_response
    assert by_id["1"]["credit"] == "false"
    assert by_id["8"]["state"] == "refunded" and by_id["8"]["refunded"] == "9.99"
    assert by_id["8"]["next_deadline"] == ""


def test_csv_events_is_one_row_per_event(demo: Cli) -> None:
    text = ok(demo("export", "--format", "csv", "--what", "events")).stdout
    assert header(text) == EVENT_COLUMNS
    table = rows(text)
    document = ok(demo("export")).json()
    assert len(table) == sum(len(d["events"]) for d in document["disputes"])
    first = table[0]
    assert (first["dispute_id"], first["event_id"], first["kind"]) == ("1", "1", "open")
    assert first["actor"] == "buyer" and first["amount"] == "12.50"
    assert first["order_no"] == "8101234567890123" and first["currency"] == "USD"


@pytest.mark.parametrize(
    ("what", "columns"),
    [("orders", ORDER_COLUMNS), ("disputes", DISPUTE_COLUMNS), ("events", EVENT_COLUMNS)],
)
def test_jsonl_is_one_object_per_line_with_the_csv_columns(
    demo: Cli, what: str, columns: list[str]
) -> None:
    text = ok(demo("export", "--format", "jsonl", "--what", what)).stdout
    assert text.endswith("\n")
    lines = text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert all(list(o) == columns for o in objects)
    table = rows(ok(demo("export", "--format", "csv", "--what", what)).stdout)
    assert len(objects) == len(table)
    # Nulls stay null in JSON Lines (an empty cell in CSV), numbers stay numbers.
    if what == "orders":
        assert objects[0]["expected_by"] is None and objects[0]["total"] == "45.90"
    if what == "disputes":
        assert objects[0]["id"] == int(table[0]["id"]) and objects[0]["credit"] is False
    # The same table as one JSON document.
    assert ok(demo("export", "--format", "json", "--what", what)).json() == {what: objects}


# -- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("out.csv", "marketplace,order_no,"),
        ("out.CSV", "marketplace,order_no,"),
        ("out.jsonl", '{"marketplace": "aliexpress", "order_no": '),
        ("out.json", '{\n  "format": "refundctl-export"'),
        ("out.ics", "BEGIN:VCALENDAR"),
        ("out.txt", '{\n  "format": "refundctl-export"'),
    ],
)
def test_the_format_follows_the_file_extension(
    demo: Cli, tmp_path: Path, name: str, starts: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / name
    run = ok(demo("export", "-o", str(target)))
    assert run.stdout.startswith("Wrote ") and run.stdout.endswith(f" to {target}.\n")
    assert target.read_text(encoding="utf-8").startswith(starts)
    assert [p.name for p in folder.iterdir()] == [name]  # no temporary file left


def test_a_pipe_or_a_device_is_written_into_not_replaced(demo: Cli, tmp_path: Path) -> None:
    """``-o /dev/null`` or a named pipe: renamed over, the target would become a plain file
    (as root, /dev/null itself)."""
    import stat
    import threading

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    ok(demo("export", "-f", "csv", "--what", "orders", "-o", str(pipe)))
    reader.join(timeout=10)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert header(received[0].decode()) == ORDER_COLUMNS
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pipe")] == []


def test_format_wins_over_the_extension(demo: Cli, tmp_path: Path) -> None:
    target = tmp_path / "orders.json"
    ok(demo("export", "-f", "csv", "-o", str(target)))
    assert header(target.read_text(encoding="utf-8")) == ORDER_COLUMNS


def test_the_file_is_the_same_as_stdout(demo: Cli, tmp_path: Path) -> None:
    for what in ("orders", "disputes", "events"):
        target = tmp_path / f"{what}.csv"
        ok(demo("export", "--what", what, "-o", str(target)))
        printed = ok(demo("export", "-f", "csv", "--what", what)).stdout
        # CSV rows end in CRLF (RFC 4180); the test runner's stdout reads them back as LF.
        assert target.read_bytes().replace(b"\r\n", b"\n") == printed.encode()


def test_an_existing_file_is_replaced_whole(demo: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "orders.csv"
    target.write_text("x" * 100_000)
    ok(demo("export", "-o", str(target)))
    assert header(target.read_text(encoding="utf-8")) == ORDER_COLUMNS
    assert "x" * 10 not in target.read_text(encoding="utf-8")
    assert [p.name for p in folder.iterdir()] == ["orders.csv"]


def test_a_failed_export_leaves_the_old_file_and_no_debris(cli: Cli, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    target = tmp_path / "out" / "orders.csv"
    target.parent.mkdir()
    target.write_text("the old export\n")
    run = cli("--db", str(damaged), "export", "-o", str(target))
    assert run.exit_code == 3, (run.stdout, run.stderr)
    assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
    assert target.read_text() == "the old export\n"
    assert [p.name for p in target.parent.iterdir()] == ["orders.csv"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("-o", "{tmp}"), "is a directory"),
        (("-o", "{tmp}/missing/out.csv"), "no such folder"),
        (("-f", "ics", "--what", "orders"), "--what"),
        (("-f", "xml"), "xml"),
        (("--what", "refunds"), "refunds"),
    ],
)
def test_bad_export_options_are_refused(
    demo: Cli, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    run = demo("export", *(a.format(tmp=tmp_path) for a in args))
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert run.stderr.startswith("error: ") and says in run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "missing").exists()


# -- formula neutralisation ----------------------------------------------------------------------


@pytest.mark.parametrize("start", [*FORMULA_STARTS, "'"])
def test_a_cell_a_spreadsheet_would_run_gets_a_quote(start: str) -> None:
    cell = start + "cmd|' /C calc'!A0"
    assert neutralise(cell) == "'" + cell
    assert unneutralise(neutralise(cell)) == cell


@pytest.mark.parametrize("cell", ["plain", "12.50", "2026-11-20T00:00:00+00:00", "", " =x", "a=b"])
def test_an_ordinary_cell_is_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell


@pytest.mark.parametrize(
    "start",
    [
        *(s for s in FORMULA_STARTS if s != "\r"),
        "'",
        pytest.param("\r", id="CR"),
    ],
)
def test_to_csv_neutralises_and_a_csv_reader_gets_the_cell_back(start: str) -> None:
    cell = start + "1+1"
    text = to_csv(["c", "d"], [{"c": cell, "d": "x"}])
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read == [["c", "d"], ["'" + cell, "x"]]
    assert unneutralise(read[1][0]) == cell


def test_a_title_with_a_carriage_return_round_trips(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "cr.db"
    ok(
        cli(
            "--db",
            str(db),
            "order",
            "add",
            "C1",
            "-m",
            "ebay",
            "--total",
            "5",
            "--title=Hub\rblack",
        )
    )
    first, again = round_trip(cli, db, tmp_path)
    assert again == first


def _hostile_commands() -> list[list[str]]:
    commands = [
        [
            "order",
            "add",
            f"H-{number}",
            "-m",
            "ebay",
            "--total",
            f"{number}.25",
            f"--seller={text}",
            f"--title={text}",
            f"--payment={text}",
        ]
        for number, text in enumerate(HOSTILE, start=1)
    ]
    # An order number that is itself a formula, items, every date, other currencies.
    commands.append(["order", "add", "-m", "temu", "--total", "3", "--", "=1+2"])
    commands.append(
        [
            "order",
            "add",
            "ITEMS-1",
            "-m",
            "aliexpress",
            "--total",
            "1234.56",
            "--currency",
            "EUR",
            "--item",
            "Cable x2 @3.50",
            "--item",
            "Case",
            "--ordered",
            "2026-10-01",
            "--shipped",
            "2026-10-03T08:30:00+02:00",
            "--expected-by",
            "2026-11-01",
            "--received",
            "2026-10-20",
            "--protection-ends",
            "2026-12-24",
        ]
    )
    commands.append(
        ["order", "add", "JPY-1", "-m", "amazon", "--total", "1500", "--currency", "JPY"]
    )
    commands.append(["open", "H-1", "--reason", "other", "--full", "--note", "=cmd()"])
    return commands


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Orders whose sellers, titles, payments and numbers look like spreadsheet formulas."""
    folder = tmp_path_factory.mktemp("hostile")
    config = folder / "config.toml"
    config.write_text('timezone = "UTC"\n')
    path = folder / "hostile.db"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REFUNDCTL_CONFIG", str(config))
        patch.setenv("REFUNDCTL_NOW", NOW)
        patch.setenv("HOME", str(folder / "home"))
        for command in _hostile_commands():
            result = runner.invoke(app, ["--db", str(path), *command])
            assert result.exit_code == 0, (command, result.output)
    return path


def test_no_exported_cell_starts_a_formula(cli: Cli, hostile_db: Path) -> None:
    db = str(hostile_db)
    for what in ("orders", "disputes", "events"):
        text = ok(cli("--db", db, "export", "-f", "csv", "--what", what)).stdout
        for row in csv.reader(io.StringIO(text, newline="")):
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS), (what, row)
    table = rows(ok(cli("--db", db, "export", "-f", "csv")).stdout)
    assert table[0]["seller"] == "'=SUM(A1)" and table[3]["seller"] == "''q"
    assert table[4]["title"] == "'-5" and table[1]["payment"] == "'+1"
    assert table[8]["order_no"] == "'=1+2"
    events = rows(ok(cli("--db", db, "export", "-f", "csv", "--what", "events")).stdout)
    assert events[0]["note"] == "'=cmd()"
    # The listings' CSV is neutralised the same way.
    listed = rows(ok(cli("--db", db, "order", "list", "--format", "csv")).stdout)
    assert listed[0]["seller"] == "'=SUM(A1)"
    status = rows(ok(cli("--db", db, "status", "--format", "csv")).stdout)
    assert {r["seller"] for r in status} >= {"'=SUM(A1)", "'@x"}
    # JSON is for programs: it carries the text as it is.
    jsonl = ok(cli("--db", db, "export", "-f", "jsonl")).stdout
    assert json.loads(jsonl.splitlines()[0])["seller"] == "=SUM(A1)"


# -- round trips -------------------------------------------------------------------------------


def round_trip(cli: Cli, first: Path, folder: Path, fmt: str = "csv") -> tuple[bytes, bytes]:
    """Export ``first``'s orders, import them into a new ledger, export that: both exports.

    Also holds the two ledgers' orders (as the JSON export shows them) to be the same, so an
    export that reads back as something else fails even when it re-exports to the same text.
    """
    exported = folder / f"first.{fmt}"
    ok(cli("--db", str(first), "export", "-f", fmt, "-o", str(exported)))
    second = folder / "second.db"
    imported = ok(cli("--db", str(second), "order", "import", str(exported)))
    added = re.fullmatch(r"Imported .*: (\d+) added, 0 updated, 0 unchanged\.\n", imported.stdout)
    assert added, imported.stdout
    again = folder / f"second.{fmt}"
    ok(cli("--db", str(second), "export", "-f", fmt, "-o", str(again)))
    # Importing the second export into the second ledger finds nothing to do.
    repeat = ok(cli("--db", str(second), "order", "import", str(again))).stdout
    assert repeat.endswith(f": 0 added, 0 updated, {added[1]} unchanged.\n"), repeat
    original = ok(cli("--db", str(first), "export")).json()["orders"]
    copied = ok(cli("--db", str(second), "export")).json()["orders"]
    assert copied == original
    return exported.read_bytes(), again.read_bytes()


def test_the_demo_ledger_round_trips_through_csv(cli: Cli, demo_db: Path, tmp_path: Path) -> None:
    first, again = round_trip(cli, demo_db, tmp_path)
    assert again == first


def test_the_demo_ledger_round_trips_through_json_lines(
    cli: Cli, demo_db: Path, tmp_path: Path
) -> None:
    first, again = round_trip(cli, demo_db, tmp_path, "jsonl")
    assert again == first


def test_hostile_text_round_trips_through_csv(cli: Cli, hostile_db: Path, tmp_path: Path) -> None:
    first, again = round_trip(cli, hostile_db, tmp_path)
    assert again == first
    assert b"'=SUM(A1)" in first and b"Cable x2 @3.50; Case" in first


def test_hostile_text_round_trips_through_json_lines(
    cli: Cli, hostile_db: Path, tmp_path: Path
) -> None:
    first, again = round_trip(cli, hostile_db, tmp_path, "jsonl")
    assert again == first


@pytest.mark.parametrize(
    ("seller", "title"),
    [("'q", "x'"), ("-5", "the 'best' hub"), ("'", "+1")],
    ids=["quote-start-and-end", "quoted-word", "lone-quote"],
)
def test_single_quotes_round_trip_through_csv(
    cli: Cli, tmp_path: Path, seller: str, title: str
) -> None:
    db = tmp_path / "q.db"
    ok(
        cli(
            "--db",
            str(db),
            "order",
            "add",
            "Q1",
            "-m",
            "ebay",
            "--total",
            "5",
            f"--seller={seller}",
            f"--title={title}",
        )
    )
    ok(
        cli(
            "--db",
            str(db),
            "order",
            "add",
            "Q2",
            "-m",
            "ebay",
            "--total",
            "6",
            "--seller=-5",
            "--title=+1",
        )
    )
    first, again = round_trip(cli, db, tmp_path)
    assert again == first


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"], ids=["LS", "PS", "NEL"])
def test_a_unicode_line_separator_round_trips_through_json_lines(
    cli: Cli, tmp_path: Path, separator: str
) -> None:
    db = tmp_path / "ls.db"
    title = f"Hub{separator}black"
    ok(cli("--db", str(db), "order", "add", "L1", "-m", "ebay", "--total", "5", f"--title={title}"))
    first, again = round_trip(cli, db, tmp_path, "jsonl")
    assert again == first


@pytest.mark.parametrize(
    "title", ['27" monitor, black', 'Hub\nblack "pro"'], ids=["comma", "line-break"]
)
def test_a_title_with_a_quote_round_trips(cli: Cli, tmp_path: Path, title: str) -> None:
    db = tmp_path / "q.db"
    ok(cli("--db", str(db), "order", "add", "M1", "-m", "ebay", "--total", "5", f"--title={title}"))
    first, again = round_trip(cli, db, tmp_path)
    assert again == first


def test_a_quote_far_down_a_long_file_is_read_right(cli: Cli, tmp_path: Path) -> None:
    lines = ["marketplace,order_no,total,title"]
    lines += [f"ebay,E{i},1.00,Plain thing {i}" for i in range(200)]
    assert sum(len(line) + 1 for line in lines) > 4096
    lines.append('ebay,LAST,1.00,"27"" monitor"')
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    ok(cli("order", "import", str(path)))
    assert ok(cli("order", "show", "LAST", "--json")).json()["title"] == '27" monitor'


def test_a_three_decimal_currency_round_trips(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    ok(
        cli(
            "--db",
            str(db),
            "order",
            "add",
            "K1",
            "-m",
            "ebay",
            "--total",
            "12.5",
            "--currency",
            "KWD",
        )
    )
    first, again = round_trip(cli, db, tmp_path)
    assert again == first


@pytest.mark.parametrize(
    "name", ["Screws x100", "Plug; EU", "Red | Blue", "Case @home"], ids=["x", "semi", "bar", "at"]
)
def test_any_item_name_round_trips_through_csv(cli: Cli, tmp_path: Path, name: str) -> None:
    source = tmp_path / "items.json"
    source.write_text(
        json.dumps(
            [
                {
                    "marketplace": "ebay",
                    "order_no": "I1",
                    "total": "20",
                    "items": [{"name": name, "quantity": 1}, {"name": "Other", "price": "2"}],
                }
            ]
        )
    )
    db = tmp_path / "i.db"
    ok(cli("--db", str(db), "order", "import", str(source)))
    first, again = round_trip(cli, db, tmp_path)
    assert again == first


# -- the property ------------------------------------------------------------------------------

# Text as a buyer or a shop might type it, heavy on what CSV, the sniffer that reads it back and
# spreadsheets care about. Texts that hit a bug with a test of its own above are left out, so
# the property can find new ones; drop a clause once its bug is fixed.
SPECIAL = st.sampled_from(list(",;|\"'@=+-\t\n\r x"))
ANY_CHARACTER = st.characters(blacklist_categories=("Cc", "Cs"), max_codepoint=0x2FFF)
FORMULA_LEADS = st.sampled_from(["=", "+", "-", "@", "", "", ""])


def hits_a_known_bug(text: str) -> bool:
    """No known bug is left to steer the examples around; kept for the next one found."""
    return False


TEXT = st.lists(SPECIAL | st.sampled_from(["ab", "Hub", "x2"]) | ANY_CHARACTER, max_size=8).map(
    "".join
)
FREE_TEXT = st.builds(lambda lead, body: (lead + body).strip() or None, FORMULA_LEADS, TEXT).filter(
    lambda text: text is None or not hits_a_known_bug(text)
)
ORDER_NO = st.builds(
    lambda lead, body: lead + body,
    FORMULA_LEADS,
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N", "P", "S"), max_codepoint=0x2FFF),
        min_size=1,
        max_size=10,
    ),
).filter(lambda text: not hits_a_known_bug(text))
ITEM_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC -", min_size=1, max_size=8).filter(
    lambda s: s.strip() != ""
)
BASE = datetime(2026, 11, 26, 12, tzinfo=UTC)
LEDGER_SETTINGS = Settings(zone=UTC, policy_for=policy_for)
# Each example makes three ledgers; in memory-backed storage SQLite's syncs cost nothing.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@st.composite
def orders_strategy(draw: st.DrawFn) -> list[Order]:
    numbers = draw(st.lists(ORDER_NO, min_size=1, max_size=3, unique=True))
    found = []
    for number in numbers:
        currency = draw(st.sampled_from(["USD", "EUR", "GBP", "JPY"]))
        places = 0 if currency == "JPY" else 2
        total = draw(
            st.decimals(
                min_value=Decimal(1) / 10**places,
                max_value=Decimal("99999"),
                places=places,
                allow_nan=False,
                allow_infinity=False,
            )
        )
        names = draw(st.lists(ITEM_NAME, max_size=2, unique_by=lambda s: s.strip().casefold()))
        items = tuple(
            Item(
                name.strip(),
                draw(st.integers(min_value=1, max_value=5)),
                draw(st.none() | st.just(total)),
            )
            for name in names
        )
        ago = draw(st.integers(min_value=0, max_value=200))
        ordered = BASE - timedelta(days=ago, hours=draw(st.integers(0, 23)))
        shipped_after = draw(st.none() | st.integers(0, ago))
        shipped = None if shipped_after is None else ordered + timedelta(days=shipped_after)
        after = shipped or ordered
        received_after = draw(st.none() | st.integers(0, max(0, (BASE - after).days)))
        received = None if received_after is None else after + timedelta(days=received_after)
        found.append(
            Order(
                marketplace=draw(st.sampled_from(["ebay", "aliexpress", "my-shop.de"])),
                order_no=number,
                total=total,
                currency=currency,
                seller=draw(FREE_TEXT),
                title=draw(FREE_TEXT),
                items=items,
                payment=draw(FREE_TEXT),
                ordered=ordered,
                shipped=shipped,
                expected_by=draw(st.none() | st.just(ordered + timedelta(days=20))),
                received=received,
                protection_ends=draw(st.none() | st.just(BASE + timedelta(days=9, hours=3))),
            )
        )
    return found


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(orders=orders_strategy())
def test_any_orders_csv_the_exporter_writes_imports_back(orders: list[Order]) -> None:
    run = invoke

    def stored(path: Path) -> list[Order]:
        with Ledger.open(path, LEDGER_SETTINGS, write=False) as ledger:
            return [replace(o, id=0) for o in ledger.orders()]

    with tempfile.TemporaryDirectory(dir=FAST_TMP) as name:
        folder = Path(name)
        first = folder / "first.db"
        with Ledger.open(first, LEDGER_SETTINGS, write=True) as ledger:
            for order in orders:
                ledger.add_order(order, BASE)
        exported = folder / "first.csv"
        ok(run("--db", str(first), "export", "-o", str(exported)))
        second = folder / "second.db"
        imported = run("--db", str(second), "order", "import", str(exported))
        assert imported.exit_code == 0, (imported.stderr, exported.read_text("utf-8"))
        assert imported.stdout.endswith(f": {len(orders)} added, 0 updated, 0 unchanged.\n")
        again = folder / "second.csv"
        ok(run("--db", str(second), "export", "-o", str(again)))
        assert again.read_bytes() == exported.read_bytes()
        assert stored(second) == stored(first) == [replace(o, id=0) for o in orders]


@pytest.mark.parametrize("suffix", ["", "-wal", "-journal"])
def test_an_export_or_a_case_file_over_the_ledger_is_refused(
    story: Cli, ledger_path: Path, suffix: str
) -> None:
    """Renamed over the ledger (or written as its journal), an export would destroy it."""
    target = ledger_path.with_name(ledger_path.name + suffix)
    before = snapshot(ledger_path)
    for args in (("export", "-o", str(target)), ("bundle", "1", "-o", str(target), "--force")):
        run = story(*args)
        assert run.exit_code == 2, run
        assert run.stderr.startswith(f"error: {target} is part of the ledger itself;")
    assert snapshot(ledger_path) == before
    assert ok(story("status", "--json")).json()["disputes"]


def test_an_export_over_the_real_ledgers_journal_is_refused_through_a_link(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    """SQLite keeps the side files beside the file a linked ledger path leads to."""
    link = tmp_path / "elsewhere" / "linked.db"
    link.parent.mkdir()
    link.symlink_to(ledger_path)
    for name in (ledger_path.name + "-wal", ledger_path.name + "-journal"):
        target = ledger_path.with_name(name)
        run = story("--db", str(link), "export", "-o", str(target))
        assert run.exit_code == 2, run
        assert "is part of the ledger itself" in run.stderr


def test_a_link_named_by_export_is_written_through(demo: Cli, tmp_path: Path) -> None:
    """``-o`` naming a link (as /dev/stdout is) writes where it leads, leaving the link."""
    real = tmp_path / "real.csv"
    real.write_text("")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    ok(demo("export", "-f", "csv", "--what", "orders", "-o", str(link)))
    assert link.is_symlink()
    assert header(real.read_text(encoding="utf-8")) == ORDER_COLUMNS
