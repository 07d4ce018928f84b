"""A marketplace export read as a table: its header matched by name, its rows streamed.

Pure: bytes in, ``Table`` out. A ``Layout`` names the columns one file shape has (each by the
names it goes by, any case, spaces trimmed) and which of them must be there for the file to be
that shape; ``read_table`` streams the file's rows through the CSV reader and keeps only those
columns' cells, with each row's line in the file, so that a file of 100,000 rows with two
addresses a row holds a few cells a row in memory, never the text of the others (addresses,
e-mail addresses and phone numbers are not even kept for a moment longer than the reader
takes). ``Reading`` is what an import takes from any format: orders a batch at a time, every
problem with its line, the rows left out and why, and the money that came back.
"""

from __future__ import annotations

import codecs
import csv
import io
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum

from refundctl.errors import BadInput
from refundctl.exports.facts import MoneyBack
from refundctl.importing import ImportedOrder, RowProblem
from refundctl.records import Item, Order, order_problems


class Source(StrEnum):
    """The services whose files ``order import`` reads (``--from``)."""

    AMAZON = "amazon"
    PAYPAL = "paypal"
    ALIEXPRESS = "aliexpress"
    TEMU = "temu"
    REFUNDCTL = "refundctl"


def header_key(name: str) -> str:
    """How a header names a column, for matching: any case, spaces trimmed and single."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True, slots=True)
class Column:
    """One column a layout reads: our name for it, and the names files give it."""

    key: str
    names: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class Layout:
    """One shape of file a service writes (Amazon's order history, PayPal's activity in
    German): its columns, and how its rows become what an import takes."""

    source: Source
    title: str  # for people: "Amazon order history"
    columns: tuple[Column, ...]
    read: Callable[[Table, Context], Reading]
    delimiter: str = ","

    def missing(self, header: Sequence[str]) -> list[str]:
        """The required columns the header lacks, each by its first name."""
        have = {header_key(name) for name in header}
        return [
            c.names[0]
            for c in self.columns
            if c.required and not have.intersection(header_key(n) for n in c.names)
        ]

    def matched(self, header: Sequence[str]) -> int:
        """How many of the layout's columns the header has: of two layouts a header fits,
        the one that knows more of it."""
        have = {header_key(name) for name in header}
        return sum(bool(have.intersection(header_key(n) for n in c.names)) for c in self.columns)


@dataclass(frozen=True, slots=True)
class Context:
    """What a format's reading needs besides the file: the currency of amounts that name
    none (``--currency`` or the config's), the clock and the buyer's zone."""

    default_currency: str
    now: datetime
    zone: tzinfo


class Table:
    """A file's rows, each as the cells of the layout's columns the header has, in the
    order ``keys`` names them (a column the header lacks reads as empty)."""

    def __init__(self, keys: tuple[str, ...], header: dict[str, str]) -> None:
        self.keys = keys
        self.header = header  # our key -> the file's name for it, for problems
        self.at = {key: index for index, key in enumerate(keys)}
        self.rows: list[tuple[str, ...]] = []
        self.lines = array("q")  # the line each row starts on

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, key: str) -> bool:
        return key in self.header

    def name(self, key: str) -> str:
        """The file's own name of one of our columns, for a problem."""
        return self.header.get(key, key)


def first_record(data: bytes) -> tuple[list[str], str]:
    """The header of a CSV file (its first line) and the delimiter it uses most: comma,
    semicolon or tab. A byte that is not UTF-8 is refused later, with the rows."""
    end = data.find(b"\n")
    line = _decode(data[: end if end >= 0 else len(data)][:65536], partial=True)
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
    try:
        header = next(csv.reader([line.rstrip("\r")], delimiter=delimiter), [])
    except csv.Error:
        header = []
    return header, delimiter


def read_table(data: bytes, layout: Layout, delimiter: str) -> Table:
    """The file's rows, keeping the cells of the layout's columns only; blank lines skipped.
    Raises ``BadInput`` for a file that is not UTF-8 or not readable as CSV."""
    reader = csv.reader(_stream(data), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise BadInput("the file is empty: an import needs a header row") from None
    except UnicodeDecodeError:
        raise BadInput(_NOT_UTF8) from None
    where = {header_key(name): index for index, name in enumerate(header)}
    keys: list[str] = []
    picks: list[int] = []
    named: dict[str, str] = {}
    for column in layout.columns:
        index = next((where[k] for n in column.names if (k := header_key(n)) in where), None)
        if index is not None:
            keys.append(column.key)
            picks.append(index)
            named[column.key] = header[index].strip()
    table = Table(tuple(keys), named)
    rows, lines = table.rows, table.lines
    width = len(header)
    last = reader.line_num
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            rows.append(tuple([cells[i] for i in picks]))
            lines.append(start)
    except csv.Error as error:
        raise BadInput(f"line {reader.line_num}: not readable as CSV: {error}") from None
    except UnicodeDecodeError:
        raise BadInput(_NOT_UTF8) from None
    return table


_NOT_UTF8 = "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel)"


def _stream(data: bytes) -> io.TextIOWrapper:
    """The bytes as text, decoded as they are read: the file's text is never held whole."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _decode(data: bytes, *, partial: bool = False) -> str:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace" if partial else "strict")
    return decoder.decode(data, final=not partial)


@dataclass(frozen=True, slots=True)
class Skip:
    """Rows left out on purpose, and why ("funding", "cancelled")."""

    why: str
    rows: int = 1


# What one group of rows reads as.
Built = ImportedOrder | list[RowProblem] | Skip


@dataclass
class Reading:
    """What an import takes from a file, of any format: its orders a batch at a time (each
    group of rows read only when its batch is asked for), every problem, the rows skipped
    and why, and the money that came back. ``problems``, ``skipped`` and ``money`` hold the
    first pass's findings from the start, and each batch's once it has been read."""

    title: str
    rows: int
    groups: Sequence[Sequence[int]]
    build: Callable[[Sequence[int]], Built]
    problems: list[RowProblem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    money: list[MoneyBack] = field(default_factory=list)
    batch: int = 2000
    progress: Callable[[int], None] | None = None
    orders: int = 0  # read so far

    def __iter__(self) -> Iterator[list[ImportedOrder]]:
        done = 0
        for start in range(0, max(len(self.groups), 1), self.batch):
            found: list[ImportedOrder] = []
            for group in self.groups[start : start + self.batch]:
                built = self.build(group)
                done += len(group)
                if isinstance(built, ImportedOrder):
                    found.append(built)
                elif isinstance(built, Skip):
                    self.skipped[built.why] += built.rows
                else:
                    self.problems.extend(built)
            if self.progress is not None:
                self.progress(done)
            self.orders += len(found)
            yield found
        if not self.groups and not self.money and not self.problems:
            self.problems.append(RowProblem(0, "", "holds no orders"))


def line_problem(line: int, column: str, message: str) -> RowProblem:
    """A problem at a line of the file, under the file's own name of the column."""
    return RowProblem(line, column, message, unit="line")


def group_rows(table: Table, key: str) -> list[list[int]]:
    """The rows of each value of ``key`` (an order number), in the order each first
    appears; a row with an empty key is a group of its own, which its reading refuses."""
    groups: dict[str, list[int]] = {}
    at = table.at[key]
    for index, row in enumerate(table.rows):
        value = row[at].strip() or f"\0{index}"
        groups.setdefault(value, []).append(index)
    return list(groups.values())


def imported(
    line: int, order: Order, context: Context, problems: list[RowProblem]
) -> ImportedOrder | list[RowProblem]:
    """An order read from rows, checked as every order is (nothing in the future, nothing
    out of order); what it does not give (None, no items) is not given, so never erases."""
    number = order.order_no
    if not number:
        problems.append(line_problem(line, "", "the order number is empty"))
    elif number.split() != [number] or not number.isprintable():
        problems.append(line_problem(line, "", f"{number[:40]!r} is not an order number"))
    for problem in order_problems(order, context.now, context.zone):
        problems.append(line_problem(line, "", problem.replace("--", "")))
    if problems:
        return problems
    given = {"marketplace", "order_no", "total", "currency"}
    given.update(name for name in _OPTIONAL if getattr(order, name) is not None)
    if order.items:
        given.add("items")
    return ImportedOrder(line, order, frozenset(given), unit="line")


_OPTIONAL = ("seller", "title", "payment", "ordered", "shipped", "expected_by", "received")


def merged_items(items: Iterable[Item]) -> tuple[Item, ...]:
    """Items with one name as one: Amazon writes an item once per shipment, and a ledger's
    order names each item once. Quantities add up; a price kept only where all agree."""
    found: dict[str, Item] = {}
    for item in items:
        name = item.name.casefold()
        old = found.get(name)
        if old is None:
            found[name] = item
            continue
        price = old.price if old.price == item.price else None
        found[name] = Item(old.name, old.quantity + item.quantity, price)
    return tuple(found.values())


def title_of(items: Sequence[Item]) -> str | None:
    """An order's title from its items: the first one's name, and how many more."""
    if not items:
        return None
    more = len(items) - 1
    return items[0].name if not more else f"{items[0].name} (+{more} more)"
