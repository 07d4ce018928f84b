"""The command line: a Typer app whose group turns every error into one line and an exit code.

``RefundctlGroup.main`` is the single place where exceptions meet the user: usage errors and
``BadInput`` exit 2, an unusable ledger 3, a locked one 75, and anything unexpected 70 with a
short message (the traceback only with ``REFUNDCTL_DEBUG=1``). Commands live one group per
module; ``COMMAND_MODULES`` names each command's module, which is imported (and the command
built) only when that command is run or listed, so that ``refundctl check`` pays for ``check``
alone, not for every command's module and signature.
"""

# No `from __future__ import annotations` here: Typer reads these signatures on every run,
# and string annotations would cost it an eval each.
import importlib
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from refundctl import __version__
from refundctl.cli.coercion import (
    Command,
    Context,
    NoArgsIsHelpError,
    PlainGroup,
    PlainTyper,
    build_registered,
)
from refundctl.errors import RefundctlError

EXIT_INTERNAL = 70
MAX_PROBLEM_LINES = 100

# Every command, in the order --help lists them, and the module under refundctl.cli that
# registers it. A test checks this against what the modules register.
COMMAND_MODULES = {
    "demo": "demo",
    "open": "disputes",
    "attach": "disputes",
    "respond": "disputes",
    "escalate": "disputes",
    "resolve": "disputes",
    "cancel": "disputes",
    "undo": "disputes",
    "due": "disputes",
    "remedies": "remedies",
    "status": "views",
    "check": "check",
    "verify": "evidence",
    "bundle": "evidence",
    "draft": "evidence",
    "export": "export",
    "stats": "stats",
    "policies": "policies",
    "backup": "backup",
    "restore": "backup",
    "order": "orders",
}


class RefundctlGroup(PlainGroup):
    """The root group: every failure mapped to DESIGN.md's exit codes, and each command built
    the first time it is looked up (see ``LazyCommands``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.commands)

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names alone: no command is built to list it

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args, self.commands))

    def invoke(self, ctx: Context) -> Any:
        before = _commits()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Typer turns an interrupt into a silent exit 130: say what became of the command.
            from refundctl.errors import Interrupted

            if _commits() > before:
                raise Interrupted("interrupted after the change was recorded") from None
            raise Interrupted("interrupted; nothing was recorded") from None

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


# The root's options that take a value, which also work after the command's name
# (`refundctl status --db x.db`). `demo` has a --db of its own.
GLOBAL_OPTIONS = {"--db": frozenset({"demo"}), "--as-of": frozenset()}


def hoist_global_options(args: list[str], commands: Any) -> list[str]:
    """``args`` with the root's options moved before the command, wherever they were given;
    what follows a ``--`` is left alone."""
    position = _command_position(args, commands)
    if position is None:
        return args
    command = args[position]
    head, rest, moved = list(args[:position]), [], []
    tail = args[position + 1 :]
    index = 0
    while index < len(tail):
        token = tail[index]
        if token == "--":
            rest += tail[index:]
            break
        name = token.split("=", 1)[0]
        skip = GLOBAL_OPTIONS.get(name)
        if skip is not None and command not in skip:
            if "=" in token:
                moved.append(token)
            else:
                moved += tail[index : index + 2]
                index += 1
        else:
            rest.append(token)
        index += 1
    return [*head, *moved, command, *rest]


def _command_position(args: list[str], commands: Any) -> int | None:
    """Where the command's name is: the first word that is not a root option or its value."""
    index = 0
    while index < len(args):
        token = args[index]
        if token in GLOBAL_OPTIONS:
            index += 2
            continue
        if token.startswith("-"):
            index += 1
            continue
        return index if token in commands else None
    return None


def _commits() -> int:
    """How many write transactions this process has committed (0 before any ledger opened:
    the ledger layer is not loaded just to ask)."""
    connection = sys.modules.get("refundctl.ledger.connection")
    return 0 if connection is None else int(connection.commits)


