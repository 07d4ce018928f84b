"""The command line: a Typer app whose group turns every error into one line and an exit code.

``RefundctlGroup.main`` is the single place where exceptions meet the user: usage errors and
``BadInput`` exit 2, an unusable ledger 3, a locked one 75, and anything unexpected 70 with a
short message (the traceback only with ``REFUNDCTL_DEBUG=1``). Commands live one group per
module and are registered by importing them at the bottom of this file.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # Typer 0.29 vendors click
from typer.core import TyperGroup

from refundctl import __version__
from refundctl.cli.common import Env, error_line, problem_line
from refundctl.errors import RefundctlError

EXIT_INTERNAL = 70
MAX_PROBLEM_LINES = 100


class RefundctlGroup(TyperGroup):
    """A Typer group whose ``main`` maps every failure to DESIGN.md's exit codes."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = run_safely(
            lambda: super(RefundctlGroup, self).main(
                args=args,
                prog_name=prog_name or "refundctl",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        )
        if standalone_mode:
            sys.exit(code)
        return code


def run_safely(invoke: Any) -> int:
    """Run the command; return its exit code, printing one line for any failure."""
    try:
        result = invoke()
    except RefundctlError as error:
        error_line(error.message)
        for line in getattr(error, "problems", [])[:MAX_PROBLEM_LINES]:
            problem_line(line)
        more = len(getattr(error, "problems", [])) - MAX_PROBLEM_LINES
        if more > 0:
            problem_line(f"… and {more} more")
        return error.exit_code
    except ClickException as error:
        context = getattr(error, "ctx", None)
        where = f" (see '{context.command_path} --help')" if context is not None else ""
        message = error.format_message()
        option = getattr(error, "option_name", "") or ""
        if option[1:2].isdigit():
            # "-5" was read as an option: it can only have been meant as an amount.
            message = f"amounts must be positive, got {option}"
        error_line(f"{message}{where}")
        return error.exit_code
    except typer.Abort:
        error_line("aborted; nothing was recorded")
        return 130
    except KeyboardInterrupt:
        error_line("interrupted; nothing was recorded")
        return 130
    except UnicodeEncodeError:
        # An argument that is not valid UTF-8 reaches Python as surrogates; SQLite and the
        # terminal refuse them, and the transaction was rolled back.
        error_line("an argument is not valid UTF-8 text; retype it, or pass a file instead")
        return 2
    except BrokenPipeError:
        # The reader went away (``| head``): not our failure, and nothing to say.
        _silence_stdout()
        return 0
    except Exception as error:  # the last resort: a bug must not show a traceback
        if os.environ.get("REFUNDCTL_DEBUG") == "1":
            traceback.print_exc()
        error_line(
            f"internal error ({type(error).__name__}: {error}); this is a bug in refundctl. "
            "Run again with REFUNDCTL_DEBUG=1 for details; the ledger was left as before"
        )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - a test runner's fake stdout
        pass


app = typer.Typer(
    cls=RefundctlGroup,
    name="refundctl",
    help="A buyer's own ledger of refund disputes, with every marketplace deadline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"refundctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="REFUNDCTL_DB",
            metavar="PATH",
            help="The ledger file (default: ledger.db in the user data directory).",
            dir_okay=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            envvar="REFUNDCTL_NOW",
            help="Take WHEN as now, for every deadline and default --on.",
            metavar="WHEN",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """refundctl keeps your refund claims, their offers and evidence, and every deadline."""
    source = ctx.get_parameter_source("as_of")
    as_of_name = (
        "--as-of" if source is not None and source.name == "COMMANDLINE" else "REFUNDCTL_NOW"
    )
    ctx.obj = Env.create(db=db, as_of=as_of, explicit_db=_db_given(ctx), as_of_name=as_of_name)


def _db_given(ctx: typer.Context) -> bool:
    """Whether --db was on the command line (not only in REFUNDCTL_DB)."""
    source = ctx.get_parameter_source("db")
    return source is not None and source.name == "COMMANDLINE"


def main() -> None:
    """The console script: ``refundctl``."""
    app()


from refundctl.cli import demo as _demo  # noqa: E402
from refundctl.cli import disputes, orders, views  # noqa: E402  (registers the commands)
from refundctl.cli import evidence as evidence  # noqa: E402  (verify, bundle, draft)
from refundctl.cli import export as _export  # noqa: E402
from refundctl.cli import policies as _policies  # noqa: E402

__all__ = ["app", "disputes", "main", "orders", "views"]
_ = (_demo, _export, _policies)
from refundctl.cli import backup as backup  # noqa: E402  (backup, restore)
