"""``order import`` of what buyers can download (issue 19): Amazon, PayPal, AliExpress tools, Temu.

Every sample in tests/fixtures/exports (copies of the shared synthetic samples, and variants of
each format made here: a reordered header, a missing optional column, a second locale, Amazon's
2024–25 shape, a German PayPal file, Temu's export built from the issue's description) imports
to the orders a buyer would expect: each order's number, total, currency, seller, dates and
payment are checked. Then what an import of them does: told by the header and never the name,
an unknown header refused with what was tried, idempotent re-imports, refunds matched to their
dispute and nothing guessed, no personal data kept, bad rows refused with their lines.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, Run, snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(autouse=True)
def ledger_path(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as folder:
        path = Path(folder) / "ledger.db"
        monkeypatch.setenv("REFUNDCTL_DB", str(path))
        yield path


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def refused(run: Run) -> list[str]:
    assert run.exit_code == 2, (run.exit_code, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), run.stderr
    return lines


def imported(cli: Cli, *names: str, args: tuple[str, ...] = ()) -> str:
    out = ""
    for name in names:
        out += ok(cli("order", "import", str(FIXTURES / name), *args)).stdout
    return out


def orders(cli: Cli) -> dict[str, dict[str, Any]]:
    listed = ok(cli("order", "list", "--json")).json()["orders"]
    return {o["order"]: o for o in listed}


FIELDS = ("marketplace", "total", "currency", "seller", "ordered", "shipped", "payment")


def facts(order: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(order[name] for name in FIELDS)


def at(text: str | None) -> str | None:
    return None if text is None else text + "+00:00"


# file -> order number -> (marketplace, total, currency, seller, ordered, shipped, payment)
EXPECTED: dict[str, dict[str, tuple[Any, ...]]] = {
    "amazon/Retail.OrderHistory.1.csv": {
        # Two items, two shipments: the total is both rows' Total Owed (21.64 + 8.19); the
        # shipping date the first shipment's. Amazon's file names no seller.
        "111-0000000-0000001": (
            "amazon",
            "29.83",
            "USD",
            None,
            at("2025-02-03T17:05:44"),
            at("2025-02-04T08:30:12"),
            "Visa - 4242",
        ),
        "112-0000000-0000005": (
            "amazon",
            "43.34",
            "USD",
            None,
            at("2025-03-01T12:00:00"),
            at("2025-03-03T09:00:00"),
            "MasterCard - 2111",
        ),
        # Not shipped yet: "Not Available" is an empty cell.
        "302-0000000-0000002": (
            "amazon",
            "1299.00",
            "EUR",
            None,
            at("2025-03-10T09:41:00"),
            None,
            "Mastercard - 5555",
        ),
    },
    "amazon/Order History 2024-25.csv": {
        "303-0000000-0000010": (
            "amazon",
            "1263.98",  # "1,249.00" + "14.98"
            "EUR",
            None,
            at("2025-01-12T10:15:00"),
            at("2025-01-13T06:00:00"),
            "Visa - 1881",
        ),
        "114-0000000-0000011": (
            "amazon",
            "1297.92",
            "USD",
            None,
            at("2025-02-20T21:04:32"),
            at("2025-02-21T08:00:00"),
            "American Express - 1005",
        ),
        # 114-0000000-0000012 was cancelled: skipped.
    },
    "amazon/Retail.OrderHistory.reordered.csv": {
        "113-0000000-0000020": (
            "amazon",
            "24.99",
            "USD",
            None,
            at("2025-05-02T14:00:00"),
            None,
            "Gift Certificate/Card and Visa - 4242",
        ),
        # 113-0000000-0000021 cost nothing, 113-0000000-0000023 says no total: both skipped.
        "113-0000000-0000022": (
            "amazon",
            "59.00",
            "USD",
            None,
            at("2025-05-04T14:00:00"),
            None,
            "Discover - 6011",
        ),
    },
    "paypal/Download.csv": {
        # 10:22:31 PDT; the funding row and the refund are not orders.
        "1AB23456CD7890123": (
            "paypal",
            "1042.50",
            "USD",
            "Example Gadgets LLC",
            at("2025-03-14T17:22:31"),
            None,
            "PayPal",
        ),
        "4CD55555EF6666677": (
            "paypal",
            "24.99",
            "USD",
            "Tiny Trinkets Shop",
            at("2025-03-21T01:02:11"),
            None,
            "PayPal",
        ),
    },
    "paypal/Download-de.csv": {
        # 02.04.2025 09:15:02 MESZ
        "7DE11111AA2222233": (
            "paypal",
            "1234.56",
            "EUR",
            "Beispiel Elektronik GmbH",
            at("2025-04-02T07:15:02"),
            None,
            "PayPal",
        ),
        "3DE55555EE6666677": (
            "paypal",
            "19.90",
            "EUR",
            "Kleiner Laden",
            at("2025-03-16T07:00:05"),
            None,
            "PayPal",
        ),
        "4DE66666FF7777788": (
            "paypal",
            "49.00",
            "USD",
            "US Gadget Store",
            at("2025-03-20T10:30:00"),
            None,
            "PayPal",
        ),
    },
    "paypal/Download-uk-reordered.csv": {
        # 25/02/2025: day first, which the date itself tells.
        "0UK12345AB6789012": (
            "paypal",
            "1100.00",
            "GBP",
            "Teapot Emporium Ltd",
            at("2025-02-25T19:05:00"),
            None,
            "PayPal",
        ),
        # 03/04/2025 10:00 BST is the 3rd of April; the denied payment is skipped.
        "0UK42345AB6789015": (
            "paypal",
            "12.50",
            "GBP",
            "Bookshop Corner",
            at("2025-04-03T09:00:00"),
            None,
            "PayPal",
        ),
    },
    "aliexpress/orders-userscript.tsv": {
        # Amounts without a currency: the config's (USD).
        "8100000000000001": (
            "aliexpress",
            "14.25",
            "USD",
            "Example Tools Store",
            at("2025-03-07T00:00:00"),
            None,
            None,
        ),
        "8100000000000002": (
            "aliexpress",
            "4.99",
            "USD",
            "Example Cable Store",
            at("2025-03-09T00:00:00"),
            None,
            None,
        ),
    },
    "aliexpress/orders-userscript-reordered.tsv": {
        "8100000000000011": (
            "aliexpress",
            "20.50",
            "USD",
            "Example Tools Store",
            at("2025-04-18T00:00:00"),
            None,
            None,
        ),
    },
    "aliexpress/aliexpress_orders_2025-04-01_to_2025-04-30.csv": {
        "8100000000000003": (
            "aliexpress",
            "23.47",
            "EUR",
            "Example Outdoor Store",
            at("2025-04-02T00:00:00"),
            None,
            "Visa",
        ),
        "8100000000000004": (
            "aliexpress",
            "7.80",
            "USD",
            "Example Phone Store",
            at("2025-04-05T00:00:00"),
            None,
            "Mastercard",
        ),
    },
    "aliexpress/aliexpress_orders_pl_br.csv": {
        "8100000000000021": (
            "aliexpress",
            "1234.56",
            "PLN",
            "Sklep Przykład",
            at("2025-04-11T00:00:00"),
            None,
            "BLIK",
        ),
        "8100000000000022": (
            "aliexpress",
            "45.90",
            "BRL",
            "Loja Exemplo",
            at("2025-04-12T00:00:00"),
            None,
            "Pix",
        ),
    },
    "aliexpress/shopper-inventory.csv": {
        "8100000000000031": (  # 2 x 12,99zł + 8,50zł
            "aliexpress",
            "34.48",
            "PLN",
            "Kitchen Example Store",
            at("2025-03-07T00:00:00"),
            None,
            None,
        ),
        "8100000000000032": (  # no Price: Price Info's units
            "aliexpress",
            "6.45",
            "USD",
            "Light Example Store",
            at("2025-03-09T00:00:00"),
            None,
            None,
        ),
    },
    "temu/temu-orders.csv": {
        "PO-211-00000000000000001": (
            "temu",
            "8.97",
            "USD",
            None,
            at("2025-03-01T00:00:00"),
            at("2025-03-02T00:00:00"),
            None,
        ),
        "PO-211-00000000000000002": (
            "temu",
            "1049.00",
            "USD",
            None,
            at("2025-04-10T00:00:00"),
            None,
            None,
        ),
    },
    "temu/temu-orders-de.csv": {
        "PO-076-00000000000000010": (
            "temu",
            "1052.99",
            "EUR",
            None,
            at("2025-05-05T00:00:00"),
            at("2025-05-06T00:00:00"),
            None,
        ),
    },
    "temu/temu-orders-pl.csv": {
        "PO-101-00000000000000020": (
            "temu",
            "70.48",
            "PLN",
            None,
            at("2025-06-01T00:00:00"),
            None,
            None,
        ),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_imports_to_the_orders_a_buyer_expects(cli: Cli, name: str) -> None:
    imported(cli, name)
    found = orders(cli)
    assert {number: facts(order) for number, order in found.items()} == EXPECTED[name]


def test_every_sample_in_the_shared_set_is_here() -> None:
    """The shared samples are copied in (tests never read outside the repository); each
    order file among them has its expectations above."""
    shared = ["Retail.OrderHistory.1.csv", "Download.csv", "orders-userscript.tsv"]
    shared.append("aliexpress_orders_2025-04-01_to_2025-04-30.csv")
    for name in shared:
        assert any(key.endswith("/" + name) for key in EXPECTED), name


def test_items_are_each_rows_product_and_quantity(cli: Cli) -> None:
    imported(cli, "amazon/Retail.OrderHistory.1.csv", "aliexpress/shopper-inventory.csv")
    found = orders(cli)
    assert found["111-0000000-0000001"]["items"] == [
        {"name": "Phone Case, Clear", "quantity": 1, "price": "19.99"},
        {"name": "Screen Protector 2-Pack", "quantity": 1, "price": "8.49"},
    ]
    assert found["112-0000000-0000005"]["items"] == [
        {"name": "Garden Hose Nozzle", "quantity": 2, "price": "34.50"}
    ]
    assert found["8100000000000031"]["items"][0] == {
        "name": "Silicone Baking Mat",
        "quantity": 2,
        "price": "12.99",
    }
    assert found["111-0000000-0000001"]["title"] == "Phone Case, Clear (+1 more)"


def test_the_summary_says_what_each_file_held(cli: Cli) -> None:
    out = imported(cli, "paypal/Download-de.csv")
    assert (
        "PayPal activity (German): 3 orders (3 added, 0 updated, 0 unchanged), 1 refund; "
        "5 rows skipped: currency conversions (2), holds (2), funding (1)."
    ) in out
    out = imported(cli, "amazon/Order History 2024-25.csv")
    assert (
        "Amazon order history: 2 orders (2 added, 0 updated, 0 unchanged); 1 row skipped: " in out
    )
    data = ok(
        cli("order", "import", str(FIXTURES / "paypal/Download.csv"), "--json", "--dry-run")
    ).json()
    assert data["format"] == "PayPal activity"
    assert data["skipped"] == {"funding": 1}
    assert (data["added"], data["unchanged"], data["dry_run"]) == (2, 0, True)
    assert data["money"][0]["outcome"] == "no-dispute"
    assert data["money"][0]["amount"] == "1042.50"


# -- told by the header ----------------------------------------------------------------------


def test_the_header_tells_the_format_never_the_name(cli: Cli, tmp_path: Path) -> None:
    misleading = tmp_path / "paypal-Download.csv"
    shutil.copy(FIXTURES / "amazon/Retail.OrderHistory.1.csv", misleading)
    out = ok(cli("order", "import", str(misleading))).stdout
    assert "Amazon order history" in out
    assert set(orders(cli)) == set(EXPECTED["amazon/Retail.OrderHistory.1.csv"])


def test_from_forces_a_service_and_says_what_its_files_lack(cli: Cli, ledger_path: Path) -> None:
    lines = refused(
        cli(
            "order",
            "import",
            str(FIXTURES / "amazon/Retail.OrderHistory.1.csv"),
            "--from",
            "paypal",
        )
    )
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: the header is not one refundctl knows; tried PayPal activity"
    )
    assert "PayPal activity (no Date, Time, TimeZone, Name and 4 more)" in lines[0]
    assert "Amazon" not in lines[0]
    assert snapshot(ledger_path) == "absent"
    out = ok(
        cli("order", "import", str(FIXTURES / "temu/temu-orders.csv"), "--from", "temu")
    ).stdout
    assert "Temu orders: 2 orders" in out


def test_an_unknown_header_names_every_format_tried_and_what_it_lacked(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    unknown = tmp_path / "orders.csv"
    unknown.write_text("Bestellnummer,Betrag,Datum\nA1,12.50,2025-01-01\n", encoding="utf-8")
    (line,) = refused(cli("order", "import", str(unknown)))
    for title in (
        "Amazon order history (no Order ID, Order Date, Total Owed)",
        "PayPal activity (no Date,",
        "PayPal activity (German) (no Uhrzeit,",
        "AliExpress orders (order-downloader userscript) (no Order Number,",
        "Temu orders (no Order ID, Order time, Order total)",
        "refundctl's own columns (no order_no, total)",
    ):
        assert title in line, title
    assert snapshot(ledger_path) == "absent"


def test_refundctl_own_files_import_as_before(cli: Cli, tmp_path: Path) -> None:
    own = tmp_path / "own.csv"
    own.write_text("marketplace,order_no,total\nebay,E1,12.50\n", encoding="utf-8")
    assert ok(cli("order", "import", str(own), "--from", "refundctl")).stdout == (
        f"Imported {own}: 1 added, 0 updated, 0 unchanged.\n"
    )
    lines = refused(cli("order", "import", str(own), "--from", "amazon"))
    assert "tried Amazon order history" in lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--marketplace", "ebay"), "--marketplace is for files that do not say"),
        (("--from", "amazon", "--map", "order_no=Order ID"), "--map renames refundctl's own"),
    ],
)
def test_options_for_refundctl_files_are_refused_for_a_service(
    cli: Cli, args: tuple[str, ...], says: str
) -> None:
    (line,) = refused(
        cli("order", "import", str(FIXTURES / "amazon/Retail.OrderHistory.1.csv"), *args)
    )
    assert says in line


# -- re-imports ------------------------------------------------------------------------------


def test_the_same_export_twice_adds_nothing(cli: Cli, ledger_path: Path) -> None:
    for name in EXPECTED:
        imported(cli, name)
    before = snapshot(ledger_path)
    for name in EXPECTED:
        out = imported(cli, name)
        assert "(0 added, 0 updated," in out, (name, out)
    assert snapshot(ledger_path) == before


def test_a_later_export_updates_new_facts_and_no_empty_cell_erases(
    cli: Cli, tmp_path: Path
) -> None:
    history = (FIXTURES / "amazon/Retail.OrderHistory.1.csv").read_text(encoding="utf-8-sig")
    imported(cli, "amazon/Retail.OrderHistory.1.csv")
    # A later export: the notebook has shipped; the hose nozzle's payment cell is empty.
    later = history.replace(
        '"Authorized","Not Available","Not Available"', '"Closed","Shipped","2025-03-11T07:00:00Z"'
    ).replace('"MasterCard - 2111"', '"Not Available"')
    path = tmp_path / "Retail.OrderHistory.1.csv"
    path.write_text(later, encoding="utf-8-sig")
    out = ok(cli("order", "import", str(path))).stdout
    assert "3 orders (0 added, 1 updated, 2 unchanged)" in out
    found = orders(cli)
    assert found["302-0000000-0000002"]["shipped"] == "2025-03-11T07:00:00+00:00"
    assert found["112-0000000-0000005"]["payment"] == "MasterCard - 2111"


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_is_recorded_on_the_one_dispute_waiting_for_it(
    cli: Cli, ledger_path: Path
) -> None:
    imported(cli, "amazon/Retail.OrderHistory.1.csv")
    opened = ok(
        cli(
            "open",
            "111-0000000-0000001",
            "--reason",
            "defective",
            "--amount",
            "8.19",
            "--on",
            "2025-02-18",
            "--json",
        )
    ).json()
    dispute = str(opened["id"])
    ok(cli("respond", dispute, "seller-agrees", "--on", "2025-02-19"))
    payments = str(FIXTURES / "amazon/Retail.OrdersReturned.Payments.1.csv")
    before = snapshot(ledger_path)
    dry = ok(cli("order", "import", payments, "--dry-run")).stdout
    assert f"would be recorded on dispute {dispute}" in dry
    assert snapshot(ledger_path) == before
    out = ok(cli("order", "import", payments)).stdout
    assert (
        "line 2: refund of $8.19 on 2025-02-24 for amazon order 111-0000000-0000001: "
        f"recorded on dispute {dispute}"
    ) in out
    shown = ok(cli("status", dispute, "--json")).json()
    assert (shown["state"], shown["refunded"]) == ("refunded", "8.19")
    assert shown["events"][-1]["note"] == "refund R0000000001 (imported)"
    again = ok(cli("order", "import", payments)).stdout
    assert f"dispute {dispute} holds it already" in again


def test_a_refund_no_dispute_waits_for_is_listed_with_its_command(cli: Cli) -> None:
    imported(cli, "paypal/Download.csv")
    # Open, but the seller has not agreed: the dispute is not waiting for money yet.
    opened = ok(
        cli(
            "open",
            "1AB23456CD7890123",
            "--reason",
            "not-as-described",
            "--full",
            "--on",
            "2025-03-20",
            "--json",
        )
    ).json()
    out = imported(cli, "paypal/Download.csv")
    command = f"refundctl resolve {opened['id']} --refunded 1042.50 --on 2025-03-29T23:05:10+00:00"
    assert f"dispute {opened['id']} is not waiting for this amount" in out
    assert command in out
    assert ok(cli("status", str(opened["id"]), "--json")).json()["state"] == "awaiting_seller"
    ok(cli(*command.split()[1:]))
    assert ok(cli("status", str(opened["id"]), "--json")).json()["state"] == "refunded"


def test_a_refund_with_no_dispute_says_how_to_record_it(cli: Cli) -> None:
    out = imported(cli, "paypal/Download-de.csv")
    assert (
        "line 10: refund of €19.90 on 2025-03-28 for paypal order 3DE55555EE6666677: no active "
        "dispute on the order records it: refundctl open 3DE55555EE6666677 --marketplace paypal "
        "--reason other --amount 19.90 --on 2025-03-28T15:45:10+00:00, then refundctl resolve "
        "DISPUTE --refunded 19.90 --on 2025-03-28T15:45:10+00:00"
    ) in out


def test_a_return_is_matched_to_its_order(cli: Cli) -> None:
    returns = "amazon/Retail.CustomerReturns.1.1.csv"
    assert "no such order in the ledger" in imported(cli, returns)
    imported(cli, "amazon/Retail.OrderHistory.1.csv")
    out = imported(cli, returns)
    assert (
        "refundctl open 111-0000000-0000001 --marketplace amazon --reason defective "
        "--amount 8.19 --on 2025-02-20T14:02:00+00:00"
    ) in out
    assert ", then" not in out  # a return is not money yet


# -- nothing personal, bad rows --------------------------------------------------------------


def test_no_address_email_or_phone_is_stored(cli: Cli, ledger_path: Path) -> None:
    for name in EXPECTED:
        imported(cli, name)
    conn = sqlite3.connect(ledger_path)
    try:
        text = "\n".join(
            str(row)
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for row in conn.execute(f"SELECT * FROM [{table}]")
        )
    finally:
        conn.close()
    for personal in (
        "Sample Rd",
        "SPRINGFIELD",
        "Musterweg",
        "Beispielstr",
        "Przykładowa",
        "@example",
        "+49 30",
        "+44 20",
        "600 000 000",
        "K. Kupujący",
    ):
        assert personal not in text, personal


def test_bad_rows_are_listed_by_line_and_nothing_is_imported(
    cli: Cli, tmp_path: Path, ledger_path: Path
) -> None:
    history = (FIXTURES / "amazon/Retail.OrderHistory.1.csv").read_text(encoding="utf-8-sig")
    bad = history.replace('"43.34"', '"4x.34"').replace("2025-03-10T09:41:00Z", "2025-13-10")
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8-sig")
    lines = refused(cli("order", "import", str(path)))
    assert lines[0] == f"error: 2 problems in {path}; nothing was imported"
    assert lines[1].startswith("  line 4, Total Owed: '4x.34' is not an amount")
    assert lines[2].startswith("  line 5, Order Date: not a date or time: '2025-13-10'")
    assert snapshot(ledger_path) == "absent"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b"Order ID,Order Date,Total Owed\n\xff\xfe,2025-01-01,1\n", "not UTF-8"),
        (
            b"Date,Time,TimeZone,Name,Type,Status,Currency,Gross,Transaction ID\n"
            b"03/04/2025,10:00:00,UTC,Shop,General Payment,Completed,USD,-5.00,T1\n",
            "could be month/day or day/month",
        ),
        (
            b"Date,Time,TimeZone,Name,Type,Status,Currency,Gross,Transaction ID\n"
            b"03/24/2025,10:00:00,XYZ,Shop,General Payment,Completed,USD,-5.00,T1\n",
            "time zone 'XYZ' is not one refundctl can tell",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_in_a_line(
    cli: Cli, tmp_path: Path, ledger_path: Path, text: bytes, says: str
) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(text)
    lines = refused(cli("order", "import", str(path)))
    assert says in "\n".join(lines)
    assert snapshot(ledger_path) == "absent"


def test_a_dollar_takes_the_files_currency(cli: Cli) -> None:
    imported(cli, "temu/temu-orders.csv", args=("--currency", "CAD"))
    assert orders(cli)["PO-211-00000000000000001"]["currency"] == "CAD"


def test_many_rows_read_in_batches_give_the_orders_one_batch_gives(
    cli: Cli, tmp_path: Path
) -> None:
    """Past a batch (2,000 orders), with an order's rows far apart in the file."""
    header, *rows = (
        (FIXTURES / "amazon/Retail.OrderHistory.1.csv").read_text(encoding="utf-8-sig").splitlines()
    )
    lines = [header, rows[0]]
    for n in range(2500):
        lines.append(rows[2].replace("112-0000000-0000005", f"112-0000000-{n:07d}"))
    lines.append(rows[1])  # the second row of the first order, 2,500 rows later
    path = tmp_path / "Retail.OrderHistory.1.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = ok(cli("order", "import", str(path))).stdout
    assert "2,501 orders (2,501 added" in out
    found = orders(cli)
    assert found["111-0000000-0000001"]["total"] == "29.83"
    assert found["112-0000000-0002499"]["total"] == "43.34"


