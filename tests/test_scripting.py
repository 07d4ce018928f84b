"""One scripting surface: every listing speaks table, JSON and CSV, filters alike, and completes.

Issue 5: ``order list``, ``status``, ``check`` and ``policies`` take ``--json`` and
``--format table|json|csv`` (``--json`` is short for ``--format json``; the two disagreeing is a
usage error); ``--marketplace``, ``--state``, ``--seller``, ``--since`` and ``--until`` filter
them; what a script reads is the same whatever the terminal, with no colour codes. Shell
completion offers dispute ids, order numbers, marketplaces, reasons and moves, and stays silent
when there is no ledger to read.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
import typer.main
import typer.testing
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.cli.completion import (
    complete_dispute,
    complete_marketplace,
    complete_move,
    complete_order,
)
from refundctl.config import load_config
from tests.conftest import NOW, Cli, Run, snapshot

STATES = [
    "awaiting_buyer",
    "awaiting_seller",
    "cancelled",
    "escalated",
    "lost",
    "refund_pending",
    "refunded",
    "return_in_transit",
    "return_to_ship",
    "withdrawn",
]
LISTINGS = {
    "order list": ("order", "list"),
    "status": ("status",),
    "check": ("check",),
    "policies": ("policies",),
}
CSV_HEADERS = {
    "order list": "marketplace,order_no,seller,title,total,currency,ordered,shipped,"
    "expected_by,received,protection_ends,payment,items",
    "status": "kind,id,marketplace,order_no,seller,reason,state,currency,requested,offer,"
    "agreed,refunded,total,deadline,due,binds,action,overdue,if_missed",
    "check": "kind,id,marketplace,order_no,deadline,due,binds,action,overdue,if_missed",
    "policies": "marketplace,rule,present,duration,upto,applied,counts_from,binds,origin,"
    "assumed,source",
}
ANSI = "\x1b"


@pytest.fixture(autouse=True, scope="module")
def _command_built_once() -> Iterator[None]:
    """Typer's runner rebuilds the command from the app on every call, three quarters of an
    in-process run; build it once for this module (the runner and the group are unchanged)."""
    command = typer.main.get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda _app: command)
        yield


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, _command_built_once: None) -> Path:
    """The demo ledger, built once; every command here only reads it."""
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
    return path


@pytest.fixture
def demo(cli: Cli, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli`` reading the demo ledger (through REFUNDCTL_DB, as a script would set it)."""
    monkeypatch.setenv("REFUNDCTL_DB", str(demo_db))
    return cli


def ok(run: Run, *codes: int) -> Run:
    assert run.exit_code in (codes or (0,)), (run.exit_code, run.stdout, run.stderr)
    return run


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def usage_error(run: Run, *says: str) -> None:
    assert run.exit_code == 2, (run.exit_code, run.stdout, run.stderr)
    assert run.stdout == ""
    assert run.stderr.startswith("error: ") and len(run.stderr.splitlines()) == 1, run.stderr
    for text in says:
        assert text in run.stderr, run.stderr


# -- one surface -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LISTINGS))
def test_every_listing_speaks_table_json_and_csv(demo: Cli, name: str) -> None:
    command = LISTINGS[name]
    code = 1 if name == "check" else 0  # the demo has something due
    as_json = ok(demo(*command, "--json"), code)
    assert ok(demo(*command, "--format", "json"), code).stdout == as_json.stdout
    assert ok(demo(*command, "--format", "json", "--json"), code).stdout == as_json.stdout
    data = as_json.json()
    assert isinstance(data, dict)
    as_csv = ok(demo(*command, "--format", "csv"), code)
    assert as_csv.stdout.splitlines()[0] == CSV_HEADERS[name]
    parsed = list(csv.reader(io.StringIO(as_csv.stdout, newline="")))
    width = len(parsed[0])
    assert len(parsed) > 1 and all(len(row) == width for row in parsed)
    shown = ok(demo(*command, "--format", "table"), code)
    assert ok(demo(*command), code).stdout == shown.stdout
    assert shown.stdout and shown.stdout != as_json.stdout
    for run in (as_json, as_csv, shown):
        assert run.stderr == ""


