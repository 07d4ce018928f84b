"""AliExpress orders as the tools buyers use write them: AliExpress itself has no export.

Pure. Three shapes, each told by its header:

- the order-downloader userscript's tab-separated text: a row per item, every line ending with
  a tab, order dates ``M/D/YYYY`` (day first only where a date can be read no other way),
  amounts with no currency (``--currency``, else the config's);
- the CSV of the common order exporter: a row per order, ISO dates, the total as the shopper's
  page displays it (``€23,47``, ``US $7.80``) beside its currency, the item titles joined by
  `` | ``; its shipping contact, address and phone columns are never read;
- the "Shopper Inventory" extension's CSV: a row per item, ``Price`` per unit as shown
  (``12,99zł``) and ``Price Info`` as ``display|units|cents``; an order's total is the sum of
  price × quantity.

An order's seller is its store, its number AliExpress's. Cancelled orders are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from refundctl.amounts import read_money
from refundctl.errors import BadInput
from refundctl.exports.dates import DayOrder, any_date, numeric_date
from refundctl.exports.table import (
    Built,
    Column,
    Context,
    Layout,
    Reading,
    Skip,
    Source,
    Table,
    group_rows,
    imported,
    line_problem,
    merged_items,
    title_of,
)
from refundctl.importing import RowProblem
from refundctl.money import exponent, parse_currency
from refundctl.records import MAX_QUANTITY, Item, Order
from refundctl.timeparse import start_of_day

MARKETPLACE = "aliexpress"


class _Group:
    """The rows of one order, read cell by cell, each problem kept at its line."""

    def __init__(self, table: Table, context: Context, group: Sequence[int]) -> None:
        self.table, self.context = table, context
        self.rows = [table.rows[i] for i in group]
        self.lines = [table.lines[i] for i in group]
        self.problems: list[RowProblem] = []

    def get(self, number: int, key: str) -> str | None:
        at = self.table.at.get(key)
        value = None if at is None else self.rows[number][at].strip()
        return value or None

    def first(self, key: str) -> str | None:
        return next((v for n in range(len(self.rows)) if (v := self.get(n, key))), None)

    def fail(self, number: int, key: str, error: BadInput) -> None:
        self.problems.append(line_problem(self.lines[number], self.table.name(key), error.message))

    def cancelled(self) -> bool:
        status = self.first("status") or ""
        return "cancel" in status.casefold()

    def quantity(self, number: int) -> int:
        text = self.get(number, "quantity")
        if text is None:
            return 1
        if not text.isdigit() or not 0 < int(text[:9]) <= MAX_QUANTITY:
            self.fail(number, "quantity", BadInput(f"{text[:40]!r} is not a quantity"))
            return 1
        return int(text)

    def money(self, number: int, key: str, currency: str | None) -> tuple[Decimal, str] | None:
        text = self.get(number, key)
        if text is None:
            return None
        try:
            found = read_money(text, currency=currency, default=self.context.default_currency)
        except BadInput as error:
            self.fail(number, key, error)
            return None
        return found.amount, found.currency

    def currency(self) -> str | None:
        text = self.first("currency")
        if text is None:
            return None
        try:
            return parse_currency(text)
        except BadInput as error:
            self.fail(0, "currency", error)
            return None

    def order(
        self, total: Decimal, currency: str, items: Sequence[Item], ordered: datetime | None
    ) -> Built:
        if self.problems:
            return self.problems
        merged = merged_items(items)
        order = Order(
            marketplace=MARKETPLACE,
            order_no=self.first("order_no") or "",
            total=total,
            currency=currency,
            seller=self.first("store"),
            title=self.first("title") or title_of(merged),
            items=merged,
            ordered=ordered,
            payment=self.first("payment"),
        )
        return imported(self.lines[0], order, self.context, self.problems)


def _userscript(table: Table, context: Context) -> Reading:
    at = table.at["ordered"]
    order = DayOrder.of(row[at] for row in table.rows) or DayOrder.MONTH_FIRST

    def build(indexes: Sequence[int]) -> Built:
        group = _Group(table, context, indexes)
        if group.cancelled():
            return Skip("cancelled", len(indexes))
        currency = context.default_currency
        total = group.money(0, "total", currency)
        for number in range(1, len(indexes)):
            other = group.money(number, "total", currency)
            if other is not None and total is not None and other != total:
                group.fail(number, "total", BadInput(f"differs from line {group.lines[0]}'s"))
        items = []
        for number in range(len(indexes)):
            name = group.get(number, "product")
            if name is not None:
                price = group.money(number, "price", currency)
                items.append(Item(name, group.quantity(number), price[0] if price else None))
        ordered = None
        text = group.get(0, "ordered")
        if text is not None:
            try:
                ordered = start_of_day(numeric_date(text, order), context.zone)
            except BadInput as error:
                group.fail(0, "ordered", error)
        if total is None:
            if group.get(0, "total") is None:
                group.fail(0, "total", BadInput("is empty"))
            return group.problems
        return group.order(total[0], currency, items, ordered)

    return Reading(USERSCRIPT.title, len(table), group_rows(table, "order_no"), build)


def _exporter(table: Table, context: Context) -> Reading:
    def build(indexes: Sequence[int]) -> Built:
        group = _Group(table, context, indexes)
        if group.cancelled():
            return Skip("cancelled", len(indexes))
        total = group.money(0, "total", group.currency())
        titles = group.get(0, "titles") or group.get(0, "title")
        names = [] if titles is None else [t.strip() for t in titles.split(" | ") if t.strip()]
        ordered = _when(group, 0)
        if total is None:
            if group.get(0, "total") is None:
                group.fail(0, "total", BadInput("is empty"))
            return group.problems
        return group.order(total[0], total[1], [Item(name) for name in names], ordered)

    return Reading(EXPORTER.title, len(table), group_rows(table, "order_no"), build)


def _when(group: _Group, number: int) -> datetime | None:
    text = group.get(number, "ordered")
    if text is None:
        return None
    try:
        return any_date(text, group.context.now, group.context.zone)
    except BadInput as error:
        group.fail(number, "ordered", error)
        return None


def _inventory(table: Table, context: Context) -> Reading:
    def build(indexes: Sequence[int]) -> Built:
        group = _Group(table, context, indexes)
        if group.cancelled():
            return Skip("cancelled", len(indexes))
        currency = group.currency()
        items: list[Item] = []
        total = Decimal(0)
        found = currency
        for number in range(len(indexes)):
            price = _unit_price(group, number, currency)
            if price is None:
                continue
            found = found or price[1]
            if price[1] != found:
                group.fail(number, "price", BadInput(f"is in {price[1]}, the order in {found}"))
                continue
            quantity = group.quantity(number)
            total += price[0] * quantity
            name = group.get(number, "product") or "item"
            items.append(Item(name, quantity, price[0] or None))
        ordered = _when(group, 0)
        if found is None:
            return group.problems or [line_problem(group.lines[0], "Price", "is empty")]
        return group.order(total, found, items, ordered)

    return Reading(INVENTORY.title, len(table), group_rows(table, "order_no"), build)


def _unit_price(group: _Group, number: int, currency: str | None) -> tuple[Decimal, str] | None:
    """A row's price per unit: ``Price`` as shown, else the units of ``Price Info``
    (``display|units|cents``), held to its cents where they are given."""
    if group.get(number, "price") is not None:
        return group.money(number, "price", currency)
    info = group.get(number, "price_info")
    if info is None:
        group.fail(number, "price", BadInput("is empty, and so is Price Info"))
        return None
    parts = [part.strip() for part in info.split("|")]
    code = currency or group.context.default_currency
    try:
        if len(parts) != 3:
            raise BadInput(f"{info[:40]!r} is not display|units|cents")
        units = read_money(parts[1], currency=code).amount
        if parts[2].isdigit() and Decimal(parts[2]).scaleb(-exponent(code)) != units:
            raise BadInput(f"{info[:40]!r}: its units and its cents disagree")
    except BadInput as error:
        group.fail(number, "price_info", error)
        return None
    return units, code


USERSCRIPT = Layout(
    Source.ALIEXPRESS,
    "AliExpress orders (order-downloader userscript)",
    (
        Column("order_no", ("Order Number",), required=True),
        Column("ordered", ("Order Date",), required=True),
        Column("total", ("Total Order Amount",), required=True),
        Column("store", ("Store Name",)),
        Column("status", ("Order Status",)),
        Column("product", ("Product Title",)),
        Column("price", ("Price",)),
        Column("quantity", ("Quantity",)),
    ),
    _userscript,
)
EXPORTER = Layout(
    Source.ALIEXPRESS,
    "AliExpress orders (order exporter)",
    (
        Column("order_no", ("order_id",), required=True),
        Column("total", ("total_price_text",), required=True),
        Column("ordered", ("order_date",)),
        Column("currency", ("currency",)),
        Column("status", ("status",)),
        Column("store", ("store_name",)),
        Column("title", ("order_title",)),
        Column("titles", ("order_titles",)),
        Column("payment", ("payment_method",)),
    ),
    _exporter,
)
INVENTORY = Layout(
    Source.ALIEXPRESS,
    "AliExpress orders (Shopper Inventory)",
    (
        Column("order_no", ("Order ID",), required=True),
        Column("product", ("Title",), required=True),
        Column("quantity", ("Qty",), required=True),
        Column("price", ("Price",)),
        Column("ordered", ("Order Date",)),
        Column("store", ("Store",)),
        Column("price_info", ("Price Info",)),
        Column("currency", ("Currency",)),
        Column("status", ("Status",)),
    ),
    _inventory,
)
LAYOUTS: tuple[Layout, ...] = (USERSCRIPT, EXPORTER, INVENTORY)
