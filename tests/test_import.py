"""``order import``: a year of orders from a file, checked row by row, all or nothing.

Issue 5: CSV, a JSON list or JSON Lines, told apart by their content; ``-`` reads stdin; headers
matched case-insensitively with surrounding spaces ignored; ``--map`` for a foreign export's
headers and ``--marketplace`` for a missing column; amounts as shops write them, read when the
currency makes them clear and refused with the row when it does not. A second import of the
same file changes nothing; a changed row updates the order and leaves an order event; one bad
row refuses the whole file, naming every bad row, and leaves the ledger as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import typer.testing

from refundctl.cli import app
from refundctl.errors import BadInput
from refundctl.importing import detect, parse_mapping, read_amount, unneutralise
from tests.conftest import Cli, Run, snapshot


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


# Ledgers live in memory-backed storage where there is one: SQLite's syncs to disk would
# otherwise be most of this file's running time. The isolation is conftest's, only faster.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(autouse=True)
def ledger_path(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as folder:
        path = Path(folder) / "ledger.db"
        monkeypatch.setenv("REFUNDCTL_DB", str(path))
        yield path


def refused(run: Run) -> list[str]:
    """A refusal: exit 2, nothing on stdout, one 'error:' line and its indented details."""
    assert run.exit_code == 2, (run.exit_code, run.stdout, run.stderr)
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), run.stderr
    assert all(line.startswith("  ") for line in lines[1:]), run.stderr
    return lines


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def orders(cli: Cli, *db: str) -> dict[str, dict[str, Any]]:
    """The ledger's orders by order number, as ``order list --json`` shows them."""
    listed = ok(cli(*db, "order", "list", "--json")).json()["orders"]
    return {o["order"]: o for o in listed}


