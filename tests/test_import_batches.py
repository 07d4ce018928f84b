"""An import goes in a batch at a time, in one transaction: whatever the batches, the ledger
ends exactly as one batch of the whole file leaves it (the same rows, with the same numbers),
problems are reported in row order, and an interrupt leaves the ledger as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from refundctl.ledger import importer
from tests.conftest import Cli, row_order, snapshot

MARKETPLACES = ["aliexpress", "ebay", "amazon", "temu", "etsy", "paypal"]


@pytest.fixture(params=[3, 7])
def small_batches(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> int:
    """Batches of a few rows, so that a file of dozens crosses many of their boundaries."""
    monkeypatch.setattr(importer, "IMPORT_BATCH", request.param)
    return int(request.param)


def import_both_ways(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: list[str],
    suffix: str = "csv",
    options: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import ``files`` in turn into a ledger in small batches, then into one in one batch."""
    results = []
    for small in (True, False):
        if not small:
            monkeypatch.setattr(importer, "IMPORT_BATCH", 10**6)
        ledger = tmp_path / f"{'small' if small else 'one'}.db"
        monkeypatch.setenv("REFUNDCTL_DB", str(ledger))
        for n, text in enumerate(files):
            path = tmp_path / f"orders-{n}.{suffix}"
            path.write_text(text, encoding="utf-8")
            run = cli("order", "import", str(path), *options)
            assert run.exit_code == 0, run.stderr
        results.append(contents(ledger))
    return results[0], results[1]


def orders_csv(count: int, *, first: int = 0) -> str:
    """``count`` orders across the marketplaces, some with items, some never received."""
    lines = ["marketplace,order_no,seller,total,currency,ordered,shipped,received,items"]
    for n in range(first, first + count):
        received = "" if n % 5 == 0 else f"2026-11-{1 + n % 20:02d}T{n % 24:02d}:15:00+00:00"
        items = "" if n % 3 else f"Cable x2 @{n % 7 + 1}.50; Case"
        lines.append(
            f"{MARKETPLACES[n % 6]},N-{n:05d},Shop {n % 11},{10 + n % 90}.25,USD,"
            f"2026-10-{1 + n % 20:02d},2026-10-{2 + n % 20:02d}T08:00:00Z,{received},{items}"
        )
    return "\n".join(lines) + "\n"


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, but the record of when migrations ran."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "_sqlite_migrations"
        ]
        return {
            table: conn.execute(
                f"SELECT * FROM [{table}] ORDER BY {row_order(conn, table)}"
            ).fetchall()
            for table in tables
        }
    finally:
        conn.close()


def test_a_file_read_in_batches_gives_the_ledger_one_batch_gives(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [orders_csv(90)])
    assert len(two["orders"]) == 90
    assert [row[0] for row in two["orders"]] == list(range(1, 91))  # numbered in file order
    assert two["deadlines"] and two["order_items"] and two["deadline_basis"]
    assert two == one


def test_new_orders_after_earlier_imports_and_updates_number_on(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    """A second file updates orders of the first and adds new ones."""
    first = orders_csv(20)
    second = orders_csv(10).replace("Shop ", "Store ") + orders_csv(30, first=20).split("\n", 1)[1]
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [first, second])
    assert len(two["orders"]) == 50
    assert two == one


def test_a_json_file_goes_in_batches_too(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    orders = [
        {
            "marketplace": "ebay",
            "order_no": f"J-{n}",
            "total": f"{n + 1}.00",
            "ordered": "2026-11-01",
        }
        for n in range(40)
    ]
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [json.dumps(orders)], suffix="json")
    assert len(two["orders"]) == 40
    assert two == one


def test_problems_in_any_batch_are_all_reported_in_row_order(
    cli: Cli, tmp_path: Path, small_batches: int, isolated: Path
) -> None:
    lines = orders_csv(30).splitlines()
    lines[3] = lines[3].replace("USD", "USX")  # row 3, in the first batch
    lines[25] = lines[25].replace(",N-00024,", ",N-00000,")  # row 25 repeats row 1
    lines[28] = lines[28].replace("2026-10-", "2026-13-", 1)  # row 28, in a later one
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("order", "import", str(path))
    assert run.exit_code == 2
    problems = [line for line in run.stderr.splitlines() if line.strip().startswith("row ")]
    assert [p.split(",")[0].strip() for p in problems] == ["row 3", "row 25", "row 28"]
    assert "repeats row 1 (N-00000)" in problems[1]
    assert "3 problems in" in run.stderr
    assert snapshot(isolated) == "absent"  # no ledger was made for a refused file


