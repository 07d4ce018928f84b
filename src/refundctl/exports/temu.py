"""Temu's order export: a row per item, with the order's total beside each.

Pure. The columns are ``"Order ID","Item description at order time","Order time","Shipped
date","Price","Price tax","Shipping cost","Order total","Order detail URL"``; dates are
``YYYY/MM/DD``; money carries its currency sign on either side in the locale's marks (``$8.97``,
``1.052,99 €``, ``70,48 zł``). The sign tells the currency; ``$`` is the file's currency
(``--currency``, else the config's). An order is every row of one ``Order ID``: its total the
``Order total`` they share, its items their descriptions at their prices, its shipping date the
first one given. Temu names no seller and no payment method, so none is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from refundctl.amounts import read_money
from refundctl.errors import BadInput
from refundctl.exports.dates import moment
from refundctl.exports.table import (
    Built,
    Column,
    Context,
    Layout,
    Reading,
    Source,
    Table,
    group_rows,
    imported,
    line_problem,
    merged_items,
    title_of,
)
from refundctl.importing import RowProblem
from refundctl.records import Item, Order

MARKETPLACE = "temu"


def _read(table: Table, context: Context) -> Reading:
    def build(group: Sequence[int]) -> Built:
        problems: list[RowProblem] = []

        def get(index: int, key: str) -> str | None:
            at = table.at.get(key)
            return (table.rows[index][at].strip() or None) if at is not None else None

        def fail(index: int, key: str, error: BadInput) -> None:
            problems.append(line_problem(table.lines[index], table.name(key), error.message))

        def money(index: int, key: str, currency: str | None) -> tuple[Decimal, str] | None:
            text = get(index, key)
            if text is None:
                return None
            try:
                found = read_money(text, currency=currency, default=context.default_currency)
            except BadInput as error:
                fail(index, key, error)
                return None
            return found.amount, found.currency

        def when(index: int, key: str) -> datetime | None:
            text = get(index, key)
            if text is None:
                return None
            try:
                return moment(text, context.now, context.zone)
            except BadInput as error:
                fail(index, key, error)
                return None

        first = group[0]
        total = money(first, "total", None)
        if total is None:
            if get(first, "total") is None:
                fail(first, "total", BadInput("is empty"))
            return problems
        items: list[Item] = []
        shipped: list[datetime] = []
        for index in group:
            other = money(index, "total", total[1])
            if other is not None and other != total:
                fail(index, "total", BadInput(f"differs from line {table.lines[first]}'s"))
            name = get(index, "item")
            if name is not None:
                price = money(index, "price", total[1])
                items.append(Item(name, 1, price[0] if price and price[0] else None))
            day = when(index, "shipped")
            if day is not None:
                shipped.append(day)
        merged = merged_items(items)
        order = Order(
            marketplace=MARKETPLACE,
            order_no=(get(first, "order_no") or ""),
            total=total[0],
            currency=total[1],
            title=title_of(merged),
            items=merged,
            ordered=when(first, "ordered"),
            shipped=min(shipped, default=None),
        )
        return imported(table.lines[first], order, context, problems)

    return Reading(ORDERS.title, len(table), group_rows(table, "order_no"), build)


ORDERS = Layout(
    Source.TEMU,
    "Temu orders",
    (
        Column("order_no", ("Order ID",), required=True),
        Column("ordered", ("Order time",), required=True),
        Column("total", ("Order total",), required=True),
        Column("item", ("Item description at order time",)),
        Column("shipped", ("Shipped date",)),
        Column("price", ("Price",)),
    ),
    _read,
)
LAYOUTS = (ORDERS,)
