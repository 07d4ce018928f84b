"""``refundctl demo``: build the sample ledger in a place of its own and show its status."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import JSON_OPTION, env, say, show
from refundctl.config import demo_ledger_path
from refundctl.errors import BadInput
from refundctl.ledger.evidence import evidence_dir


def _remove_old_demo(path: Path) -> None:
    """The default demo ledger is rebuilt from scratch each time."""
    import shutil

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(evidence_dir(path), ignore_errors=True)


@app.command()
def demo(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", metavar="PATH", help="Build it here (a path that does not exist yet)."
        ),
    ] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Build a sample ledger (never your own) and show its status."""
    from refundctl import sample
    from refundctl.cli.views import gather

    e = env(ctx)
    if db is not None or e.explicit_db:
        path = (db or e.db).expanduser()
        if path.exists():
            raise BadInput(
                f"{path} exists already; demo builds a new ledger: "
                "give --db a path that does not exist"
            )
    else:
        path = demo_ledger_path()
        _remove_old_demo(path)
    with e.ledger(write=True, path=path) as ledger:
        sample.build(ledger, e.now)
    shown = replace(e, db=path, explicit_db=True)
    disputes, orders = gather(shown)
    if as_json:
        from refundctl.cli.common import emit_json
        from refundctl.render import jsonshape

        emit_json(jsonshape.status(disputes, orders, e.now))
        return
    from refundctl.render.tables import status_view

    show(status_view(disputes, orders, e.now, e.zone, 0))
    quoted = str(path) if " " not in str(path) else f'"{path}"'
    say(
        f"\nThis is a demo ledger at {quoted}. Look closer:\n"
        f"  refundctl --db {quoted} status 1\n"
        f"  refundctl --db {quoted} check --within 3d"
    )
