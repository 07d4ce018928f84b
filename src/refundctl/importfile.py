"""Parsing an import file into records: CSV, a JSON list or JSON Lines, told apart by content.

Pure: text in, ``Records`` out, or ``BadInput`` for a file that cannot be read one way only,
refused whole before any row is read as an order: a column named twice, a key given twice in
one JSON object, a quote that runs on (see ``_refuse_runaway_quote``). What a record's cells
mean as an order is ``refundctl.importing``'s; here are only the cells, matched to DESIGN.md's
order fields (``FIELDS``), and the quote an export puts before a formula-like cell
(``neutralise``), which the reading of cells takes away.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refundctl.errors import BadInput
from refundctl.policies import KNOWN_MARKETPLACES

# DESIGN.md's order fields: the columns an export writes and an import reads. They live here,
# beside the matching of a record's keys to them (``_columns``).
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
# Spreadsheet formula starts, and the quote that marks a neutralised cell (see ``neutralise``).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_STARTS = (*_FORMULA_STARTS, "'")


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: prefix a quote. A cell that starts
    with a quote gets one too, so ``unneutralise`` can always take exactly one away."""
    if cell.startswith(_QUOTED_STARTS):
        return "'" + cell
    return cell


def unneutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


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