def test_a_buyers_story_from_download_to_status(cli: Cli) -> None:
    """Download Amazon's history, PayPal's activity and the AliExpress userscript's text;
    import each as it is; see the windows; a PayPal dispute the seller agreed to is settled by
    importing the activity again once the refund shows in it."""
    when = ("--as-of", "2025-04-01T12:00:00+00:00")
    for name in (
        "amazon/Retail.OrderHistory.1.csv",
        "paypal/Download.csv",
        "aliexpress/orders-userscript.tsv",
    ):
        out = ok(cli(*when, "order", "import", str(FIXTURES / name))).stdout
        assert out.startswith(f"Imported {FIXTURES / name}: ")
    status = ok(cli(*when, "status", "--limit", "0")).stdout
    assert "No active disputes." in status
    for number in ("302-0000000-0000002", "1AB23456CD7890123", "8100000000000001"):
        assert number in status, number
    listed = ok(cli(*when, "order", "list")).stdout
    assert "1AB23456CD7890123" in listed and "8100000000000002" in listed
    opened = ok(
        cli(
            *when,
            "open",
            "1AB23456CD7890123",
            "--reason",
            "not-as-described",
            "--full",
            "--on",
            "2025-03-20",
            "--json",
        )
    ).json()
    dispute = str(opened["id"])
    ok(cli(*when, "respond", dispute, "seller-agrees", "--on", "2025-03-22"))
    out = ok(cli(*when, "order", "import", str(FIXTURES / "paypal/Download.csv"))).stdout
    assert "PayPal activity: 2 orders (0 added, 0 updated, 2 unchanged), 1 refund" in out
    assert f"recorded on dispute {dispute}" in out
    shown = ok(cli(*when, "status", dispute)).stdout
    assert "refunded" in shown and "$1,042.50" in shown
    assert ok(cli(*when, "status", "--json")).json()["disputes"] == []


def test_a_dry_run_says_what_it_read_and_writes_nothing(cli: Cli, ledger_path: Path) -> None:
    out = ok(cli("order", "import", str(FIXTURES / "paypal/Download-de.csv"), "--dry-run")).stdout
    assert out.startswith(f"Checked {FIXTURES / 'paypal/Download-de.csv'}: PayPal activity")
    assert out.splitlines()[0].endswith("Nothing was written (--dry-run).")
    assert snapshot(ledger_path) == "absent"
