"""``status --json``'s disputes joined from stored text (ledger/status_lines.py): its money in
integers is the domain's, and each dispute's stored head is kept right by every write that
changes what it says. (That every line equals what jsonshape makes of the dispute computed
in full is ``tests/index_oracle.py``'s, run here after every step.)"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from refundctl.config import load_config
from refundctl.due import Filters
from refundctl.ledger import status_lines
from refundctl.money import from_minor, to_json
from tests.conftest import NOW, Cli, snapshot
from tests.index_oracle import assert_index_agrees
from tests.test_money import currencies


@given(st.integers(min_value=-(10**15), max_value=10**15), currencies)
def test_money_in_integers_is_the_json_of_the_decimal(minor: int, currency: str) -> None:
    assert status_lines._money(minor, currency) == to_json(from_minor(minor, currency))


def test_no_money_is_null() -> None:
    assert status_lines._money(None, "USD") is None


def lines(cli: Cli) -> dict[int, dict[str, object]]:
    run = cli("status", "--json", "--all")
    assert run.exit_code == 0, run.stderr
    return {d["id"]: d for d in json.loads(run.stdout)["disputes"]}


def test_the_stored_line_follows_the_orders_other_disputes_and_the_order(
    cli: Cli, ledger_path: Path
) -> None:
    """A dispute's stored head says what it may still ask, which the order's other disputes
    and the order's own total and items decide: each change to them stores it again, and the
    lines stay what the disputes computed in full give (the oracle)."""
    now = datetime.fromisoformat(NOW)

    def step(*args: str) -> None:
        run = cli(*args)
        assert run.exit_code == 0, run.stderr
        assert_index_agrees(ledger_path, load_config(), now, [Filters()])

    step("order", "add", "E1", "-m", "ebay", "--total", "50", "--received", "2026-11-20",
         "--item", "lamp x1 @30", "--item", "bulb x2 @10")  # fmt: skip
    step("open", "E1", "--item", "lamp", "--reason", "damaged", "--full", "--on", "2026-11-21")
    step("open", "E1", "--item", "bulb", "--reason", "damaged", "--full", "--on", "2026-11-21")
    assert lines(cli)[2]["refundable"] == "50.00"
    step("respond", "1", "seller-offers", "30", "--on", "2026-11-22")
    step("respond", "1", "accept", "--on", "2026-11-22")
    # The lamp's 30 is agreed: what the bulb's dispute may still get is the 20 left.
    assert (lines(cli)[2]["refundable"], lines(cli)[2]["max_ask"]) == ("20.00", "20.00")
    step("order", "update", "E1", "--total", "60", "--item", "lamp x1 @30",
         "--item", "bulb x2 @15")  # fmt: skip
    assert (lines(cli)[2]["refundable"], lines(cli)[2]["max_ask"]) == ("30.00", "30.00")
    step("undo", "1")  # the acceptance withdrawn: the lamp's 30 is no longer taken
    assert lines(cli)[2]["refundable"] == "60.00"


def test_a_dispute_written_around_the_ledger_layer_has_its_line_made(
    cli: Cli, ledger_path: Path
) -> None:
    """A dispute without a stored head (rows written by another tool) is listed all the same,
    its head made from its record."""
    assert cli("order", "add", "E1", "-m", "ebay", "--total", "50").exit_code == 0
    assert cli("open", "E1", "--reason", "damaged", "--full").exit_code == 0
    before = lines(cli)
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("DELETE FROM dispute_lines")
    assert lines(cli) == before
    assert_index_agrees(ledger_path, load_config(), datetime.fromisoformat(NOW), [Filters()])


def test_verify_reports_a_stored_line_that_disagrees_with_the_dispute(
    story: Cli, ledger_path: Path
) -> None:
    assert story("verify").exit_code == 0
    with sqlite3.connect(ledger_path) as conn:
        conn.execute(
            'UPDATE dispute_lines SET head = replace(head, \'"seller":"Best Store"\', '
            '\'"seller":"Someone Else"\') WHERE dispute_id = 1'
        )
    result = story("verify")
    assert result.exit_code == 1  # verify's "problems found"
    assert "dispute 1: its stored status line is not what the dispute says" in result.stdout


def test_verify_reports_a_stale_line_beside_a_dispute_that_does_not_read(
    cli: Cli, ledger_path: Path
) -> None:
    for order in ("E1", "E2"):
        assert cli("order", "add", order, "-m", "ebay", "--total", "50").exit_code == 0
        assert cli("open", order, "--reason", "damaged", "--full").exit_code == 0
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("UPDATE disputes SET folded = '{bad' WHERE id = 2")
        conn.execute("UPDATE dispute_lines SET marketplace = 'amazon' WHERE dispute_id = 1")
    result = cli("verify")
    assert result.exit_code == 1
    assert "dispute 1: its stored status line is not what the dispute says" in result.stdout


def test_a_blank_case_number_is_refused(cli: Cli, ledger_path: Path) -> None:
    """An empty --case-ref would be stored as a case number that says nothing."""
    assert cli("order", "add", "E1", "-m", "ebay", "--total", "50").exit_code == 0
    before = snapshot(ledger_path)
    for args in (
        ("open", "E1", "--reason", "damaged", "--full", "--case-ref", " "),
        ("escalate", "1", "--case-ref", ""),
    ):
        if args[0] == "escalate":
            assert cli("open", "E1", "--reason", "damaged", "--full").exit_code == 0
            before = snapshot(ledger_path)
        result = cli(*args)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: --case-ref is empty;")
        assert snapshot(ledger_path) == before


def test_an_item_a_dispute_is_about_stays_and_keeps_its_worth(cli: Cli, ledger_path: Path) -> None:
    """As the total may not fall below what the disputes took, an item may not fall below
    what its own dispute took, nor leave the order while a dispute is about it."""
    for args in (
        ("order", "add", "B1", "-m", "aliexpress", "--total", "50", "--received", "5d ago",
         "--item", "lamp x1 @30", "--item", "bulb x2 @10"),
        ("open", "B1", "--item", "lamp", "--reason", "damaged", "--full"),
        ("respond", "1", "seller-offers", "25"),
        ("respond", "1", "accept"),
    ):  # fmt: skip
        assert cli(*args).exit_code == 0
    before = snapshot(ledger_path)
    cheaper = cli("order", "update", "B1", "--item", "lamp x1 @10", "--item", "bulb x2 @10")
    assert cheaper.exit_code == 2
    assert cheaper.stderr == (
        "error: lamp at 10.00 is less than the 25.00 dispute 1 already agreed or recovered\n"
    )
    gone = cli("order", "update", "B1", "--item", "bulb x2 @10")
    assert gone.exit_code == 2
    assert gone.stderr == "error: dispute 1 is about 'lamp'; keep that item on the order\n"
    assert snapshot(ledger_path) == before
    assert (
        cli("order", "update", "B1", "--item", "lamp x1 @25", "--item", "bulb x2 @12").exit_code
        == 0
    )


def test_a_closed_dispute_that_took_nothing_holds_no_item(cli: Cli, ledger_path: Path) -> None:
    """A cancelled dispute's item may be renamed or dropped: it is no longer claimed."""
    for args in (
        ("order", "add", "B1", "-m", "aliexpress", "--total", "50", "--received", "5d ago",
         "--item", "lamp x1 @30", "--item", "bulb x2 @10"),
        ("open", "B1", "--item", "lamp", "--reason", "damaged", "--full"),
        ("cancel", "1"),
    ):  # fmt: skip
        run = cli(*args)
        assert run.exit_code == 0, run.stderr
    assert (
        cli(
            "order", "update", "B1", "--item", "desk lamp x1 @30", "--item", "bulb x2 @10"
        ).exit_code
        == 0
    )
