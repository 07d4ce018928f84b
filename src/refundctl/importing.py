"""Reading a file of orders: its records (``refundctl.importfile``) into orders or problems.

Pure: records in, ``ImportedOrder`` values or ``RowProblem`` values out; no ledger, no terminal.
Columns are DESIGN.md's order fields, matched case-insensitively and ignoring surrounding
spaces; ``--map field="Their column"`` renames a foreign export's headers. Amounts written the
way shops write them (``US $12.50``, ``12,50 €``, ``1.234,56``) are read by ``refundctl.amounts``
when the currency makes the format clear and refused, with the row, when it does not. Every bad
row is reported, so one run shows everything to fix; the caller imports nothing unless there are
none. A file that cannot be read one way only is refused whole by ``parse_records``, before any
row is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from refundctl.amounts import read_amount
from refundctl.errors import BadInput

# The file's side of an import, named here too: callers import an import's every name from
# this module, whichever of the two it lives in.
from refundctl.importfile import (
    FIELDS,
    Records,
    detect,
    neutralise,
    parse_records,
    unneutralise,
)
from refundctl.money import parse_currency
from refundctl.records import Item, Order, order_problems, parse_item
from refundctl.timeparse import parse_when

__all__ = [
    "FIELDS",
    "TEXT_FIELDS",
    "TIME_FIELDS",
    "Batches",
    "ImportResult",
    "ImportedOrder",
    "Reader",
    "Records",
    "RowProblem",
    "detect",
    "neutralise",
    "parse_mapping",
    "parse_records",
    "read_amount",
    "read_orders",
    "repeated",
    "unneutralise",
]


TIME_FIELDS = ("ordered", "shipped", "expected_by", "received", "protection_ends")
TEXT_FIELDS = ("seller", "title", "payment")
# Rows between calls of ``Reader.each``'s progress callback: a bar redrawn for every row of a
# long file costs more than the reading of some cells.
_PROGRESS_EVERY = 500


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 1 is the first record (the line after a CSV header), or a line of the file
    column: str
    message: str
    unit: str = "row"  # "line": a marketplace export's problems name the line of the file

    def __str__(self) -> str:
        where = f"{self.unit} {self.row}" if self.row else "file"
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(frozen=True, slots=True)
class ImportedOrder:
    """One row read: the order, and which fields the file actually gave."""

    row: int
    order: Order
    given: frozenset[str]
    unit: str = "row"  # as ``RowProblem.unit``

    @property
    def place(self) -> str:
        """Where in the file the order was read: ``row 3`` or ``line 5``."""
        return f"{self.unit} {self.row}"

    @property
    def key(self) -> tuple[str, str]:
        """What names the order in a ledger: its marketplace and number."""
        return self.order.marketplace, self.order.order_no


@dataclass(frozen=True, slots=True)
class ImportResult:
    orders: list[ImportedOrder] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``--map order_no="Order ID"`` options: our field name → their column name."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        ours = ours.strip().lower()
        if not sep or not theirs.strip():
            raise BadInput(f'--map takes FIELD=COLUMN, e.g. order_no="Order ID"; got {pair!r}')
        if ours not in FIELDS:
            raise BadInput(f"--map: no field {ours!r}; fields: {', '.join(FIELDS)}")
        mapping[ours] = theirs.strip().strip('"').strip("'").strip()
    return mapping


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _items(value: Any, currency: str) -> tuple[Item, ...]:
    """``"Cable x2 @3.50; Case"`` in a CSV cell, or a JSON list of strings or objects."""
    if value is None or value == "":
        return ()
    if isinstance(value, str) and value.lstrip().startswith("["):
        # Items whose names hold ";", "|", "@" or " xN" are exported as a JSON list.
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            raise BadInput("items look like a JSON list but are not valid JSON") from None
    if isinstance(value, str):
        # Split at each ";" or "|", spaces around it dropped: str methods, not a regex, as
        # this runs for most rows of a file.
        parts = [part for cell in value.replace("|", ";").split(";") if (part := cell.strip())]
        return tuple([parse_item(p, currency) for p in parts])
    if isinstance(value, list):
        found = []
        for entry in value:
            if isinstance(entry, str):
                found.append(parse_item(entry, currency))
            elif isinstance(entry, dict) and _text(entry.get("name")):
                quantity = entry.get("quantity", 1)
                if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                    raise BadInput(f"item {entry.get('name')!r}: quantity must be 1 or more")
                price = entry.get("price")
                found.append(
                    Item(
                        str(entry["name"]).strip(),
                        quantity,
                        None if price in (None, "") else read_amount(str(price), currency),
                    )
                )
            else:
                raise BadInput("each item must be text like 'Cable x2 @3.50' or an object")
        return tuple(found)
    raise BadInput("items must be text like 'Cable x2 @3.50; Case' or a list")


@dataclass(frozen=True, slots=True)
class Reader:
    """How to read a file's records as orders: the ``--map`` renames, the marketplace and
    currency of rows that give none, and the clock and zone of dates without an offset."""

    mapping: Mapping[str, str]
    marketplace: str | None
    default_currency: str
    now: datetime
    zone: tzinfo

    def read(
        self,
        found: Records,
        start: int = 0,
        stop: int | None = None,
        progress: Callable[[int], None] | None = None,
        seen: dict[tuple[str, str], int] | None = None,
    ) -> ImportResult:
        """Records ``start + 1`` to ``stop`` as orders, or every problem in them. A second
        row for one order is a problem; ``seen`` holds the orders of records read before,
        with their rows, and takes these ones'."""
        result = ImportResult()
        seen = {} if seen is None else seen
        for number, row in self.each(found, start, stop, progress):
            if isinstance(row, ImportedOrder):
                key = row.key
                if key in seen:
                    result.problems.append(repeated(number, seen[key], key[1]))
                    continue
                seen[key] = number
                result.orders.append(row)
            else:
                result.problems.extend(row)
        if not len(found):
            result.problems.append(RowProblem(0, "", "holds no orders"))
        return result

    def each(
        self,
        found: Records,
        start: int = 0,
        stop: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, ImportedOrder | list[RowProblem]]]:
        """Each of records ``start + 1`` to ``stop`` as an order or its problems, a second row
        for one order included."""
        number = start
        for number, columns in found.columns(start, stop, self.mapping):
            if progress is not None and number % _PROGRESS_EVERY == 0:
                progress(number)
            if isinstance(columns, str):
                yield number, [RowProblem(number, "", columns)]
                continue
            yield (
                number,
                _row(number, columns, self.marketplace, self.default_currency, self.now, self.zone),
            )
        if progress is not None:
            progress(number)


