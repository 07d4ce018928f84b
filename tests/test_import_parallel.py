"""A large import read in two processes ends exactly as one read in one process does.

``ledger.bulk`` forks a worker for the second part of a file of at least ``WORKER_FROM``
records. Here that threshold is lowered to a few rows, so that every story below runs both ways
and compares the two ledgers table by table: the same orders with the same numbers, the same
items, events and deadline rows. Then the ways it can go wrong: problems in the worker's part,
one order in both parts, an order of the worker's part already in the ledger, a worker that
dies before or after reading, a dry run, an interrupt.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundctl.importing import ImportResult, Reader, parse_records
from refundctl.ledger import bulk
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import NewOrders
from refundctl.policies import policy_for
from tests.conftest import Cli, row_order, snapshot

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker is forked")

MARKETPLACES = ["aliexpress", "ebay", "amazon", "temu", "etsy", "paypal"]


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


@pytest.fixture(params=["none", "some", "all"])
def two_processes(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Every file of more than two records is read in two parts, on any machine; this process
    builds none, some or all of its new orders' rows before the worker reports (as its
    report comes late or soon), and the rest in the ledger's transaction."""
    monkeypatch.setattr(bulk, "WORKER_FROM", 3)
    monkeypatch.setattr(bulk, "_cores", lambda: 2)
    monkeypatch.setattr(bulk, "_LOOK_EVERY", 4)
    looks: dict[int, Iterator[int]] = {}  # each worker's count of looks
    after = {"none": 0, "some": 2, "all": 10**6}[request.param]
    monkeypatch.setattr(
        bulk._Worker,
        "has_news",
        lambda worker: next(looks.setdefault(worker.pid, itertools.count())) >= after,
    )


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The workers started, by process id."""
    started: list[int] = []
    start = bulk._Worker.start.__func__  # type: ignore[attr-defined]

    def counted(cls: type[bulk._Worker], *args: Any) -> bulk._Worker:
        worker = start(cls, *args)
        started.append(worker.pid)
        return worker

    monkeypatch.setattr(bulk._Worker, "start", classmethod(counted))
    return started


def import_both_ways(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: list[str],
    forks: list[int],
    suffix: str = "csv",
    options: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import ``files`` in turn into a ledger read in two parts, then into one read in one."""
    results = []
    for workers in (True, False):
        if not workers:
            monkeypatch.setattr(bulk, "WORKER_FROM", 10**9)
        ledger = tmp_path / f"{'two' if workers else 'one'}.db"
        monkeypatch.setenv("REFUNDCTL_DB", str(ledger))
        for n, text in enumerate(files):
            path = tmp_path / f"orders-{n}.{suffix}"
            path.write_text(text, encoding="utf-8")
            run = cli("order", "import", str(path), *options)
            assert run.exit_code == 0, run.stderr
        results.append(contents(ledger))
    assert forks, "the worker never started"
    return results[0], results[1]


def test_a_file_read_in_two_parts_gives_the_ledger_one_part_gives(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
) -> None:
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [orders_csv(90)], forks)
    assert len(two["orders"]) == 90
    assert [row[0] for row in two["orders"]] == list(range(1, 91))  # numbered in file order
    assert two["deadlines"] and two["order_items"] and two["deadline_basis"]
    assert two == one


def test_new_orders_after_earlier_imports_and_updates_number_on(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
) -> None:
    """A second file updates orders of the first (in this process's part) and adds new ones."""
    first = orders_csv(20)
    second = orders_csv(10).replace("Shop ", "Store ") + orders_csv(30, first=20).split("\n", 1)[1]
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [first, second], forks)
    assert len(two["orders"]) == 50
    assert two == one


def test_an_order_in_the_workers_part_already_in_the_ledger_is_read_here(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
) -> None:
    """The worker took every order of its part for a new one: this process reads them again."""
    first = orders_csv(5, first=60)
    second = orders_csv(70)  # N-00060 to N-00064 fall in the worker's part
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [first, second], forks)
    assert two == one


