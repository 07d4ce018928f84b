"""Reading a file of orders: CSV, a JSON list or JSON Lines, into orders or a list of problems.

Pure: text in, ``ImportedOrder`` values or ``RowProblem`` values out; no ledger, no terminal.
Columns are DESIGN.md's order fields, matched case-insensitively and ignoring surrounding
spaces; ``--map field="Their column"`` renames a foreign export's headers. Amounts written the
way shops write them (``US $12.50``, ``12,50 €``, ``1.234,56``) are read when the currency makes
the format clear and refused, with the row, when it does not. Every bad row is reported, so one
run shows everything to fix; the caller imports nothing unless there are none. A file that
cannot be read one way only is refused whole, before any row is read: a column named twice, a
key given twice in one JSON object, a quote that runs on (see ``_refuse_runaway_quote``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from refundctl.domain import Item, Order, order_problems, parse_item
from refundctl.errors import BadInput
from refundctl.money import exponent, parse_amount, parse_currency
from refundctl.policies import KNOWN_MARKETPLACES
from refundctl.timeparse import parse_when

FIELDS = (
    "marketplace",
    "order_no",
    "seller",
    "title",
    "total",
    "currency",
    "ordered",
    "shipped",
    "expected_by",
    "received",
    "protection_ends",
    "payment",
    "items",
)
TIME_FIELDS = ("ordered", "shipped", "expected_by", "received", "protection_ends")
TEXT_FIELDS = ("seller", "title", "payment")
# Rows between calls of ``Reader.each``'s progress callback: a bar redrawn for every row of a
# long file costs more than the reading of some cells.
_PROGRESS_EVERY = 500
# Spreadsheet formula starts, and the quote that marks a neutralised cell (see ``neutralise``).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 1 is the first record (the line after a CSV header)
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(frozen=True, slots=True)
class ImportedOrder:
    """One row read: the order, and which fields the file actually gave."""

    row: int
    order: Order
    given: frozenset[str]

    @property
    def key(self) -> tuple[str, str]:
        """What names the order in a ledger: its marketplace and number."""
        return self.order.marketplace, self.order.order_no


@dataclass(frozen=True, slots=True)
class ImportResult:
    orders: list[ImportedOrder] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: prefix a quote. A cell that starts
    with a quote gets one too, so ``unneutralise`` can always take exactly one away."""
    if cell.startswith((*_FORMULA_STARTS, "'")):
        return "'" + cell
    return cell


def unneutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


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