@pytest.mark.parametrize("name", list(LISTINGS))
@pytest.mark.parametrize("other", ["csv", "table"])
def test_json_and_a_different_format_together_are_refused(demo: Cli, name: str, other: str) -> None:
    run = demo(*LISTINGS[name], "--json", "--format", other)
    usage_error(run, "--json", f"--format {other}")


@pytest.mark.parametrize("name", list(LISTINGS))
def test_an_unknown_format_is_refused(demo: Cli, name: str) -> None:
    usage_error(demo(*LISTINGS[name], "--format", "xml"), "xml")


def test_csv_rows_are_the_json_rows(demo: Cli) -> None:
    status = ok(demo("status", "--json")).json()
    rows = table(ok(demo("status", "--format", "csv")).stdout)
    assert [(r["kind"], r["id"], r["order_no"]) for r in rows] == [
        ("dispute", str(d["id"]), d["order"]) for d in status["disputes"]
    ] + [("order", "", o["order"]) for o in status["orders"]]
    first = status["disputes"][0]
    assert rows[0]["deadline"] == first["deadline"]["name"]
    assert rows[0]["due"] == first["deadline"]["due"]
    assert rows[0]["overdue"] == str(first["deadline"]["overdue"]).lower()

    checked = ok(demo("check", "--json"), 1).json()
    rows = table(ok(demo("check", "--format", "csv"), 1).stdout)
    assert [(r["kind"], r["order_no"], r["deadline"]) for r in rows] == [
        (i["kind"], i["order"], i["deadline"]["name"]) for i in checked["items"]
    ]

    listed = ok(demo("order", "list", "--json")).json()["orders"]
    rows = table(ok(demo("order", "list", "--format", "csv")).stdout)
    assert [(r["order_no"], r["total"]) for r in rows] == [(o["order"], o["total"]) for o in listed]

    policies = ok(demo("policies", "--json")).json()["policies"]
    rows = table(ok(demo("policies", "--format", "csv")).stdout)
    assert {r["marketplace"] for r in rows} == {p["name"] for p in policies}


def test_one_dispute_and_one_policy_speak_the_formats_too(demo: Cli) -> None:
    one = ok(demo("status", "1", "--json")).json()
    assert ok(demo("status", "1", "--format", "json")).json() == one
    rows = table(ok(demo("status", "1", "--format", "csv")).stdout)
    assert len(rows) == 1 and rows[0]["id"] == "1" and rows[0]["state"] == one["state"]
    policy = ok(demo("policies", "ebay", "--json")).json()["policies"]
    assert [p["name"] for p in policy] == ["ebay"]
    rows = table(ok(demo("policies", "ebay", "--format", "csv")).stdout)
    assert rows and {r["marketplace"] for r in rows} == {"ebay"}


def test_limit_caps_only_the_table(demo: Cli) -> None:
    everything = ok(demo("status", "--json")).json()
    assert ok(demo("status", "--limit", "1", "--json")).json() == everything
    rows = table(ok(demo("status", "--limit", "1", "--format", "csv")).stdout)
    assert len(rows) == len(everything["disputes"]) + len(everything["orders"]) > 1


# -- filters -----------------------------------------------------------------------------------


def test_status_by_marketplace(demo: Cli) -> None:
    shown = ok(demo("status", "--marketplace", "AliExpress", "--json")).json()
    assert shown["disputes"] and shown["orders"]
    assert {d["marketplace"] for d in shown["disputes"]} == {"aliexpress"}
    assert {o["marketplace"] for o in shown["orders"]} == {"aliexpress"}
    rows = table(ok(demo("status", "-m", "aliexpress", "--format", "csv")).stdout)
    assert {r["marketplace"] for r in rows} == {"aliexpress"}
    nothing = ok(demo("status", "-m", "nowhere", "--json")).json()
    assert nothing["disputes"] == [] and nothing["orders"] == []


def test_status_by_state_takes_several_and_includes_closed_ones(demo: Cli) -> None:
    shown = ok(demo("status", "--state", "awaiting_buyer", "--state", "refunded", "--json")).json()
    assert sorted(d["state"] for d in shown["disputes"]) == ["awaiting_buyer", "refunded"]
    assert shown["orders"] == []  # orders have no dispute state
    rows = table(ok(demo("status", "--state", "lost", "--format", "csv")).stdout)
    assert [r["state"] for r in rows] == ["lost"]


