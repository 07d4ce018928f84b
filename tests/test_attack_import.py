"""``order import`` of a file that can be read more than one way refuses it whole.

Issue 17, items 1 and 9. A stray quote in a CSV cell (``"oops``) opens a quoted cell that runs
on, taking in the rows after it as its text: the file imported "2 added" of four and exited 0.
Now a quote still open at the end of the file, a cell that runs across lines and leaves its
row short of the header's cells, or one that takes in a line which reads as an order of its
own, refuses the file with exit 2 and one line naming where the quote opened, and nothing is
imported, in one process or two. A header that names a column twice, and a JSON object that
gives a key twice, are refused the same way rather than read last-wins. And every value the
ledger can hold, an item name on two lines among them, exports to an orders CSV that imports
back unchanged.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundctl.ledger import importer
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import Ledger
from refundctl.policies import policy_for
from refundctl.records import Item, Order
from tests.conftest import Cli, invoke, snapshot

ONE_ORDER = ("order", "add", "KEPT-1", "-m", "ebay", "--total", "9.99", "--title", "kept")


@pytest.fixture
def ledger(cli: Cli, isolated: Path) -> Path:
    """A ledger holding one order, so that "unchanged" means more than "not created"."""
    run = cli(*ONE_ORDER)
    assert run.exit_code == 0, run.stderr
    return isolated


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def refused_whole(cli: Cli, ledger: Path, path: Path) -> str:
    """Import ``path``: exit 2, one error line, nothing on stdout, the ledger as it was."""
    before = snapshot(ledger)
    run = cli("order", "import", str(path))
    assert run.exit_code == 2, (run.exit_code, run.stdout, run.stderr)
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert snapshot(ledger) == before
    listed = cli("order", "list", "--json").json()["orders"]
    assert [o["order"] for o in listed] == ["KEPT-1"]
    return lines[0]


ADVICE = 'close the quote where the cell ends, or write a quote that is text as two ("")'


# -- a quote that runs on ------------------------------------------------------------------------


def test_a_stray_quote_that_swallows_the_rest_of_the_file_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path
) -> None:
    """The issue's file: the title ``"oops`` on line 3 never closes, so U3 and U4 became part
    of U2's title and the import said "2 added" of four."""
    path = write(
        tmp_path,
        "u.csv",
        'marketplace,order_no,total,title\nebay,U1,5,first\nebay,U2,6,"oops\n'
        "ebay,U3,7,third\nebay,U4,8,fourth\n",
    )
    assert refused_whole(cli, ledger, path) == (
        "error: line 3: the quote that opens a cell here is never closed, so lines 3 to 5, "
        f"the rest of the file, would be read as one cell; {ADVICE}"
    )


@pytest.mark.parametrize("end", ["", "\n", "\r\n"], ids=["no-line-end", "LF", "CRLF"])
def test_a_quote_opened_on_the_last_line_and_never_closed_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path, end: str
) -> None:
    """The last row's title opens a quote and the file ends: the row looked whole, but its
    cell is only what the end of the file cut off."""
    path = write(
        tmp_path,
        "last.csv",
        f'marketplace,order_no,total,title\nebay,U1,5,first\nebay,U2,6,"oops{end}',
    )
    assert refused_whole(cli, ledger, path) == (
        f"error: line 3: the quote that opens a cell here is never closed; {ADVICE}"
    )


def test_a_quote_closed_by_a_later_stray_quote_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path
) -> None:
    """A stray quote opens on line 3 and another, at the end of line 5, closes it: the file
    reads, but U3 and U4 would be the text of U2's title."""
    path = write(
        tmp_path,
        "closed.csv",
        'marketplace,order_no,total,title\nebay,U1,5,first\nebay,U2,6,"oops\n'
        'ebay,U3,7,third\nebay,U4,8,fourth"\nebay,U5,9,fifth\n',
    )
    assert refused_whole(cli, ledger, path) == (
        "error: line 3: the quoted cell that opens here takes in line 4, which reads as an "
        f"order of its own (ebay 'U3'); {ADVICE} (a text that holds such a line imports from "
        "JSON Lines)"
    )