def order_events(ledger: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(order number, kind, changes) for every order event, oldest first."""
    conn = sqlite3.connect(ledger)
    try:
        rows = conn.execute(
            "SELECT o.order_no, e.kind, e.changes FROM order_events e "
            "JOIN orders o ON o.id = e.order_id ORDER BY e.id"
        ).fetchall()
    finally:
        conn.close()
    return [(number, kind, json.loads(changes or "{}")) for number, kind, changes in rows]


THREE_CSV = (
    "marketplace,order_no,seller,title,total,currency,received\n"
    "aliexpress,8101,Best Store,USB-C hub,45.90,USD,2026-11-20\n"
    "ebay,12-345,vintage_finds,Film camera,120.00,USD,2026-11-14\n"
    'amazon,113-456,SoundCo,"Speaker, blue",59.99,USD,\n'
)
THREE = [
    {
        "marketplace": "aliexpress",
        "order_no": "8101",
        "seller": "Best Store",
        "title": "USB-C hub",
        "total": "45.90",
        "currency": "USD",
        "received": "2026-11-20",
    },
    {
        "marketplace": "ebay",
        "order_no": "12-345",
        "seller": "vintage_finds",
        "title": "Film camera",
        "total": "120.00",
        "currency": "USD",
        "received": "2026-11-14",
    },
    {
        "marketplace": "amazon",
        "order_no": "113-456",
        "seller": "SoundCo",
        "title": "Speaker, blue",
        "total": "59.99",
        "currency": "USD",
    },
]


def check_three(found: dict[str, dict[str, Any]]) -> None:
    assert sorted(found) == ["113-456", "12-345", "8101"]
    assert found["8101"]["marketplace"] == "aliexpress"
    assert found["8101"]["seller"] == "Best Store"
    assert found["8101"]["total"] == "45.90" and found["8101"]["currency"] == "USD"
    assert found["8101"]["received"] == "2026-11-20T00:00:00+00:00"
    assert found["12-345"]["total"] == "120.00"
    assert found["113-456"]["title"] == "Speaker, blue"
    assert found["113-456"]["received"] is None


# -- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("csv", THREE_CSV),
        ("json", json.dumps(THREE, indent=2)),
        ("jsonl", "".join(json.dumps(row) + "\n" for row in THREE)),
    ],
)
def test_each_format_is_told_from_its_content_not_its_name(
    cli: Cli, tmp_path: Path, kind: str, text: str
) -> None:
    assert detect(text) == kind
    # A misleading extension: the content decides.
    path = write(tmp_path, "orders.txt", text)
    run = ok(cli("order", "import", str(path)))
    assert run.stdout == f"Imported {path}: 3 added, 0 updated, 0 unchanged.\n"
    assert run.stderr == ""
    check_three(orders(cli))


def test_a_bom_and_crlf_from_excel_are_fine(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + THREE_CSV.replace("\n", "\r\n")).encode())
    ok(cli("order", "import", str(path)))
    check_three(orders(cli))


def test_a_semicolon_separated_export_with_decimal_commas(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "de.csv",
        "marketplace;order_no;total;currency\nebay;DE-1;12,50;EUR\nebay;DE-2;1.234,56;EUR\n",
    )
    ok(cli("order", "import", str(path)))
    found = orders(cli)
    assert found["DE-1"]["total"] == "12.50" and found["DE-2"]["total"] == "1234.56"


@pytest.mark.parametrize("kind", ["csv", "jsonl", "json"])
def test_a_dash_reads_standard_input(cli: Cli, kind: str) -> None:
    text = {
        "csv": THREE_CSV,
        "jsonl": "".join(json.dumps(row) + "\n" for row in THREE),
        "json": json.dumps(THREE),
    }[kind]
    run = ok(cli("order", "import", "-", input=text))
    assert run.stdout == "Imported -: 3 added, 0 updated, 0 unchanged.\n"
    check_three(orders(cli))


def test_json_values_may_be_numbers_and_nulls(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "n.json",
        json.dumps(
            [
                {"marketplace": "ebay", "order_no": "N1", "total": 12.5, "seller": None},
                {"marketplace": "ebay", "order_no": "N2", "total": 7, "title": ""},
            ]
        ),
    )
    ok(cli("order", "import", str(path)))
    found = orders(cli)
    assert found["N1"]["total"] == "12.50" and found["N1"]["seller"] is None
    assert found["N2"]["total"] == "7.00" and found["N2"]["title"] is None


# -- columns -----------------------------------------------------------------------------------


def test_headers_match_whatever_their_case_and_spacing(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.csv",
        "  MarketPlace ,ORDER_NO,  Seller,Title  , TOTAL ,Currency, Received\n"
        "AliExpress,8101,Best Store,USB-C hub,45.90,usd,2026-11-20\n",
    )
    ok(cli("order", "import", str(path)))
    found = orders(cli)["8101"]
    assert found["marketplace"] == "aliexpress"
    assert found["seller"] == "Best Store" and found["title"] == "USB-C hub"
    assert found["total"] == "45.90" and found["currency"] == "USD"
    assert found["received"] == "2026-11-20T00:00:00+00:00"


def test_map_reads_a_foreign_exports_headers(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ali.csv",
        "Order ID,Order Amount,Store Name,Product,Order Time\n"
        "8101234567890123,US $45.90,Best Store,USB-C hub,2026/11/01\n"
        "8109876543210987,US $23.40,Other Store,LED lamp,2026/11/06\n",
    )
    run = ok(
        cli(
            "order",
            "import",
            str(path),
            "--map",
            'order_no="Order ID"',
            "--map",
            "total=Order Amount",
            "--map",
            "SELLER = store name",
            "--map",
            "title='Product'",
            "--map",
            "ordered=Order Time",
            "--marketplace",
            "aliexpress",
        )
    )
    assert "2 added" in run.stdout
    found = orders(cli)
    first = found["8101234567890123"]
    assert first["marketplace"] == "aliexpress"
    assert first["total"] == "45.90" and first["currency"] == "USD"
    assert first["seller"] == "Best Store" and first["title"] == "USB-C hub"
    assert first["ordered"] == "2026-11-01T00:00:00+00:00"
    assert found["8109876543210987"]["total"] == "23.40"


@pytest.mark.parametrize("pair", ["order_no", "order_no=", "nonsense=Order ID", "=Order ID"])
def test_a_map_that_names_no_field_is_refused(
    cli: Cli, tmp_path: Path, ledger_path: Path, pair: str
) -> None:
    path = write(tmp_path, "a.csv", THREE_CSV)
    lines = refused(cli("order", "import", str(path), "--map", pair))
    assert "--map" in lines[0]
    assert snapshot(ledger_path) == "absent"


def test_parse_mapping_lowercases_our_field_and_unquotes_theirs() -> None:
    assert parse_mapping(['Order_No="Order ID"', "total = 'Amount (USD)' "]) == {
        "order_no": "Order ID",
        "total": "Amount (USD)",
    }


def test_marketplace_option_fills_a_missing_column_or_an_empty_cell(
    cli: Cli, tmp_path: Path
) -> None:
    without = write(tmp_path, "w.csv", "order_no,total\nA-1,10\n")
    ok(cli("order", "import", str(without), "--marketplace", "eBay"))
    with_blank = write(tmp_path, "b.csv", "marketplace,order_no,total\n,B-1,10\ntemu,B-2,10\n")
    ok(cli("order", "import", str(with_blank), "-m", "ebay"))
    found = orders(cli)
    assert found["A-1"]["marketplace"] == "ebay"
    assert found["B-1"]["marketplace"] == "ebay"
    assert found["B-2"]["marketplace"] == "temu"  # a row's own marketplace wins


def test_without_a_marketplace_every_row_says_so(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "order_no,total\nA-1,10\nA-2,11\n")
    lines = refused(cli("order", "import", str(path)))
    assert lines[1:] == [
        "  row 1, marketplace: is missing; add --marketplace M",
        "  row 2, marketplace: is missing; add --marketplace M",
    ]


def test_currency_option_is_the_default_for_rows_without_one(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path, "c.csv", "marketplace,order_no,total,currency\nebay,E1,10,\nebay,E2,5,GBP\n"
    )
    ok(cli("order", "import", str(path), "--currency", "eur"))
    found = orders(cli)
    assert found["E1"]["currency"] == "EUR" and found["E2"]["currency"] == "GBP"


# -- amounts -----------------------------------------------------------------------------------

READABLE = [
    ("US $12.50", "USD", "12.50"),
    ("$12.50", "USD", "12.50"),
    ("12.50 USD", "USD", "12.50"),
    ("12,50 €", "EUR", "12.50"),
    ("€ 12,50", "EUR", "12.50"),
    ("1.234,56", "EUR", "1234.56"),
    ("1.234.567,89", "EUR", "1234567.89"),
    ("1,234.56", "USD", "1234.56"),
    ("1,234", "USD", "1234.00"),
    ("1.234", "BRL", "1234.00"),
    ("¥1,500", "JPY", "1500"),
    ("1500", "JPY", "1500"),
    ("£7", "GBP", "7.00"),
    pytest.param(
        "12.500",
        "KWD",
        "12.500",
    ),
]


@pytest.mark.parametrize(("text", "currency", "expected"), READABLE)
def test_amounts_are_read_as_shops_write_them(text: str, currency: str, expected: str) -> None:
    assert read_amount(text, currency) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "currency", "says"),
    [
        ("1.234", "EUR", "ambiguous"),
        ("1,234", "KWD", "ambiguous"),
        ("1,234", "EUR", "ambiguous"),
        ("12,50 €", "USD", "EUR"),
        ("US $12.50", "EUR", "USD"),
        ("12.50 GBP", "USD", "GBP"),
        ("-5.00", "USD", "negative"),
        ("(5.00)", "USD", "negative"),
        ("", "USD", "empty"),
        ("twelve", "USD", ""),
        ("1.2.3,4,5", "EUR", ""),
        ("12.505", "USD", ""),
    ],
)
def test_amounts_that_cannot_be_told_are_refused(text: str, currency: str, says: str) -> None:
    with pytest.raises(BadInput) as caught:
        read_amount(text, currency)
    assert says in caught.value.message


def test_amounts_in_a_file_are_read_with_their_currency(cli: Cli, tmp_path: Path) -> None:
    rows = [("A1", "US $12.50", "USD"), ("A2", "12,50 €", "EUR"), ("A3", "1.234,56", "EUR")]
    rows += [("A4", "1,234.56", "USD"), ("A5", "1,234", "USD"), ("A6", "¥1,500", "JPY")]
    text = "marketplace,order_no,total,currency\n" + "".join(
        f'ebay,{number},"{amount}",{code}\n' for number, amount, code in rows
    )
    ok(cli("order", "import", str(write(tmp_path, "a.csv", text))))
    found = orders(cli)
    assert {n: (o["total"], o["currency"]) for n, o in found.items()} == {
        "A1": ("12.50", "USD"),
        "A2": ("12.50", "EUR"),
        "A3": ("1234.56", "EUR"),
        "A4": ("1234.56", "USD"),
        "A5": ("1234.00", "USD"),
        "A6": ("1500", "JPY"),
    }


def test_an_ambiguous_amount_is_refused_naming_row_and_column(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    text = (
        "marketplace,order_no,total,currency\n"
        "ebay,OK-1,12.50,USD\n"
        "ebay,EU-1,1.234,EUR\n"
        'ebay,KW-1,"1,234",KWD\n'
    )
    lines = refused(cli("order", "import", str(write(tmp_path, "a.csv", text))))
    assert lines[0].startswith("error: 2 problems in ")
    assert lines[0].endswith("nothing was imported")
    assert lines[1].startswith("  row 2, total: '1.234' is ambiguous in EUR")
    assert lines[2].startswith("  row 3, total: '1,234' is ambiguous in KWD")
    assert snapshot(ledger_path) == "absent"


# -- idempotence and updates --------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    path = write(tmp_path, "o.csv", THREE_CSV)
    ok(cli("order", "import", str(path)))
    before = snapshot(ledger_path)
    again = ok(cli("order", "import", str(path)))
    assert again.stdout == f"Imported {path}: 0 added, 0 updated, 3 unchanged.\n"
    assert snapshot(ledger_path) == before
    summary = ok(cli("order", "import", str(path), "--json")).json()
    assert summary == {
        "file": str(path),
        "added": 0,
        "updated": 0,
        "unchanged": 3,
        "dry_run": False,
        # Issue 19 added what the file was, what it skipped and the money it held.
        "format": "refundctl orders",
        "orders": 3,
        "skipped": {},
        "money": [],
    }
    assert snapshot(ledger_path) == before


def test_an_import_after_order_add_matches_rather_than_duplicates(cli: Cli, tmp_path: Path) -> None:
    ok(
        cli(
            "order", "add", "8101", "-m", "aliexpress", "--total", "45.90", "--seller", "Best Store"
        )
    )
    path = write(
        tmp_path,
        "o.csv",
        "marketplace,order_no,seller,total\naliexpress,8101,Best Store,45.90\n",
    )
    assert ok(cli("order", "import", str(path))).stdout.endswith(
        "0 added, 0 updated, 1 unchanged.\n"
    )
    assert list(orders(cli)) == ["8101"]


def test_a_changed_row_updates_the_order_and_records_an_event(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    path = write(tmp_path, "o.csv", THREE_CSV)
    ok(cli("order", "import", str(path)))
    first = order_events(ledger_path)
    assert [(number, kind) for number, kind, _ in first] == [
        ("8101", "imported"),
        ("12-345", "imported"),
        ("113-456", "imported"),
    ]
    edited = THREE_CSV.replace("USB-C hub,45.90", "USB-C hub 7-in-1,49.90").replace(
        "2026-11-14", "2026-11-15"
    )
    run = ok(cli("order", "import", str(write(tmp_path, "o.csv", edited))))
    assert run.stdout == f"Imported {path}: 0 added, 2 updated, 1 unchanged.\n"
    shown = ok(cli("order", "show", "8101", "--json")).json()
    assert shown["title"] == "USB-C hub 7-in-1" and shown["total"] == "49.90"
    assert shown["seller"] == "Best Store"
    assert ok(cli("order", "show", "12-345", "--json")).json()["received"] == (
        "2026-11-15T00:00:00+00:00"
    )
    events = order_events(ledger_path)
    assert events[: len(first)] == first  # events are only ever appended
    assert events[len(first) :] == [
        ("8101", "imported", {"title": "USB-C hub 7-in-1", "total": "49.90"}),
        ("12-345", "imported", {"received": "2026-11-15T00:00:00+00:00"}),
    ]


def test_columns_the_file_lacks_are_left_alone(cli: Cli, tmp_path: Path) -> None:
    ok(cli("order", "import", str(write(tmp_path, "o.csv", THREE_CSV))))
    slim = write(tmp_path, "slim.csv", "marketplace,order_no,total\naliexpress,8101,45.90\n")
    assert ok(cli("order", "import", str(slim))).stdout.endswith("1 unchanged.\n")
    found = orders(cli)["8101"]
    assert found["seller"] == "Best Store" and found["title"] == "USB-C hub"
    assert found["received"] == "2026-11-20T00:00:00+00:00"


def test_an_empty_cell_leaves_the_field_as_it_was(cli: Cli, tmp_path: Path) -> None:
    ok(cli("order", "import", str(write(tmp_path, "o.csv", THREE_CSV))))
    seller = orders(cli)["8101"]["seller"]
    blank = write(tmp_path, "c.csv", "marketplace,order_no,total,seller\naliexpress,8101,45.90,\n")
    assert "1 unchanged" in ok(cli("order", "import", str(blank))).stdout
    assert orders(cli)["8101"]["seller"] == seller


def test_an_empty_ordered_cell_does_not_erase_the_protection_window(
    cli: Cli, tmp_path: Path
) -> None:
    ok(cli("order", "add", "P-1", "-m", "paypal", "--total", "25", "--ordered", "2026-11-01"))
    assert ok(cli("order", "show", "P-1", "--json")).json()["deadline"] is not None
    text = "marketplace,order_no,total,ordered\npaypal,P-1,25.00,\n"
    cli("order", "import", str(write(tmp_path, "e.csv", text)))
    shown = ok(cli("order", "show", "P-1", "--json")).json()
    assert shown["ordered"] == "2026-11-01T00:00:00+00:00"
    assert shown["deadline"] is not None


# -- all or nothing ----------------------------------------------------------------------------


def test_several_bad_rows_refuse_the_whole_file_and_list_every_one(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    ok(cli("order", "add", "KEEP-1", "-m", "ebay", "--total", "5", "--title", "Kept"))
    before = snapshot(ledger_path)
    text = (
        "marketplace,order_no,total,currency,received,items\n"
        "ebay,GOOD-1,10.00,USD,2026-11-20,\n"  # row 1: fine
        "ebay,BAD-2,ten,USD,,\n"  # row 2: total
        "ebay,,10.00,USD,,\n"  # row 3: order_no
        "ebay,BAD-4,10.00,XYZ,,\n"  # row 4: currency
        "ebay,BAD-5,10.00,USD,2026-12-25,\n"  # row 5: received in the future
        "ebay,BAD-6,10.00,USD,11/12/2026,\n"  # row 6: a date that could be either
        "ebay,BAD-7,10.00,USD,,Cable x0\n"  # row 7: items
        "ebay,KEEP-1,10.00,USD,,\n"  # row 8: an update that would be fine
    )
    run = cli("order", "import", str(write(tmp_path, "bad.csv", text)))
    lines = refused(run)
    assert (
        lines[0] == "error: 6 problems in " + str(tmp_path / "bad.csv") + "; nothing was imported"
    )
    details = lines[1:]
    assert len(details) == 6
    assert details[0].startswith("  row 2, total: ")
    assert details[1] == "  row 3, order_no: is missing"
    assert details[2].startswith("  row 4, currency: ") and "XYZ" in details[2]
    assert details[3].startswith("  row 5") and "future" in details[3]
    assert details[4].startswith("  row 6, received: ")
    assert details[5].startswith("  row 7, items: ")
    assert snapshot(ledger_path) == before
    assert sorted(orders(cli)) == ["KEEP-1"]


def test_every_bad_row_names_its_column(cli: Cli, tmp_path: Path) -> None:
    text = (
        "marketplace,order_no,total,shipped,received\n"
        "ebay,E1,10,,2026-12-25\n"
        "ebay,E2,10,2026-11-20,2026-11-10\n"
    )
    lines = refused(cli("order", "import", str(write(tmp_path, "d.csv", text))))
    assert lines[1].startswith("  row 1, received: "), lines
    assert lines[2].startswith("  row 2, received: "), lines


def test_a_row_with_more_cells_than_the_header_is_refused(cli: Cli, tmp_path: Path) -> None:
    text = "marketplace,order_no,total\nebay,E1,10\nebay,E2,1,234\n"
    lines = refused(cli("order", "import", str(write(tmp_path, "x.csv", text))))
    assert lines[1:] == ["  row 2: has more cells than the header"]


def test_a_json_entry_that_is_not_an_object_is_refused(cli: Cli, tmp_path: Path) -> None:
    text = json.dumps([{"marketplace": "ebay", "order_no": "E1", "total": "1"}, ["E2", "1"]])
    lines = refused(cli("order", "import", str(write(tmp_path, "x.json", text))))
    assert lines[1:] == ["  row 2: is not an object of order fields"]


def test_a_total_below_what_disputes_agreed_is_refused_on_update(
    story: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    ok(story("respond", "1", "seller-agrees", "--on", "2026-11-23"))
    before = snapshot(ledger_path)
    text = (
        "marketplace,order_no,total\n"
        "ebay,NEW-1,10.00\n"  # row 1 would be added ...
        "aliexpress,8101234567890123,10.00\n"  # ... but row 2 is below the agreed 12.50
    )
    lines = refused(story("order", "import", str(write(tmp_path, "t.csv", text))))
    assert lines[0] == "error: 1 row cannot be imported; nothing was imported"
    assert lines[1].startswith("  row 2: ") and "12.50" in lines[1]
    assert snapshot(ledger_path) == before
    assert "NEW-1" not in orders(story)
    # At or above what was agreed is fine.
    fine = write(
        tmp_path, "f.csv", "marketplace,order_no,total\naliexpress,8101234567890123,12.50\n"
    )
    assert "1 updated" in ok(story("order", "import", str(fine))).stdout
    assert orders(story)["8101234567890123"]["total"] == "12.50"


def test_a_currency_change_on_a_disputed_order_is_refused(
    story: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    before = snapshot(ledger_path)
    text = "marketplace,order_no,total,currency\naliexpress,8101234567890123,45.90,EUR\n"
    lines = refused(story("order", "import", str(write(tmp_path, "c.csv", text))))
    assert "currency" in lines[1]
    assert snapshot(ledger_path) == before


def test_an_order_number_twice_in_one_file_is_refused(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    text = (
        "marketplace,order_no,total\n"
        "ebay,E-1,10\n"
        "ebay,E-2,10\n"
        "ebay,E-1,12\n"
        "etsy,E-1,10\n"  # the same number on another marketplace is another order
    )
    lines = refused(cli("order", "import", str(write(tmp_path, "d.csv", text))))
    assert lines[1:] == ["  row 3, order_no: repeats row 1 (E-1)"]
    assert snapshot(ledger_path) == "absent"


def test_an_order_number_with_a_space_is_refused(cli: Cli, tmp_path: Path) -> None:
    text = "marketplace,order_no,total\nebay,E 1,10\n"
    lines = refused(cli("order", "import", str(write(tmp_path, "s.csv", text))))
    assert lines[1].startswith("  row 1, order_no: ")


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_reports_the_counts_and_writes_nothing(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    ok(cli("order", "import", str(write(tmp_path, "o.csv", THREE_CSV))))
    before = snapshot(ledger_path)
    edited = THREE_CSV.replace("45.90", "49.90") + "temu,PO-9,Temu seller,Cable,6.50,USD,\n"
    path = write(tmp_path, "o.csv", edited)
    run = ok(cli("order", "import", str(path), "--dry-run"))
    assert run.stdout == (
        f"Checked {path}: 1 added, 1 updated, 2 unchanged. Nothing was written (--dry-run).\n"
    )
    summary = ok(cli("order", "import", str(path), "--dry-run", "--json")).json()
    assert summary["dry_run"] is True
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (1, 1, 2)
    assert snapshot(ledger_path) == before
    assert orders(cli)["8101"]["total"] == "45.90"


def test_dry_run_still_refuses_a_bad_file(cli: Cli, tmp_path: Path, ledger_path: Path) -> None:
    ok(cli("order", "import", str(write(tmp_path, "o.csv", THREE_CSV))))
    before = snapshot(ledger_path)
    bad = write(tmp_path, "b.csv", "marketplace,order_no,total\nebay,X,1.234.5\n")
    refused(cli("order", "import", str(bad), "--dry-run"))
    assert snapshot(ledger_path) == before


def test_dry_run_without_a_ledger_leaves_no_file(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    ok(cli("order", "import", str(write(tmp_path, "o.csv", THREE_CSV)), "--dry-run"))
    assert not ledger_path.exists()


# -- unreadable files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such file"),
        ("dir", "is a directory"),
        (b"marketplace,order_no,total\nebay,\xff\xfe,1\n", "not UTF-8"),
        (b"", "empty"),
        (b"  \n\n", "no orders"),
        (b"marketplace,order_no,total\n", "no orders"),
        (b"[]", "no orders"),
        (b'[{"marketplace": "ebay", "order_no": "E1", "total": "1"},', "not valid JSON"),
        (b'{"marketplace": "ebay", "order_no": "E1", "total": "1"}\n{nope}\n', "line 2"),
    ],
    ids=[
        "missing",
        "directory",
        "not-utf8",
        "empty",
        "blank",
        "header-only",
        "empty-list",
        "bad-json",
        "bad-jsonl",
    ],
)
def test_a_file_that_cannot_be_read_is_refused(
    cli: Cli, tmp_path: Path, ledger_path: Path, content: bytes | str | None, says: str
) -> None:
    ok(cli("order", "add", "KEEP-1", "-m", "ebay", "--total", "5"))
    before = snapshot(ledger_path)
    path = tmp_path / "input.csv"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    lines = refused(cli("order", "import", str(path)))
    assert says in " ".join(lines), lines
    assert snapshot(ledger_path) == before


def test_unneutralise_takes_exactly_one_quote() -> None:
    assert unneutralise("'=SUM(A1)") == "=SUM(A1)"
    assert unneutralise("''q") == "'q"
    assert unneutralise("plain") == "plain"


# -- items -------------------------------------------------------------------------------------


def test_an_items_cell_lists_name_quantity_and_price(cli: Cli, tmp_path: Path) -> None:
    text = (
        "marketplace,order_no,total,items\n"
        "aliexpress,8101,10.50,Cable x2 @3.50; Case\n"
        "aliexpress,8102,3.00,Plug @1.50 | Adapter x3\n"
    )
    ok(cli("order", "import", str(write(tmp_path, "i.csv", text))))
    found = orders(cli)
    assert found["8101"]["items"] == [
        {"name": "Cable", "quantity": 2, "price": "3.50"},
        {"name": "Case", "quantity": 1, "price": None},
    ]
    assert found["8102"]["items"] == [
        {"name": "Plug", "quantity": 1, "price": "1.50"},
        {"name": "Adapter", "quantity": 3, "price": None},
    ]


def test_json_items_are_strings_or_objects(cli: Cli, tmp_path: Path) -> None:
    rows = [
        {
            "marketplace": "aliexpress",
            "order_no": "8101",
            "total": "20.00",
            "currency": "EUR",
            "items": [
                "Cable x2 @3.50",
                {"name": "Case", "quantity": 3, "price": "1,25"},
                {"name": "Hub"},
            ],
        }
    ]
    ok(cli("order", "import", str(write(tmp_path, "i.json", json.dumps(rows)))))
    assert orders(cli)["8101"]["items"] == [
        {"name": "Cable", "quantity": 2, "price": "3.50"},
        {"name": "Case", "quantity": 3, "price": "1.25"},
        {"name": "Hub", "quantity": 1, "price": None},
    ]


@pytest.mark.parametrize(
    "items",
    [
        [{"name": "Case", "quantity": 0}],
        [{"name": "Case", "quantity": "two"}],
        [{"quantity": 2}],
        [42],
        {"name": "Case"},
        ["Cable", "cable"],
    ],
    ids=["zero", "text-qty", "no-name", "number", "object", "same-name"],
)
def test_bad_json_items_are_refused_with_the_row(cli: Cli, tmp_path: Path, items: Any) -> None:
    rows = [
        {"marketplace": "ebay", "order_no": "E1", "total": "1"},
        {"marketplace": "ebay", "order_no": "E2", "total": "20", "items": items},
    ]
    lines = refused(cli("order", "import", str(write(tmp_path, "i.json", json.dumps(rows)))))
    assert len(lines) == 2 and lines[1].startswith("  row 2"), lines


def test_changed_items_update_the_order(cli: Cli, tmp_path: Path) -> None:
    text = "marketplace,order_no,total,items\nebay,E1,10,Cable x2 @3.50; Case\n"
    ok(cli("order", "import", str(write(tmp_path, "i.csv", text))))
    again = ok(cli("order", "import", str(write(tmp_path, "i.csv", text))))
    assert again.stdout.endswith("0 added, 0 updated, 1 unchanged.\n")
    changed = text.replace("Case", "Case x2")
    assert "1 updated" in ok(cli("order", "import", str(write(tmp_path, "i.csv", changed)))).stdout
    assert orders(cli)["E1"]["items"][1] == {"name": "Case", "quantity": 2, "price": None}


# -- dates -------------------------------------------------------------------------------------


def test_dates_in_export_forms_are_read_in_the_buyers_zone(cli: Cli, tmp_path: Path) -> None:
    text = (
        "marketplace,order_no,total,ordered,shipped,received,expected_by,protection_ends\n"
        "ebay,E1,10,2026/11/1,2026-11-03T08:30:00+02:00,2026-11-20 10:00,2026-11-25,2026-12-24\n"
    )
    ok(cli("order", "import", str(write(tmp_path, "d.csv", text))))
    found = orders(cli)["E1"]
    assert found["ordered"] == "2026-11-01T00:00:00+00:00"
    assert found["shipped"] == "2026-11-03T06:30:00+00:00"
    assert found["received"] == "2026-11-20T10:00:00+00:00"
    assert found["expected_by"] == "2026-11-25T00:00:00+00:00"
    assert found["protection_ends"] == "2026-12-24T00:00:00+00:00"


def test_an_order_received_before_it_shipped_is_refused(cli: Cli, tmp_path: Path) -> None:
    text = "marketplace,order_no,total,shipped,received\nebay,E1,10,2026-11-20,2026-11-10\n"
    lines = refused(cli("order", "import", str(write(tmp_path, "d.csv", text))))
    assert lines[1].startswith("  row 1") and "before" in lines[1]


# -- progress ----------------------------------------------------------------------------------


def _big_csv(tmp_path: Path, rows: int) -> Path:
    lines = ["marketplace,order_no,total,seller,received"]
    lines += [f"ebay,B{i},{i % 90 + 1}.50,Seller {i},2026-11-{i % 25 + 1:02}" for i in range(rows)]
    return write(tmp_path, "big.csv", "\n".join(lines) + "\n")


def test_a_long_file_imports_silently_when_piped(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    path = _big_csv(tmp_path, 2100)
    run = ok(cli("order", "import", str(path)))
    assert run.stdout == f"Imported {path}: 2,100 added, 0 updated, 0 unchanged.\n"
    assert run.stderr == ""
    conn = sqlite3.connect(ledger_path)
    try:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2100,)
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_long_file_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    path = _big_csv(tmp_path, 2100)
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "80"}
    with subprocess.Popen(
        [sys.executable, "-m", "refundctl", "order", "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as process:
        os.close(terminal)
        out = process.stdout.read() if process.stdout else b""
        process.wait(timeout=60)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(controller)
    assert process.returncode == 0
    # The summary on stdout stays plain; the bar went to the terminal only.
    assert out == f"Imported {path}: 2,100 added, 0 updated, 0 unchanged.\n".encode()
    assert b"Reading" in drawn or b"Importing" in drawn