@pytest.mark.parametrize("ledger", ["existing", "new"])
def test_an_interrupt_says_nothing_was_recorded(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path, ledger: str
) -> None:
    """Ctrl-C in the middle of an import: one line, exit 130, the ledger as it was (into a
    new one: no ledger, and nothing of the one being built beside it)."""
    path = tmp_path / "orders.csv"
    if ledger == "existing":
        path.write_text(orders_csv(3), encoding="utf-8")
        assert cli("order", "import", str(path)).exit_code == 0
    before = snapshot(isolated)

    def interrupted(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    from refundctl.ledger.store import Ledger

    monkeypatch.setattr(Ledger, "_insert_order", interrupted)
    path.write_text(orders_csv(5, first=10), encoding="utf-8")
    run = cli("order", "import", str(path))
    assert (run.exit_code, run.stderr) == (130, "error: interrupted; nothing was recorded\n")
    if ledger == "existing":
        assert snapshot(isolated) == before
    else:
        # A new ledger is built beside its place and moved there only once the import is in.
        assert snapshot(isolated) == "absent"
        assert [p.name for p in isolated.parent.iterdir() if p.name.startswith(".")] == []


def test_changed_orders_update_in_file_order_among_new_ones(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    """Every row's events in file order, updates among new orders, whatever the batches."""
    first = orders_csv(5, first=60)
    second = orders_csv(70).replace("Shop ", "Store ")  # N-00060 to N-00064 change sellers
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [first, second])
    assert sum('"seller": "Store' in row[3] for row in two["order_events"]) == 70
    assert two == one


def test_a_third_row_for_one_order_repeats_the_first_row_of_the_file(
    cli: Cli, tmp_path: Path, small_batches: int
) -> None:
    lines = orders_csv(30).splitlines()
    for row in (19, 25):  # in later batches; row 1 is N-00000 on aliexpress
        lines[row] = lines[row].replace(f",N-{row - 1:05d},", ",N-00000,")
        assert lines[row].startswith("aliexpress,")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("order", "import", str(path))
    assert run.exit_code == 2
    assert run.stderr.splitlines()[1:] == [
        "  row 19, order_no: repeats row 1 (N-00000)",
        "  row 25, order_no: repeats row 1 (N-00000)",
    ]


class _InterruptedAsItCommits(sqlite3.Connection):
    """Ctrl-C pressed during a long COMMIT: Python raises it as the statement returns."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = super().execute(sql, *args)
        if sql == "COMMIT":
            raise KeyboardInterrupt
        return cursor


@pytest.mark.parametrize("when", ["after", "as it returns"])
def test_an_interrupt_after_the_commit_says_the_change_was_recorded(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path, when: str
) -> None:
    import types

    import refundctl.cli.orders
    from refundctl.ledger import connection

    if when == "after":

        def interrupted(_line: str) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(refundctl.cli.orders, "say", interrupted)
    else:
        first = tmp_path / "first.csv"
        first.write_text(orders_csv(3, first=50), encoding="utf-8")
        assert cli("order", "import", str(first)).exit_code == 0  # the ledger is made
        module = types.SimpleNamespace(**vars(sqlite3))
        module.connect = lambda *args, **kwargs: sqlite3.connect(
            *args, factory=_InterruptedAsItCommits, **kwargs
        )
        monkeypatch.setattr(connection, "sqlite3", module)
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(3), encoding="utf-8")
    run = cli("order", "import", str(path))
    assert (run.exit_code, run.stderr) == (
        130,
        "error: interrupted after the change was recorded\n",
    )
    assert len(contents(isolated)["orders"]) == (3 if when == "after" else 6)


def test_a_foreign_export_with_renamed_columns_reads_the_same_in_batches(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    """``--map`` and ``--marketplace`` hold for every batch."""
    text = orders_csv(40).replace("marketplace,order_no,", "Shop,Order ID,", 1)
    text = "\n".join(line.split(",", 1)[1] for line in text.splitlines()) + "\n"
    options = ("--map", 'order_no="Order ID"', "-m", "etsy")
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [text], options=options)
    assert two == one
    assert {row[1] for row in two["orders"]} == {"etsy"}
    assert len(two["orders"]) == 40


def test_a_row_that_cannot_update_its_order_refuses_the_whole_file(
    cli: Cli, tmp_path: Path, small_batches: int, isolated: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(10), encoding="utf-8")
    assert cli("order", "import", str(path)).exit_code == 0
    before = snapshot(isolated)
    # Row 2 would have order N-00001 arrive before it was ordered; the others are new.
    rows = ["marketplace,order_no,total,received", "paypal,NEW-X,5.00,"]
    rows.append(f"{MARKETPLACES[1]},N-00001,11.25,2026-09-01")
    rows += [f"ebay,NEW-{n},5.00," for n in range(30)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = cli("order", "import", str(path))
    assert run.exit_code == 2, run.stdout
    assert run.stderr.splitlines()[0] == "error: 1 row cannot be imported; nothing was imported"
    assert run.stderr.splitlines()[1] == "  row 2: order N-00001: --received is before --shipped"
    assert snapshot(isolated) == before
