"""Docs that cannot drift: every command and option is documented, the README's commands run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from refundctl.cli import app
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMMANDS_DOC = (ROOT / "docs" / "commands.md").read_text()


def _commands() -> list[tuple[str, object]]:
    root = typer.main.get_command(app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            found += [(f"{name} {child}", cmd) for child, cmd in sub.items()]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda v: str(v))
def test_every_command_has_help_and_a_section_in_the_reference(name: str, command) -> None:
    assert (command.help or "").strip(), f"{name} has no help text"
    assert f"### `{name}" in COMMANDS_DOC, f"{name} is missing from docs/commands.md"


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda v: str(v))
def test_every_option_is_in_the_reference(name: str, command) -> None:
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in {"--help"}:
                assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", COMMANDS_DOC), (
                    f"{name} {opt} is missing from docs/commands.md"
                )


def _readme_block(after: str) -> str:
    section = README.split(after, 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _readme_block("## Run the tests").strip()
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines == [test_command]


def test_the_readme_first_command_installs_and_runs_the_demo() -> None:
    assert _readme_block("## Try it").strip().endswith("pip install . && refundctl demo")


def test_the_readme_tour_runs(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "box.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    (tmp_path / "unboxing.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 a video")
    script = _readme_block("## A tour").replace("\\\n", " ")
    commands = [line for line in script.splitlines() if line.startswith("refundctl ")]
    assert len(commands) >= 10
    for line in commands:
        words = shlex.split(line.split("||")[0])
        result = cli(*words[1:])
        allowed = {0, 1} if words[1] == "check" else {0}
        assert result.exit_code in allowed, f"{line}: {result.stderr}"
    assert cli("status", "1", "--json").json()["state"] == "refunded"


def test_migration_names_match_the_migrations() -> None:
    from refundctl.ledger.migrations import migrations
    from refundctl.ledger.schema import MIGRATION_NAMES

    assert tuple(m.name for m in migrations._migrations) == MIGRATION_NAMES


def test_every_exit_code_is_in_the_readme() -> None:
    for code in (0, 1, 2, 3, 70, 75):
        assert re.search(rf"^\| {code} \|", README, re.MULTILINE)


def test_every_test_the_data_page_names_exists() -> None:
    """docs/data.md backs each guarantee with a test: each one it names must be there."""
    page = (ROOT / "docs" / "data.md").read_text()
    named = re.findall(r"`(tests/test_\w+\.py)(?:::(\w+))?`", page)
    assert len(named) >= 15
    for path, name in named:
        source = (ROOT / path).read_text()
        if name:
            assert re.search(rf"^(def |class ){name}\b|^{name} = ", source, re.MULTILINE), (
                f"docs/data.md names {path}::{name}, which does not exist"
            )
    shorthand = re.findall(r"`…::(\w+)`", page)  # "…::name" after a named tests/test_backup.py
    backup_tests = (ROOT / "tests" / "test_backup.py").read_text()
    for name in shorthand:
        assert f"def {name}(" in backup_tests, name
