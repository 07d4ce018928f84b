"""Start-up stays light (issue 7): a command imports what it uses, and nothing heavy it doesn't.

Each run is a fresh interpreter, since an in-process run would find everything the test suite
has already imported. Timing is for ``benchmarks/startup.py``; these tests check only what gets
imported, what lazily built commands look like, that parameters converted without pydantic
come out as Typer's own conversion makes them, and that Typer's private API is used from
cli/coercion.py alone and still as that module expects.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

import refundctl.cli
from refundctl import __version__
from refundctl.cli import COMMAND_MODULES, app
from refundctl.cli.coercion import (
    LARGEST,
    Command,
    Context,
    PlainRuntimeParam,
    TyperGroup,
    TyperParameter,
    build_runtime_param,
    registered_name,
)
from refundctl.errors import BadInput
from tests.conftest import Cli

HEAVY = ("rich", "icalendar", "holidays", "hypothesis", "sqlite_utils", "pydantic")

# Runs the console script's main() with the given arguments, then reports the modules loaded.
RUN_AND_REPORT = """
import json, sys
sys.argv = ["refundctl", *sys.argv[1:]]
from refundctl.cli import main
try:
    main()
finally:
    sys.stderr.write("\\nloaded: " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def run(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The run, and the packages and modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, *args], capture_output=True, text=True, timeout=60
    )
    report = done.stderr.rsplit("\nloaded: ", 1)
    assert len(report) == 2, done.stderr
    modules = json.loads(report[1])
    return done, {name.split(".")[0] for name in modules} | set(modules)


def test_version_loads_nothing_heavy() -> None:
    done, loaded = run("--version")
    assert (done.returncode, done.stdout) == (0, f"refundctl {__version__}\n")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize("module", HEAVY)
