"""The files buyers can download, told apart by their header and read as orders.

Pure. ``sniff`` looks at a file's first line only: JSON and JSON Lines are refundctl's own; a
CSV header is matched, by column names and never by the file name, against every layout each
service writes (``LAYOUTS``: Amazon's order history, returns and refund payments; PayPal's
activity in English or German; the three AliExpress tools; Temu's export), the one with every
column it needs winning, and of two such the one that knows more of the header; a header with
refundctl's own ``order_no`` and ``total`` is refundctl's CSV. ``--from`` narrows the search to
one service. A header that none of them fits is refused with each layout tried and the columns
it lacked. ``read`` then streams the file into that layout's ``Reading``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from refundctl.errors import BadInput
from refundctl.exports import aliexpress, amazon, paypal, temu
from refundctl.exports.facts import MoneyBack
from refundctl.exports.table import (
    Context,
    Layout,
    Reading,
    Source,
    first_record,
    header_key,
    read_table,
)
from refundctl.importing import Batches, ImportedOrder, Reader, RowProblem, parse_records

__all__ = ["LAYOUTS", "OwnReading", "Reading", "Sniffed", "Source", "read", "sniff"]

LAYOUTS: tuple[Layout, ...] = (
    *amazon.LAYOUTS,
    *paypal.LAYOUTS,
    *aliexpress.LAYOUTS,
    *temu.LAYOUTS,
)
OWN_TITLE = "refundctl orders"
# The columns refundctl's own CSV cannot do without (``marketplace`` can come from
# ``--marketplace``), and how they are matched (refundctl.importfile).
_OWN_COLUMNS = ("order_no", "total")


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file is: a layout and the delimiter of its rows, or refundctl's own (None)."""

    layout: Layout | None
    delimiter: str = ","

    @property
    def title(self) -> str:
        return OWN_TITLE if self.layout is None else self.layout.title


def sniff(data: bytes, forced: Source | None, mapping: Mapping[str, str]) -> Sniffed:
    """Which layout the file's header is, of those ``forced`` allows; ``--map`` (``mapping``)
    reads refundctl's own columns from other names, so it makes the file refundctl's."""
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:1] in (b"[", b"{"):
        if forced not in (None, Source.REFUNDCTL):
            raise BadInput(f"this file is JSON: {forced} files are CSV; leave out --from")
        return Sniffed(None)
    header, delimiter = first_record(data)
    if mapping or forced is Source.REFUNDCTL:
        if mapping and forced not in (None, Source.REFUNDCTL):
            raise BadInput(f"--map renames refundctl's own columns; {forced} files need none")
        return Sniffed(None, delimiter)
    if forced is None and not any(name.strip() for name in header):
        return Sniffed(None, delimiter)  # no header at all: refundctl's reading says so
    tried = [layout for layout in LAYOUTS if forced is None or layout.source is forced]
    fitting = [layout for layout in tried if not layout.missing(header)]
    if fitting:
        return Sniffed(max(fitting, key=lambda layout: layout.matched(header)), delimiter)
    own = _own_missing(header)
    if forced is None and not own and header:
        return Sniffed(None, delimiter)
    raise BadInput(_unknown(header, tried, own if forced is None else None))


def _own_missing(header: Sequence[str]) -> list[str]:
    have = {header_key(name) for name in header}
    return [name for name in _OWN_COLUMNS if name not in have]


def _unknown(header: Sequence[str], tried: Sequence[Layout], own: list[str] | None) -> str:
    """The refusal of a header no layout fits: each one tried, and what it lacked."""
    if not [name for name in header if name.strip()]:
        return "the file is empty: an import needs a header row"
    lacks = [f"{layout.title} (no {_listed(layout.missing(header))})" for layout in tried]
    if own is not None:
        lacks.append(f"refundctl's own columns (no {_listed(own)})")
    return (
        "the header is not one refundctl knows; tried " + "; ".join(lacks) + ". Name the "
        "service with --from, or map refundctl's columns with --map FIELD=COLUMN"
    )


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


@dataclass
class OwnReading:
    """refundctl's own CSV, JSON or JSON Lines as an import reads any file: its batches of
    orders and problems, nothing skipped, no money."""

    batches: Batches
    title: str = OWN_TITLE
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    money: list[MoneyBack] = field(default_factory=list)
    orders: int = 0

    @property
    def problems(self) -> list[RowProblem]:
        return self.batches.problems

    @property
    def progress(self) -> Callable[[int], None] | None:
        return self.batches.progress

    @progress.setter
    def progress(self, tick: Callable[[int], None] | None) -> None:
        self.batches.progress = tick

    def __iter__(self) -> Iterator[list[ImportedOrder]]:
        for batch in self.batches:
            self.orders += len(batch)
            yield batch


def read_own(text: str, reader: Reader, batch: int) -> OwnReading:
    """refundctl's own file, read as ``order import`` always read it."""
    found = parse_records(text)
    return OwnReading(Batches(reader, found, batch), rows=len(found))


def read(data: bytes, sniffed: Sniffed, reader: Reader, batch: int) -> Reading:
    """A service's file in its layout, streamed: only the layout's columns are kept."""
    layout = sniffed.layout
    assert layout is not None, "refundctl's own files are read by read_own"
    if reader.marketplace is not None:
        raise BadInput(
            f"--marketplace is for files that do not say; this is {layout.title}, "
            f"whose orders are {layout.source}'s"
        )
    table = read_table(data, layout, sniffed.delimiter)
    reading = layout.read(table, Context(reader.default_currency, reader.now, reader.zone))
    reading.batch = batch
    return reading


def shown_json(reading: Reading | OwnReading) -> dict[str, object]:
    """What ``order import --json`` says of the file beside its counts."""
    return {
        "format": reading.title,
        "orders": reading.orders,
        "skipped": dict(sorted(reading.skipped.items())),
    }
