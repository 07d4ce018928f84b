"""``backup`` and ``restore``: the ledger and its evidence in one archive, and back.

``backup`` opens the ledger read-only and hands it to ``ledger.backup``, which takes SQLite's
online snapshot: safe while other commands run. ``restore`` checks the whole archive before it
touches the ledger, refuses to replace one unless told, and keeps the one it replaces.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import JSON_OPTION, emit_json, env, say, warn
from refundctl.errors import BadInput
from refundctl.timeparse import from_iso, iso

Json = Annotated[bool, JSON_OPTION]


@app.command()
def backup(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The archive to write, e.g. refundctl-backup.zip."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: Json = False,
) -> None:
    """Write the ledger and its evidence to one zip; safe while other commands run."""
    from refundctl.ledger.backup import write_backup

    e = env(ctx)
    if not e.db.exists():
        raise BadInput(f"there is no ledger at {e.db}, so nothing to back up")
    with e.ledger(write=False) as ledger:
        summary = write_backup(ledger, file, force=force, now=e.now)
    for sha256 in summary.missing:
        warn(
            f"stored file {sha256[:12]}… is missing or altered and is not in the backup; "
            "'refundctl verify' says which evidence it is"
        )
    c = summary.contents
    if as_json:
        emit_json(
            {
                "archive": str(summary.archive),
                "ledger": str(summary.ledger),
                "created": iso(summary.created),
                "schema": c.schema,
                "orders": c.orders,
                "disputes": c.disputes,
                "events": c.events,
                "files": summary.files,
                "bytes": summary.size,
                "missing": list(summary.missing),
                "ok": not summary.missing,
            }
        )
    else:
        say(
            f"Backed up {summary.ledger} to {summary.archive}:\n"
            f"  {_counts(c.orders, c.disputes, c.events)}; "
            f"{_files(summary.files)} ({_size(summary.size)})."
        )
    raise typer.Exit(1 if summary.missing else 0)


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="An archive that 'refundctl backup' wrote.")
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the ledger that is there (it is kept beside it, renamed)."
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Put a backup back: every file checked against its hash before the ledger is replaced."""
    from refundctl.ledger.backup import restore_backup

    e = env(ctx)
    summary = restore_backup(file, e.db, force=force, now=e.now)
    for sha256 in summary.missing:
        warn(
            f"stored file {sha256[:12]}… was already missing when the backup was taken; "
            "attach the original again to restore it"
        )
    c = summary.contents
    if as_json:
        emit_json(
            {
                "archive": str(summary.archive),
                "ledger": str(summary.ledger),
                "evidence_dir": str(summary.evidence_dir),
                "created": summary.created,
                "schema": c.schema,
                "orders": c.orders,
                "disputes": c.disputes,
                "events": c.events,
                "files": summary.files,
                "written": summary.written,
                "missing": list(summary.missing),
                "replaced": None if summary.kept is None else str(summary.kept),
                "ok": not summary.missing,
            }
        )
    else:
        lines = [
            f"Restored {summary.archive} (taken {_local(summary.created, e.zone)}) "
            f"to {summary.ledger}:",
            f"  {_counts(c.orders, c.disputes, c.events)}; "
            f"{_files(summary.files)}, each checked against its SHA-256.",
        ]
        if summary.kept is not None:
            lines.append(f"  The ledger that was there is kept as {summary.kept}.")
        say("\n".join(lines))
    raise typer.Exit(1 if summary.missing else 0)


def _local(text: str, zone: tzinfo) -> str:
    try:
        moment = from_iso(text)
    except ValueError:
        return text
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}".strip()


def _counts(orders: int, disputes: int, events: int) -> str:
    return f"{_n(orders, 'order')}, {_n(disputes, 'dispute')}, {_n(events, 'event')}"


def _files(count: int) -> str:
    return _n(count, "evidence file")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
