"""Typer's conversion of option and argument values, without pydantic where none is needed.

Typer 0.29 converts every parameter's value through a pydantic ``TypeAdapter``, built the first
time the parameter is parsed, even for an option left at its default. Importing pydantic for
that costs more than everything else ``refundctl check`` does. The values refundctl's commands
take are text, whole numbers, paths, choices and lists of those: ``PlainRuntimeParam`` converts
these as Typer's adapters do, with Typer's own helpers, and passes anything else (every value
Typer would refuse among them) on to Typer's pydantic conversion, so that errors read the same.
Commands and groups made by a ``PlainTyper`` give it to every parameter they parse, the help
option included. A whole number or a choice that does not convert is refused here, in
refundctl's words ("--limit: 'abc' is not a whole number"), not pydantic's ("Input should be a
valid integer"). Arguments show in help as Click shows them (``ORDER_NO``, ``[FILE]...``), not
as Typer 0.29 does (``{ORDER_NO}``, ``<str>``). It uses Typer's private conversion and help
layers: pyproject pins typer to the 0.29 series, and a Typer that moved what this module uses
fails at the imports below, or in tests/test_startup.py's fence test.

``build_registered`` builds one registered command or group, as Typer builds its group's
commands, so that the root group can build each command only when it is looked up: Typer's
public ``typer.main.get_command`` builds them all at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import typer

# Typer's private modules and typer.main's undocumented builders, used here and nowhere else
# in refundctl (tests/test_startup.py holds every other module to that). cli/__init__ and the
# tests take Click's classes from here: Typer 0.29 vendors Click as typer._click.
try:
    from typer._click import Command, Context, HelpFormatter, Parameter
    from typer._click.exceptions import NoArgsIsHelpError
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path
    from typer.core import TyperArgument, TyperCommand, TyperGroup, _TyperParameter
    from typer.main import get_command_from_info, get_command_name, get_group_from_info
    from typer.models import CommandInfo, ParameterInfo
except ImportError as moved:  # pragma: no cover - only on a Typer this was not written for
    raise ImportError(
        f"Typer {typer.__version__} has moved a private name refundctl uses ({moved}): "
        "src/refundctl/cli/coercion.py must follow the upgrade, or typer be pinned back"
    ) from moved

from refundctl.errors import BadInput

__all__ = [
    "Command",
    "Context",
    "NoArgsIsHelpError",
    "PlainGroup",
    "PlainRuntimeParam",
    "PlainTyper",
    "TyperGroup",
    "TyperParameter",
    "build_registered",
    "build_runtime_param",
    "registered_name",
]

# Typer's base of every parameter it makes, for the tests' isinstance checks.
TyperParameter = _TyperParameter

Function = TypeVar("Function", bound=Callable[..., Any])

# The largest whole number any option takes: what SQLite stores in an integer.
LARGEST = 2**63 - 1


class _ForTyper(Exception):
    """This value needs Typer's own conversion."""


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Converts the values that need no pydantic; hands the rest to Typer."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        try:
            return _convert(self.annotation, self.parameter_info, value, param, ctx)
        except _ForTyper:
            typer_param = build_runtime_param(param.type_descriptor)
            return typer_param._coerce_value(value, param=param, ctx=ctx)


class PlainCommand(TyperCommand):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return plain_coercion(super().get_params(ctx))


class PlainGroup(TyperGroup):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return plain_coercion(super().get_params(ctx))

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """Each command with its first sentence whole, wrapped to the terminal (Click cuts
        it to one line with "...")."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class PlainTyper(typer.Typer):
    """A Typer app whose commands are ``PlainCommand``s (pass ``cls=PlainGroup``, or a
    subclass, for its group)."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any
    ) -> Callable[[Function], Function]:
        return super().command(name, cls=cls or PlainCommand, **options)