def test_a_json_file_is_read_in_two_parts_too(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
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
    two, one = import_both_ways(
        cli, tmp_path, monkeypatch, [json.dumps(orders)], forks, suffix="json"
    )
    assert len(two["orders"]) == 40
    assert two == one


def test_problems_in_either_part_are_all_reported_in_row_order(
    cli: Cli, tmp_path: Path, two_processes: None, forks: list[int], isolated: Path
) -> None:
    lines = orders_csv(30).splitlines()
    lines[3] = lines[3].replace("USD", "USX")  # row 3, this process's part
    lines[25] = lines[25].replace(",N-00024,", ",N-00000,")  # row 25 repeats row 1
    lines[28] = lines[28].replace("2026-10-", "2026-13-", 1)  # row 28, the worker's part
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("order", "import", str(path))
    assert run.exit_code == 2
    assert forks
    problems = [line for line in run.stderr.splitlines() if line.strip().startswith("row ")]
    assert [p.split(",")[0].strip() for p in problems] == ["row 3", "row 25", "row 28"]
    assert "repeats row 1 (N-00000)" in problems[1]
    assert "3 problems in" in run.stderr
    assert snapshot(isolated) == "absent"  # no ledger was made for a refused file


def test_a_worker_that_dies_before_reporting_leaves_its_part_to_this_process(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    two_processes: None,
    forks: list[int],
) -> None:
    def dies(*_args: Any) -> None:
        raise MemoryError  # in the forked worker: it ends without a word

    monkeypatch.setattr(bulk, "work", dies)
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(50), encoding="utf-8")
    assert cli("order", "import", str(path), "--json").json()["added"] == 50
    assert forks


def worker_reports(monkeypatch: pytest.MonkeyPatch, hear: Callable[[Path, int], bool]) -> None:
    """Each "file written" the worker reports goes through ``hear(scratch, n)`` (n counts
    them from 1), which says whether to pass it on."""
    real_work = bulk.work

    def work(*args: Any) -> None:
        scratch, say = args[-2], args[-1]
        written = itertools.count(1)

        def says(said: bytes) -> None:
            if said != bulk._WRITTEN or hear(scratch, next(written)):
                say(said)

        real_work(*args[:-1], says)

    monkeypatch.setattr(bulk, "work", work)


def imports_as_one_process(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: Path, count: int
) -> None:
    """Import ``count`` orders into ``ledger`` (in two parts), then into a ledger of one
    process, and compare them."""
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(count), encoding="utf-8")
    assert cli("order", "import", str(path), "--json").json()["added"] == count
    monkeypatch.setattr(bulk, "WORKER_FROM", 10**9)
    monkeypatch.setenv("REFUNDCTL_DB", str(tmp_path / "one.db"))
    assert cli("order", "import", str(path)).exit_code == 0
    assert contents(ledger) == contents(tmp_path / "one.db")


@pytest.mark.parametrize("files", [0, 1, 3])
def test_a_worker_that_stops_saying_its_rows_are_written_leaves_the_rest_to_this_process(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    two_processes: None,
    forks: list[int],
    isolated: Path,
    files: int,
) -> None:
    """The files it said it wrote are copied, the orders of the others read here: the
    ledger ends as one process leaves it."""
    worker_reports(monkeypatch, lambda _scratch, n: n <= files)
    imports_as_one_process(cli, tmp_path, monkeypatch, isolated, 50)
    assert forks


def test_a_dry_run_in_two_parts_writes_nothing(
    cli: Cli, tmp_path: Path, two_processes: None, forks: list[int], isolated: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(5, first=100), encoding="utf-8")
    assert cli("order", "import", str(path)).exit_code == 0
    before = snapshot(isolated)
    path.write_text(orders_csv(40), encoding="utf-8")
    run = cli("order", "import", str(path), "--dry-run", "--json")
    assert run.json() == {
        "file": str(path),
        "added": 40,
        "updated": 0,
        "unchanged": 0,
        "dry_run": True,
    }
    assert forks
    assert snapshot(isolated) == before


def test_the_scratch_folder_goes_and_the_worker_is_reaped(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    two_processes: None,
    forks: list[int],
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(30), encoding="utf-8")
    assert cli("order", "import", str(path)).exit_code == 0
    bad = orders_csv(30).replace("N-00025", "N 25")
    path.write_text(bad, encoding="utf-8")
    assert cli("order", "import", str(path)).exit_code == 2
    assert len(forks) == 2
    assert list(scratch.iterdir()) == []
    for pid in forks:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already