def run_safely(invoke: Any) -> int:
    """Run the command; return its exit code, printing one line for any failure."""
    try:
        result = invoke()
    except RefundctlError as error:
        from refundctl.cli.common import error_line, problem_line

        error_line(error.message)
        for line in getattr(error, "problems", [])[:MAX_PROBLEM_LINES]:
            problem_line(line)
        more = len(getattr(error, "problems", [])) - MAX_PROBLEM_LINES
        if more > 0:
            problem_line(f"… and {more} more")
        return error.exit_code
    except NoArgsIsHelpError as error:
        # A bare `refundctl` (or `refundctl order`): the help, as --help prints it.
        sys.stdout.write(error.format_message() + "\n")
        return 0
    except typer.TyperException as error:  # what Typer's Click raises: usage errors and more
        from refundctl.cli.common import error_line

        context = getattr(error, "ctx", None)
        where = f" (see '{context.command_path} --help')" if context is not None else ""
        message = error.format_message()
        option = getattr(error, "option_name", "") or ""
        if option[1:2].isdigit():
            # "-5" reads as an option; no amount or dispute number refundctl takes is negative.
            message = (
                f"{option} is not an option, and no amount or dispute number is negative "
                "(a value starting with '-' is read as an option)"
            )
        error_line(f"{message}{where}")
        return error.exit_code
    except typer.Abort:
        from refundctl.cli.common import error_line

        error_line("aborted; nothing was recorded")
        return 130
    except KeyboardInterrupt:
        from refundctl.cli.common import error_line

        error_line("interrupted; nothing was recorded")
        return 130
    except UnicodeEncodeError:
        # An argument that is not valid UTF-8 reaches Python as surrogates; SQLite and the
        # terminal refuse them, and the transaction was rolled back.
        from refundctl.cli.common import error_line

        error_line("an argument is not valid UTF-8 text; retype it, or pass a file instead")
        return 2
    except BrokenPipeError:
        # The reader went away (``| head``): not our failure, and nothing to say.
        _silence_stdout()
        return 0
    except Exception as error:  # the last resort: a bug must not show a traceback
        from refundctl.cli.common import error_line

        condition = _condition(error)
        if condition is not None:  # the machine's state, not a bug: exit 3 like a ledger's
            error_line(f"{condition}; the ledger was left as before")
            return 3
        if os.environ.get("REFUNDCTL_DEBUG") == "1":
            import traceback

            traceback.print_exc()
        error_line(
            f"internal error ({type(error).__name__}: {error}); this is a bug in refundctl. "
            "Run again with REFUNDCTL_DEBUG=1 for details; the ledger was left as before"
        )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def _condition(error: Exception) -> str | None:
    """A full disk, a read-only or forbidden file, in words; None for anything else (a bug).

    SQLite reports a full disk as its own error; every other write as an ``OSError``."""
    import errno

    from refundctl.errors import NoSpace

    if type(error).__module__ == "sqlite3" and "disk is full" in str(error):
        return NoSpace("the ledger").message
    if type(error).__module__ == "sqlite3" and "disk I/O error" in str(error):
        # What SQLite says when its journal cannot grow on a full disk, or the disk fails.
        return (
            "the disk that holds the ledger failed a write (SQLite: disk I/O error): it may be "
            "full or failing; free some space or check it, then retry"
        )
    if not isinstance(error, OSError):
        return None
    where = error.filename or "the file being written"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(where).message
    if error.errno == errno.EROFS:
        return f"{where} is on a read-only file system: refundctl cannot write there"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied for {where}: refundctl cannot write there"
    return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - a test runner's fake stdout
        pass


app = PlainTyper(
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
    from refundctl.cli.common import Env

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


class LazyCommands(MutableMapping[str, Command]):
    """The root's subcommands by name, in ``COMMAND_MODULES`` order; a command's module is
    imported, and Typer builds the command from its signature, when it is first looked up.
    Whatever asks (running a command, --help, completion, a test walking the tree) sees every
    command; only what it looks at is built."""

    def __init__(self, built: Mapping[str, Command]) -> None:
        self._names = list(COMMAND_MODULES)
        self._built: dict[str, Command] = {}
        for name, command in built.items():
            self[name] = command

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in COMMAND_MODULES:
                raise KeyError(name)
            self._built[name] = _build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


def _build(name: str) -> Command:
    """Import the module that registers ``name`` and have Typer build that command."""
    module = f"refundctl.cli.{COMMAND_MODULES[name]}"
    importlib.import_module(module)
    command = build_registered(app, name)
    if command is None:  # pragma: no cover
        raise LookupError(f"{module} registers no command {name!r}")
    return command


__all__ = ["COMMAND_MODULES", "app", "main", "run_safely"]