def test_a_swallowed_order_of_the_files_own_marketplace_is_found_too(
    cli: Cli, ledger: Path, tmp_path: Path
) -> None:
    """The marketplace refundctl has no policy for counts as known when the file's own rows
    name it: a shop's export of its own orders is covered as eBay's is."""
    path = write(
        tmp_path,
        "shop.csv",
        "marketplace,order_no,total,title\nmy-shop.de,S1,5,first\n"
        'my-shop.de,S2,6,"oops\nmy-shop.de,S3,7,third"\nmy-shop.de,S4,8,fourth\n',
    )
    assert (
        "line 3: the quoted cell that opens here takes in line 4, which reads as an order "
        "of its own (my-shop.de 'S3')"
    ) in refused_whole(cli, ledger, path)


def test_a_swallowed_order_is_found_in_a_file_without_a_marketplace_column(
    cli: Cli, ledger: Path, tmp_path: Path
) -> None:
    """A file for ``--marketplace ebay``: the line taken in has an order number and a figure
    under total, so it reads as an order too."""
    path = write(
        tmp_path,
        "plain.csv",
        'order_no,total,title\nP1,5,first\nP2,6,"oops\nP3,7,third"\nP4,8,fourth\n',
    )
    before = snapshot(ledger)
    run = cli("order", "import", str(path), "--marketplace", "ebay")
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert run.stderr.startswith(
        "error: line 3: the quoted cell that opens here takes in line 4, which reads as an "
        "order of its own ('P3'); "
    )
    assert len(run.stderr.splitlines()) == 1 and snapshot(ledger) == before


def test_a_runaway_quote_that_leaves_its_row_short_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path
) -> None:
    """A stray quote in the seller cell runs on into the next line's title: the row that
    results has three cells under a header of five, which no whole row has."""
    path = write(
        tmp_path,
        "short.csv",
        "marketplace,order_no,seller,total,title\nebay,U1,a,5,first\n"
        'ebay,U2,"oops,6,x\nebay,U3,b,7,third"\nebay,U5,c,9,fifth\n',
    )
    assert refused_whole(cli, ledger, path) == (
        "error: line 3: the quoted cell that opens here runs on to line 4, and its row then "
        f"has 3 cells for the header's 5; {ADVICE}"
    )