@pytest.mark.parametrize("command", [("status",), ("check",)])
def test_an_unknown_state_is_refused_listing_the_states(demo: Cli, command: tuple[str]) -> None:
    usage_error(demo(*command, "--state", "open", "--json"), "'open'", *STATES)


def test_status_by_seller_is_a_case_insensitive_substring(demo: Cli) -> None:
    shown = ok(demo("status", "--seller", "STORE", "--json")).json()
    sellers = [d["seller"] for d in shown["disputes"]] + [o["seller"] for o in shown["orders"]]
    assert sorted(sellers) == ["Best Store", "Other Store"]
    assert (
        ok(demo("status", "--seller", "  ", "--json")).json() == ok(demo("status", "--json")).json()
    )


def test_status_by_when_the_dispute_was_opened(demo: Cli) -> None:
    shown = ok(
        demo("status", "--all", "--since", "2026-11-10", "--until", "2026-11-20", "--json")
    ).json()
    opened = sorted(d["opened"] for d in shown["disputes"])
    assert opened == [
        "2026-11-10T12:00:00+00:00",
        "2026-11-17T12:00:00+00:00",
        "2026-11-18T12:00:00+00:00",
        "2026-11-18T12:00:00+00:00",
    ]
    # Orders are placed, not opened: an order counts by when it was bought.
    assert [o["order"] for o in shown["orders"]] == []
    later = ok(demo("status", "--since", "2026-11-06", "--json")).json()
    assert [o["order"] for o in later["orders"]] == ["8109876543210987"]
    assert all(d["opened"] >= "2026-11-06" for d in later["disputes"])


@pytest.mark.parametrize("command", [("status",), ("check",), ("order", "list")])
@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_bad_when_is_refused(demo: Cli, command: tuple[str, ...], option: str) -> None:
    usage_error(demo(*command, option, "last tuesday", "--json"), option, "last tuesday")


def test_check_filters_like_status(demo: Cli) -> None:
    everything = ok(demo("check", "--within", "30d", "--json"), 1).json()["items"]
    assert {i["marketplace"] for i in everything} >= {"aliexpress", "ebay", "temu"}
    ali = ok(demo("check", "--within", "30d", "-m", "aliexpress", "--json"), 1).json()["items"]
    assert ali and all(i["marketplace"] == "aliexpress" for i in ali)
    assert ali == [i for i in everything if i["marketplace"] == "aliexpress"]
    # Nothing left to report once filtered: exit 0, as cron expects.
    none = ok(demo("check", "-m", "nowhere", "--json")).json()
    assert none["items"] == []
    states = ok(demo("check", "--within", "30d", "--state", "escalated", "--json"), 1).json()
    assert {(i["kind"], i["id"]) for i in states["items"]} == {("dispute", 4)}
    sellers = ok(demo("check", "--within", "30d", "--seller", "soundco", "--json"), 1).json()
    assert {i["order"] for i in sellers["items"]} == {"113-4567890-1234567"}
    since = ok(demo("check", "--within", "30d", "--since", "2026-11-18", "--json"), 1).json()
    assert since["items"] and all(i["kind"] == "dispute" for i in since["items"])
    # Dispute 1 waits on the seller's running clock: only --all lists it.
    assert {i["id"] for i in since["items"]} == {3}
    every = ok(demo("check", "--within", "30d", "--since", "2026-11-18", "--all", "--json"), 1)
    assert {i["id"] for i in every.json()["items"]} == {1, 3}


def test_order_list_filters(demo: Cli) -> None:
    every = ok(demo("order", "list", "--json")).json()["orders"]
    assert len(every) == 11
    temu = ok(demo("order", "list", "-m", "temu", "--json")).json()["orders"]
    assert [o["order"] for o in temu] == ["PO-211-0987654321", "PO-211-1234000000"]
    sellers = ok(demo("order", "list", "--seller", "store", "--format", "csv")).stdout
    assert [r["seller"] for r in table(sellers)] == ["Best Store", "Other Store"]
    window = ok(
        demo("order", "list", "--since", "2026-11-05", "--until", "2026-11-10", "--json")
    ).json()["orders"]
    assert [o["order"] for o in window] == ["8109876543210987", "2911110000"]
    assert all("2026-11-05" <= o["ordered"] <= "2026-11-10T23" for o in window)


