"""Amazon's "Request Your Data" files: the order history, the returns, the refund payments.

Pure. The order history (``Retail.OrderHistory.N.csv``, and its 2024–25 shape with columns in
alphabetical order, ``Original Quantity``, ``Payment Method Type``, ``Total Amount`` and
thousands separators) has a row per item per shipment: an order is every row of one ``Order
ID``, its total the sum of what they owed, its items their product names and quantities, its
payment the card as written (``Visa - 4242``), its shipping date the first shipment's. The
file names no seller (the site sold it, or a seller it does not name), so none is recorded.
Rows of cancelled items are left out, and an order of only such rows, one that cost
nothing, or one none of whose rows says what it cost, is skipped. ``Not Available`` and ``Not
Applicable`` are empty cells; ``'-1.00'`` is ``-1.00``. Addresses, gift messages and recipients
are never read. The returns file says what went back and the refund payments file what money
came back: neither makes orders, both hand their rows to the ledger to match
(refundctl.exports.facts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from refundctl.amounts import read_money
from refundctl.errors import BadInput
from refundctl.exports.dates import moment
from refundctl.exports.facts import Back, MoneyBack
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
from refundctl.money import parse_currency
from refundctl.records import MAX_QUANTITY, Item, Order

MARKETPLACE = "amazon"
_EMPTY = frozenset({"", "not available", "not applicable", "n/a"})
_CANCELLED = frozenset({"cancelled", "canceled"})


def cell(text: str) -> str | None:
    """A cell as Amazon means it: its sentinels empty, the quotes around ``'-1.00'`` gone."""
    value = text.strip()
    if len(value) > 1 and value[0] == "'" and value[-1] == "'":
        value = value[1:-1].strip()
    elif value.startswith("'"):
        value = value[1:].strip()
    return None if value.casefold() in _EMPTY else value


class _Rows:
    """Reading the cells of one group of rows, gathering each problem at its line."""

    def __init__(self, table: Table, context: Context) -> None:
        self.table, self.context = table, context
        self.problems: list[RowProblem] = []

    def get(self, row: Sequence[str], key: str) -> str | None:
        at = self.table.at.get(key)
        return None if at is None else cell(row[at])

    def fail(self, line: int, key: str, error: BadInput) -> None:
        self.problems.append(line_problem(line, self.table.name(key), error.message))

    def currency(self, row: Sequence[str], line: int) -> str:
        text = self.get(row, "currency")
        if text is None:
            return self.context.default_currency
        try:
            return parse_currency(text)
        except BadInput as error:
            self.fail(line, "currency", error)
            return self.context.default_currency

    def money(
        self, row: Sequence[str], line: int, key: str, currency: str, *, signed: bool = True
    ) -> Decimal | None:
        text = self.get(row, key)
        if text is None:
            return None
        try:
            return read_money(text, currency=currency, signed=signed).amount
        except BadInput as error:
            self.fail(line, key, error)
            return None

    def time(self, row: Sequence[str], line: int, key: str) -> datetime | None:
        text = self.get(row, key)
        if text is None:
            return None
        try:
            return moment(text, self.context.now, self.context.zone)
        except BadInput as error:
            self.fail(line, key, error)
            return None

    def quantity(self, row: Sequence[str], line: int) -> int:
        text = self.get(row, "quantity")
        if text is None:
            return 1
        if not text.isdigit() or not 0 < int(text[:9]) <= MAX_QUANTITY:
            self.fail(line, "quantity", BadInput(f"{text[:40]!r} is not a quantity"))
            return 1
        return int(text)


def _read_history(table: Table, context: Context) -> Reading:
    skipped: Counter[str] = Counter()

    def build(group: Sequence[int]) -> Built:
        rows = _Rows(table, context)
        live = [i for i in group if not _cancelled(rows.get(table.rows[i], "status"))]
        if not live:
            return Skip("cancelled", len(group))
        first = table.rows[live[0]]
        line = table.lines[live[0]]
        currency = rows.currency(first, line)
        total = Decimal(0)
        items: list[Item] = []
        ordered: list[datetime] = []
        shipped: list[datetime] = []
        payment = None
        owing = 0  # rows that say what they owed
        for index in live:
            row, at = table.rows[index], table.lines[index]
            owed = rows.money(row, at, "total", currency)
            owing += owed is not None
            total += owed or 0
            for found, key in ((ordered, "ordered"), (shipped, "shipped")):
                when = rows.time(row, at, key)
                if when is not None:
                    found.append(when)
            payment = payment or rows.get(row, "payment")
            name = rows.get(row, "product")
            if name is not None:
                price = rows.money(row, at, "unit_price", currency, signed=False)
                items.append(Item(name, rows.quantity(row, at), price or None))
        if rows.problems:
            return rows.problems
        if not owing:  # "Not Available" in every row: what it cost is not known
            return Skip("no total", len(group))
        if total == 0:
            return Skip("free", len(group))
        merged = merged_items(items)
        order = Order(
            marketplace=MARKETPLACE,
            order_no=table.rows[live[0]][table.at["order_no"]].strip(),
            total=total,
            currency=currency,
            title=title_of(merged),
            items=merged,
            ordered=min(ordered, default=None),
            shipped=min(shipped, default=None),
            payment=payment,
        )
        if len(live) < len(group):  # some of its items were cancelled: the rest is the order
            skipped["cancelled"] += len(group) - len(live)
        return imported(line, order, context, rows.problems)

    groups = group_rows(table, "order_no")
    return Reading(ORDER_HISTORY.title, len(table), groups, build, skipped=skipped)


def _cancelled(status: str | None) -> bool:
    return status is not None and status.casefold() in _CANCELLED


def _money_file(kind: Back, title: str) -> Callable[[Table, Context], Reading]:
    """How a file of money that came back is read: each row a ``MoneyBack`` of ``kind``."""

    def read(table: Table, context: Context) -> Reading:
        rows = _Rows(table, context)
        money: list[MoneyBack] = []
        skipped = 0
        for row, line in zip(table.rows, table.lines, strict=True):
            status = (rows.get(row, "status") or "completed").casefold()
            if status not in {"completed", "complete", "refunded", "closed"}:
                skipped += 1
                continue
            order_no = rows.get(row, "order_no")
            if order_no is None:
                rows.fail(line, "order_no", BadInput("is empty"))
                continue
            currency = rows.currency(row, line)
            amount = rows.money(row, line, "amount", currency, signed=False)
            at = rows.time(row, line, "at")
            if amount is None or amount == 0:
                if amount is None and rows.get(row, "amount") is None:
                    rows.fail(line, "amount", BadInput("is empty"))
                continue
            money.append(
                MoneyBack(
                    kind,
                    MARKETPLACE,
                    order_no,
                    amount,
                    currency,
                    at,
                    line,
                    reason=rows.get(row, "reason"),
                    reference=rows.get(row, "reference"),
                )
            )
        reading = Reading(title, len(table), [], lambda group: Skip("none"), money=money)
        reading.problems += rows.problems
        if skipped:
            reading.skipped["not completed"] += skipped
        return reading

    return read


ORDER_HISTORY = Layout(
    Source.AMAZON,
    "Amazon order history",
    (
        Column("order_no", ("Order ID",), required=True),
        Column("ordered", ("Order Date",), required=True),
        Column("total", ("Total Owed", "Total Amount"), required=True),
        Column("currency", ("Currency",)),
        Column("product", ("Product Name",)),
        Column("quantity", ("Quantity", "Original Quantity")),
        Column("unit_price", ("Unit Price",)),
        Column("payment", ("Payment Instrument Type", "Payment Method Type")),
        Column("status", ("Order Status",)),
        Column("shipped", ("Ship Date",)),
    ),
    _read_history,
)


REFUND_PAYMENTS = Layout(
    Source.AMAZON,
    "Amazon refund payments",
    (
        Column("order_no", ("OrderID", "Order ID"), required=True),
        Column("amount", ("AmountRefunded", "Refund Amount"), required=True),
        Column("at", ("RefundCompletionDate", "Refund Date"), required=True),
        Column("currency", ("Currency",)),
        Column("status", ("Status", "Reversal Status")),
        Column("reference", ("ReversalID", "Reversal ID")),
    ),
    _money_file(Back.REFUND, "Amazon refund payments"),
)


RETURNS = Layout(
    Source.AMAZON,
    "Amazon returns",
    (
        Column("order_no", ("OrderId", "Order ID"), required=True),
        Column("at", ("DateOfReturn", "Date of Return"), required=True),
        Column("amount", ("ReturnAmount", "Return Amount"), required=True),
        Column("currency", ("ReturnAmountCurrency", "Return Amount Currency")),
        Column("reason", ("ReturnReason", "Return Reason")),
        Column("reference", ("ContractId", "Contract ID")),
    ),
    _money_file(Back.RETURN, "Amazon returns"),
)

LAYOUTS = (ORDER_HISTORY, REFUND_PAYMENTS, RETURNS)
