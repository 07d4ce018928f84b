"""Typer's conversion of option and argument values, without pydantic where none is needed.

Typer 0.29 converts every parameter's value through a pydantic ``TypeAdapter``, built the first
time the parameter is parsed, even for an option left at its default. Importing pydantic for
that costs more than everything else ``refundctl check`` does. The values refundctl's commands
take are text, whole numbers, paths, choices and lists of those: ``PlainRuntimeParam`` converts
these as Typer's adapters do, with Typer's own helpers, and passes anything else (every value
Typer would refuse among them) on to Typer's pydantic conversion, so that errors read the same.
Commands and groups made by a ``PlainTyper`` give it to every parameter they parse, the help
option included. It uses Typer's private conversion layer: pyproject pins typer to 0.29.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import typer
from typer._click import Context, Parameter  # Typer 0.29 vendors click
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path
from typer.core import TyperCommand, TyperGroup, _TyperParameter
from typer.models import ParameterInfo

Function = TypeVar("Function", bound=Callable[..., Any])

# Longer digit strings go to pydantic, whose limits on huge numbers are its own.
MAX_PLAIN_DIGITS = 18


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


class PlainTyper(typer.Typer):
    """A Typer app whose commands are ``PlainCommand``s (pass ``cls=PlainGroup``, or a
    subclass, for its group)."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any
    ) -> Callable[[Function], Function]:
        return super().command(name, cls=cls or PlainCommand, **options)


def plain_coercion(params: list[Parameter]) -> list[Parameter]:
    """Give each Typer parameter plain conversion (a file parameter keeps Typer's, which opens
    the file and needs no pydantic)."""
    for param in params:
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
        return _whole_number(value, info)
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
            raise _ForTyper from None
    raise _ForTyper


def _whole_number(value: Any, info: ParameterInfo) -> int:
    if type(value) is int:
        number = value
    elif type(value) is str and value.isascii() and value.isdigit():
        if len(value) > MAX_PLAIN_DIGITS:
            raise _ForTyper
        number = int(value)
    else:
        raise _ForTyper
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        raise _ForTyper  # Typer words the refusal
    return number