class PlainArgument(TyperArgument):
    """An argument as Click shows it: no type label beside its name in the help, and
    ``NAME``, ``[NAME]`` or ``[NAME]...`` in the usage line."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.removesuffix("...")
        many = "..." if self.nargs != 1 else ""
        return f"{name}{many}" if self.required else f"[{name}]{many}"


def registered_name(info: CommandInfo) -> str:
    """The name a command registered with ``@app.command()`` goes by."""
    assert info.callback is not None
    return info.name or get_command_name(info.callback.__name__)


def build_registered(app: typer.Typer, name: str) -> Command | None:
    """The command or group ``app`` registers as ``name``, built as ``typer.main.get_command``
    builds the commands of ``app``'s group; None if ``app`` registers no such command."""
    for info in app.registered_commands:
        if registered_name(info) == name:
            return get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
    for group in app.registered_groups:
        if group.name == name:
            return get_group_from_info(
                group,
                pretty_exceptions_short=app.pretty_exceptions_short,
                suggest_commands=app.suggest_commands,
                rich_markup_mode=app.rich_markup_mode,
            )
    return None


def plain_coercion(params: list[Parameter]) -> list[Parameter]:
    """Give each Typer parameter plain conversion (a file parameter keeps Typer's, which opens
    the file and needs no pydantic), and each argument Click's way of showing itself."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = PlainArgument
        if (
            isinstance(param, _TyperParameter)
            and not isinstance(param._runtime_param, PlainRuntimeParam)
            and param.type_descriptor.file_annotation is None
        ):
            descriptor = param.type_descriptor
            param._runtime_param = PlainRuntimeParam(
                annotation=descriptor.annotation, parameter_info=descriptor.parameter_info
            )
    return params


def _convert(
    annotation: Any, info: ParameterInfo, value: Any, param: _TyperParameter, ctx: Context
) -> Any:
    if info.parser is not None:
        raise _ForTyper
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        items = value if isinstance(value, list | tuple) else [value]
        return [_convert(item_type, info, item, param, ctx) for item in items]
    if annotation is str and type(value) is str:
        return value
    if annotation is int and info.clamp is not True:
        return _whole_number(value, info, _name(param))
    if annotation is Path and info.path_type is None and isinstance(value, str | Path):
        path = Path(value)
        if str(path) != str(value) or "\x00" in str(value):
            # "", "a//b", "dir/": Typer's messages quote the text as given; a NUL byte no
            # file name can hold, and Typer's validation says so.
            raise _ForTyper
        return coerce_cli_path(path, info, path_type=Path, param=param, ctx=ctx)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(
                value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            choices = ", ".join(str(choice.value) for choice in annotation)
            raise BadInput(f"{_name(param)}: {value!r} is not one of {choices}") from None
    raise _ForTyper


def _name(param: Parameter) -> str:
    """How the user wrote the parameter: its longest option name, or the argument's name."""
    if param.param_type_name == "argument":
        return (param.metavar or param.name or "").upper().removesuffix("...")
    return max(param.opts, key=len)


def _whole_number(value: Any, info: ParameterInfo, name: str) -> int:
    number: int | None = value if type(value) is int else None
    if type(value) is str and value.isascii():
        # What Typer takes ("+5", " 5", "1_000", not "٣"); "1.5" is not a count.
        with contextlib.suppress(ValueError):
            number = int(value)
    if number is None:
        hint = (
            "dispute numbers are the ones 'open' printed ('refundctl status' lists them)"
            if name == "DISPUTE"
            else "give one such as 3"
        )
        raise BadInput(f"{name}: {value!r} is not a whole number; {hint}")
    least = info.min if info.min is not None else None
    most = min(int(info.max), LARGEST) if info.max is not None else LARGEST
    if least is not None and number < least:
        raise BadInput(f"{name}: {number} is below {least}; give {least} or more")
    if number > most:
        if name == "DISPUTE":  # no dispute has such a number: say so as for any other
            raise BadInput(
                f"unknown dispute {number}; 'refundctl status --all' lists your disputes"
            )
        raise BadInput(f"{name}: {number} is too large; at most {most:,}")
    return number