def test_an_interrupted_import_stops_its_worker(tmp_path: Path) -> None:
    """Leaving ``in_parts`` early (a refused file, Ctrl-C) kills a worker still at work."""
    found = parse_records(orders_csv(40))
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    reader = Reader({}, None, "USD", now, UTC)
    slow = bulk.work

    def sleeps(*args: Any) -> None:
        import time

        time.sleep(60)
        slow(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "WORKER_FROM", 3)
        patch.setattr(bulk, "_cores", lambda: 2)
        patch.setattr(bulk, "work", sleeps)
        with pytest.raises(KeyboardInterrupt), bulk.in_parts(found, reader, settings()) as parts:
            assert parts.worker is not None
            pid = parts.worker.pid
            raise KeyboardInterrupt
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def settings() -> Settings:
    return Settings(zone=UTC, policy_for=policy_for)


def test_the_workers_job_writes_its_orders_rows_numbered_from_one(tmp_path: Path) -> None:
    """``work`` as the worker runs it, here in this process."""
    found = parse_records(orders_csv(12))
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    said: list[bytes] = []
    bulk.work(found, 4, Reader({}, None, "USD", now, UTC), settings(), tmp_path, said.append)
    assert said == [bulk._READ] + [bulk._WRITTEN] * bulk.CHUNKS
    orders, windows = [], set()
    for number in range(bulk.CHUNKS):
        conn = sqlite3.connect(tmp_path / f"rows-{number}.db")
        orders += conn.execute("SELECT id, marketplace, order_no FROM orders").fetchall()
        windows |= {order_id for (order_id,) in conn.execute("SELECT order_id FROM deadlines")}
        conn.close()
    assert orders == [
        (1, "etsy", "N-00004"),
        (2, "paypal", "N-00005"),
        (3, "aliexpress", "N-00006"),
        (4, "ebay", "N-00007"),
        (5, "amazon", "N-00008"),
        (6, "temu", "N-00009"),
        (7, "etsy", "N-00010"),
        (8, "paypal", "N-00011"),
    ]
    assert windows <= set(range(1, 9))


def test_the_worker_stops_after_reading_a_part_with_problems(tmp_path: Path) -> None:
    found = parse_records(orders_csv(6).replace("N-00004", "N 4"))
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    said: list[bytes] = []
    bulk.work(found, 3, Reader({}, None, "USD", now, UTC), settings(), tmp_path, said.append)
    assert said == [bulk._READ]
    assert not list(tmp_path.glob("rows-*"))


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=8))
def test_the_workers_orders_go_into_files_in_even_runs(count: int, files: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "CHUNKS", files)
        runs = bulk.chunks(count)
    assert [index for run in runs for index in run] == list(range(count))
    assert len(runs) == min(files, count)
    assert max(map(len, runs), default=0) - min(map(len, runs), default=0) <= 1


def test_one_core_or_a_small_file_reads_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bulk._split_at(bulk.WORKER_FROM - 1) is None
    monkeypatch.setattr(bulk, "_cores", lambda: 1)
    assert bulk._split_at(10**6) is None
    monkeypatch.setattr(bulk, "_cores", lambda: 2)
    assert bulk._split_at(10**6) == int(10**6 * bulk.MAIN_SHARE)


@pytest.mark.parametrize("ledger", ["existing", "new"])
def test_an_interrupt_says_nothing_was_recorded(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path, ledger: str
) -> None:
    """Ctrl-C in the middle of an import: one line, exit 130, the ledger as it was (or,
    into a new one, a ledger without orders: making it is not the change the buyer asked)."""
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
        assert sqlite3.connect(isolated).execute("SELECT count(*) FROM orders").fetchone() == (0,)


def test_changed_orders_in_the_workers_part_update_in_file_order(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
) -> None:
    """Their update events come before the new orders' events, as with one process."""
    first = orders_csv(5, first=60)
    second = orders_csv(70).replace("Shop ", "Store ")  # N-00060 to N-00064 change sellers
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [first, second], forks)
    assert sum('"seller": "Store' in row[3] for row in two["order_events"]) == 70
    assert two == one


