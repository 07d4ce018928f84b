"""``order list --json``'s orders built by SQLite (ledger/order_lines.py): each line must be
the very text jsonshape makes of the order read as a domain value, on every released schema's
ledger and on random orders with JSON's own characters in them; and its filters in SQL must
keep exactly the orders that ``Filters.order`` keeps (the JSON's lines, and the orders the
table and the CSV read and count)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundctl.due import Filters
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import Ledger
from refundctl.money import from_minor
from refundctl.policies import policy_for
from refundctl.records import Item, Order, order_problems
from tests.conftest import Cli
from tests.test_money import currencies
from tests.test_upgrades import LEDGERS, install

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SETTINGS = Settings(zone=UTC, policy_for=policy_for)


def python_lines(ledger: Ledger, filters: Filters, *, removed: bool) -> list[str]:
    """What ``order list --json`` wrote before SQLite built its lines: each order read as a
    domain value, kept by ``Filters.order``, shaped by jsonshape and encoded by ``json``."""
    from refundctl.records import CloseReason
    from refundctl.render import jsonshape

    return [
        json.dumps(jsonshape.order(o), ensure_ascii=False)
        for o in ledger.orders()
        if filters.order(o) and (removed or o.closed is not CloseReason.REMOVED)
    ]


def sql_lines(ledger: Ledger, filters: Filters, *, removed: bool) -> list[str]:
    return list(ledger.order_lines(filters, removed=removed))


@pytest.mark.parametrize("fixture", LEDGERS, ids=lambda path: path.stem)
def test_every_released_ledger_lists_the_same_text(
    cli: Cli, ledger_path: Path, fixture: Path
) -> None:
    install(fixture, ledger_path)
    assert cli("status").exit_code == 0  # opening it upgrades it
    with Ledger.open(ledger_path, SETTINGS, write=False) as ledger:
        for removed in (False, True):
            expected = python_lines(ledger, Filters(), removed=removed)
            assert expected
            assert sql_lines(ledger, Filters(), removed=removed) == expected


def filters_of(ledger: Ledger) -> Iterator[Filters]:
    """Every filter ``order list`` takes, on values this ledger has and has not."""
    orders = list(ledger.orders())
    times = sorted(o.ordered for o in orders if o.ordered is not None)
    middle = times[len(times) // 2]
    yield Filters()
    for marketplace in [*sorted({o.marketplace for o in orders}), "nowhere"]:
        yield Filters(marketplace=marketplace)
    for o in orders:
        if o.seller:
            yield Filters(seller=o.seller.upper())
            yield Filters(seller=o.seller[1:4].lower())
    yield Filters(seller="no such seller")
    yield Filters(since=middle)
    yield Filters(since=middle + timedelta(microseconds=500_000))  # after the order at middle
    yield Filters(until=middle)
    yield Filters(since=middle, until=middle)
    yield Filters(since=middle - timedelta(days=3), until=middle + timedelta(seconds=1))
    yield Filters(states=frozenset({"refunded"}))
    yield Filters(marketplace=orders[0].marketplace, since=times[0])


def test_the_filters_in_sql_keep_what_the_filters_keep(cli: Cli, ledger_path: Path) -> None:
    install(LEDGERS[-1], ledger_path)
    # One removed and one closed, so that --all and "closed" are told apart.
    assert cli("order", "remove", "8109876543210987").exit_code == 0
    assert cli("order", "close", "113-4242", "-m", "amazon").exit_code == 0
    with Ledger.open(ledger_path, SETTINGS, write=False) as ledger:
        assert sql_lines(ledger, Filters(), removed=False) != sql_lines(
            ledger, Filters(), removed=True
        )
        every = list(ledger.orders())
        for filters in filters_of(ledger):
            for removed in (False, True):
                expected = python_lines(ledger, filters, removed=removed)
                assert sql_lines(ledger, filters, removed=removed) == expected, filters
                # The table and the CSV read the same orders, and count the ones not shown.
                kept = [o for o in every if filters.order(o) and (removed or o.closed != "removed")]
                assert list(ledger.orders(filters, removed=removed)) == kept, filters
                # A batch at a time: each starts after the last order of the one before.
                assert list(ledger.orders(filters, removed=removed, batch=2)) == kept, filters
                assert ledger.order_count(filters, removed=removed) == len(kept), filters


# Text with what JSON must escape (quotes, backslashes, control characters) and what it
# must not (accents, other scripts, emoji).
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda t: t.strip() == t and t != "")
moments = st.integers(min_value=0, max_value=200 * 86400).map(lambda s: NOW - timedelta(seconds=s))


@st.composite
def random_orders(draw: st.DrawFn) -> list[Order]:
    orders = []
    for n in range(draw(st.integers(min_value=1, max_value=4))):
        currency = draw(currencies)
        prices = st.none() | st.integers(0, 10**6)
        items = tuple(
            Item(
                draw(texts) + str(k),
                draw(st.integers(min_value=1, max_value=99)),
                None if (minor := draw(prices)) is None else from_minor(minor, currency),
            )
            for k in range(draw(st.integers(min_value=0, max_value=3)))
        )
        orders.append(
            Order(
                marketplace=draw(st.sampled_from(["ebay", "amazon", "aliexpress", "temu"])),
                order_no=f"{n}-{draw(texts)}",
                total=from_minor(draw(st.integers(0, 10**9)), currency),
                currency=currency,
                seller=draw(st.none() | texts),
                title=draw(st.none() | texts),
                items=items,
                ordered=draw(moments),
                shipped=draw(st.none() | moments),
                payment=draw(
                    st.none() | texts | st.sampled_from(["Visa - 4242", "PayPal", "debit card"])
                ),
            )
        )
    return orders


@settings(max_examples=40, deadline=None)
@given(orders=random_orders())
def test_random_orders_list_the_same_text(orders: list[Order]) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        Ledger.open(Path(folder) / "ledger.db", SETTINGS, write=True) as ledger,
    ):
        for order in orders:
            if not order_problems(order, NOW, UTC):
                ledger.add_order(order, NOW)
        expected = python_lines(ledger, Filters(), removed=True)
        assert sql_lines(ledger, Filters(), removed=True) == expected
        for order in orders:
            if order.seller:
                kept = Filters(seller=order.seller.swapcase())
                expected = python_lines(ledger, kept, removed=True)
                assert sql_lines(ledger, kept, removed=True) == expected
