"""The commands of DESIGN.md, run the way a buyer runs them, checked for people and for scripts.

Each test is a short stretch of the buyer's month: an order recorded and received, a dispute
opened, evidence kept, the seller's and the platform's moves logged, a mistake taken back, cron
asking whether anything is due. The text output is checked for what a person needs to read;
the ``--json`` output for the contract scripts rely on (DESIGN.md, "JSON"): every deadline is
an object with its rule, money is a decimal string, every time carries a UTC offset.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import refundctl
from tests.conftest import NOW, Cli, Run, snapshot

ORDER = "8101234567890123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

DEADLINE_KEYS = {"name", "due", "binds", "action", "overdue", "if_missed", "rule"}
IF_MISSED = {"you_lose", "you_may_escalate", "platform_steps_in", "chase"}
RULE_KEYS = {"policy", "duration", "counts_from", "from", "assumed", "source"}
TIME_KEYS = {
    "as_of",
    "due",
    "from",
    "at",
    "recorded",
    "added",
    "opened",
    "ordered",
    "shipped",
    "expected_by",
    "received",
    "protection_ends",
    "can_escalate_from",
    "can_open_from",
}
MONEY_KEYS = {"requested", "offer", "agreed", "refunded", "refundable", "total", "amount", "price"}
ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
DECIMAL = re.compile(r"\d+(\.\d+)?")


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def check_contract(value: Any, where: str = "$") -> int:
    """Walk a JSON document and hold every deadline, amount and time to DESIGN.md's contract.

    Returns how many deadline objects it checked, so a test can tell it checked something.
    """
    checked = 0
    if isinstance(value, list):
        for index, item in enumerate(value):
            checked += check_contract(item, f"{where}[{index}]")
        return checked
    if not isinstance(value, dict):
        return 0
    for key, item in value.items():
        here = f"{where}.{key}"
        if key == "deadline" and item is not None:
            checked += check_deadline(item, here)
        elif key == "deadlines":
            for index, deadline in enumerate(item):
                checked += check_deadline(deadline, f"{here}[{index}]")
        elif key in TIME_KEYS and item is not None:
            assert isinstance(item, str) and ISO_WITH_OFFSET.fullmatch(item), (here, item)
        elif key in MONEY_KEYS and item is not None:
            assert isinstance(item, str) and DECIMAL.fullmatch(item), (here, item)
        else:
            checked += check_contract(item, here)
    return checked


def check_deadline(deadline: dict[str, Any], where: str) -> int:
    assert set(deadline) >= DEADLINE_KEYS, (where, sorted(deadline))
    assert set(deadline["rule"]) >= RULE_KEYS, (where, sorted(deadline["rule"]))
    assert ISO_WITH_OFFSET.fullmatch(deadline["due"]), (where, deadline["due"])
    assert isinstance(deadline["overdue"], bool)
    assert deadline["binds"] in {"buyer", "seller", "platform", "payment"}
    assert deadline["if_missed"] in IF_MISSED, (where, deadline["if_missed"])
    assert deadline["action"]
    rule = deadline["rule"]
    assert isinstance(rule["assumed"], bool)
    assert rule["from"] is None or ISO_WITH_OFFSET.fullmatch(rule["from"]), (where, rule)
    return 1


def sh(cli: Cli, line: str, *extra: str) -> Run:
    """Run one command line as the buyer types it; ``extra`` arguments go last, verbatim."""
    return cli(*shlex.split(line), *extra)


def add_order(cli: Cli, line: str, *, total: str = "20.00", market: str = "ebay") -> Run:
    """``order add`` with a total and a marketplace unless the story needs particular ones."""
    return ok(sh(cli, f"order add {line} -m {market} --total {total}"))


# -- orders ------------------------------------------------------------------------------------


def test_adding_a_received_order_starts_its_dispute_window(cli: Cli) -> None:
    run = ok(
        sh(
            cli,
            (
                f"order add {ORDER} -m AliExpress --total 45.90 --seller "
                "'Best Store' --title 'USB-C hub' --item 'USB-C hub x1 @45.90' "
                "--ordered 2026-11-01 --shipped 2026-11-03 --received 2026-11-20 "
                "--payment card"
            ),
        )
    )
    assert run.stdout == (
        f"Added order {ORDER} (aliexpress). Next: dispute window in 8d 12h (end of Dec 04): "
        "open a dispute by then, or lose the right to one.\n"
    )
    shown = ok(sh(cli, f"order show {ORDER} --json")).json()
    assert shown["marketplace"] == "aliexpress"
    assert shown["total"] == "45.90" and shown["currency"] == "USD"
    assert shown["items"] == [{"name": "USB-C hub", "quantity": 1, "price": "45.90"}]
    assert shown["received"] == "2026-11-20T00:00:00+00:00"
    assert shown["refundable"] == "45.90"
    assert shown["policy"] == "aliexpress"
    assert shown["deadline"]["name"] == "dispute_window"
    assert shown["deadline"]["due"] == "2026-12-05T00:00:00+00:00"
    assert shown["deadline"]["rule"]["counts_from"] == "receipt"
    assert shown["deadline"]["rule"]["duration"] == "15d"
    assert check_contract(shown) == 2


def test_order_add_json_prints_the_order(cli: Cli) -> None:
    added = add_order(
        cli, ("E-100 --seller vintage_finds --ordered 2026-11-10 --expected-by 2026-11-20 --json")
    ).json()
    for key in (
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
    ):
        assert key in added
    assert added["order"] == "E-100" and added["seller"] == "vintage_finds"
    assert added["title"] is None and added["items"] == []
    assert added["deadline"]["name"] == "protection_ends"
    assert added["deadline"]["rule"]["counts_from"] == "expected delivery"
    assert added["deadline"]["rule"]["policy"] == "ebay"
    assert added["deadline"]["rule"]["origin"] == "built-in"
    assert added["deadline"]["rule"]["assumed"] is False  # eBay publishes its 30 days
    check_contract(added)


def test_order_update_changes_only_what_is_given(cli: Cli) -> None:
    add_order(cli, "E-200 --title Lamp --ordered 2026-11-10")
    run = ok(sh(cli, "order update E-200 --seller 'Lamp Shop' --item 'Lamp x2 @10'"))
    assert run.stdout.startswith("Updated order E-200 (ebay).")
    shown = ok(sh(cli, "order show E-200 --json")).json()
    assert shown["title"] == "Lamp" and shown["seller"] == "Lamp Shop"
    assert shown["items"] == [{"name": "Lamp", "quantity": 2, "price": "10.00"}]
    moved = ok(sh(cli, "order update E-200 --protection-ends 2026-12-24 --json"))
    deadline = moved.json()["deadline"]
    assert deadline["due"] == "2026-12-24T00:00:00+00:00"
    assert deadline["rule"]["counts_from"] == "marketplace countdown"
    assert deadline["rule"]["duration"] is None
    check_contract(moved.json())


def test_order_receive_records_the_day_it_arrived(cli: Cli) -> None:
    add_order(cli, f"{ORDER} --ordered 2026-11-01", market="aliexpress", total="45.90")
    run = ok(sh(cli, f"order receive {ORDER} --on 2026-11-20"))
    assert run.stdout.startswith(f"Order {ORDER} received. Next: dispute window in 8d 12h")
    received = ok(sh(cli, f"order receive {ORDER} --on yesterday --json")).json()
    assert received["received"] == "2026-11-25T00:00:00+00:00"


def test_order_list_shows_every_order_and_filters_by_marketplace(cli: Cli) -> None:
    add_order(
        cli,
        (f"{ORDER} --title 'USB-C hub' --ordered 2026-11-01 --received 2026-11-20"),
        market="aliexpress",
        total="45.90",
    )
    add_order(cli, "12-34567-89012 --title 'Vintage camera' --ordered 2026-11-10", total="120")
    table = ok(sh(cli, "order list")).stdout
    assert "USB-C hub" in table and "Vintage camera" in table
    assert "12-34567-89012" in table and "$120.00" in table
    assert "not yet" in table  # the camera has not arrived
    listed = ok(sh(cli, "order list --json")).json()
    assert [o["order"] for o in listed["orders"]] == [ORDER, "12-34567-89012"]
    assert listed["orders"][1]["total"] == "120.00"
    check_contract(listed)
    only_ebay = ok(sh(cli, "order list -m eBay --json")).json()
    assert [o["marketplace"] for o in only_ebay["orders"]] == ["ebay"]


def test_order_show_lists_the_facts_and_the_open_windows(story: Cli) -> None:
    ok(
        sh(
            story,
            ("order add T-9 -m temu --total 18.20 --seller 'Temu seller' --ordered 2026-11-10"),
        )
    )
    text = ok(sh(story, "order show T-9")).stdout
    for words in (
        "Order",
        "T-9",
        "Temu seller",
        "$18.20",
        "Open deadlines",
        "protection_ends",
        "open a not-received dispute",
        "payment 2026-11-10",
    ):
        assert words in text, words
    shown = ok(sh(story, f"order show {ORDER} --json")).json()
    assert shown["refundable"] == "45.90"  # dispute 1 asks, nothing is agreed yet
    # While dispute 1 runs, its deadlines count, not the order's window.
    assert shown["deadline"] is None and shown["deadlines"] == []


def test_an_order_number_two_marketplaces_share_is_picked_with_marketplace(cli: Cli) -> None:
    add_order(cli, "1122334455", total="30")
    add_order(cli, "1122334455", total="12", market="temu")
    assert ok(sh(cli, "order show 1122334455 -m temu --json")).json()["total"] == "12.00"
    opened = ok(sh(cli, "open 1122334455 -m ebay --reason damaged --full --json"))
    assert opened.json()["marketplace"] == "ebay" and opened.json()["requested"] == "30.00"


# -- open ----------------------------------------------------------------------------------------


def test_open_prints_the_dispute_number_and_the_next_step(cli: Cli) -> None:
    add_order(
        cli,
        f"{ORDER} --ordered 2026-11-01 --received 2026-11-20",
        market="aliexpress",
        total="45.90",
    )
    run = ok(sh(cli, (f"open {ORDER} --reason missing-parts --amount 12.50 --on 2026-11-22")))
    assert run.stdout == (
        f"Opened dispute 1 on order {ORDER} (aliexpress), asking $12.50 of $45.90.\n"
        "Next: seller's answer in 2d 12h (end of Nov 28): the seller answers by then; after "
        "it, AliExpress steps in by itself.\n"
    )
    assert run.stderr == ""


@pytest.mark.parametrize(
    ("total", "currency", "percent", "asked"),
    [
        pytest.param("0.99", "USD", "50", "0.49", id="half of 99 cents rounds down"),
        pytest.param("10.00", "USD", "33.3", "3.33", id="a third"),
        pytest.param("45.90", "USD", "100", "45.90", id="all of it"),
        pytest.param("1500", "JPY", "33", "495", id="yen have no minor unit"),
        pytest.param("9.999", "KWD", "50", "4.999", id="dinar have three decimals"),
        pytest.param("20.00", "EUR", "12.5%", "2.50", id="with a percent sign"),
    ],
)
def test_percent_rounds_down_to_the_minor_unit(
    cli: Cli, total: str, currency: str, percent: str, asked: str
) -> None:
    add_order(cli, f"P-1 --currency {currency} --ordered 2026-11-01", total=total)
    opened = ok(sh(cli, "open P-1 --reason damaged", "--percent", percent, "--json")).json()
    assert opened["requested"] == asked
    assert opened["currency"] == currency


def test_percent_and_full_of_an_item_never_exceed_the_item(cli: Cli) -> None:
    add_order(
        cli,
        ("P-2 --item 'Cable x3 @3.33' --item 'Charger @6.01' --ordered 2026-11-01"),
        total="10.00",
    )
    cable = ok(sh(cli, "open P-2 --reason defective --percent 100 --item cable --json")).json()
    assert cable["item"] == "Cable"
    assert cable["requested"] == "9.99"  # 3 x 3.33, not the order's 10.00
    charger = ok(sh(cli, "open P-2 --reason damaged --full --item CHARGER --json")).json()
    assert charger["requested"] == "6.01"
    assert ok(sh(cli, "status --json")).json()["disputes"][1]["item"] == "Charger"


def test_full_asks_for_what_is_left_after_an_earlier_refund(cli: Cli) -> None:
    add_order(cli, "P-3 --ordered 2026-11-01", total="45.90")
    ok(sh(cli, "open P-3 --reason missing-parts --amount 20 --on 2026-11-02"))
    ok(sh(cli, "respond 1 seller-agrees --on 2026-11-03"))
    ok(sh(cli, "resolve 1 --refunded 20 --on 2026-11-05"))
    again = ok(sh(cli, "open P-3 --reason defective --full --json")).json()
    assert again["requested"] == "25.90"
    assert again["refundable"] == "25.90"
    assert ok(sh(cli, "order show P-3 --json")).json()["refundable"] == "25.90"


def test_opening_after_the_window_closed_is_recorded_with_a_warning(cli: Cli) -> None:
    add_order(
        cli, "L-1 --ordered 2026-09-01 --received 2026-10-01", market="aliexpress", total="10"
    )
    late = ok(sh(cli, "open L-1 --reason damaged --full"))
    assert late.stderr == (
        "warning: dispute_window passed on 2026-10-16 00:00 UTC; the marketplace may no longer "
        "accept this, check its own page\n"
    )
    assert late.stdout.startswith("Opened dispute 1 on order L-1")


def test_open_with_evidence_and_a_case_reference(cli: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "box.png"
    photo.write_bytes(PNG)
    add_order(cli, "P-4 --ordered 2026-11-01")
    line = "open P-4 --reason damaged --amount 5 --note 'Crushed box' --case-ref 5012345 --json"
    opened = ok(sh(cli, line, "--evidence", str(photo))).json()
    assert opened["case_ref"] == "5012345"
    assert opened["description"] == "Crushed box"
    assert [e["name"] for e in opened["evidence"]] == ["box.png"]


# -- attach --------------------------------------------------------------------------------------


def test_attached_files_are_kept_by_hash_beside_the_ledger(
    story: Cli, ledger_path: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "unboxing.png"
    photo.write_bytes(PNG)
    sha = hashlib.sha256(PNG).hexdigest()
    run = ok(sh(story, "attach 1", str(photo), "--note", "as delivered", "--on", "2026-11-22"))
    assert run.stdout == "Attached 1 file to dispute 1 (1 piece of evidence in all).\n"
    stored = ledger_path.parent / f"{ledger_path.stem}.evidence" / sha[:2] / sha
    assert stored.read_bytes() == PNG

    photo.unlink()  # the buyer tidies the Downloads folder
    dispute = ok(sh(story, "status 1 --json")).json()
    (evidence,) = dispute["evidence"]
    assert evidence["sha256"] == sha
    assert evidence["size"] == len(PNG)
    assert evidence["media_type"] == "image/png"
    assert evidence["kind"] == "photo"
    assert evidence["name"] == "unboxing.png"
    assert evidence["note"] == "as delivered"
    assert evidence["added"] == "2026-11-22T00:00:00+00:00"
    assert "unboxing.png" in ok(sh(story, "status 1")).stdout
    assert stored.read_bytes() == PNG


def test_the_same_photo_twice_is_stored_once(story: Cli, ledger_path: Path, tmp_path: Path):
    first, second = tmp_path / "a.png", tmp_path / "copy of a.png"
    first.write_bytes(PNG)
    second.write_bytes(PNG)
    run = ok(sh(story, "attach 1", str(first), str(second), "--kind", "screenshot"))
    # The same content on the same dispute is said once, and noted (issue 4).
    assert run.stdout == "Attached 1 file to dispute 1 (1 piece of evidence in all).\n"
    assert "copy of a.png is already attached to dispute 1 as evidence #1" in run.stderr
    store = ledger_path.parent / f"{ledger_path.stem}.evidence"
    assert [p.name for p in store.rglob("*") if p.is_file()] == [hashlib.sha256(PNG).hexdigest()]
    kinds = [e["kind"] for e in ok(sh(story, "status 1 --json")).json()["evidence"]]
    assert kinds == ["screenshot"]


def test_attach_a_link(story: Cli) -> None:
    url = "https://www.aliexpress.com/item/1005001234567890.html"
    run = ok(sh(story, "attach 1", "--url", url, "--note", "the listing says HDMI included"))
    assert run.stdout == "Attached a link to dispute 1 (1 piece of evidence in all).\n"
    (evidence,) = ok(sh(story, "status 1 --json")).json()["evidence"]
    assert evidence["kind"] == "listing"
    assert evidence["name"] == url and evidence["sha256"] is None


def test_attach_a_chat_message(story: Cli) -> None:
    run = ok(
        sh(story, ("attach 1 --message 'We can refund 8 USD' --from seller --on 2026-11-23T09:30"))
    )
    assert run.stdout == "Logged the message on dispute 1.\n"
    dispute = ok(sh(story, "status 1 --json")).json()
    assert dispute["state"] == "awaiting_seller"  # a message is not a move
    message = dispute["events"][-1]
    assert message["kind"] == "message" and message["actor"] == "seller"
    assert message["note"] == "We can refund 8 USD"
    assert message["at"] == "2026-11-23T09:30:00+00:00"
    assert message["recorded"] == NOW


# -- respond: every move ----------------------------------------------------------------------

# Moves after the story's open on Nov 22, one a day from Nov 23 -> the dispute after them.
ESCALATE = ("escalate",)
MOVES = [
    pytest.param(
        [("seller-agrees",)],
        {"state": "refund_pending", "agreed": "12.50", "waiting_on": "payment"},
        "refund_expected",
        id="seller-agrees",
    ),
    pytest.param(
        [("seller-agrees", "--return")],
        {"state": "return_to_ship", "agreed": "12.50", "waiting_on": "buyer"},
        "return_ship_by",
        id="seller-agrees --return",
    ),
    pytest.param(
        [("seller-offers", "8.00")],
        {"state": "awaiting_buyer", "offer": "8.00", "offer_kind": "refund"},
        "negotiation_ends",
        id="seller-offers",
    ),
    pytest.param(
        [("seller-offers", "45.90", "--replacement")],
        {"state": "awaiting_buyer", "offer": "45.90", "offer_kind": "replacement"},
        "negotiation_ends",
        id="seller-offers --replacement",
    ),
    pytest.param(
        [("seller-offers", "8.00"), ("seller-offers", "9.00")],
        {"state": "awaiting_buyer", "offer": "9.00"},
        "negotiation_ends",
        id="a revised offer replaces the open one",
    ),
    pytest.param(
        [("seller-rejects",)],
        {"state": "awaiting_buyer", "offer": None, "waiting_on": "buyer"},
        "negotiation_ends",
        id="seller-rejects",
    ),
    pytest.param(
        [("seller-offers", "8.00"), ("accept",)],
        {"state": "refund_pending", "agreed": "8.00", "offer": None},
        "refund_expected",
        id="accept",
    ),
    pytest.param(
        [("seller-offers", "8.00", "--return"), ("accept",)],
        {"state": "return_to_ship", "agreed": "8.00"},
        "return_ship_by",
        id="accept a refund with return",
    ),
    pytest.param(
        [("seller-offers", "8.00"), ("decline",)],
        {"state": "awaiting_buyer", "offer": None, "requested": "12.50"},
        "negotiation_ends",
        id="decline",
    ),
    pytest.param(
        [("seller-offers", "8.00"), ("counter", "10.00")],
        {"state": "awaiting_seller", "requested": "10.00", "offer": None},
        "seller_response",
        id="counter",
    ),
    pytest.param(
        [("seller-agrees", "--return"), ("return-shipped", "--tracking", "LP00123456789CN")],
        {"state": "return_in_transit", "tracking": "LP00123456789CN", "waiting_on": "seller"},
        "return_delivery",
        id="return-shipped",
    ),
    pytest.param(
        [("seller-agrees", "--return"), ("return-shipped",), ("return-delivered",)],
        {"state": "return_in_transit"},
        "return_refund_due",
        id="return-delivered",
    ),
    pytest.param(
        [("seller-rejects",), ESCALATE, ("platform-requests-info",)],
        {"state": "escalated", "waiting_on": "platform"},
        "info_due",
        id="platform-requests-info",
    ),
    pytest.param(
        [("seller-rejects",), ESCALATE, ("platform-awards", "10.00")],
        {"state": "refund_pending", "agreed": "10.00"},
        "refund_expected",
        id="platform-awards",
    ),
    pytest.param(
        [("seller-rejects",), ESCALATE, ("platform-awards", "10.00", "--return")],
        {"state": "return_to_ship", "agreed": "10.00"},
        "return_ship_by",
        id="platform-awards --return",
    ),
    pytest.param(
        [("seller-rejects",), ESCALATE, ("platform-rejects",)],
        {"state": "lost", "waiting_on": None},
        None,
        id="platform-rejects",
    ),
]


@pytest.mark.parametrize(("moves", "expected", "deadline"), MOVES)
def test_every_respond_move(
    story: Cli,
    moves: list[tuple[str, ...]],
    expected: dict[str, Any],
    deadline: str | None,
) -> None:
    steps = [("escalate", "1") if move == ESCALATE else ("respond", "1", *move) for move in moves]
    for day, step in enumerate(steps, start=23):
        run = ok(story(*step, "--on", f"2026-11-{day}", "--json"))
    after = run.json()
    for key, value in expected.items():
        assert after[key] == value, (key, after[key])
    assert (after["deadline"] or {}).get("name") == deadline
    assert check_contract(after) == (1 + len(after["deadlines"]) if deadline else 0)
    text = ok(sh(story, "status 1")).stdout
    assert expected["state"] in text


def test_respond_prints_the_change_and_the_next_step(story: Cli) -> None:
    run = ok(sh(story, "respond 1 seller-offers 8.00 --on 2026-11-24"))
    assert run.stdout == (
        "Dispute 1: waiting for the seller → your move; offer on the table: $8.00.\n"
        "Next: talks end in 10d 12h (end of Dec 06): settle with the seller by then; "
        "after it, AliExpress steps in by itself.\n"
    )
    same = ok(sh(story, "respond 1 decline --on 2026-11-25"))
    assert same.stdout.startswith("Dispute 1: still your move.")


def test_offer_history_records_each_proposal_and_its_outcome(story: Cli) -> None:
    for move in (
        ("seller-offers", "6.00"),
        ("seller-offers", "8.00"),
        ("counter", "10.00"),
        ("seller-agrees",),
    ):
        ok(story("respond", "1", *move))
    offers = ok(sh(story, "status 1 --json")).json()["offers"]
    assert [(o["actor"], o["amount"], o["outcome"]) for o in offers] == [
        ("buyer", "12.50", "declined"),
        ("seller", "6.00", "superseded"),
        ("seller", "8.00", "declined"),
        ("buyer", "10.00", "accepted"),
    ]
    assert all(set(o) >= {"at", "actor", "kind", "amount", "outcome"} for o in offers)


# -- escalate ------------------------------------------------------------------------------------


def test_escalating_early_is_recorded_with_a_warning(story: Cli) -> None:
    # AliExpress takes a claim from 3 days after the dispute opened (Nov 22).
    run = ok(
        sh(story, "escalate 1 --case-ref 5012345 --note 'seller silent' --on 2026-11-24 --json")
    )
    assert run.stderr.startswith("warning: escalating before 2026-11-25 00:00 UTC (opening")
    assert "may refuse it this early" in run.stderr
    dispute = run.json()
    assert dispute["state"] == "escalated" and dispute["waiting_on"] == "platform"
    assert dispute["case_ref"] == "5012345"
    assert dispute["deadline"]["name"] == "platform_decision"
    assert dispute["events"][-1]["actor"] == "buyer"
    assert dispute["events"][-1]["note"] == "seller silent"


def test_escalating_after_the_sellers_time_has_no_warning(story: Cli) -> None:
    run = ok(sh(story, "--as-of 2026-12-01 escalate 1"))
    assert run.stderr == ""
    assert run.stdout.startswith("Dispute 1: waiting for the seller → escalated.")


def test_escalation_by_the_platform_is_recorded_as_the_platforms(story: Cli) -> None:
    run = ok(sh(story, "escalate 1 --by platform --json"))
    event = run.json()["events"][-1]
    assert (event["kind"], event["actor"]) == ("escalate", "platform")
    assert run.json()["state"] == "escalated"


def test_escalation_by_the_platform_is_not_called_early(story: Cli) -> None:
    run = ok(sh(story, "escalate 1 --by platform"))
    assert "early escalation" not in run.stderr


def test_an_appeal_after_the_platform_rejects(cli: Cli) -> None:
    add_order(cli, "P-7 --ordered 2026-11-01 --received 2026-11-05", market="paypal")
    ok(sh(cli, "open P-7 --reason not-as-described --full --on 2026-11-06"))
    ok(sh(cli, "escalate 1 --on 2026-11-20"))
    lost = ok(sh(cli, "respond 1 platform-rejects --on 2026-11-24 --json")).json()
    assert lost["state"] == "lost"
    assert lost["deadline"]["name"] == "appeal_by"
    assert [d["id"] for d in ok(sh(cli, "status --json")).json()["disputes"]] == [1]
    appeal = ok(sh(cli, "escalate 1 --json")).json()
    assert appeal["state"] == "escalated"


# -- resolve, cancel -------------------------------------------------------------------------


def test_resolve_refunded_keeps_what_arrived(story: Cli) -> None:
    ok(sh(story, "respond 1 seller-agrees --on 2026-11-24"))
    run = ok(sh(story, "resolve 1 --refunded 12.50"))
    assert run.stdout.startswith(
        "Dispute 1: refund on its way → refunded; received $12.50.\nNo open deadline."
    )
    done = ok(sh(story, "status 1 --json")).json()
    assert (done["state"], done["refunded"], done["credit"]) == ("refunded", "12.50", False)
    assert done["deadline"] is None and done["deadlines"] == []


def test_resolve_refunded_as_store_credit(story: Cli) -> None:
    done = ok(sh(story, "resolve 1 --refunded 10 --credit --json")).json()
    assert (done["state"], done["refunded"], done["credit"]) == ("refunded", "10.00", True)
    assert "store credit" in ok(sh(story, "status 1")).stdout


def test_resolve_lost_and_withdrawn(story: Cli) -> None:
    lost = ok(sh(story, "resolve 1 --lost --note 'gave up' --json")).json()
    assert lost["state"] == "lost" and lost["waiting_on"] is None
    ok(sh(story, "order add W-1 -m ebay --total 9 --ordered 2026-11-01"))
    ok(sh(story, "open W-1 --reason not-received --full --on 2026-11-20"))
    ok(sh(story, "respond 2 seller-offers 4 --on 2026-11-21"))
    withdrawn = ok(sh(story, "resolve 2 --withdrawn --json")).json()
    assert withdrawn["state"] == "withdrawn"
    assert [o["outcome"] for o in withdrawn["offers"]] == ["declined", "superseded"]


def test_cancel_before_the_seller_answers(story: Cli) -> None:
    run = ok(sh(story, "cancel 1 --note 'parcel turned up'"))
    assert run.stdout.startswith("Dispute 1: waiting for the seller → cancelled.")
    assert "No active disputes." in ok(story("status")).stdout
    assert ok(sh(story, "status --json")).json()["disputes"] == []
    everything = ok(sh(story, "status --all --json")).json()
    assert [(d["id"], d["state"]) for d in everything["disputes"]] == [(1, "cancelled")]
    assert "cancelled" in ok(sh(story, "status --all")).stdout


# -- undo --------------------------------------------------------------------------------------


def test_undo_appends_a_retraction_and_goes_back_one_move(story: Cli) -> None:
    ok(sh(story, "respond 1 seller-offers 8.00 --on 2026-11-24"))
    run = ok(sh(story, "undo 1"))
    took_back, moved = run.stdout.splitlines()[:2]
    assert took_back.startswith("Took back 'seller-offers' of ") and "Nov 24" in took_back
    assert moved == "Dispute 1: your move → waiting for the seller."
    dispute = ok(sh(story, "status 1 --json")).json()
    assert dispute["state"] == "awaiting_seller" and dispute["offer"] is None
    kinds = [e["kind"] for e in dispute["events"]]
    assert kinds == ["open", "seller-offers", "undo"]  # nothing deleted
    assert dispute["events"][2]["retracts"] == dispute["events"][1]["id"]
    assert dispute["events"][2]["recorded"] == NOW
    assert "waiting for" in ok(story("status")).stdout


def test_undo_twice_then_nothing_is_left_to_undo(story: Cli, ledger_path: Path) -> None:
    ok(sh(story, "respond 1 seller-offers 8.00 --on 2026-11-24"))
    ok(sh(story, "respond 1 counter 10.00 --on 2026-11-25"))
    once = ok(sh(story, "undo 1 --json")).json()
    assert (once["state"], once["offer"], once["requested"]) == ("awaiting_buyer", "8.00", "12.50")
    twice = ok(sh(story, "undo 1 --json")).json()
    assert (twice["state"], twice["offer"]) == ("awaiting_seller", None)
    assert [o["outcome"] for o in twice["offers"]] == ["open"]
    before = snapshot(ledger_path)
    refused = sh(story, "undo 1")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: dispute 1 has no move to undo; to withdraw it, use 'refundctl cancel 1'\n"
    )
    assert snapshot(ledger_path) == before


def test_undo_of_a_just_opened_dispute_is_refused(story: Cli, ledger_path: Path) -> None:
    before = snapshot(ledger_path)
    refused = sh(story, "undo 1")
    assert refused.exit_code == 2
    assert "no move to undo" in refused.stderr and "refundctl cancel 1" in refused.stderr
    assert snapshot(ledger_path) == before


def test_undo_reopens_a_dispute_closed_by_mistake(story: Cli) -> None:
    ok(sh(story, "resolve 1 --lost"))
    back = ok(sh(story, "undo 1 --json")).json()
    assert back["state"] == "awaiting_seller"
    assert [d["id"] for d in ok(sh(story, "status --json")).json()["disputes"]] == [1]


# -- check ---------------------------------------------------------------------------------------


def test_check_exits_1_when_something_is_due_within_the_window(story: Cli) -> None:
    # The story's order window closes Dec 5 (a deadline of the buyer's): due within 9d.
    ok(sh(story, "order add 8109876543210987 -m aliexpress --total 23.40 --received 2026-11-20"))
    due = sh(story, "check --within 9d")
    assert due.exit_code == 1
    assert due.stdout == (
        "order: aliexpress 8109876543210987: dispute window in 8d 12h (end of Dec 04): "
        "open a dispute by then, or lose the right to one\n"
    )
    quiet = sh(story, "check --within 3d")
    assert quiet.exit_code == 0
    assert quiet.stdout == "Nothing is due in this window.\n"


def test_check_exits_1_only_for_what_needs_the_buyer(story: Cli) -> None:
    # Issue 9: the seller has till Nov 29 (2d 12h): nothing for the buyer to do yet.
    waiting = sh(story, "check --within 3d")
    assert (waiting.exit_code, waiting.stdout) == (0, "Nothing is due in this window.\n")
    # --all lists the other side's running deadline too, and still exits 0.
    shown = sh(story, "check --within 3d --all")
    assert shown.exit_code == 0
    assert shown.stdout == (
        "dispute 1: aliexpress 8101234567890123: seller's answer in 2d 12h (end of Nov 28): "
        "the seller answers by then; after it, AliExpress steps in by itself\n"
    )
    # Once it has passed, the buyer may act: exit 1, whatever the window.
    late = sh(story, "--as-of 2026-11-29T01:00 check --within 1h")
    assert late.exit_code == 1
    assert "seller's answer overdue 1h" in late.stdout


def test_check_exits_1_for_anything_overdue_whatever_the_window(story: Cli) -> None:
    late = sh(story, "--as-of 2026-11-30 check --within 1h")
    assert late.exit_code == 1
    assert "seller's answer overdue 1d" in late.stdout


def test_check_json_shape(story: Cli) -> None:
    ok(
        sh(
            story,
            (
                "order add 8109876543210987 -m aliexpress --total 23.40 --ordered "
                "2026-10-30 --received 2026-11-12"
            ),
        )
    )
    run = sh(story, "check --within 3d --all --json")
    assert run.exit_code == 1
    report = run.json()
    assert set(report) == {"as_of", "within", "items"}
    assert report["as_of"] == NOW and report["within"] == "3d"
    assert [(i["kind"], i["id"], i["order"], i["marketplace"]) for i in report["items"]] == [
        ("order", None, "8109876543210987", "aliexpress"),
        ("dispute", 1, ORDER, "aliexpress"),
    ]
    assert report["items"][0]["deadline"]["name"] == "dispute_window"
    assert check_contract(report) == 2


def test_check_on_a_quiet_ledger_exits_0(cli: Cli, empty_ledger: Path) -> None:
    run = sh(cli, "check --json")
    assert run.exit_code == 0
    assert run.json()["items"] == []


# -- status ------------------------------------------------------------------------------------


def test_status_shows_the_dispute_and_its_next_deadline(story: Cli) -> None:
    text = ok(story("status")).stdout
    for words in (
        "Disputes",
        "8101234567890123",  # whole: it is what people paste into a search
        "aliexpress",
        "missing parts",
        "waiting for",  # the seller's turn, in words (the cell may wrap)
        "$12.50",
        "2d 12h left",
        "end of Nov 28",  # a deadline at midnight is the end of the day before
        "seller's answer",
    ):
        assert words in text, words


def test_status_json_shape(story: Cli) -> None:
    ok(
        sh(
            story,
            (
                "order add 8109876543210987 -m aliexpress --total 23.40 --seller "
                "'Other Store' --ordered 2026-10-30 --received 2026-11-20"
            ),
        )
    )
    shape = ok(sh(story, "status --json")).json()
    assert set(shape) >= {"as_of", "disputes", "orders"}
    assert shape["as_of"] == NOW
    (dispute,) = shape["disputes"]
    for key in (
        "id",
        "order",
        "marketplace",
        "seller",
        "reason",
        "state",
        "waiting_on",
        "currency",
        "requested",
        "offer",
        "agreed",
        "refunded",
        "deadline",
        "deadlines",
    ):
        assert key in dispute, key
    assert (dispute["id"], dispute["order"], dispute["requested"]) == (1, ORDER, "12.50")
    assert dispute["offer"] is None and dispute["agreed"] is None
    (order,) = shape["orders"]
    assert (order["order"], order["total"], order["seller"]) == (
        "8109876543210987",
        "23.40",
        "Other Store",
    )
    assert order["deadline"]["name"] == "dispute_window"
    # The dispute's next deadline and its two (seller_response, negotiation_ends); the order's.
    assert check_contract(shape) == 5
    assert dispute["can_escalate_from"] == "2026-11-25T00:00:00+00:00"
    assert dispute["can_escalate_rule"]["counts_from"] == "opening"


def test_status_of_one_dispute_in_json_has_offers_evidence_and_events(
    story: Cli, tmp_path: Path
) -> None:
    photo = tmp_path / "box.png"
    photo.write_bytes(PNG)
    ok(sh(story, "attach 1", str(photo), "--on", "2026-11-22T10:00"))
    ok(sh(story, "respond 1 seller-offers 8.00 --on 2026-11-24"))
    dispute = ok(sh(story, "status 1 --json")).json()
    assert [o["amount"] for o in dispute["offers"]] == ["12.50", "8.00"]
    (evidence,) = dispute["evidence"]
    assert set(evidence) >= {"id", "kind", "name", "sha256", "size", "media_type", "note", "added"}
    events = dispute["events"]
    assert [e["kind"] for e in events] == ["open", "evidence", "seller-offers"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)  # oldest first
    for event in events:
        assert set(event) >= {"at", "recorded", "actor", "kind", "amount", "note"}
    assert events[2]["amount"] == "8.00" and events[2]["actor"] == "seller"
    assert check_contract(dispute) >= 2


def test_status_of_one_dispute_as_text(story: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(sh(story, "respond 1 seller-offers 8.00 --on 2026-11-24"))
    monkeypatch.setenv("COLUMNS", "140")  # each phrase below on one line of its cell
    text = ok(sh(story, "status 1")).stdout
    for words in (
        "#1 · missing-parts",
        "your move",
        "your move  (awaiting_buyer)",
        "$8.00",
        "Open deadlines",
        "talks end",
        "negotiation_ends",  # the key 'refundctl due' takes, beneath the words
        "AliExpress steps in by itself",
        "Can escalate from",
        "Offers",
        "Timeline",
        "seller-offers",
        "HDMI adapter missing",
    ):
        assert words in text, words


def test_status_all_includes_closed_disputes(story: Cli) -> None:
    ok(sh(story, "respond 1 seller-agrees --on 2026-11-23"))
    ok(sh(story, "resolve 1 --refunded 12.50"))
    assert ok(sh(story, "status --json")).json()["disputes"] == []
    closed = ok(sh(story, "status --all --json")).json()["disputes"]
    assert [(d["id"], d["state"], d["refunded"]) for d in closed] == [(1, "refunded", "12.50")]
    text = ok(sh(story, "status --all")).stdout
    assert "refunded" in text and "got $12.50" in text


@pytest.fixture
def busy(cli: Cli) -> Cli:
    """Three disputes on three marketplaces, due on three different days."""
    for number, market, opened in (
        ("A-1", "aliexpress", "2026-11-21"),
        ("E-1", "ebay", "2026-11-22"),
        ("T-1", "temu", "2026-11-23"),
    ):
        add_order(cli, f"{number} --ordered 2026-11-01", market=market)
        ok(sh(cli, f"open {number} --reason damaged --amount 5 --on {opened}"))
    return cli


def test_status_limit_says_how_many_more(busy: Cli) -> None:
    # eBay's seller had 3 business days from Nov 22: up on Nov 25, so the buyer may act now.
    limited = ok(sh(busy, "status --limit 1")).stdout
    assert "E-1" in limited and "A-1" not in limited and "T-1" not in limited
    assert "… and 2 more disputes; --limit 0 shows all" in limited
    everything = ok(sh(busy, "status --limit 0")).stdout
    assert all(number in everything for number in ("A-1", "E-1", "T-1"))
    assert "more disputes" not in everything
    assert len(ok(sh(busy, "status --limit 1 --json")).json()["disputes"]) == 3
    assert "… and 1 more dispute; --limit 0 shows all" in ok(sh(busy, "status --limit 2")).stdout


def test_status_marketplace_filter(busy: Cli) -> None:
    text = ok(sh(busy, "status --marketplace eBay")).stdout
    assert "E-1" in text and "A-1" not in text and "T-1" not in text
    shape = ok(sh(busy, "status -m temu --json")).json()
    assert [d["order"] for d in shape["disputes"]] == ["T-1"]
    assert "T-1" in ok(sh(busy, "status -m temu")).stdout


def test_as_of_changes_what_is_overdue(story: Cli) -> None:
    today = ok(sh(story, "status --json")).json()["disputes"][0]["deadline"]
    assert today["overdue"] is False
    later = ok(sh(story, "--as-of 2026-11-30 status --json")).json()
    assert later["as_of"] == "2026-11-30T00:00:00+00:00"
    assert later["disputes"][0]["deadline"]["overdue"] is True
    assert "overdue 1d" in ok(sh(story, "--as-of 2026-11-30 status")).stdout
    assert "2d 12h left" in ok(story("status")).stdout


def test_as_of_moves_today_for_dates_given_as_words(story: Cli) -> None:
    moved = ok(
        sh(story, ("--as-of 2026-11-25T15:00 respond 1 seller-rejects --on today --json"))
    ).json()
    assert moved["events"][-1]["at"] == "2026-11-25T00:00:00+00:00"
    assert moved["events"][-1]["recorded"] == "2026-11-25T15:00:00+00:00"


# -- the program itself ------------------------------------------------------------------------


def test_python_m_refundctl_version() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "refundctl", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"refundctl {refundctl.__version__}\n"


def test_demo_builds_a_ledger_of_its_own(cli: Cli, ledger_path: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo" / "sample ledger.db"
    run = ok(cli("--db", str(demo), "demo"))
    assert "Disputes" in run.stdout
    assert "your move" in run.stdout and "offer $8.00" in run.stdout  # a counter-offer
    assert "This is a demo ledger, of its own file." in run.stdout
    assert f'  refundctl --db "{demo}" status 1\n' in run.stdout
    assert demo.exists() and not ledger_path.exists()  # the buyer's own ledger is untouched
    states = {d["state"] for d in ok(cli("--db", str(demo), "status", "--json")).json()["disputes"]}
    assert {"awaiting_buyer", "awaiting_seller", "escalated", "refund_pending"} <= states


def test_demo_refuses_a_path_that_exists(cli: Cli, ledger_path: Path) -> None:
    ok(sh(cli, "order add KEEP-ME -m ebay --total 5"))
    before = snapshot(ledger_path)
    run = cli("--db", str(ledger_path), "demo")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"error: {ledger_path} exists already")
    assert "path that does not exist" in run.stderr
    assert snapshot(ledger_path) == before


def test_demo_takes_db_after_the_command(cli: Cli, tmp_path: Path) -> None:
    demo = tmp_path / "after.db"
    run = cli("demo", "--db", str(demo))
    assert run.exit_code == 0, run.stderr
    assert demo.exists()