def test_a_third_row_for_one_order_repeats_the_first_row_of_the_file(
    cli: Cli, tmp_path: Path, two_processes: None, forks: list[int]
) -> None:
    lines = orders_csv(30).splitlines()
    for row in (19, 25):  # both in the worker's part; row 1 is N-00000 on aliexpress
        lines[row] = lines[row].replace(f",N-{row - 1:05d},", ",N-00000,")
        assert lines[row].startswith("aliexpress,")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("order", "import", str(path))
    assert forks and run.exit_code == 2
    assert run.stderr.splitlines()[1:] == [
        "  row 19, order_no: repeats row 1 (N-00000)",
        "  row 25, order_no: repeats row 1 (N-00000)",
    ]


def test_no_process_to_spare_reads_the_file_in_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None
) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(30), encoding="utf-8")
    assert cli("order", "import", str(path), "--json").json()["added"] == 30
    assert list(scratch.iterdir()) == []


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


def test_a_foreign_export_with_renamed_columns_reads_the_same_in_two_parts(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_processes: None, forks: list[int]
) -> None:
    """``--map`` and ``--marketplace`` reach the worker: it reads with the same Reader."""
    text = orders_csv(40).replace("marketplace,order_no,", "Shop,Order ID,", 1)
    text = "\n".join(line.split(",", 1)[1] for line in text.splitlines()) + "\n"
    options = ("--map", 'order_no="Order ID"', "-m", "etsy")
    two, one = import_both_ways(cli, tmp_path, monkeypatch, [text], forks, options=options)
    assert two == one
    assert {row[1] for row in two["orders"]} == {"etsy"}
    assert len(two["orders"]) == 40


@pytest.mark.parametrize("spoilt", ["removed", "not a database"])
def test_a_file_of_the_workers_spoilt_after_it_was_written_is_read_here(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    two_processes: None,
    forks: list[int],
    isolated: Path,
    spoilt: str,
) -> None:
    """Something else removes or overwrites the worker's second file before it is copied:
    none of its rows go in, and this process reads its orders and those after it."""

    def spoils_the_second(scratch: Path, n: int) -> bool:
        if n == 2:
            second = scratch / "rows-1.db"
            if spoilt == "removed":
                second.unlink()
            else:
                second.write_bytes(b"not SQLite at all" * 100)
        return True

    worker_reports(monkeypatch, spoils_the_second)
    imports_as_one_process(cli, tmp_path, monkeypatch, isolated, 60)
    assert forks


def test_a_row_that_cannot_update_its_order_refuses_the_file_read_in_two_parts(
    cli: Cli, tmp_path: Path, two_processes: None, forks: list[int], isolated: Path
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
    assert len(forks) == 2


def test_has_news_never_waits_and_sees_a_report_or_an_end(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    worker = bulk._Worker(pid=0, pipe=read_end, scratch=tmp_path)
    try:
        assert not worker.has_news()
        os.write(write_end, bulk._READ)
        assert worker.has_news()
        assert worker.wait_for(bulk._READ)
        assert not worker.has_news()
        os.close(write_end)
        assert worker.has_news()  # it has ended: nothing to wait for
        assert not worker.wait_for(bulk._WRITTEN)
    finally:
        os.close(read_end)


def test_the_workers_files_stay_within_sqlites_limit_of_attached_databases() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) >= bulk.CHUNKS
    finally:
        conn.close()


def test_the_workers_files_are_let_go_only_once_the_transaction_has_ended(
    tmp_path: Path,
) -> None:
    """Inside a transaction SQLite refuses to detach (and would hide why the transaction
    could not end): the files stay attached until the connection closes."""
    scratch = sqlite3.connect(tmp_path / "rows-0.db")
    scratch.execute("CREATE TABLE orders (id)")
    scratch.close()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    prepared = bulk.Prepared(
        NewOrders(), [], lambda _start: ImportResult(), bulk._Worker(0, -1, tmp_path)
    )
    conn.execute("BEGIN")
    conn.execute("ATTACH DATABASE ? AS scratch0", (str(tmp_path / "rows-0.db"),))
    prepared._attached.append("scratch0")
    conn.execute("SELECT * FROM scratch0.orders").fetchall()
    prepared.detach(conn)
    assert prepared._attached == ["scratch0"]
    conn.execute("ROLLBACK")
    prepared.detach(conn)
    assert prepared._attached == []
    assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]
    conn.close()
