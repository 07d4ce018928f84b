"""What a person sees: the Rich tables rendered as text, at the 80 columns DESIGN.md promises.

The renderers are pure (views in, renderables out), so each test records a stretch of the
buyer's month through the real command line, turns the ledger into views, and prints them to
``Console(width=80, file=StringIO(), color_system=None)``. A table that is too wide is printed
with ``crop=False`` so that its true width shows; cropped, it would silently lose the end of
each row. User text (seller names, titles, notes, chat messages, file names) is the buyer's
copy-paste from a marketplace page and may hold Rich markup, terminal escape codes or line
breaks: it must appear as written, never be interpreted, never reach the terminal raw.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from rich.console import Console, RenderableType

from refundctl.cli import app
from refundctl.cli.common import Env
from refundctl.cli.views import gather
from refundctl.render.detail import dispute_detail
from refundctl.render.fmt import due_when
from refundctl.render.tables import order_list, status_view
from refundctl.views import dispute_view
from tests.conftest import NOW, Cli

WIDTH = 80
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def render(renderable: RenderableType, *, crop: bool = True) -> str:
    out = io.StringIO()
    Console(width=WIDTH, file=out, color_system=None).print(renderable, crop=crop)
    return out.getvalue()


def env(ledger_path: Path) -> Env:
    return Env.create(db=ledger_path, as_of=NOW, explicit_db=True)


def status_screen(ledger_path: Path, *, crop: bool = True, everything: bool = False) -> str:
    e = env(ledger_path)
    disputes, orders = gather(e, include_closed=everything)
    return render(status_view(disputes, 0, orders, 0, e.now, e.zone), crop=crop)


def detail_screen(ledger_path: Path, dispute: int, *, crop: bool = True) -> str:
    e = env(ledger_path)
    with e.ledger(write=False) as ledger:
        record = ledger.dispute(dispute)
    view = dispute_view(record, e.settings.policy_for, e.zone, e.now)
    return render(dispute_detail(view, e.zone, e.now), crop=crop)


def order_list_screen(ledger_path: Path) -> str:
    e = env(ledger_path)
    with e.ledger(write=False) as ledger:
        orders = list(ledger.orders())
    return render(order_list(orders, e.zone, e.now))


def run(cli: Cli, line: str, *extra: str) -> None:
    """Run one command line as the buyer types it; ``extra`` arguments go last, verbatim."""
    result = cli(*shlex.split(line), *extra)
    assert result.exit_code == 0, (line, result.stderr)


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


# -- ledgers to look at --------------------------------------------------------------------------


def a_busy_month(cli: Cli, tmp_path: Path) -> None:
    """Disputes in most states on several marketplaces, closed ones too, and open windows."""
    run(
        cli,
        (
            "order add 8101234567890123 -m aliexpress --total 45.90 --seller "
            "'Best Store' --title 'USB-C hub' --ordered 2026-11-01 --received "
            "2026-11-20"
        ),
    )
    run(cli, "open 8101234567890123 --reason missing-parts --amount 12.50 --on 2026-11-22")
    run(cli, "respond 1 seller-offers 8.00 --return --on 2026-11-24")
    run(
        cli,
        (
            "order add 12-34567-89012 -m ebay --total 120 --seller "
            "vintage_finds_and_more --title 'Vintage film camera with case' "
            "--ordered 2026-10-28 --received 2026-11-10"
        ),
    )
    run(cli, "open 12-34567-89012 --reason not-as-described --full --on 2026-11-12")
    run(cli, "respond 2 seller-rejects --on 2026-11-13")
    run(cli, "escalate 2 --on 2026-11-16")
    run(cli, "respond 2 platform-requests-info --on 2026-11-25")
    run(
        cli,
        (
            "order add PO-2611-0987654321 -m temu --total 18.20 --ordered "
            "2026-11-01 --shipped 2026-11-03"
        ),
    )
    run(cli, "open PO-2611-0987654321 --reason not-received --full --on 2026-11-20")
    run(cli, "cancel 3 --on 2026-11-21")
    run(
        cli,
        (
            "order add 8109876543210987 -m aliexpress --total 23.40 --title "
            "'LED desk lamp with a very long marketplace title' --ordered "
            "2026-11-01 --received 2026-11-18"
        ),
    )


def the_story(cli: Cli, tmp_path: Path) -> None:
    run(
        cli,
        (
            "order add 8101234567890123 -m aliexpress --total 45.90 --seller "
            "'Best Store' --title 'USB-C hub' --ordered 2026-11-01 --received "
            "2026-11-20"
        ),
    )
    run(
        cli,
        (
            "open 8101234567890123 --reason missing-parts --amount 12.50 "
            "--note 'HDMI adapter missing' --on 2026-11-22"
        ),
    )


def a_big_refund_in_canadian_dollars(cli: Cli, tmp_path: Path) -> None:
    """A $1,299.99 CAD return, refund overdue: the widest cells a real dispute has."""
    run(
        cli,
        (
            "order add 8105550001112223 -m aliexpress --total 1299.99 "
            "--currency CAD --seller 'Bright Store' --ordered 2026-10-01 "
            "--received 2026-10-20"
        ),
    )
    run(cli, "open 8105550001112223 --reason not-as-described --full --on 2026-10-21")
    run(cli, "respond 1 seller-agrees --return --on 2026-10-22")
    run(cli, "respond 1 return-shipped --on 2026-10-23")
    run(cli, "respond 1 return-delivered --on 2026-10-30")


LEDGERS = [
    pytest.param(the_story, id="the story"),
    pytest.param(a_busy_month, id="a busy month"),
    pytest.param(a_big_refund_in_canadian_dollars, id="a big refund in CAD"),
]


@pytest.mark.parametrize("month", LEDGERS)
def test_the_status_screen_fits_80_columns(
    cli: Cli, ledger_path: Path, tmp_path: Path, month
) -> None:
    month(cli, tmp_path)
    uncropped = status_screen(ledger_path, crop=False, everything=True)
    assert widest(uncropped) <= WIDTH, uncropped
    shown = status_screen(ledger_path)
    words = " ".join(shown.split())  # a cell may wrap between words
    e = env(ledger_path)
    disputes, orders = gather(e)
    for view in [*disputes, *orders]:
        if view.next is not None:  # every due date is on screen, not cropped away
            assert due_when(view.next.due, e.zone, e.now) in words, shown
    for order in [*(v.record.order for v in disputes), *(v.order for v in orders)]:
        assert order.order_no in shown, shown  # whole, on one line


@pytest.mark.parametrize("month", LEDGERS[:2])
def test_one_dispute_in_full_fits_80_columns(
    cli: Cli, ledger_path: Path, tmp_path: Path, month
) -> None:
    month(cli, tmp_path)
    photo = tmp_path / "unboxing video still, taken the day the parcel arrived.png"
    photo.write_bytes(PNG)
    run(cli, "attach 1", str(photo), "--note", "the box as it came, tape unbroken")
    run(cli, "attach 1", "--message", "We are sorry. " * 12, "--from", "seller")
    run(
        cli,
        (
            "attach 1 --url "
            "'https://www.aliexpress.com/item/1005001234567890.html?spm=a2g0o.order_list.0.0'"
        ),
    )
    screen = detail_screen(ledger_path, 1, crop=False)
    assert widest(screen) <= WIDTH, screen
    for words in (
        "Dispute",
        "#1 · missing-parts",
        "Open deadlines",
        "Offers",
        "Evidence",
        "Timeline",
        "unboxing video still",
        "1005001234567890",
    ):
        assert words in screen, words


# -- order numbers ---------------------------------------------------------------------------


def test_a_long_order_number_is_never_cut(cli: Cli, ledger_path: Path) -> None:
    # Two orders that differ only in their last digits, as one shop's orders do: people paste
    # the number into the marketplace's search, so it is shown whole, on one line.
    for number in ("81012345678901234567890001", "81012345678901234567890002"):
        run(
            cli,
            f"order add {number} -m aliexpress --total 9.99 --title Cable "
            "--ordered 2026-11-01 --received 2026-11-20",
        )
    run(cli, "open 81012345678901234567890001 --reason defective --full")
    status = status_screen(ledger_path)
    listing = order_list_screen(ledger_path)
    for screen in (status, listing):
        assert "81012345678901234567890001" in screen, screen
        assert "81012345678901234567890002" in screen, screen
        assert "…" not in screen, screen
    detail = detail_screen(ledger_path, 1)
    assert "81012345678901234567890001" in detail


# -- user text ---------------------------------------------------------------------------------


MARKUP = "[bold red]x[/]"


def test_rich_markup_in_user_text_is_shown_literally(
    cli: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    run(
        cli,
        "order add E-1 -m ebay --total 20 --seller '[red]x[/]' --title '[bold red]Hub[/]' "
        "--ordered 2026-11-01 --received 2026-11-20",
    )
    run(
        cli,
        f"order add E-2 -m ebay --total 20 --seller '{MARKUP}' --ordered 2026-11-01 "
        "--received 2026-11-20 --title '[link=https://evil.example]Lamp[/link]'",
    )
    run(cli, f"open E-2 --reason damaged --full --note '{MARKUP} note' --case-ref '[red]C-1[/]'")
    photo = tmp_path / "[bold]photo.png"
    photo.write_bytes(PNG)
    run(cli, "attach 1", str(photo))
    run(cli, "attach 1 --message '[blink]refund[/blink] soon' --from seller")

    status = status_screen(ledger_path)
    assert "ebay · [red]x[/]" in status  # E-1's seller, in the orders table
    assert "[bold red]Hub[/]" in status
    listing = order_list_screen(ledger_path)
    assert "[bold red]Hub[/]" in listing
    assert "[link=https://evil.e" in listing  # cut by the column, but not read as a link
    detail = detail_screen(ledger_path, 1)
    for literal in (
        MARKUP,
        f"{MARKUP} note",
        "[red]C-1[/]",
        "[bold]photo.png",
        "[blink]refund[/blink] soon",
        "[link=https://evil.example]Lamp[/link]",
    ):
        assert literal in detail, literal


ESCAPE = "\x1b[31m"
HYPERLINK = "\x1b]8;;https://evil.example\x07"


def test_escape_codes_and_line_breaks_never_reach_the_terminal_raw(
    cli: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    run(
        cli,
        "order add E-3 -m ebay --total 20 --seller Plain --ordered 2026-11-01 "
        "--received 2026-11-20",
        "--title",
        "two\nlines",
    )
    # Control characters go in as separate arguments: a shell line could not carry them.
    order = "order add E-4 -m ebay --total 20 --ordered 2026-11-01 --received 2026-11-20"
    run(cli, order, "--seller", f"Evil{ESCAPE}Red", "--title", f"{HYPERLINK}click")
    note = f"first line\nsecond line{ESCAPE}"
    run(cli, "open E-4 --reason damaged --full", "--note", note, "--case-ref", "C-\x1b[2J1")
    photo = tmp_path / f"photo{ESCAPE}.png"
    photo.write_bytes(PNG)
    run(cli, "attach 1", str(photo))
    run(cli, "attach 1", "--message", f"ok\r\n{ESCAPE}bye\x07", "--from", "seller")

    screens = {
        "status": status_screen(ledger_path),
        "order list": order_list_screen(ledger_path),
        "dispute": detail_screen(ledger_path, 1),
    }
    for name, screen in screens.items():
        for raw in ("\x1b", "\x07", "\r"):
            assert raw not in screen, (name, raw, screen)
    assert "two lines" in screens["order list"]  # one row, not two
    dispute = screens["dispute"]
    assert "Evil\\x1b[31mRed" in dispute
    assert "first line second line\\x1b[31m" in dispute
    assert "C-\\x1b[2J1" in dispute
    assert "photo\\x1b[31m.png" in dispute
    assert "\\x1b]8;;https://evil.example\\x07click" in dispute


# -- colour --------------------------------------------------------------------------------


def _refundctl() -> list[str]:
    script = Path(sys.executable).with_name("refundctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "refundctl"]


def test_no_color_status_prints_no_escape_codes(story: Cli) -> None:
    result = subprocess.run(
        [*_refundctl(), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "waiting for" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr


_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_COLOUR_CODES = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


def _colour_codes(output: str) -> list[str]:
    return [
        sequence
        for sequence in _SGR.findall(output)
        if any(part and int(part) in _COLOUR_CODES for part in sequence.split(";"))
    ]


def _status_on_a_terminal(extra_env: dict[str, str]) -> str:
    """``refundctl status`` with its stdout on a pseudo-terminal, as a buyer runs it."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [*_refundctl(), "status"],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", **extra_env},
            check=False,
        )
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: everything has been read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert result.returncode == 0, result.stderr
    return b"".join(chunks).decode()