def test_filters_never_write(demo: Cli, demo_db: Path) -> None:
    before = snapshot(demo_db)
    ok(demo("status", "-m", "ebay", "--state", "lost", "--seller", "x", "--format", "csv"))
    ok(demo("order", "list", "--since", "yesterday", "--format", "csv"))
    assert snapshot(demo_db) == before


# -- the same whatever the terminal --------------------------------------------------------------

SCRIPTED = [
    ("status", "--json"),
    ("check", "--format", "csv"),
    ("order", "list", "--format", "csv"),
    ("order", "list", "--json"),
    ("policies", "--json"),
    ("policies", "--format", "csv"),
    ("status", "--all", "--format", "csv"),
    ("status", "1", "--json"),
]
COLOUR_TERMINAL = {
    "FORCE_COLOR": "1",
    "CLICOLOR_FORCE": "1",
    "TERM": "xterm-256color",
    "COLORTERM": "truecolor",
    "COLUMNS": "30",
}


def test_forced_colour_reaches_the_tables(demo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the tests below: the variables do colour what people read."""
    assert ANSI not in ok(demo("status")).stdout
    for name, value in COLOUR_TERMINAL.items():
        monkeypatch.setenv(name, value)
    assert ANSI in ok(demo("status")).stdout


@pytest.mark.parametrize("command", SCRIPTED, ids=" ".join)
def test_script_output_is_the_same_on_a_forced_colour_terminal(
    demo: Cli, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    plain = demo(*command)
    for name, value in COLOUR_TERMINAL.items():
        monkeypatch.setenv(name, value)
    coloured = demo(*command)
    assert ANSI not in coloured.stdout
    assert coloured.stdout == plain.stdout
    assert coloured.exit_code == plain.exit_code


def test_script_output_has_no_colour_in_a_real_process(demo: Cli, demo_db: Path) -> None:
    """The same through the real console script entry (``python -m refundctl``)."""
    commands = SCRIPTED[:2]
    expected = [demo(*command) for command in commands]
    env = {**os.environ, "REFUNDCTL_DB": str(demo_db), **COLOUR_TERMINAL}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "refundctl", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for command in commands
    ]
    for process, want, command in zip(processes, expected, commands, strict=True):
        out, err = process.communicate(timeout=60)
        assert process.returncode == want.exit_code, (command, err)
        text = out.decode()
        assert ANSI not in text, command
        # CSV rows end in CRLF (RFC 4180); the in-process runner reads them back as LF.
        assert text.replace("\r\n", "\n") == want.stdout, command
        assert err == b""


def test_script_output_does_not_wrap_at_any_width(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = "A very long title that no narrow terminal could hold on one line " * 2
    ok(cli("order", "add", "LONG-1", "-m", "ebay", "--total", "5", f"--title={long.strip()}"))
    wide = [ok(cli("order", "list", fmt)).stdout for fmt in ("--json", "--format=csv")]
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("FORCE_COLOR", "1")
    narrow = [ok(cli("order", "list", fmt)).stdout for fmt in ("--json", "--format=csv")]
    assert narrow == wide
    assert long.strip() in narrow[1].splitlines()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_json_on_a_real_terminal_is_the_json_a_pipe_gets(demo: Cli, demo_db: Path) -> None:
    import pty

    expected = demo("status", "--json").stdout
    controller, terminal = pty.openpty()
    env = {**os.environ, "REFUNDCTL_DB": str(demo_db), "TERM": "xterm-256color"}
    with subprocess.Popen(
        [sys.executable, "-m", "refundctl", "status", "--json"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        process.wait(timeout=60)
    os.close(controller)
    assert process.returncode == 0
    assert drawn.decode().replace("\r\n", "\n") == expected


# -- shell completion ----------------------------------------------------------------------------


class FakeContext:
    """What the completion functions use of Click's context: the root's params and obj."""

    def __init__(self, db: Path | None = None, obj: Any = None) -> None:
        self.params: dict[str, Any] = {"db": str(db)} if db is not None else {}
        self.obj = obj

    def find_root(self) -> FakeContext:
        return self


def values(found: list[Any]) -> list[str]:
    return [item[0] if isinstance(item, tuple) else item for item in found]


def test_dispute_ids_are_offered_with_what_they_are(demo_db: Path) -> None:
    ctx: Any = FakeContext(demo_db)
    found = complete_dispute(ctx, "")
    assert values(found) == [str(n) for n in range(1, 11)]
    assert found[0][1] == "aliexpress order 8101234567890123, your move"
    assert found[1][1] == "ebay order 12-34567-89012, waiting for the seller"
    assert values(complete_dispute(ctx, "1")) == ["1", "10"]
    assert complete_dispute(ctx, "x") == []


def test_order_numbers_are_offered_with_their_marketplace_and_title(demo_db: Path) -> None:
    ctx: Any = FakeContext(demo_db)
    assert len(complete_order(ctx, "")) == 11
    found = complete_order(ctx, "81")
    assert values(found) == [
        "8101234567890123",
        "8109876543210987",
        "8105550001112223",
        "8104440009998887",
    ]
    assert found[0][1] == "aliexpress USB-C hub 7-in-1"
    assert values(complete_order(ctx, "PO-")) == ["PO-211-0987654321", "PO-211-1234000000"]


def test_the_ledger_is_found_as_commands_find_it(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # REFUNDCTL_DB when --db was not typed ...
    monkeypatch.setenv("REFUNDCTL_DB", str(demo_db))
    assert len(complete_dispute(FakeContext(), "")) == 10  # type: ignore[arg-type]
    # ... and a typed --db wins over it.
    monkeypatch.setenv("REFUNDCTL_DB", str(tmp_path / "other.db"))
    assert complete_dispute(FakeContext(), "") == []  # type: ignore[arg-type]
    assert len(complete_dispute(FakeContext(demo_db), "")) == 10  # type: ignore[arg-type]


def test_moves_and_marketplaces_are_offered() -> None:
    nowhere: Any = FakeContext()
    assert complete_move(nowhere, "seller-") == ["seller-agrees", "seller-offers", "seller-rejects"]
    moves = complete_move(nowhere, "")
    assert {"accept", "decline", "counter", "platform-awards", "return-shipped"} <= set(moves)
    assert "open" not in moves and "escalate" not in moves  # commands of their own
    ctx: Any = FakeContext()
    everywhere = complete_marketplace(ctx, "")
    assert {"aliexpress", "amazon", "ebay", "etsy", "paypal", "temu"} <= set(everywhere)
    assert "generic" not in everywhere
    assert complete_marketplace(ctx, "e") == ["ebay", "etsy"]
    assert complete_marketplace(ctx, "E") == ["ebay", "etsy"]


def test_only_the_moves_a_dispute_allows_from_its_state_are_offered(demo_db: Path) -> None:
    def moves(dispute: int | None, incomplete: str = "") -> list[str]:
        ctx: Any = FakeContext(demo_db)
        if dispute is not None:
            ctx.params["dispute"] = dispute
        return complete_move(ctx, incomplete)

    assert moves(1) == ["seller-offers", "accept", "decline", "counter"]  # your move
    assert moves(2) == ["seller-agrees", "seller-offers", "seller-rejects", "counter"]
    assert moves(3) == ["return-shipped"]
    assert moves(4) == ["platform-requests-info", "platform-awards", "platform-rejects"]
    assert moves(4, "platform-a") == ["platform-awards"]
    assert moves(8) == []  # refunded: nothing is left to respond to
    # A dispute the ledger does not have, or none typed yet: every move.
    assert len(moves(99)) == len(moves(None)) == 11


def test_marketplaces_from_the_config_are_offered_once_it_is_read(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n[marketplaces.shopee]\ndispute_window = "7d"\n')
    ctx: Any = FakeContext(obj=SimpleNamespace(policies=load_config().policies))
    assert complete_marketplace(ctx, "sh") == ["shopee"]


def _corrupt(folder: Path, kind: str) -> Path:
    import sqlite3

    path = folder / f"{kind}.db"
    if kind == "random":
        path.write_bytes(bytes(range(256)) * 20)
    elif kind == "damaged":
        path.write_bytes(b"SQLite format 3\x00" + b"\x05" * 5000)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    return path


@pytest.mark.parametrize("kind", ["missing", "random", "damaged", "empty", "directory", "foreign"])
def test_no_usable_ledger_completes_nothing_and_says_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], kind: str
) -> None:
    path = _corrupt(tmp_path, kind)
    before = path.read_bytes() if path.is_file() else None
    ctx: Any = FakeContext(path)
    assert complete_dispute(ctx, "") == []
    assert complete_order(ctx, "") == []
    assert complete_marketplace(ctx, "a") == ["aliexpress", "amazon"]
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    if kind == "missing":
        assert not path.exists()
    elif before is not None:
        assert path.read_bytes() == before


def _complete_env(line: str, db: Path) -> dict[str, str]:
    """What bash sets for Typer's completion of ``line`` (the word after its last space)."""
    return {
        "_REFUNDCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(line.split(" ")) - 1),
        "REFUNDCTL_DB": str(db),
    }


def complete_line(
    line: str, db: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> list[str]:
    """Typer's own completion, in process: the words bash would offer; nothing on stderr."""
    capfd.readouterr()
    with monkeypatch.context() as patch:
        for name, value in _complete_env(line, db).items():
            patch.setenv(name, value)
        with pytest.raises(SystemExit) as exit:
            app(prog_name="refundctl")
    out, err = capfd.readouterr()
    assert exit.value.code in (0, None), (line, err)
    assert err == "", (line, err)
    return out.split()


def test_bash_completion_end_to_end(
    demo_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The shell words that need the ledger, as bash asks for them."""

    def words(line: str, db: Path = demo_db) -> list[str]:
        return complete_line(line, db, monkeypatch, capfd)

    missing = tmp_path / "missing.db"
    assert words("refundctl respond ") == [str(n) for n in range(1, 11)]
    assert words("refundctl status 1") == ["1", "10"]
    assert words("refundctl attach 9") == ["9"]
    # Only what the dispute's state allows: 1 waits for the buyer, 3 for the buyer's return.
    assert words("refundctl respond 1 ") == ["seller-offers", "accept", "decline", "counter"]
    assert words("refundctl respond 1 co") == ["counter"]
    assert words(f"refundctl respond 3 --db {demo_db} ", missing) == ["return-shipped"]
    reasons = words("refundctl open 8101234567890123 --reason ")
    assert {"not-received", "missing-parts", "changed-mind", "other"} <= set(reasons)
    assert words("refundctl open PO") == ["PO-211-0987654321", "PO-211-1234000000"]
    assert words("refundctl order show 12") == ["12-34567-89012"]
    assert words("refundctl status --marketplace e") == ["ebay", "etsy"]
    assert words("refundctl order add X -m al") == ["aliexpress"]
    # A typed --db is the ledger asked, whatever REFUNDCTL_DB says.
    assert words(f"refundctl --db {demo_db} order show PO", missing) == [
        "PO-211-0987654321",
        "PO-211-1234000000",
    ]
    # No ledger, or one that cannot be read: nothing offered, nothing said, nothing made.
    assert words("refundctl respond ", missing) == []
    assert not missing.exists()
    assert words("refundctl attach ", _corrupt(tmp_path, "damaged")) == []
    assert words("refundctl order show ", _corrupt(tmp_path, "random")) == []


def test_bash_completion_in_a_real_shell_process(demo_db: Path, tmp_path: Path) -> None:
    """``_REFUNDCTL_COMPLETE=complete_bash ... python -m refundctl``, as the shell runs it."""
    damaged = _corrupt(tmp_path, "damaged")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "refundctl"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **_complete_env("refundctl respond ", db)},
        )
        for db in (demo_db, damaged)
    ]
    found = []
    for process in runs:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0 and err == b"", err
        found.append(out.decode().split())
    assert found == [[str(n) for n in range(1, 11)], []]


def test_bash_completion_offers_the_buyers_own_marketplaces(
    cli: Cli,
    ledger_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    config = Path(os.environ["REFUNDCTL_CONFIG"])
    config.write_text('timezone = "UTC"\n[marketplaces.shopee]\ndispute_window = "7d"\n')
    ok(cli("order", "add", "S-1", "-m", "shopee", "--total", "5"))
    assert complete_line("refundctl status --marketplace sh", ledger_path, monkeypatch, capfd) == [
        "shopee"
    ]


def test_every_output_format_has_its_printer() -> None:
    """`in_format` calls the printer of the format chosen, for every format there is."""
    from refundctl.cli.common import OutputFormat, in_format

    called: list[str] = []
    for chosen in OutputFormat:
        in_format(
            chosen,
            table=lambda: called.append("table"),
            json=lambda: called.append("json"),
            csv=lambda: called.append("csv"),
        )
    assert called == [chosen.value for chosen in OutputFormat]
