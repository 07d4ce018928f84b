"""``refundctl demo``: build the sample ledger in a place of its own and show its status.

The ledger is built in a folder beside its path and moved into place only when complete, so a
demo that is interrupted leaves no half-built ledger behind (the next one cleans up after it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import JSON_OPTION, Env, emit_streamed, env, say, show
from refundctl.config import demo_ledger_path
from refundctl.errors import BadInput
from refundctl.ledger.evidence import evidence_dir


def _remove_old_demo(path: Path) -> None:
    """The default demo ledger is rebuilt from scratch each time."""
    import shutil

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(evidence_dir(path), ignore_errors=True)


def _build_beside(e: Env, path: Path) -> None:
    from refundctl import sample
    from refundctl.ledger.backup import install_new_ledger
    from refundctl.ledger.files import work_folder

    path.parent.mkdir(parents=True, exist_ok=True)
    with work_folder(path, "demo") as work:
        built = work / path.name
        with e.ledger(write=True, path=built) as ledger:
            sample.build(ledger, e.now)
        install_new_ledger(built, path, replace=False, now=e.now)


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
    _build_beside(e, path)
    shown = e._replace(db=path, explicit_db=True)
    disputes, orders = gather(shown)
    if as_json:
        from refundctl.render import jsonshape

        emit_streamed(jsonshape.status(disputes, orders, e.now))
        return
    from refundctl.render.tables import status_view

    show(status_view(disputes, 0, orders, 0, e.now, e.zone))
    quoted = str(path) if " " not in str(path) else f'"{path}"'
    # The path only in the commands, which stay whole to be copied: at 80 columns a sentence
    # holding it would break mid-word.
    say(
        "\nThis is a demo ledger, of its own file. Look closer:\n"
        f"  refundctl --db {quoted} status 1\n"
        f"  refundctl --db {quoted} check --within 3d"
    )