class Batches:
    """A file's orders a batch at a time, each read only when it is asked for, so that an
    import holds one batch of orders at a time; every problem of every batch is kept, with a
    second row for one order found across batches."""

    def __init__(
        self,
        reader: Reader,
        found: Records,
        size: int,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.reader, self.found, self.size, self.progress = reader, found, size, progress
        self.problems: list[RowProblem] = []

    def __iter__(self) -> Iterator[list[ImportedOrder]]:
        seen: dict[tuple[str, str], int] = {}
        # One batch even of an empty file, so that it says it holds no orders.
        for start in range(0, max(len(self.found), 1), self.size):
            part = self.reader.read(
                self.found, start, start + self.size, progress=self.progress, seen=seen
            )
            self.problems += part.problems
            yield part.orders


def repeated(row: int, first: int, order_no: str) -> RowProblem:
    """The problem of a second row for one order."""
    return RowProblem(row, "order_no", f"repeats row {first} ({order_no})")


def read_orders(
    text: str,
    *,
    mapping: Mapping[str, str],
    marketplace: str | None,
    default_currency: str,
    now: datetime,
    zone: tzinfo,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Every order of the file, or every problem in it."""
    reader = Reader(mapping, marketplace, default_currency, now, zone)
    return reader.read(parse_records(text), progress=progress)


_T = TypeVar("_T")


def _row(
    number: int,
    columns: dict[str, Any],
    marketplace: str | None,
    default_currency: str,
    now: datetime,
    zone: tzinfo,
) -> ImportedOrder | list[RowProblem]:
    problems: list[RowProblem] = []

    def check(column: str, read: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return read(*args)
        except BadInput as error:
            problems.append(RowProblem(number, column, error.message))
            return None

    # Each cell as text, or None when empty: an empty cell says nothing. (A cell of a CSV file
    # is a str already, and that case is most of an import's time.)
    texts = {
        name: (value.strip() or None) if type(value) is str else _text(value)
        for name, value in columns.items()
    }
    market = texts.get("marketplace") or marketplace
    if market is None:
        problems.append(RowProblem(number, "marketplace", "is missing; add --marketplace M"))
    else:
        market = market.lower()
        if not _is_name(market):
            problems.append(RowProblem(number, "marketplace", f"{market!r} is not a name"))
    order_no = texts.get("order_no")
    if order_no is None:
        problems.append(RowProblem(number, "order_no", "is missing"))
    elif order_no.split() != [order_no] or not order_no.isprintable():  # split: has whitespace
        problems.append(RowProblem(number, "order_no", f"{order_no!r} is not an order number"))
    currency_text = texts.get("currency")
    currency = check("currency", parse_currency, currency_text) if currency_text else None
    currency = currency or default_currency
    total_text = columns.get("total")
    total = None
    if total_text is None or str(total_text).strip() == "":
        problems.append(RowProblem(number, "total", "is missing"))
    elif isinstance(total_text, bool):
        problems.append(RowProblem(number, "total", "is not an amount"))
    else:
        total = check("total", read_amount, str(total_text), currency)
    times: dict[str, datetime | None] = {}
    for name in TIME_FIELDS:
        value = texts.get(name)
        if value is None:
            times[name] = None
            continue
        times[name] = check(name, read_time, value, now, zone)
    items = check("items", _items, columns.get("items"), currency)
    if problems or market is None or order_no is None or total is None:
        return problems
    order = Order(
        marketplace=market,
        order_no=order_no,
        total=total,
        currency=currency,
        seller=texts.get("seller"),
        title=texts.get("title"),
        items=items or (),
        payment=texts.get("payment"),
        ordered=times["ordered"],
        shipped=times["shipped"],
        expected_by=times["expected_by"],
        received=times["received"],
        protection_ends=times["protection_ends"],
    )
    for problem in order_problems(order, now, zone):
        named = re.search(r"--([a-z-]+)", problem)
        column = named.group(1).replace("-", "_") if named else ""
        problems.append(RowProblem(number, column, problem))
    if problems:
        return problems
    # An empty cell says nothing: it never erases what the ledger knows.
    given = frozenset([name for name, text in texts.items() if text is not None]) | _ALWAYS_GIVEN
    return ImportedOrder(number, order, given)


_ALWAYS_GIVEN = frozenset({"marketplace", "order_no"})
# What a marketplace name may hold besides letters and digits.
_NAME_PUNCTUATION = str.maketrans("", "", "-_.")


def _is_name(text: str) -> bool:
    """Letters, digits, ``-``, ``_`` and ``.`` only."""
    rest = text.translate(_NAME_PUNCTUATION)
    return not rest or rest.isalnum()


# Exports write dates as YYYY-MM-DD or YYYY/MM/DD; day-first and month-first forms
# (11/12/2026) cannot be told apart, so they are refused rather than guessed.
_SLASHED_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


def read_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    """A date or time cell: ISO, or ``YYYY/MM/DD`` (with a time or none)."""
    if text[4:5] == "/":  # where a YYYY/ date has its first slash
        text = _SLASHED_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02}-{int(m[3]):02}", text)
    return parse_when(text, now=now, zone=zone)