def test_a_runaway_quote_far_down_a_file_read_in_batches_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read in many batches, the stray quote far down, past the first: refused all
    the same, before any batch goes in."""
    monkeypatch.setattr(importer, "IMPORT_BATCH", 3)
    lines = ["marketplace,order_no,total,title"]
    lines += [f"ebay,N{n},{n % 90 + 1}.50,thing {n}" for n in range(40)]
    lines[35] = 'ebay,N34,5.50,"oops'
    lines[38] = 'ebay,N37,5.50,thing 37"'
    path = write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    assert "line 36: the quoted cell that opens here takes in line 37" in refused_whole(
        cli, ledger, path
    )


# -- a name given twice --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("marketplace,order_no,total,total", "'total' twice (columns 3 and 4)"),
        ("marketplace,order_no,Total,title, total ", "'total' twice (columns 3 and 5)"),
    ],
    ids=["same", "case-and-spaces"],
)
def test_a_header_that_names_a_column_twice_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path, header: str, says: str
) -> None:
    """``total,total``: one of the two totals would be imported without a word (the last)."""
    path = write(tmp_path, "twice.csv", f"{header}\nebay,T1,5,600\n")
    line = refused_whole(cli, ledger, path)
    assert line.startswith("error: the header names column ") and says in line


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        (
            "list.json",
            '[{"marketplace": "ebay", "order_no": "J1", "total": "5", "total": "500"}]',
            "error: a JSON object gives 'total' twice",
        ),
        (
            "lines.jsonl",
            '{"marketplace": "ebay", "order_no": "J1", "total": "5"}\n'
            '{"marketplace": "ebay", "order_no": "J2", "order_no": "J3", "total": "5"}\n',
            "error: line 2: a JSON object gives 'order_no' twice",
        ),
        (
            "export.json",
            '{\n  "format": "refundctl-export",\n  "orders": [\n'
            '    {"marketplace": "ebay", "order": "J1", "total": "5", "order": "J2"}\n  ]\n}\n',
            "error: a JSON object gives 'order' twice",
        ),
        (
            "items.json",
            '[{"marketplace": "ebay", "order_no": "J1", "total": "5",'
            ' "items": [{"name": "Cable", "quantity": 1, "quantity": 9}]}]',
            "error: a JSON object gives 'quantity' twice",
        ),
    ],
    ids=["json-list", "json-lines", "export-document", "an-item"],
)
def test_a_json_object_that_gives_a_key_twice_is_refused(
    cli: Cli, ledger: Path, tmp_path: Path, name: str, text: str, says: str
) -> None:
    """``"total": "5", "total": "500"``: JSON would keep the last value and say nothing."""
    line = refused_whole(cli, ledger, write(tmp_path, name, text))
    assert line.startswith(says), line


# -- what the exporter writes imports back ---------------------------------------------------


def test_an_item_name_on_two_lines_exports_to_a_csv_that_imports_back(
    cli: Cli, tmp_path: Path
) -> None:
    """An item named "Cable\\nred" (from a JSON import) and a title on two lines: the orders
    CSV is read back to the same order, and exported again to the same bytes."""
    source = write(
        tmp_path,
        "in.json",
        '[{"marketplace": "ebay", "order_no": "I1", "total": "20", "title": "Hub\\nblack",'
        ' "items": [{"name": "Cable\\nred", "quantity": 2}, {"name": "Case", "price": "2"}]}]',
    )
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    assert cli("--db", str(first), "order", "import", str(source)).exit_code == 0
    exported = tmp_path / "first.csv"
    assert cli("--db", str(first), "export", "-o", str(exported)).exit_code == 0
    run = cli("--db", str(second), "order", "import", str(exported))
    assert run.exit_code == 0, run.stderr
    shown = cli("--db", str(second), "order", "show", "I1", "--json").json()
    assert shown["title"] == "Hub\nblack"
    assert [(i["name"], i["quantity"]) for i in shown["items"]] == [("Cable\nred", 2), ("Case", 1)]
    again = tmp_path / "second.csv"
    assert cli("--db", str(second), "export", "-o", str(again)).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()


# Text heavy in what a CSV reader and a spreadsheet care about: line breaks of every kind
# between words with quotes, delimiters, and the starts a formula guard quotes.
PIECES = ["Cable", "red", "=1+2", '27" hub', "a,b", "-5", "'q", "x2", "\n", "\r\n", "\r", "\n\n"]
LINE_TEXT = st.lists(st.sampled_from(PIECES), max_size=6).map("".join).map(str.strip)
ITEM_NAMES = st.lists(LINE_TEXT.filter(bool), max_size=3, unique_by=lambda name: name.casefold())
LEDGER_SETTINGS = Settings(zone=UTC, policy_for=policy_for)
BASE = datetime(2026, 11, 26, 12, tzinfo=UTC)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seller=LINE_TEXT,
    title=LINE_TEXT,
    payment=LINE_TEXT,
    names=ITEM_NAMES,
    quantity=st.integers(min_value=1, max_value=3),
)
def test_any_text_on_several_lines_round_trips_through_the_orders_csv(
    seller: str, title: str, payment: str, names: list[str], quantity: int
) -> None:
    """Sellers, titles, payments and item names with line breaks, quotes and formula starts:
    export, import into a new ledger, and the orders are the same, the CSV byte for byte."""
    order = Order(
        marketplace="ebay",
        order_no="R1",
        total=Decimal("12.50"),
        currency="USD",
        seller=seller or None,
        title=title or None,
        items=tuple(Item(name, quantity, Decimal("1.25")) for name in names),
        payment=payment or None,
        ordered=BASE - timedelta(days=3),
    )
    run = invoke

    def stored(path: Path) -> list[Order]:
        with Ledger.open(path, LEDGER_SETTINGS, write=False) as ledger:
            return [replace(o, id=0) for o in ledger.orders()]

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        first, second = folder / "first.db", folder / "second.db"
        with Ledger.open(first, LEDGER_SETTINGS, write=True) as ledger:
            ledger.add_order(order, BASE)
        exported, again = folder / "first.csv", folder / "second.csv"
        assert run("--db", str(first), "export", "-o", str(exported)).exit_code == 0
        imported = run("--db", str(second), "order", "import", str(exported))
        assert imported.exit_code == 0, (imported.stderr, exported.read_text("utf-8"))
        assert run("--db", str(second), "export", "-o", str(again)).exit_code == 0
        assert again.read_bytes() == exported.read_bytes()
        assert stored(second) == stored(first) == [replace(order, id=0)]