def detect(text: str) -> str:
    """``json``, ``jsonl`` or ``csv``, from the content rather than the file name."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "jsonl"
    return "csv"


class Records:
    """A file's records, parsed but not yet read as orders. Record ``n`` (counted from 1) is
    the n-th non-blank CSV row or JSON object, as a dict of its cells; ``numbered`` gives any
    run of them, so that two processes can read one file in two parts."""

    def __init__(
        self, raw: Sequence[Any], header: Sequence[str] | None = None, *, spans_lines: bool = False
    ) -> None:
        self._raw = raw  # CSV: each row's cells, under ``header``; JSON: the objects
        self._header = header
        # CSV: whether some row (the header's included) runs across lines, a quoted cell
        # holding a line break.
        self.spans_lines = spans_lines

    @property
    def header(self) -> Sequence[str] | None:
        """A CSV file's header row, as written; None for JSON."""
        return self._header

    def __len__(self) -> int:
        return len(self._raw)

    def numbered(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Records ``start + 1`` to ``stop`` (all of them by default) with their numbers."""
        header = self._header
        for number, raw in enumerate(self._raw[start:stop], start=start + 1):
            if header is not None:
                yield number, _csv_record(header, raw)
            elif isinstance(raw, dict):
                yield number, raw
            else:
                yield number, {"__not_an_object__": raw}

    def columns(
        self, start: int, stop: int | None, mapping: Mapping[str, str]
    ) -> Iterator[tuple[int, dict[str, Any] | str]]:
        """Records ``start + 1`` to ``stop``, each as our fields' cells (see ``_columns``),
        or as what is wrong with it. A CSV row goes straight from its cells to the fields,
        without the dict of all its cells that ``numbered`` builds: the same cells (tested),
        in a third of the time, for a file of many rows."""
        header = self._header
        if header is None or _MARKERS.intersection(header):
            yield from _columns_of(self.numbered(start, stop), mapping)
            return
        width = len(header)
        # Where each field's cell is: of two cells under one header, the later one, as a
        # dict of the row would keep it.
        at = {key: index for index, key in enumerate(header)}
        plan = [(name, at[key]) for name, key in _columns(at, mapping)]
        for number, cells in enumerate(self._raw[start:stop], start=start + 1):
            count = len(cells)
            if count > width:
                yield number, _TOO_MANY_CELLS
                continue
            yield (
                number,
                {
                    name: (cell[1:] if (cell := cells[index]).startswith("'") else cell)
                    if index < count
                    else None
                    for name, index in plan
                },
            )


# What stands for a record that is not an object, or a row longer than its header.
_MARKERS = frozenset({"__not_an_object__", "__extra__"})
_NOT_AN_OBJECT = "is not an object of order fields"
_TOO_MANY_CELLS = "has more cells than the header"


def _columns_of(
    numbered: Iterable[tuple[int, dict[str, Any]]], mapping: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Each record as our fields' cells, its keys matched to them once per set of keys."""
    plans: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    for number, record in numbered:
        if "__not_an_object__" in record:
            yield number, _NOT_AN_OBJECT
            continue
        if "__extra__" in record:
            yield number, _TOO_MANY_CELLS
            continue
        keys = tuple(record)
        plan = plans.get(keys)
        if plan is None:
            plan = plans[keys] = _columns(keys, mapping)
        yield number, {name: record[key] for name, key in plan}


def parse_records(text: str) -> Records:
    """The records of a file; raises ``BadInput`` for an unreadable file."""
    try:
        return _parse_records(text)
    except RecursionError:  # json recurses per nested array or object: 100,000 "[" ends here
        raise BadInput(
            "the file nests JSON arrays or objects too deeply to be a list of orders"
        ) from None


def _parse_records(text: str) -> Records:
    kind = detect(text)
    text = text.lstrip("\ufeff")
    repeated: _RepeatedKey | None = None  # in the file read as one JSON document
    if kind == "jsonl":
        # A pretty-printed JSON document starts with "{" too: refundctl's own export.
        try:
            document = _JSON.decode(text)
        except json.JSONDecodeError:
            document = None
        except _RepeatedKey as error:
            document, repeated = None, error
        if isinstance(document, dict) and "orders" in document:
            return Records(_document(document))
    if kind == "json":
        try:
            data = _JSON.decode(text)
        except json.JSONDecodeError as error:
            raise BadInput(f"not valid JSON: {error.msg} at line {error.lineno}") from None
        except _RepeatedKey as error:
            raise BadInput(str(error)) from None
        if not isinstance(data, list):
            raise BadInput("a JSON import must be a list of objects, one per order")
        return Records(data)
    if kind == "jsonl":
        found = []
        # Only a newline ends a record: U+2028 and friends may sit inside a JSON string.
        for line_no, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                found.append(_JSON.decode(line))
            except json.JSONDecodeError as error:
                if repeated is not None:  # a document over several lines, with a key twice
                    raise BadInput(str(repeated)) from None
                raise BadInput(f"line {line_no} is not valid JSON: {error.msg}") from None
            except _RepeatedKey as error:
                raise BadInput(f"line {line_no}: {error}") from None
        return Records(found)
    records = _parse_csv(text)
    _refuse_repeated_columns(records.header or ())
    _refuse_runaway_quote(text, records)
    return records


class _RepeatedKey(Exception):
    """A JSON object that gives one key twice: ``json`` would keep the last, without a word."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"a JSON object gives {key[:40]!r} twice; give each key once, "
            "so it is clear which value to import"
        )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as ``json`` builds it, unless it gives a key twice (``_RepeatedKey``)."""
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return found


# One decoder for the whole file: ``json.loads`` with a hook builds a new one for each call,
# which would double the reading time of a file of JSON Lines.
_JSON = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _refuse_repeated_columns(header: Sequence[str]) -> None:
    """Refuse a header that names one column twice, as the reading of headers matches them
    (case and surrounding spaces aside): which of the two cells is meant cannot be known.
    Columns without a name are never read, so any number of them may be there."""
    first: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = name.strip().lower()
        if not key:
            continue
        if key in first:
            raise BadInput(
                f"the header names column {name.strip()[:40]!r} twice (columns {first[key]} "
                f"and {number}); rename or remove one, so it is clear which cell to read"
            )
        first[key] = number


def _parse_csv(text: str) -> Records:
    """The rows of a CSV file, blank lines skipped, under its header row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), quotechar='"')
    try:
        header = next(reader, None)
        if not header:
            raise BadInput("the file is empty: a CSV import needs a header row")
        rows = list(reader)
    except csv.Error as error:
        raise BadInput(f"not a readable CSV file: {error}") from None
    # A row to a line (a blank line is a row too) unless a quoted cell holds a line break.
    spans_lines = reader.line_num != 1 + len(rows)
    return Records(list(filter(None, rows)), header, spans_lines=spans_lines)


# The line breaks a CSV reader finds, in a cell or between lines (``newline=""``).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTE_ADVICE = 'close the quote where the cell ends, or write a quote that is text as two ("")'


def _refuse_runaway_quote(text: str, found: Records) -> None:
    """Refuse a file in which a quote seems to run on past the cell it opens.

    A quoted cell may hold line breaks: a title or an item written on two lines, as the
    exporter writes them. A stray quote (``"oops``) makes the same shape, a cell that runs on,
    taking in the rows after it as its text, until the next quote or the end of the file. The
    two cannot always be told apart, so the rule is this: a cell that runs across lines is
    taken for a runaway quote, and the whole file refused, when

    1. it is still open at the end of the file: always an error, whatever the cell holds;
    2. its row then has another number of cells than the header (every row refundctl writes
       has the header's); or
    3. one of its lines, read alone, is an order row (``_OrderLines``).

    Text one of whose lines is itself a whole order row is refused by 3, though it may be
    meant: the error says so, and JSON Lines carries any text. Anything else is one cell.
    """
    delimiter = _delimiter(text)
    if not found.spans_lines:
        # A row to a line: only the last line can have opened a quote that never closes.
        end = len(text)
        while end and text[end - 1] in "\r\n":
            end -= 1
        start = max(text.rfind("\n", 0, end), text.rfind("\r", 0, end)) + 1
        if _open_quote(text[start:end], delimiter) is not None:
            line = len(_LINE_BREAK.findall(text, 0, start)) + 1
            raise BadInput(_never_closed(line, line))
        return
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), delimiter=delimiter, quotechar='"')
    rows: list[tuple[int, int, list[str]]] = []  # first line, last line, cells
    first = 1
    for cells in reader:  # the reading ``_parse_csv`` made, now with line numbers
        rows.append((first, reader.line_num, cells))
        first = reader.line_num + 1
    order_lines = _OrderLines.of(rows, delimiter)
    for index, (first, last, cells) in enumerate(rows):
        if index == len(rows) - 1:
            tail = "".join(lines[first - 1 :])
            opened = _open_quote(tail, delimiter)
            if opened is not None:
                line = first + len(_LINE_BREAK.findall(tail, 0, opened))
                raise BadInput(_never_closed(line, len(lines)))
        if index and first != last:
            _refuse_runaway_cell(first, last, cells, order_lines)


def _refuse_runaway_cell(first: int, last: int, cells: list[str], order_lines: _OrderLines) -> None:
    """Rules 2 and 3 of ``_refuse_runaway_quote``, for the row on lines ``first``-``last``."""
    line = first  # where the cell opens: only a quoted cell holds a line break
    for cell in cells:
        pieces = _LINE_BREAK.split(cell)
        if len(pieces) == 1:
            continue
        if len(cells) != order_lines.width:
            raise BadInput(
                f"line {line}: the quoted cell that opens here runs on to line {last}, "
                f"and its row then has {len(cells)} cells for the header's "
                f"{order_lines.width}; " + _QUOTE_ADVICE
            )
        for offset, piece in enumerate(pieces[1:], start=1):
            order = order_lines.order(piece)
            if order is not None:
                raise BadInput(
                    f"line {line}: the quoted cell that opens here takes in line "
                    f"{line + offset}, which reads as an order of its own ({order}); "
                    f"{_QUOTE_ADVICE} (a text that holds such a line imports from JSON Lines)"
                )
        line += len(pieces) - 1


@dataclass(frozen=True, slots=True)
class _OrderLines:
    """Rule 3 of ``_refuse_runaway_quote``: which line of a cell reads alone as an order row.

    Such a line has the header's number of cells and an order number (one word) under
    ``order_no``; and under ``marketplace`` a marketplace refundctl knows or that a one-line
    row of the file names, or, in a file without that column, a figure under ``total``. A
    header without ``order_no``, or without both others (a foreign one read with ``--map``,
    which this reading does not know), has no such lines: rules 1 and 2 still hold."""

    delimiter: str
    width: int
    number_at: int | None
    market_at: int | None
    total_at: int | None
    markets: frozenset[str]

    @classmethod
    def of(cls, rows: Sequence[tuple[int, int, list[str]]], delimiter: str) -> _OrderLines:
        """For the file's ``rows``: (first line, last line, cells), the header first."""
        header = [name.strip().lower() for name in rows[0][2]]

        def at(name: str) -> int | None:
            return header.index(name) if name in header else None

        market_at = at("marketplace")
        markets = set(KNOWN_MARKETPLACES)
        if market_at is not None:
            markets.update(
                cells[market_at].strip().lower()
                for first, last, cells in rows[1:]
                if first == last and len(cells) > market_at
            )
        return cls(
            delimiter, len(header), at("order_no"), market_at, at("total"), frozenset(markets)
        )

    def order(self, line: str) -> str | None:
        """The order ``line`` reads as, for an error ("ebay 'U3'"), or None."""
        if self.number_at is None or (self.market_at is None and self.total_at is None):
            return None
        try:
            cells = next(csv.reader([line], delimiter=self.delimiter, quotechar='"'), [])
        except csv.Error:  # a NUL: no row of the file, which was read
            return None
        if len(cells) != self.width:
            return None
        number = cells[self.number_at].strip()
        if number.split() != [number]:
            return None
        if self.market_at is not None:
            market = cells[self.market_at].strip().lower()
            return f"{market} {number[:40]!r}" if market in self.markets else None
        if self.total_at is not None and any(c.isdigit() for c in cells[self.total_at]):
            return repr(number[:40])
        return None


def _never_closed(line: int, end: int) -> str:
    """The refusal of a quote still open at the end of the file."""
    if end == line:
        return f"line {line}: the quote that opens a cell here is never closed; " + _QUOTE_ADVICE
    return (
        f"line {line}: the quote that opens a cell here is never closed, so lines {line} to "
        f"{end}, the rest of the file, would be read as one cell; " + _QUOTE_ADVICE
    )


def _open_quote(text: str, delimiter: str) -> int | None:
    """Where the quote opens that ``text`` ends inside, reading quotes as ``csv`` reads them
    (a quote opens a cell only at its start; ``""`` inside is a quote); None if none is open."""
    opened = None
    at_cell_start = True
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if opened is not None:
            if char == '"':
                if text.startswith('"', index + 1):
                    index += 1  # a quote written twice: text
                else:
                    opened, at_cell_start = None, False
        elif char == '"' and at_cell_start:
            opened, at_cell_start = index, False
        else:
            at_cell_start = char in (delimiter, "\n", "\r")
        index += 1
    return opened


def _csv_record(header: Sequence[str], cells: list[str]) -> dict[str, Any]:
    """One CSV row as ``csv.DictReader`` builds it, each cell unneutralised. Built here rather
    than by DictReader: an import of many rows spends its time per cell."""
    row: dict[str, Any] = dict(
        zip(header, [c[1:] if c.startswith("'") else c for c in cells], strict=False)
    )
    width = len(header)
    if len(cells) < width:
        for name in header[len(cells) :]:
            row[name] = None
    elif len(cells) > width:
        row["__extra__"] = cells[width:]
    return row


def _document(document: dict[str, Any]) -> list[Any]:
    """refundctl's own JSON export (or ``{"orders": [...]}``): its orders, renamed to columns."""
    orders = document.get("orders")
    if not isinstance(orders, list):
        raise BadInput('a JSON object to import must hold an "orders" list (refundctl export)')
    found: list[Any] = []
    for item in orders:
        if isinstance(item, dict):
            item = dict(item)
            if "order_no" not in item and "order" in item:
                item["order_no"] = item.pop("order")
        found.append(item)
    return found


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most. Only the delimiter is
    guessed; quoting is always the standard one, so a quote inside a cell is never taken for
    a quoting character."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _columns(keys: Iterable[str], mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Which of a record's keys gives each of our fields: (field, key) pairs, matching headers
    case-insensitively, spaces trimmed; of two keys that match one field, the later one."""
    by_header = {str(k).strip().lower(): k for k in keys if k is not None}
    found = []
    for name in FIELDS:
        header = mapping.get(name, name).strip().lower()
        if header in by_header:
            found.append((name, by_header[header]))
    return tuple(found)


_SYMBOLS = {"$": None, "€": "EUR", "£": "GBP", "¥": None, "₩": "KRW", "₹": "INR"}
_PREFIXES = {"US$": "USD", "US $": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD"}


# An amount written plainly (12, 12.5, 12.50), as most exports write every amount: the
# separators and signs below have nothing to decide, so it goes straight to ``parse_amount``.
_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")


def read_amount(text: str, currency: str) -> Decimal:
    """An amount as shops write it: ``US $12.50``, ``12,50 €``, ``1.234,56``, ``1,234.56``."""
    raw = text.strip()
    if _PLAIN_AMOUNT.fullmatch(raw):
        return parse_amount(raw, currency)
    return _read_written_amount(raw, currency)


def _read_written_amount(raw: str, currency: str) -> Decimal:
    """``read_amount`` of a stripped cell, whatever way it is written."""
    if not raw:
        raise BadInput("is empty")
    body = raw
    for prefix, code in _PREFIXES.items():
        if body.upper().startswith(prefix):
            if code != currency:
                raise BadInput(f"{raw!r} is in {code}, but the order's currency is {currency}")
            body = body[len(prefix) :]
    code_match = re.search(r"\b([A-Za-z]{3})\b", body)
    if code_match:
        code = code_match.group(1).upper()
        if code != currency:
            raise BadInput(f"{raw!r} names {code}, but the order's currency is {currency}")
        body = body.replace(code_match.group(1), "")
    for symbol, symbol_code in _SYMBOLS.items():
        if symbol in body:
            if symbol_code is not None and symbol_code != currency:
                raise BadInput(
                    f"{raw!r} is in {symbol_code}, but the order's currency is {currency}"
                )
            body = body.replace(symbol, "")
    body = body.replace("\u00a0", "").replace(" ", "").replace("'", "")
    if body.startswith("-") or body.startswith("("):
        raise BadInput(f"{raw!r} is negative; a total is what you paid")
    if not re.fullmatch(r"[0-9][0-9.,]*", body):
        raise BadInput(f"{raw!r} is not an amount")
    return parse_amount(_plain(body, raw, currency), currency)


def _plain(body: str, raw: str, currency: str) -> str:
    """Digits with one decimal point, deciding what ``.`` and ``,`` mean."""
    places = exponent(currency)
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        whole, _, fraction = body.rpartition(decimal)
        if body.count(decimal) != 1 or not _grouped(whole, thousands):
            raise BadInput(f"{raw!r} mixes separators in a way that is not an amount")
        return whole.replace(thousands, "") + "." + fraction
    separator = "." if dots else "," if commas else ""
    if not separator:
        return body
    count = body.count(separator)
    whole, _, fraction = body.rpartition(separator)
    if count > 1:
        if not _grouped(body, separator):
            raise BadInput(f"{raw!r} is not an amount")
        return body.replace(separator, "")
    if separator == "." and len(fraction) == places == 3:
        # How refundctl itself writes a three-decimal currency (KWD 12.500).
        return whole + "." + fraction
    if len(fraction) == 3:
        # 1.234 or 1,234: thousands when the currency's usual writing says so, else ambiguous.
        grouping = (
            places == 0
            or (separator == "," and currency in _DOT_DECIMAL)
            or (separator == "." and currency in _COMMA_DECIMAL)
        )
        if not grouping:
            raise BadInput(
                f"{raw!r} is ambiguous in {currency}: it could be thousands or decimals; "
                "write it with both separators (1.234,00) or none (1234)"
            )
        return whole + fraction
    return whole + "." + fraction


# Currencies whose amounts are written with a decimal point (1,234.56) or a decimal comma
# (1.234,56) wherever they are used; EUR and others are written both ways.
_DOT_DECIMAL = frozenset(
    "USD GBP CAD AUD NZD CNY HKD SGD INR MXN PHP THB MYR KRW ILS JPY TWD".split()
)
_COMMA_DECIMAL = frozenset("BRL ARS CLP COP IDR TRY VND DKK NOK SEK RUB UAH".split())


def _grouped(number: str, separator: str) -> bool:
    groups = number.split(separator)
    return bool(groups[0]) and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


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
        times[name] = check(name, _read_time, value, now, zone)
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


def _read_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    if text[4:5] == "/":  # where a YYYY/ date has its first slash
        text = _SLASHED_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02}-{int(m[3]):02}", text)
    return parse_when(text, now=now, zone=zone)