def test_no_color_on_a_terminal_means_no_colour(story: Cli) -> None:
    coloured = _status_on_a_terminal({})
    assert _colour_codes(coloured), "expected colour on a terminal without NO_COLOR"
    plain = _status_on_a_terminal({"NO_COLOR": "1"})
    assert "waiting for" in plain
    assert _colour_codes(plain) == []


# -- help ------------------------------------------------------------------------------------


def _commands() -> list[object]:
    """Every command and group, the root included, as ``refundctl order add`` names it."""
    found = []

    def walk(path: tuple[str, ...], command: object) -> None:
        found.append(pytest.param(path, command, id=" ".join(("refundctl", *path))))
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk((*path, name), sub)

    walk((), typer.main.get_command(app))
    return found


@pytest.mark.parametrize(("path", "command"), _commands())
def test_every_command_has_help_text(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...], command
) -> None:
    text = (command.help or "").strip()
    assert text, f"refundctl {' '.join(path)} has no help text"
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    shown = cli(*path, "--help")
    assert shown.exit_code == 0, shown.stderr
    first_sentence = text.split("\n\n")[0]
    assert " ".join(first_sentence.split()) in " ".join(shown.stdout.split())
    assert widest(shown.stdout) <= WIDTH, shown.stdout


def test_the_rows_left_out_are_counted_with_thousands_separated() -> None:
    from refundctl.render.tables import _more

    assert _more(13603, "order").plain == "… and 13,603 more orders; --limit 0 shows all"
    assert _more(1, "dispute").plain == "… and 1 more dispute; --limit 0 shows all"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_long_error_folds_between_words_on_a_terminal_and_stays_one_line_in_a_pipe(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    from refundctl.cli.common import error_line, problem_line, warn

    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setenv("COLUMNS", "40")
    message = "not a date or time: '2026-13-01' (month must be in 1..12); use YYYY-MM-DD"
    error_line(message)
    problem_line("row 2, ordered: " + message)
    warn("short one")
    lines = err.getvalue().splitlines()
    if not terminal:
        assert lines == [
            "error: " + message,
            "  row 2, ordered: " + message,
            "warning: short one",
        ]
        return
    assert lines == [
        "error: not a date or time: '2026-13-01'",
        "       (month must be in 1..12); use",
        "       YYYY-MM-DD",
        "  row 2, ordered: not a date or time:",
        "    '2026-13-01' (month must be in",
        "    1..12); use YYYY-MM-DD",
        "warning: short one",
    ]
