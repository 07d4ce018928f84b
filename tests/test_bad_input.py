"""Every bad input a buyer can type: exit 2, one line saying what is wrong and what is right.

DESIGN.md principle 6: bad input gets a clear one-line error on stderr, exit code 2, no
traceback and no change to the ledger. Each case below is one mistake a buyer makes while
keeping the ledger of the README's story (an AliExpress USB-C hub, dispute 1 waiting on the
seller), with ``snapshot`` proving the ledger afterwards is byte for byte what it was. A ledger
that cannot be used at all (not SQLite, from a newer refundctl, another program's database)
exits 3 and is left alone; read-only commands never create a ledger that is not there.
"""

from __future__ import annotations

import hashlib
import os
import random
import shlex
import shutil
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from refundctl.cli import app
from tests.conftest import NOW, Cli, Run, snapshot

ORDER = "8101234567890123"
REJECTED = "8107777000011112"  # dispute 2: the seller rejected it, no offer on the table
TWIN = "1122334455"  # one number on two marketplaces


# The story's ledger (conftest's ``story``), plus a rejected dispute and an order number that two
# marketplaces share. It is built once and copied for each case: ninety cases, one ledger.
LEDGER_STORY = (
    f"order add {ORDER} --marketplace aliexpress --total 45.90 --seller 'Best Store' "
    "--title 'USB-C hub' --item 'USB-C hub x1 @45.90' --ordered 2026-11-01 --shipped 2026-11-03",
    f"order receive {ORDER} --on 2026-11-20",
    f"open {ORDER} --reason missing-parts --amount 12.50 --note 'HDMI adapter missing' "
    "--on 2026-11-22",
    f"order add {REJECTED} -m aliexpress --total 19.99 --seller 'Cable World' "
    "--ordered 2026-11-02 --received 2026-11-18",
    f"open {REJECTED} --reason defective --amount 19.99 --on 2026-11-19",
    "respond 2 seller-rejects --on 2026-11-21",
    f"order add {TWIN} -m ebay --total 30 --ordered 2026-11-05",
    f"order add {TWIN} -m temu --total 12 --ordered 2026-11-06",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    config = folder / "config.toml"
    config.write_text('timezone = "UTC"\n')
    path = folder / "ledger.db"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REFUNDCTL_DB", str(path))
        env.setenv("REFUNDCTL_CONFIG", str(config))
        env.setenv("REFUNDCTL_NOW", NOW)
        for line in LEDGER_STORY:
            result = runner.invoke(app, shlex.split(line))
            assert result.exit_code == 0, (line, result.stderr)
    assert not path.with_name(path.name + "-wal").exists()  # all of it is in the one file
    return path


@pytest.fixture
def ledger(template: Path, ledger_path: Path, tmp_path: Path, cli: Cli) -> Cli:
    """A fresh copy of the template ledger for this case, and a photo to attach."""
    shutil.copyfile(template, ledger_path)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    return cli


def error_line(run: Run, code: int = 2) -> str:
    """The single line a refused command prints: checks the whole contract but the wording."""
    assert run.exit_code == code, (run.exit_code, run.stdout, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "\x1b" not in run.stderr, "a control character reached the terminal raw"
    return lines[0]


@dataclass(frozen=True)
class Case:
    """A mistake: the command line, and words the error must hold (what's wrong, what's right).

    ``{order}``, ``{twin}``, ``{rejected}`` and ``{tmp}`` in the line stand for the story's
    order numbers and the test's temporary folder.
    """

    line: str
    says: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    def args(self, tmp: Path) -> list[str]:
        filled = self.line.format(
            order=ORDER, twin=TWIN, rejected=REJECTED, tmp=shlex.quote(str(tmp))
        )
        return shlex.split(filled)


def case(name: str, line: str, *, says: tuple[str, ...], bug: str | None = None, **env: str):
    marks = [pytest.mark.xfail(reason=f"BUG: {bug}", strict=True)] if bug else []
    return pytest.param(Case(line, says, env), id=name, marks=marks)


CASES = [
    # -- naming things that are not there ------------------------------------------------------
    case("unknown order", "order show 999", says=("unknown order 999", "order list")),
    case(
        "unknown order to open",
        "open 999 --reason damaged --full",
        says=("unknown order 999", "order list"),
    ),
    case("unknown dispute", "respond 9 seller-agrees", says=("unknown dispute 9", "status --all")),
    case("unknown dispute status", "status 9", says=("unknown dispute 9", "status --all")),
    case(
        "unknown dispute, absurdly large",
        "status 99999999999999999999",
        says=("unknown dispute",),
    ),
    case("ambiguous order number", "order show {twin}", says=("ebay and temu", "--marketplace")),
    case(
        "ambiguous order number to open",
        "open {twin} --reason damaged --full",
        says=("ebay and temu", "--marketplace"),
    ),
    case(
        "duplicate order",
        "order add {order} -m aliexpress --total 45.90",
        says=("exists already", "order update"),
    ),
    # -- dates ---------------------------------------------------------------------------------
    case(
        "Nov 31",
        "order receive {order} --on 2026-11-31",
        says=("'2026-11-31'", "day is out of range", "YYYY-MM-DD"),
    ),
    case(
        "month 13",
        "order receive {order} --on 2026-13-01",
        says=("'2026-13-01'", "month", "YYYY-MM-DD"),
    ),
    case(
        "next tuesday",
        "order receive {order} --on 'next tuesday'",
        says=("'next tuesday'", "YYYY-MM-DD", "3d ago"),
    ),
    case("empty date", "order receive {order} --on ''", says=("''", "YYYY-MM-DD")),
    case("year 3000", "order receive {order} --on 3000-01-01", says=("'3000-01-01'", "1990–2100")),
    case(
        "bad --ordered on a new order",
        "order add N-1 -m ebay --total 5 --ordered 2026-02-30",
        says=("--ordered", "'2026-02-30'", "YYYY-MM-DD"),
    ),
    case(
        "received in the future",
        "order receive {order} --on 2026-12-01",
        says=("--received", "2026-12-01", "in the future"),
    ),
    case(
        "new order received tomorrow",
        "order add N-2 -m ebay --total 5 --received tomorrow",
        says=("--received", "in the future"),
    ),
    case(
        "move in the future",
        "respond 1 seller-agrees --on 2026-11-27",
        says=("--on 2026-11-27", "in the future", "once it has happened"),
    ),
    case(
        "message in the future",
        "attach 1 --message ok --from seller --on 2026-11-30",
        says=("--on 2026-11-30", "in the future"),
    ),
    case(
        "before the last move",
        "respond 1 seller-offers 8.00 --on 2026-11-21",
        says=("before the dispute's last move", "2026-11-22", "in the order they happened"),
    ),
    case(
        "dispute before the order was placed",
        "open {twin} -m ebay --reason damaged --full --on 2026-11-01",
        says=("before the order was placed",),
    ),
    # -- money ---------------------------------------------------------------------------------
    case(
        "negative amount",
        "open {twin} -m ebay --reason damaged --amount=-5",
        says=("must be positive", "'-5'"),
    ),
    case("negative offer", "respond 1 seller-offers -- -5", says=("must be positive", "'-5'")),
    case(
        "negative offer read as an option",
        "respond 1 seller-offers -5",
        says=("-5 is not an option", "no amount or dispute number is negative", "respond --help"),
    ),
    case("zero amount", "respond 1 seller-offers 0", says=("must be positive", "'0'")),
    case(
        "words for an amount",
        "respond 1 seller-offers abc",
        says=("'abc'", "a plain number such as 12.50"),
    ),
    case(
        "fractions of a cent",
        "respond 1 seller-offers 12.345",
        says=("'12.345'", "too many decimals", "USD has 2 decimal places"),
    ),
    case(
        "scientific notation",
        "respond 1 seller-offers 1e3",
        says=("'1e3'", "a plain number such as 12.50"),
    ),
    case(
        "more than refundable",
        "respond 1 seller-offers 46",
        says=("$46.00", "$45.90 still refundable"),
    ),
    case(
        "ask for more than paid",
        "open {twin} -m ebay --reason damaged --amount 30.01",
        says=("$30.01", "$30.00 still refundable"),
    ),
    case("refunded more than paid", "resolve 1 --refunded 50", says=("$50.00", "still refundable")),
    case(
        "order total past SQLite's range",
        "order add N-3 -m ebay --total 99999999999999999999999",
        says=("--total",),
    ),
    case(
        "percent 0",
        "open {twin} -m ebay --reason damaged --percent 0",
        says=("'0'", "above 0 and at most 100"),
    ),
    case(
        "percent 101",
        "open {twin} -m ebay --reason damaged --percent 101",
        says=("'101'", "above 0 and at most 100"),
    ),
    case(
        "percent -3",
        "open {twin} -m ebay --reason damaged --percent=-3",
        says=("'-3'", "above 0 and at most 100"),
    ),
    case(
        "percent x",
        "open {twin} -m ebay --reason damaged --percent x",
        says=("'x'", "a number from 0 to 100"),
    ),
    case(
        "percent of a cent",
        "open {twin} -m ebay --reason damaged --percent 0.001",
        says=("rounds down to nothing",),
    ),
    case(
        "no amount at all",
        "open {twin} -m ebay --reason damaged",
        says=("exactly one of --amount, --percent or --full",),
    ),
    case(
        "amount and full",
        "open {twin} -m ebay --reason damaged --amount 5 --full",
        says=("exactly one of --amount, --percent or --full",),
    ),
    case(
        "amount and percent",
        "open {twin} -m ebay --reason damaged --amount 5 --percent 10",
        says=("exactly one of --amount, --percent or --full",),
    ),
    case(
        "unknown currency",
        "order add N-4 -m ebay --total 5 --currency XYZ",
        says=("'XYZ'", "ISO 4217", "USD"),
    ),
    case(
        "currency spelled out",
        "order add N-5 -m ebay --total 5 --currency dollars",
        says=("'dollars'", "ISO 4217"),
    ),
    case(
        "empty currency",
        "order add N-6 -m ebay --total 5 --currency ''",
        says=("currency", "ISO 4217"),
    ),
    case(
        "yen with decimals",
        "order add N-7 -m ebay --total 1500.5 --currency JPY",
        says=("'1500.5'", "JPY has no decimal places"),
    ),
    # -- the lifecycle -------------------------------------------------------------------------
    case(
        "unknown reason",
        "open {twin} -m ebay --reason broken --full",
        says=("'broken'", "not-as-described", "missing-parts"),
    ),
    case(
        "unknown move",
        "respond 1 frobnicate",
        says=("unknown move 'frobnicate'", "seller-agrees", "platform-rejects"),
    ),
    case(
        "escalate as a move",
        "respond 1 escalate",
        says=("'escalate' is a command of its own", "refundctl escalate"),
    ),
    case(
        "move not allowed in the state",
        "respond 1 return-shipped",
        says=(
            "waiting for the seller's answer",
            "possible now:",
            "respond seller-agrees",
            "cancel",
        ),
    ),
    case(
        "accept with no offer",
        "respond 2 accept",
        says=(
            "no seller offer on the table",
            "waiting for your move",
            "possible now:",
            "respond counter AMOUNT",
        ),
    ),
    case("decline with no offer", "respond 2 decline", says=("no seller offer on the table",)),
    case(
        "cancel after a seller move",
        "cancel 2",
        says=("waiting for your move", "possible now:", "resolve --withdrawn"),
    ),
    case(
        "withdraw before the seller answered",
        "resolve 1 --withdrawn",
        says=("not answered yet", "cancel"),
    ),
    case(
        "second active dispute",
        "open {order} --reason damaged --amount 5",
        says=("already has an active dispute", "#1", "waiting for the seller"),
    ),
    case(
        "offer without an amount",
        "respond 1 seller-offers",
        says=("seller-offers needs an AMOUNT",),
    ),
    case("agree with an amount", "respond 1 seller-agrees 5", says=("takes no amount",)),
    case(
        "return and replacement",
        "respond 1 seller-offers 5 --return --replacement",
        says=("either --return or --replacement",),
    ),
    case(
        "tracking on the wrong move",
        "respond 1 seller-agrees --tracking LP1",
        says=("--tracking goes with return-shipped",),
    ),
    case(
        "resolve without an ending",
        "resolve 1",
        says=("exactly one of --refunded AMOUNT, --lost, --withdrawn",),
    ),
    case(
        "resolve two ways",
        "resolve 1 --lost --withdrawn",
        says=("exactly one of --refunded AMOUNT, --lost, --withdrawn",),
    ),
    case(
        "credit without refund",
        "resolve 1 --lost --credit",
        says=("--credit goes with --refunded",),
    ),
    case(
        "no item by that name",
        "open {rejected} --reason damaged --full --item lamp",
        says=("no item 'lamp'",),
    ),
    case(
        "escalate by the seller", "escalate 1 --by seller", says=("'seller'", "buyer", "platform")
    ),
    case("negative limit", "status --limit -1", says=("--limit", "0")),
    # -- the clock and the window --------------------------------------------------------------
    case("bad --as-of", "--as-of soon status", says=("--as-of", "'soon'", "YYYY-MM-DD")),
    case(
        "--as-of Feb 30", "--as-of 2026-02-30 check", says=("--as-of", "'2026-02-30'", "YYYY-MM-DD")
    ),
    case("--as-of year 3000", "--as-of 3000-01-01 status", says=("--as-of", "1990–2100")),
    case(
        "REFUNDCTL_NOW garbage", "status", says=("'garbage'", "YYYY-MM-DD"), REFUNDCTL_NOW="garbage"
    ),
    case(
        "REFUNDCTL_NOW named in its error",
        "check",
        says=("REFUNDCTL_NOW", "'garbage'"),
        REFUNDCTL_NOW="garbage",
    ),
    case("window 3x", "check --within 3x", says=("--within", "'3x'", "48h, 3d or 2w")),
    case(
        "window in business days", "check --within 3bd", says=("--within", "'3bd'", "48h, 3d or 2w")
    ),
    case("negative window", "check --within -1d", says=("--within", "'-1d'", "3d")),
    # -- evidence ------------------------------------------------------------------------------
    case("attach nothing", "attach 1", says=("exactly one of", "FILE", "--url", "--message")),
    case(
        "attach a file and a link",
        "attach 1 {tmp}/photo.png --url https://shop.example/item",
        says=("exactly one of",),
    ),
    case(
        "attach a link and a message",
        "attach 1 --url https://shop.example/item --message hello --from seller",
        says=("exactly one of",),
    ),
    case("missing file", "attach 1 {tmp}/nope.jpg", says=("no such file", "nope.jpg")),
    case("a directory", "attach 1 {tmp}", says=("is a directory", "attach the files")),
    case("an empty file", "attach 1 {tmp}/empty.txt", says=("empty.txt is empty",)),
    case(
        "missing evidence on open",
        "open {twin} -m ebay --reason damaged --full --evidence {tmp}/nope.jpg",
        says=("no such file",),
    ),
    case(
        "missing evidence on escalate",
        "escalate 1 --evidence {tmp}/nope.jpg",
        says=("no such file",),
    ),
    case(
        "message without --from",
        "attach 1 --message 'we refund 8 USD'",
        says=("--message needs --from", "buyer, seller or platform"),
    ),
    case(
        "--from without a message",
        "attach 1 {tmp}/photo.png --from seller",
        says=("--from goes with --message",),
    ),
    case("blank message", "attach 1 --message '   ' --from seller", says=("--message is empty",)),
    case(
        "message from a stranger",
        "attach 1 --message hi --from martian",
        says=("'martian'", "buyer", "seller", "platform"),
    ),
    case(
        "unknown evidence kind",
        "attach 1 {tmp}/photo.png --kind selfie",
        says=("'selfie'", "photo", "screenshot"),
    ),
    case("ftp url", "attach 1 --url ftp://shop.example/x", says=("not a web address", "https://")),
    case(
        "words for a url",
        "attach 1 --url 'the listing page'",
        says=("not a web address", "https://"),
    ),
    case(
        "url with no host",
        "attach 1 --url https://",
        says=("not a web address",),
    ),
    case(
        "url with a space",
        "attach 1 --url 'https://shop example.com/item'",
        says=("not a web address",),
    ),
    # -- orders --------------------------------------------------------------------------------
    case(
        "order number with a space",
        "order add '81 01' -m ebay --total 5",
        says=("not an order number", "'81 01'"),
    ),
    case(
        "empty marketplace",
        "order add N-8 -m '' --total 5",
        says=("not a marketplace name", "aliexpress or ebay"),
    ),
    case(
        "shipped before ordered",
        "order add N-9 -m ebay --total 5 --ordered 2026-11-05 --shipped 2026-11-01",
        says=("--shipped is before --ordered",),
    ),
    case(
        "bad item",
        "order add N-10 -m ebay --total 5 --item 'Cable x0'",
        says=("quantity must be at least 1",),
    ),
    case(
        "item price in fractions of a cent",
        "order add N-11 -m ebay --total 5 --item 'Cable @1.234'",
        says=("'1.234'", "too many decimals"),
    ),
    case(
        "two items of one name",
        "order add N-12 -m ebay --total 5 --item Cable --item cable",
        says=("same name",),
    ),
    case("update with nothing", "order update {order}", says=("nothing to change", "--title")),
    case("zero total", "order update {order} --total 0", says=("--total must be positive",)),
    case(
        "receive before ordered",
        "order receive {order} --on 2026-10-01",
        says=("--received is before --shipped",),
    ),
]


@pytest.mark.parametrize("mistake", CASES)
def test_a_mistake_is_refused_in_one_line_and_changes_nothing(
    ledger: Cli,
    ledger_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mistake: Case,
) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    for name, value in mistake.env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(ledger_path)
    run = ledger(*mistake.args(tmp_path))
    line = error_line(run)
    for words in mistake.says:
        assert words.lower() in line.lower(), f"{words!r} not in {line!r}"
    assert run.stdout == ""
    assert snapshot(ledger_path) == before


def test_the_refused_move_names_every_move_possible_now(ledger: Cli, ledger_path: Path) -> None:
    before = snapshot(ledger_path)
    line = error_line(ledger("respond", "1", "accept"))
    assert "cannot respond accept: the dispute is waiting for the seller's answer" in line
    possible = line.split("possible now: ", 1)[1].split(", ")
    assert possible == [
        "respond seller-agrees",
        "respond seller-offers AMOUNT",
        "respond seller-rejects",
        "respond counter AMOUNT",
        "escalate",
        "resolve --refunded AMOUNT",
        "resolve --lost",
        "cancel",
    ]
    assert snapshot(ledger_path) == before


def test_a_closed_dispute_takes_no_more_moves(ledger: Cli, ledger_path: Path) -> None:
    assert ledger("cancel", "1").exit_code == 0
    before = snapshot(ledger_path)
    line = error_line(ledger("respond", "1", "seller-agrees"))
    assert "cancelled" in line
    assert "no move is possible now" in line
    assert snapshot(ledger_path) == before


def test_an_order_number_with_escape_codes_is_not_echoed_raw(
    ledger: Cli, ledger_path: Path
) -> None:
    before = snapshot(ledger_path)
    line = error_line(ledger("open", "\x1b[31m42", "--reason", "damaged", "--full"))
    assert "unknown order \\x1b[31m42" in line  # shown escaped, not run
    assert snapshot(ledger_path) == before


# -- files that are not what they seem -----------------------------------------------------------


def _attach_refused_in_a_subprocess(path: Path) -> str:
    """Run ``attach`` as a real process with a deadline: a FIFO must be refused, not read."""
    run = subprocess.run(
        [sys.executable, "-m", "refundctl", "attach", "1", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    return run.stderr


def test_a_fifo_is_refused_without_blocking(story: Cli, ledger_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "camera-pipe"
    os.mkfifo(fifo)
    before = snapshot(ledger_path)
    message = _attach_refused_in_a_subprocess(fifo)
    assert "not a regular file" in message
    assert snapshot(ledger_path) == before


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_an_unreadable_file_is_refused(story: Cli, ledger_path: Path, tmp_path: Path) -> None:
    secret = tmp_path / "receipt.pdf"
    secret.write_bytes(b"%PDF-1.4 receipt")
    secret.chmod(0)
    try:
        before = snapshot(ledger_path)
        line = error_line(story("attach", "1", str(secret)))
        assert "cannot read" in line and "receipt.pdf" in line
        assert snapshot(ledger_path) == before
    finally:
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_refused_attach_leaves_no_evidence_folder(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    evidence = ledger_path.with_name(ledger_path.stem + ".evidence")
    error_line(story("attach", "1", str(tmp_path / "nope.jpg")))
    assert not evidence.exists() or not any(evidence.rglob("*"))


# -- the config file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param('timezone = "UTC"\ncurrency = "EUR\n', ("line 2",), id="syntax error"),
        pytest.param('timezone = "UTC"\n\n\nfoo = = 1\n', ("line 4",), id="syntax error late"),
        pytest.param(
            'timezone = "UTC"\ncolour = "red"\n',
            ("'colour'", "timezone, currency"),
            id="unknown key",
        ),
        pytest.param(
            'timezone = "Mars/Olympus"\n',
            ("'Mars/Olympus'", "Europe/Berlin"),
            id="unknown timezone",
        ),
        pytest.param("timezone = 1\n", ("timezone must be a string",), id="zone not a string"),
        pytest.param('currency = "XYZ"\n', ("'XYZ'", "ISO 4217"), id="unknown currency"),
        pytest.param(b"timezone = '\xff'\n", ("not UTF-8",), id="not text"),
    ],
)
def test_a_bad_config_file_is_refused_by_name(
    story: Cli,
    ledger_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str | bytes,
    says: tuple[str, ...],
) -> None:
    config = tmp_path / "broken.toml"
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text)
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(config))
    before = snapshot(ledger_path)
    for args in (("status",), ("respond", "1", "seller-agrees")):
        line = error_line(story(*args))
        assert str(config) in line
        for words in says:
            assert words in line, line
    assert snapshot(ledger_path) == before


# -- ledgers that cannot be used: exit 3 ----------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unusable(cli: Cli, path: Path, *args: str) -> str:
    run = cli(*args)
    assert run.exit_code == 3, (run.exit_code, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert str(path) in lines[0]
    return lines[0]


USING = [
    pytest.param(("status",), id="status"),
    pytest.param(("check",), id="check"),
    pytest.param(("order", "list"), id="order list"),
    pytest.param(("order", "add", "77", "-m", "ebay", "--total", "5"), id="order add"),
]


def _leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "."))


@pytest.mark.parametrize("args", USING)
def test_a_file_that_is_not_sqlite_is_left_alone(
    cli: Cli, ledger_path: Path, args: tuple[str, ...]
) -> None:
    ledger_path.write_bytes(random.Random(7).randbytes(4096))
    before = _digest(ledger_path)
    line = _unusable(cli, ledger_path, *args)
    assert "is not a refundctl ledger (not an SQLite database" in line
    assert _digest(ledger_path) == before
    assert _leftovers(ledger_path) == []


@pytest.mark.parametrize("args", USING)
def test_a_ledger_from_a_newer_refundctl_is_not_touched(
    story: Cli, ledger_path: Path, args: tuple[str, ...]
) -> None:
    conn = sqlite3.connect(ledger_path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('refundctl', 'm999_future', '2027-01-01T00:00:00+00:00')"
        )
    conn.close()
    before, digest = snapshot(ledger_path), _digest(ledger_path)
    line = _unusable(story, ledger_path, *args)
    assert "newer refundctl" in line and "m999_future" in line and "upgrade" in line
    assert snapshot(ledger_path) == before
    assert _digest(ledger_path) == digest
    assert not list(ledger_path.parent.glob("*.bak"))


@pytest.mark.parametrize("args", USING)
def test_another_programs_database_is_not_taken_over(
    cli: Cli, ledger_path: Path, args: tuple[str, ...]
) -> None:
    conn = sqlite3.connect(ledger_path)
    with conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO photos (name) VALUES ('holiday.jpg')")
    conn.close()
    before = _digest(ledger_path)
    line = _unusable(cli, ledger_path, *args)
    assert "not a refundctl ledger" in line and "other tables" in line
    assert _digest(ledger_path) == before


# -- read-only commands on a ledger that is not there yet ---------------------------------------


READS = [
    ("status",),
    ("status", "--json"),
    ("status", "--all", "--limit", "0"),
    ("check",),
    ("check", "--json"),
    ("check", "--within", "30d", "--format", "csv"),
    ("order", "list"),
    ("order", "list", "--json"),
    ("order", "show", ORDER),
    ("status", "1"),
    ("export",),
    ("verify",),
    ("draft", "1"),
]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reading_a_ledger_that_is_not_there_is_exit_3_and_creates_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    # Issue 9: a mistyped ledger path once answered "Nothing is due" and exit 0, every day.
    ledger = tmp_path / "new-machine" / "ledger.db"
    monkeypatch.setenv("REFUNDCTL_DB", str(ledger))
    run = cli(*args)
    assert run.exit_code == 3, run.stderr
    assert run.stdout == ""
    line = error_line(run, 3)
    assert f"no ledger at {ledger}" in line
    assert "create one with 'refundctl order add'" in line
    assert not ledger.parent.exists()


def test_a_mistyped_ledger_path_names_the_ledger_it_may_have_meant(
    cli: Cli, tmp_path: Path
) -> None:
    real = tmp_path / "refunds.db"
    assert (
        cli("--db", str(real), "order", "add", "X-1", "-m", "ebay", "--total", "5").exit_code == 0
    )
    typo = tmp_path / "refnds.db"
    run = cli("--db", str(typo), "check")
    assert f"no ledger at {typo} (did you mean {real}?)" in error_line(run, 3)
    assert not typo.exists()


def test_a_write_makes_no_folder_the_user_named(cli: Cli, tmp_path: Path) -> None:
    ledger = tmp_path / "tpyo" / "ledger.db"
    run = cli("--db", str(ledger), "order", "add", "X-1", "-m", "ebay", "--total", "5")
    assert run.exit_code == 2
    assert f"there is no folder {ledger.parent}" in error_line(run)
    assert not ledger.parent.exists()


def test_the_default_ledgers_folder_is_made_by_the_first_write(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REFUNDCTL_DB")
    data = tmp_path / "home" / "data" / "refundctl"
    assert not data.exists()
    assert cli("status").exit_code == 3  # nothing yet
    assert cli("order", "add", "X-1", "-m", "ebay", "--total", "5").exit_code == 0
    assert (data / "ledger.db").is_file()


def test_a_config_file_that_refundctl_config_names_must_exist(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_path: Path
) -> None:
    missing = tmp_path / "confg.toml"
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(missing))
    for args in (("status",), ("order", "add", "X-1", "-m", "ebay", "--total", "5")):
        run = cli(*args)
        assert run.exit_code == 2
        assert f"REFUNDCTL_CONFIG names {missing}, which does not exist" in error_line(run)
    assert not ledger_path.exists()
    # No variable and no default file is fine.
    monkeypatch.delenv("REFUNDCTL_CONFIG")
    assert cli("order", "add", "X-1", "-m", "ebay", "--total", "5").exit_code == 0


@pytest.mark.parametrize("command", [["backup"], ["restore"], ["attach", "1"], ["order", "import"]])
def test_a_file_name_with_a_nul_byte_is_refused(cli: Cli, command: list[str]) -> None:
    run = cli(*command, "a\x00b")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "null byte" in run.stderr
