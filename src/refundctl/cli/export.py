"""``refundctl export``: the ledger's deadlines as a calendar feed (more formats to come)."""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import env
from refundctl.errors import BadInput


class ExportFormat(StrEnum):
    ICS = "ics"


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", metavar="FORMAT", help="ics: a calendar feed."),
    ] = ExportFormat.ICS,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here (default: stdout)."),
    ] = None,
) -> None:
    """Export every open deadline as a calendar (re-export to update it in place)."""
    from refundctl.cli.views import gather
    from refundctl.render.calendar import feed

    e = env(ctx)
    disputes, orders = gather(e)
    data = feed(disputes, orders, e.now)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomically(output.expanduser(), data)
    count = sum(len(v.deadlines) for v in disputes) + sum(len(v.deadlines) for v in orders)
    typer.echo(f"Wrote {count} deadline{'s' if count != 1 else ''} to {output}.")


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a subscribed calendar never reads half a file."""
    if path.is_dir():
        raise BadInput(f"{path} is a directory; give a file name such as refunds.ics")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise BadInput(f"no such folder: {folder}")
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
