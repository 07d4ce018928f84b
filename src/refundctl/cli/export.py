"""``refundctl export``: the whole ledger as JSON, JSON Lines or CSV, or a calendar feed."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from refundctl.cli import app
from refundctl.cli.common import Env, emit_streamed, env
from refundctl.errors import BadInput


class ExportFormat(StrEnum):
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    ICS = "ics"


class ExportWhat(StrEnum):
    ORDERS = "orders"
    DISPUTES = "disputes"
    EVENTS = "events"


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="json (the whole ledger), jsonl, csv, or ics (a calendar of deadlines); "
            "default: from the -o file's extension, else json.",
        ),
    ] = None,
    what: Annotated[
        ExportWhat | None,
        typer.Option(
            metavar="WHAT",
            help="orders, disputes or events: the table for csv and jsonl (default orders).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here (default: stdout)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Short for --format json.")] = False,
) -> None:
    """Export the ledger for scripts and spreadsheets, or its deadlines for a calendar."""
    from refundctl.cli.views import gather

    e = env(ctx)
    if as_json:
        if format not in (None, ExportFormat.JSON):
            raise BadInput(
                f"--json is short for --format json; give one of them, not --format {format}"
            )
        format = ExportFormat.JSON
    format = format or _format_of(output)
    if output is not None:
        from refundctl.ledger.files import refuse_ledger_part

        refuse_ledger_part(output.expanduser(), e.db, "export")
    if format is ExportFormat.ICS:
        if what is not None:
            raise BadInput("--what goes with csv, jsonl or json, not with ics")
        from refundctl.render.calendar import feed

        disputes, orders = gather(e)
        data = feed(disputes, orders, e.now)
        count = sum(len(v.deadlines) for v in disputes) + sum(len(v.deadlines) for v in orders)
        summary = f"{count} deadline{'s' if count != 1 else ''}"
    elif format in (ExportFormat.CSV, ExportFormat.JSONL):
        _stream_table(e, format, (what or ExportWhat.ORDERS).value, output)
        return
    else:
        data, summary = _ledger_export(e, format, what)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomically(output.expanduser(), data)
    typer.echo(f"Wrote {summary} to {output}.")


def _stream_table(e: Env, format: ExportFormat, what: str, output: Path | None) -> None:
    """One table as CSV or JSON Lines, written as the ledger gives its rows: an export of any
    size in flat memory (to a file, under a temporary name until it is whole)."""
    import contextlib

    from refundctl.render import exporting
    from refundctl.views import dispute_view

    with contextlib.ExitStack() as stack:
        ledger = stack.enter_context(e.ledger(write=False))
        policy_for, zone, now = e.settings.policy_for, e.zone, e.now
        columns: tuple[str, ...]
        rows: Iterator[dict[str, Any]]
        # One stream of the ledger's at a time: each reads in a snapshot of its own.
        if what == "orders":
            orders = stack.enter_context(contextlib.closing(ledger.orders()))
            columns, rows = exporting.ORDER_COLUMNS, map(exporting.order_row, orders)
        elif what == "disputes":
            lines = stack.enter_context(contextlib.closing(ledger.each_dispute_line(now)))
            columns, rows = exporting.DISPUTE_COLUMNS, map(exporting.dispute_row, lines)
        else:
            records = stack.enter_context(contextlib.closing(ledger.disputes()))
            views = (dispute_view(r, policy_for, zone, now, found) for r, found in records)
            columns, rows = exporting.EVENT_COLUMNS, exporting.event_rows_of(views)
        counted = _Counted(rows)
        if format is ExportFormat.CSV:
            text = exporting.csv_lines(columns, counted)
        else:
            text = exporting.jsonl_lines(counted)
        if output is None:
            emit_streamed(text)
            return
        write_atomically(output.expanduser(), text)
    typer.echo(f"Wrote {counted.count} {what} to {output}.")


class _Counted:
    """The rows that went by, counted, for the line that says what was written."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.count += 1
            yield row


def _format_of(output: Path | None) -> ExportFormat:
    """``-o deadlines.ics`` means ics, ``-o orders.csv`` csv; otherwise the whole ledger."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    try:
        return ExportFormat(suffix)
    except ValueError:
        return ExportFormat.JSON


def _ledger_export(e: Env, format: ExportFormat, what: ExportWhat | None) -> tuple[bytes, str]:
    import json

    from refundctl.render import exporting
    from refundctl.views import dispute_view

    with e.ledger(write=False) as ledger:
        orders = list(ledger.orders())
        records = [record for record, _ in ledger.disputes()]
    disputes = [dispute_view(r, e.settings.policy_for, e.zone, e.now) for r in records]
    if format is ExportFormat.JSON and what is None:
        document = exporting.whole_ledger(orders, disputes, e.now)
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        return text.encode(), f"{len(orders)} orders and {len(disputes)} disputes"
    chosen = (what or ExportWhat.ORDERS).value
    columns, rows = exporting.table(chosen, orders, disputes, e.now)
    if format is ExportFormat.CSV:
        text = exporting.to_csv(columns, rows)
    elif format is ExportFormat.JSONL:
        text = exporting.to_jsonl(rows)
    else:
        text = json.dumps({chosen: rows}, indent=2, ensure_ascii=False) + "\n"
    return text.encode(), f"{len(rows)} {chosen}"


def write_atomically(path: Path, data: bytes | Iterable[str]) -> None:
    """Write beside the target and rename, so a subscribed calendar never reads half a file.
    ``data`` is the bytes, or text that comes a piece at a time (written as UTF-8)."""
    if path.is_dir():
        raise BadInput(f"{path} is a directory; give a file name such as refunds.ics")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise BadInput(f"no such folder: {folder}")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # A device, a pipe or a link (/dev/null, /dev/stdout, a FIFO) is written into: renamed
        # over, it would be replaced by a plain file.
        with path.open("wb") as out:
            _write(out, data)
        return
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            _write(out, data)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _write(out: BinaryIO, data: bytes | Iterable[str]) -> None:
    if isinstance(data, bytes):
        out.write(data)
    else:
        out.writelines(piece.encode() for piece in data)