def test_check_json_on_an_empty_ledger_does_not_load(module: str, empty_ledger: Path) -> None:
    done, loaded = run("check", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"] == []
    assert module not in loaded


@pytest.mark.parametrize("module", HEAVY)
def test_check_on_a_missing_ledger_says_so_without_loading(module: str, isolated: Path) -> None:
    done, loaded = run("check", "--json")
    assert done.returncode == 3, done.stderr
    assert "no ledger at" in done.stderr
    assert not isolated.exists()
    assert module not in loaded


# What `check` leaves unloaded when it answers from the ledger's stored deadlines.
DOMAIN_MODEL = (
    "refundctl.domain",
    "refundctl.deadlines",
    "refundctl.views",
    "refundctl.ledger.store",
)


@pytest.mark.parametrize("output", [["--json"], []], ids=["json", "lines"])
def test_check_answers_from_stored_deadlines_without_the_domain_model(
    story: Cli, ledger_path: Path, output: list[str]
) -> None:
    done, loaded = run("check", "--within", "30d", "--all", *output)
    assert done.returncode == 0, done.stderr  # only the seller's clock runs: listed with --all
    assert done.stdout == story("check", "--within", "30d", "--all", *output).stdout
    assert ("seller_response" if output else "seller's answer") in done.stdout
    assert loaded.isdisjoint(DOMAIN_MODEL), loaded & set(DOMAIN_MODEL)


def test_check_computes_afresh_with_the_domain_model_when_the_policies_changed(
    story: Cli, ledger_path: Path, isolated: Path
) -> None:
    config = isolated.parent / "config.toml"
    config.write_text('timezone = "UTC"\n[marketplaces.aliexpress]\nseller_response = "2d"\n')
    done, loaded = run("check", "--within", "30d", "--json")
    assert done.returncode == 1, done.stderr
    assert '"origin": "config"' in done.stdout  # the new rule, not the stored rows' old one
    assert "refundctl.domain" in loaded


def test_check_on_an_empty_ledger_in_utc_needs_neither_the_policies_nor_a_zone_database(
    empty_ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (empty_ledger.parent / "config.toml").write_text("")
    monkeypatch.setenv("TZ", "UTC")
    done, loaded = run("check", "--json")
    assert done.returncode == 0, done.stderr
    assert {"refundctl.policies", "zoneinfo", *DOMAIN_MODEL}.isdisjoint(loaded)


def test_a_command_loads_only_its_own_module(empty_ledger: Path) -> None:
    done, loaded = run("check", "--json")
    assert done.returncode == 0, done.stderr
    commands = {f"refundctl.cli.{module}" for module in COMMAND_MODULES.values()}
    assert commands & loaded == {"refundctl.cli.check"}


def test_help_lists_every_command_in_order(cli: Cli) -> None:
    listed = cli("--help").stdout.split("Commands:\n", 1)[1].splitlines()
    # A command's line starts two spaces in; a wrapped help line further in.
    names = [line.split()[0] for line in listed if line.startswith("  ") and line[2] != " "]
    assert names == list(COMMAND_MODULES)


def test_every_registered_command_is_listed_with_its_module() -> None:
    for module in pkgutil.iter_modules(refundctl.cli.__path__):
        importlib.import_module(f"refundctl.cli.{module.name}")
    registered = {}
    for info in app.registered_commands:
        assert info.callback is not None
        registered[registered_name(info)] = info.callback.__module__
    for group in app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        callback = group.typer_instance.registered_commands[0].callback
        assert callback is not None
        registered[group.name] = callback.__module__
    assert registered == {name: f"refundctl.cli.{m}" for name, m in COMMAND_MODULES.items()}


def _commands(command: Command, path: str = "") -> Iterator[tuple[str, Command]]:
    yield path or "refundctl", command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}".strip())


def _samples(tmp_path: Path) -> list[Any]:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    texts = ["", "abc", "0", "7", "007", "-1", "+5", " 5", "1.5", "1_000", "9" * 30, "٣"]
    texts += ["json", "JSON", "csv", "buyer", "missing-parts", "seller", "x\udcff"]
    texts += [".", "./x", "a//b", str(tmp_path), f"{tmp_path}/", str(a_file), f"{a_file}/"]
    texts += [str(tmp_path / "absent" / "ledger.db")]
    return [None, (), 0, 5, -3, True, 2.5, a_file, *texts, tuple(texts[:3]), ["1", "2"]]


def _outcome(convert: Any, value: Any, param: TyperParameter, ctx: Context) -> Any:
    try:
        result = convert.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as error:
        return ("refused", error.format_message())
    except BadInput as error:  # refundctl's own words for a number or a choice
        return ("refused in refundctl's words", str(error))
    return ("converted", type(result), result)


def _same(value: Any, plain: Any, typers: Any) -> bool:
    """Both convert to the same value, or both refuse (in Typer's words, or ours). A bool or
    a float for a whole number comes from no command line; Typer takes True as 1, we refuse.
    A number past SQLite's integers Typer takes, and we refuse before it reaches the ledger."""
    if plain[0] == "refused in refundctl's words":
        too_large = typers[0] == "converted" and typers[1] is int and typers[2] > LARGEST
        return typers[0] == "refused" or too_large or type(value) in (bool, float)
    return bool(plain == typers)


def test_parameters_convert_as_typer_converts_them(tmp_path: Path) -> None:
    samples = _samples(tmp_path)
    root = typer.main.get_command(app)
    checked = 0
    for _, command in _commands(root):
        ctx = Context(command)
        for param in command.get_params(ctx):
            if not isinstance(param, TyperParameter):
                continue
            plain = param.get_runtime_param()
            if param.type_descriptor.file_annotation is not None:
                assert not isinstance(plain, PlainRuntimeParam)
                continue
            assert isinstance(plain, PlainRuntimeParam)
            typers = build_runtime_param(param.type_descriptor)
            for value in samples:
                expected = _outcome(typers, value, param, ctx)
                got = _outcome(plain, value, param, ctx)
                assert _same(value, got, expected), (param.name, value, got, expected)
                checked += 1
    assert checked > 1000


PRIVATE = ("typer._", "typer.core", "typer.models", "typer.main")


def _private_uses(tree: ast.AST) -> list[str]:
    """The Typer modules outside its public API that a module imports or names: ``typer._*``
    (the vendored Click among them), ``typer.core``, ``typer.models`` and ``typer.main``."""
    names = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    names += [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [
        f"typer.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "typer"
    ]
    return [name for name in names if name.startswith(PRIVATE)]


def test_typers_private_api_is_used_in_cli_coercion_only() -> None:
    """Which of Typer's private layers refundctl relies on, checked where a change in Typer
    would otherwise go unnoticed.

    1. No module under src/refundctl but cli/coercion.py imports or names ``typer._*``,
       ``typer.core``, ``typer.models`` or ``typer.main``.
    2. Every method that refundctl's subclasses of Typer's classes define (in cli/coercion.py,
       and RefundctlGroup in cli/__init__.py) overrides one that Typer's class still has: a
       hook Typer renamed would never be called, and nothing would fail.
    3. The state refundctl replaces on Typer's objects is still what Typer reads: each
       parameter Typer builds for ``status`` has a ``_runtime_param``, and once the command
       has handed its parameters out, ``get_runtime_param`` returns the PlainRuntimeParam
       put there; the root group's ``get_command`` finds a command in the ``commands`` that
       RefundctlGroup replaces with its lazy mapping.

    A name that Typer moves out of a module cli/coercion.py imports from fails sooner, at
    that import, for the CLI and for every test, with an ImportError saying so.
    """
    import refundctl.cli.coercion as fence
    from refundctl.cli import RefundctlGroup

    src = Path(refundctl.__file__).parent
    for module in sorted(src.rglob("*.py")):
        used = _private_uses(ast.parse(module.read_text()))
        if module == Path(fence.__file__):
            assert used, "the fence uses Typer's private layers"
            continue
        assert not used, f"{module.relative_to(src)} uses {used}: go through cli/coercion.py"

    subclasses = [
        fence.PlainRuntimeParam,
        fence.PlainCommand,
        fence.PlainGroup,
        fence.PlainArgument,
        fence.PlainTyper,
        RefundctlGroup,
    ]
    for cls in subclasses:
        for name, value in vars(cls).items():
            if callable(value) and not name.startswith("__"):
                assert any(hasattr(base, name) for base in cls.__mro__[1:]), (
                    f"Typer {typer.__version__}'s {cls.__mro__[1].__name__} has no {name}: "
                    f"{cls.__name__}.{name} is never called; cli/coercion.py must follow"
                )

    root = typer.main.get_command(app)
    assert isinstance(root, RefundctlGroup)
    assert root.get_command(Context(root), "check") is root.commands["check"]
    command = root.commands["status"]  # built afresh by this root, its parameters untouched
    built = [param for param in command.params if isinstance(param, TyperParameter)]
    assert built and all("_runtime_param" in vars(param) for param in built)
    for param in command.get_params(Context(command)):
        if isinstance(param, TyperParameter) and param.type_descriptor.file_annotation is None:
            assert param.get_runtime_param() is vars(param)["_runtime_param"]
            assert isinstance(param.get_runtime_param(), PlainRuntimeParam)
