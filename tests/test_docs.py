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


def test_the_readme_tour_runs_exactly_as_written(tmp_path: Path) -> None:
    """The tour's block, run by bash as a reader would paste it, on a fresh "machine": an
    empty home, no ledger, the real clock, only the refundctl this checkout installed."""
    import json
    import subprocess
    import sys

    script = _readme_block("## A tour")
    bin_dir = str(Path(sys.executable).parent)
    machine = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=machine, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Opened dispute 1" in done.stdout
    assert "error" not in done.stderr, done.stderr
    shown = subprocess.run(
        ["refundctl", "status", "1", "--json"],
        cwd=tmp_path,
        env={**machine, "REFUNDCTL_DB": str(tmp_path / "tour.db")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout)["state"] == "refunded"
    assert [e["kind"] for e in json.loads(shown.stdout)["evidence"]] == ["photo", "video"]
    assert not (tmp_path / ".local").exists()  # the reader's own ledger was never touched


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


def test_the_export_page_lists_every_csv_column() -> None:
    from refundctl.render import exporting, policyview

    page = (ROOT / "docs" / "export.md").read_text()
    rows = dict(re.findall(r"^\| `([^|]+)` \| ([a-z_, ]+) \|$", page, re.MULTILINE))
    assert rows["orders"].split(", ") == list(exporting.ORDER_COLUMNS)
    assert rows["disputes"].split(", ") == list(exporting.DISPUTE_COLUMNS)
    assert rows["events"].split(", ") == list(exporting.EVENT_COLUMNS)
    assert rows["order list"].split(", ") == list(exporting.ORDER_COLUMNS)
    assert rows["status`, `status DISPUTE"].split(", ") == list(exporting.STATUS_COLUMNS)
    assert rows["check"].split(", ") == list(exporting.CHECK_COLUMNS)
    assert rows["policies"].split(", ") == list(policyview.CSV_COLUMNS)


def test_the_json_reference_names_every_field_status_prints(cli: Cli, tmp_path: Path) -> None:
    """docs/json.md's dispute table and order list are the fields the commands print, in order."""
    demo = str(tmp_path / "demo.db")
    page = (ROOT / "docs" / "json.md").read_text()
    table = page.split("## Dispute\n", 1)[1].split("\n\n`kind` of an event", 1)[0]
    documented = [
        name
        for row in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
        for name in re.findall(r"`(\w+)`", row)
    ]
    assert cli("demo", "--db", demo).exit_code == 0
    detail = cli("--db", demo, "status", "1", "--json").json()
    assert documented == list(detail)
    listed = cli("--db", demo, "status", "--json").json()
    assert list(listed) == ["as_of", "disputes", "orders"]
    assert list(listed["disputes"][0]) == documented[: documented.index("description")]
    order_text = page.split("An order object: ", 1)[1].split("`order list --json`", 1)[0]
    # Parentheses hold an item's fields or a field's values, not order fields.
    outside = re.sub(r"\([^)]*\)", "", order_text).replace("`order list`", "")
    assert re.findall(r"`(\w+)`", outside) == list(listed["orders"][0])


# -- the user guide: every console block is run, and prints what the page shows ----------------

GUIDE_BLOCK = re.compile(r"<!-- as of ([^>]+?) -->\n```console\n(.*?)```", re.DOTALL)


def _guide_steps(body: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of a block (continuation lines joined) with the lines it prints."""
    steps: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    while lines:
        line = lines.pop(0)
        assert line.startswith("$ "), f"a block's text is a command or its output: {line!r}"
        command = line[2:]
        while command.endswith("\\"):
            command = command[:-1] + lines.pop(0).strip()
        printed = []
        while lines and not lines[0].startswith("$ "):
            printed.append(lines.pop(0))
        steps.append((command, printed))
    return steps


def run_guide(tmp_path: Path) -> list[tuple[str, str, list[str], list[str]]]:
    """Run docs/guide.md's blocks in order: (as of, command, shown, printed) for each."""
    import subprocess
    import sys

    (tmp_path / "config.toml").write_text('timezone = "Europe/Berlin"\n')
    (tmp_path / "box.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo of the box")
    (tmp_path / "unboxing.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 a video")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "COLUMNS": "80",
        "REFUNDCTL_DB": str(tmp_path / "ledger.db"),
        "REFUNDCTL_CONFIG": str(tmp_path / "config.toml"),
    }
    ran = []
    last = 0
    for as_of, body in GUIDE_BLOCK.findall((ROOT / "docs" / "guide.md").read_text()):
        for command, shown in _guide_steps(body):
            if command == "echo $?":
                printed = [str(last)]
            else:
                words = shlex.split(command)
                assert words[0] == "refundctl", command
                done = subprocess.run(
                    words,
                    cwd=tmp_path,
                    env={**env, "REFUNDCTL_NOW": as_of},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                last = done.returncode
                printed = done.stdout.splitlines()
            ran.append((as_of, command, shown, printed))
    return ran


def test_the_guide_prints_what_it_shows(tmp_path: Path) -> None:
    """docs/guide.md's story, run at the moment each block names: the outputs are today's."""
    ran = run_guide(tmp_path)
    assert len(ran) >= 12
    for as_of, command, shown, printed in ran:
        assert printed == shown, f"as of {as_of}: $ {command}"
