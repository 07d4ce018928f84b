"""Urgency: what ``status`` and ``check`` list first (issue 3, item 7; views.py's formula).

Overdue deadlines the buyer must meet come first, then overdue ones of the other side (the buyer
may act now), then the rest by whole days left; within the same day, more money at stake first,
then the earlier due time. Anything without a deadline comes last.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from refundctl.deadlines import Deadline, RuleRef
from refundctl.domain import Move, Reason
from refundctl.policies import GENERIC, Binds, IfMissed
from refundctl.records import DisputeRecord, Order
from refundctl.views import (
    OrderView,
    at_stake,
    by_urgency,
    check_items,
    dispute_view,
    orders_by_urgency,
    urgency,
)
from tests.conftest import Cli, Run
from tests.policy_scenarios import dispute

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def deadline(left: timedelta, binds: Binds = Binds.BUYER, name: str = "buyer_response") -> Deadline:
    return Deadline(
        name=name,
        due=NOW + left,
        binds=binds,
        action="act",
        rule=RuleRef("generic", "3d", "seller move", None, True, None, "test"),
        if_missed=IfMissed.YOU_LOSE if binds is Binds.BUYER else IfMissed.YOU_MAY_ESCALATE,
    )


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def ranked(*entries: tuple[str, Deadline | None, str]) -> list[str]:
    """The labels of ``(label, deadline, money)`` entries, most urgent first."""
    keyed = [(urgency(d, Decimal(money), NOW), label) for label, d, money in entries]
    return [label for _, label in sorted(keyed)]


# -- the formula ---------------------------------------------------------------------------------


def test_an_overdue_buyer_deadline_comes_before_an_overdue_other_side_one() -> None:
    assert ranked(
        ("seller, long overdue, lots of money", deadline(-h(200), Binds.SELLER), "900.00"),
        ("buyer, just overdue, little money", deadline(-h(1)), "1.00"),
    ) == ["buyer, just overdue, little money", "seller, long overdue, lots of money"]


@pytest.mark.parametrize("binds", [Binds.SELLER, Binds.PLATFORM, Binds.PAYMENT])
def test_any_overdue_deadline_comes_before_one_still_running(binds: Binds) -> None:
    assert ranked(
        ("buyer, a minute left", deadline(timedelta(minutes=1)), "900.00"),
        ("other side, overdue", deadline(-h(1), binds), "1.00"),
    ) == ["other side, overdue", "buyer, a minute left"]


def test_fewer_whole_days_left_comes_first_whatever_the_money() -> None:
    assert ranked(
        ("25h, much", deadline(h(25)), "1000.00"),
        ("23h, little", deadline(h(23)), "1.00"),
        ("49h, most", deadline(h(49)), "5000.00"),
    ) == ["23h, little", "25h, much", "49h, most"]


def test_within_the_same_day_more_money_comes_first() -> None:
    assert ranked(
        ("1h, $5", deadline(h(1)), "5.00"),
        ("20h, $50", deadline(h(20)), "50.00"),
        ("2d 1h, $5", deadline(h(49)), "5.00"),
        ("2d 20h, $50", deadline(h(68)), "50.00"),
    ) == ["20h, $50", "1h, $5", "2d 20h, $50", "2d 1h, $5"]


def test_same_day_same_money_the_earlier_due_comes_first() -> None:
    assert ranked(
        ("30h", deadline(h(30)), "5.00"),
        ("26h", deadline(h(26)), "5.00"),
        ("47h", deadline(h(47)), "5.00"),
    ) == ["26h", "30h", "47h"]


def test_among_overdue_ones_more_money_first_then_the_earlier_due() -> None:
    assert ranked(
        ("3d overdue, $5", deadline(-h(72)), "5.00"),
        ("1h overdue, $50", deadline(-h(1)), "50.00"),
        ("2h overdue, $5", deadline(-h(2)), "5.00"),
    ) == ["1h overdue, $50", "3d overdue, $5", "2h overdue, $5"]


def test_whole_days_are_counted_from_now_and_due_now_is_overdue() -> None:
    assert urgency(deadline(h(24)), Decimal(1), NOW)[:2] == (2, 1)
    assert urgency(deadline(h(24) - timedelta(seconds=1)), Decimal(1), NOW)[:2] == (2, 0)
    assert urgency(deadline(timedelta(0)), Decimal(1), NOW)[0] == 0
    assert urgency(deadline(timedelta(0), Binds.SELLER), Decimal(1), NOW)[0] == 1


def test_nothing_due_comes_last() -> None:
    assert ranked(
        ("none", None, "9999.00"),
        ("far", deadline(h(24 * 300)), "0.01"),
        ("seller overdue", deadline(-h(1), Binds.SELLER), "0.01"),
    ) == ["seller overdue", "far", "none"]


# -- money at stake ------------------------------------------------------------------------------


def order(number: str = "1", total: str = "100.00") -> Order:
    return Order(
        marketplace="nowhere", order_no=number, total=Decimal(total), currency="USD", id=int(number)
    )


def record(number: int, *moves: tuple[Move, datetime]) -> DisputeRecord:
    return DisputeRecord(
        id=number,
        order=order(str(number)),
        item=None,
        reason=Reason.DAMAGED,
        case_ref=None,
        description=None,
        dispute=dispute(*moves),
        events=(),
        evidence=(),
        max_ask=Decimal("100.00"),
    )


def test_at_stake_is_the_agreed_amount_else_the_ask_and_nothing_once_refunded() -> None:
    opened = NOW - h(48)
    asking = record(1, (Move.OPEN, opened))
    assert at_stake(asking) == Decimal("12.50")
    agreed = record(2, (Move.OPEN, opened), (Move.SELLER_AGREES, NOW - h(24)))
    assert at_stake(agreed) == agreed.dispute.agreed
    refunded = record(
        3, (Move.OPEN, opened), (Move.SELLER_AGREES, NOW - h(24)), (Move.REFUNDED, NOW - h(1))
    )
    assert at_stake(refunded) == Decimal(0)


def test_disputes_sort_by_their_next_deadline() -> None:
    # Generic, buyer in UTC: the seller's 7 days from opening, the buyer's 3 from a rejection.
    seller_overdue = record(1, (Move.OPEN, NOW - h(24 * 8)))
    buyer_soon = record(2, (Move.OPEN, NOW - h(24 * 4)), (Move.SELLER_REJECTS, NOW - h(60)))
    buyer_overdue = record(3, (Move.OPEN, NOW - h(24 * 6)), (Move.SELLER_REJECTS, NOW - h(80)))
    views = [dispute_view(r, lambda _m: GENERIC, UTC, NOW) for r in (seller_overdue, buyer_soon)]
    views.append(dispute_view(buyer_overdue, lambda _m: GENERIC, UTC, NOW))
    # The seller-overdue dispute is shown by its passed seller_response (you may escalate
    # now), not by its escalate_by 12 days off, and ranks above the buyer's deadline in 12h.
    assert [v.next.name for v in views if v.next] == [
        "seller_response",
        "buyer_response",
        "buyer_response",
    ]
    assert [v.id for v in by_urgency(views, NOW)] == [3, 1, 2]


def order_view(number: str, left: timedelta, refundable: str) -> OrderView:
    d = deadline(left, name="dispute_window")
    money = Decimal(refundable)
    return OrderView(order(number, refundable), money, GENERIC, (d,), d, money)


def test_orders_and_check_items_follow_the_same_formula() -> None:
    views = [
        order_view("1", h(30), "10.00"),
        order_view("2", h(40), "90.00"),
        order_view("3", -h(5), "1.00"),
        order_view("4", h(10), "5.00"),
        order_view("5", h(24 * 10), "500.00"),
    ]
    assert [v.order.order_no for v in orders_by_urgency(views, NOW)] == ["3", "4", "2", "1", "5"]
    items = check_items([], views, NOW, timedelta(days=3))
    assert [i.order_no for i in items] == ["3", "4", "2", "1"]
    assert all(i.kind == "order" and i.dispute_id is None for i in items)


# -- through the command line --------------------------------------------------------------------


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


# label: (amount, opened, seller rejects at or None). A marketplace with no policy (generic),
# buyer in UTC: the seller has 7 days from opening, the buyer 3 from the rejection (AliExpress
# would have no buyer_response at all). Now is Nov 26 12:00 UTC.
CASES = {
    "seller-overdue-100": ("100.00", "2026-11-15", None),  # due Nov 22: seller, overdue
    "buyer-overdue-1": ("1.00", "2026-11-15", "2026-11-20"),  # due Nov 23: buyer, overdue
    "buyer-overdue-50": ("50.00", "2026-11-15", "2026-11-21"),  # due Nov 24: buyer, overdue
    "2d1h-5": ("5.00", "2026-11-24", "2026-11-25T13:00"),  # due Nov 28 13:00
    "2d8h-50": ("50.00", "2026-11-24", "2026-11-25T20:00"),  # due Nov 28 20:00
    "1d22h-500": ("500.00", "2026-11-24", "2026-11-25T10:00"),  # due Nov 28 10:00
    "2d0h30-5": ("5.00", "2026-11-24", "2026-11-25T12:30"),  # due Nov 28 12:30
}
EXPECTED = [
    "buyer-overdue-50",
    "buyer-overdue-1",
    "seller-overdue-100",
    "1d22h-500",
    "2d8h-50",
    "2d0h30-5",
    "2d1h-5",
]


@pytest.fixture
def crowded(cli: Cli) -> Cli:
    # Without an escalate_by of its own, a dispute's next deadline is the one that binds now.
    config = Path(os.environ["REFUNDCTL_CONFIG"])
    config.write_text(config.read_text() + "[marketplaces.shopee]\nescalate_by = false\n")
    for number, (label, (amount, opened, rejected)) in enumerate(CASES.items(), start=1):
        ok(
            cli(
                "order",
                "add",
                label,
                "-m",
                "shopee",
                "--total",
                "600",
                "--ordered",
                "2026-11-01",
                "--received",
                "2026-11-10",
            )
        )
        ok(cli("open", label, "--reason", "damaged", "--amount", amount, "--on", opened))
        if rejected:
            ok(cli("respond", str(number), "seller-rejects", "--on", rejected))
    # An undisputed order whose window closes Nov 28 00:00 (1d 12h left), $45.90 at stake.
    ok(
        cli(
            "order",
            "add",
            "window-45.90",
            "-m",
            "shopee",
            "--total",
            "45.90",
            "--ordered",
            "2026-11-01",
            "--received",
            "2026-11-13",
        )
    )
    return cli


def test_status_lists_disputes_most_urgent_first(crowded: Cli) -> None:
    shown = ok(crowded("status", "--json")).json()
    assert [d["order"] for d in shown["disputes"]] == EXPECTED
    assert [d["order"] for d in shown["orders"]] == ["window-45.90"]


def test_the_status_table_lists_them_in_the_same_order(crowded: Cli) -> None:
    out = ok(crowded("status", "--limit", "0")).stdout
    positions = [out.find(label[-6:]) for label in EXPECTED]
    assert all(p >= 0 for p in positions), out
    assert positions == sorted(positions), out


def test_check_lists_every_item_most_urgent_first_orders_among_disputes(crowded: Cli) -> None:
    run = crowded("check", "--within", "3d", "--json")
    assert run.exit_code == 1
    items = run.json()["items"]
    got = [(i["order"], i["deadline"]["name"]) for i in items]
    response, window = "buyer_response", "dispute_window"
    assert got == [
        ("buyer-overdue-50", response),
        ("buyer-overdue-1", response),
        ("seller-overdue-100", "seller_response"),
        ("1d22h-500", response),
        ("window-45.90", window),
        ("2d8h-50", response),
        ("2d0h30-5", response),
        ("2d1h-5", response),
    ]
    assert [i["deadline"]["overdue"] for i in items] == [True] * 3 + [False] * 5
    assert items[4]["kind"] == "order" and items[4]["id"] is None


def test_the_check_text_keeps_the_same_order(crowded: Cli) -> None:
    run = crowded("check", "--within", "3d")
    assert run.exit_code == 1
    ids = {label: number for number, label in enumerate(CASES, start=1)}
    starts = [line.split(":")[0] for line in run.stdout.splitlines()]
    assert starts == [
        *(f"dispute {ids[label]}" for label in EXPECTED[:4]),
        "order",
        *(f"dispute {ids[label]}" for label in EXPECTED[4:]),
    ], run.stdout
