"""A command killed (SIGKILL) at any moment leaves the ledger exactly as before it or after it.

Each scenario is one command that writes: moves, an import of 300 orders, attaching files (one
of them 16 MiB), an upgrade of an older schema, ``demo``, ``backup``, ``restore``. It runs once
to completion here, counting its steps (an SQL statement SQLite starts, or a file-system call
that writes), to learn the state after it; then copies of the same ledger are run in a child
process (``tests/crash_child.py``) that kills itself at a chosen step, or are killed from
outside at random moments. After every kill:

- SQLite's integrity check passes;
- the ledger's content is the content before the command, or the content after it;
- every stored file the ledger names is there with the bytes its hash says, and every file
  under a hash name holds those bytes (no half file);
- the next command works, and it cleans up what the killed one left half done.

The CI run kills each scenario once, and the 16 MiB attach four more times (21 kills in all).
``REFUNDCTL_CRASH_KILLS=N`` kills each scenario N times, ``all`` at every step, and
``HYPOTHESIS_PROFILE=stress`` means ``all`` (and 40 random moments). ``REFUNDCTL_CRASH_SEED``
picks the steps; ``REFUNDCTL_CRASH_SCENARIOS=backup,demo`` runs only those scenarios.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.ledger.schema import MIGRATION_NAMES
from tests import crash_child
from tests.conftest import NOW, row_order

NEWEST_SCHEMA = MIGRATION_NAMES[-1]  # read before a test registers a fake newer one

CHILD = Path(__file__).with_name("crash_child.py")
TEMPORARY = re.compile(r"\..+\.\d+\.(part|db|demo|restore)")
ORDER = "8101234567890123"
STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"
KILLS = os.environ.get("REFUNDCTL_CRASH_KILLS", "all" if STRESS else "1")
SEED = int(os.environ.get("REFUNDCTL_CRASH_SEED", "20261126"))
ONLY = {n.strip() for n in os.environ.get("REFUNDCTL_CRASH_SCENARIOS", "").split(",") if n.strip()}
RANDOM_MOMENT_KILLS = 40 if STRESS else 4
BIG = 16 * 1024 * 1024

# The template: the README's story, an order to open a dispute on, an offer to undo, and an
# order no scenario touches, for the command that runs after each crash.
STORY = [
    ["order", "add", ORDER, "-m", "aliexpress", "--total", "45.90", "--seller", "Best Store",
     "--item", "USB-C hub x1 @45.90", "--ordered", "2026-11-01"],
    ["order", "receive", ORDER, "--on", "2026-11-20"],
    ["open", ORDER, "--reason", "missing-parts", "--amount", "12.50", "--on", "2026-11-22",
     "--evidence", "photo.png"],
    ["order", "add", "TWO", "-m", "ebay", "--total", "30", "--ordered", "2026-11-02",
     "--received", "2026-11-10"],
    ["order", "add", "THREE", "-m", "temu", "--total", "19.99", "--ordered", "2026-11-03",
     "--received", "2026-11-12"],
    ["open", "THREE", "--reason", "defective", "--full", "--on", "2026-11-13"],
    ["respond", "2", "seller-offers", "8.00", "--on", "2026-11-14"],
    ["order", "add", "FOUR", "-m", "etsy", "--total", "9", "--ordered", "2026-11-04"],
]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    name: str
    args: list[str]
    ledger: str = "ledger.db"  # the ledger the command writes, in the case folder
    archive: str | None = None  # a backup the command writes, checked instead of a ledger
    upgrade: bool = False  # run with a second schema migration registered
    random_moments: bool = False  # also kill it from outside at random moments
    env: dict[str, str] = field(default_factory=dict)


SCENARIOS = [
    Scenario("order add", ["order", "add", "NEW-1", "-m", "ebay", "--total", "12.50",
                           "--item", "lamp x1 @10", "--item", "bulb x2 @1.25"]),
    Scenario("order import", ["order", "import", "orders.csv"]),
    Scenario("order update items", ["order", "update", ORDER, "--item", "USB-C hub x1 @40",
                                    "--item", "HDMI adapter x1 @5.90"]),
    Scenario("open with evidence", ["open", "TWO", "--reason", "damaged", "--amount", "5",
                                    "--evidence", "photo2.png"]),
    Scenario("respond", ["respond", "1", "seller-offers", "8.00"]),
    Scenario("escalate with evidence", ["escalate", "1", "--case-ref", "C-9",
                                        "--evidence", "photo2.png"]),
    Scenario("resolve", ["resolve", "1", "--refunded", "12.50"]),
    Scenario("cancel", ["cancel", "1"]),
    Scenario("undo", ["undo", "2"]),
    Scenario("attach a link", ["attach", "1", "--url", "https://example.com/listing/1"]),
    Scenario("attach a message", ["attach", "1", "--message", "Where is my refund?",
                                  "--from", "buyer"]),
    Scenario("attach 16 MiB", ["attach", "1", "big.bin", "--kind", "video"],
             random_moments=True),
    Scenario("upgrade", ["status"], upgrade=True),
    Scenario("demo", ["demo", "--db", "fresh/demo.db"], ledger="fresh/demo.db"),
    Scenario("restore", ["--db", "restored/ledger.db", "restore", "other.zip"],
             ledger="restored/ledger.db"),
    Scenario("restore --force", ["restore", "other.zip", "--force"]),
    Scenario("backup", ["backup", "out.zip"], archive="out.zip"),
]  # fmt: skip


# -- the ledger's state ---------------------------------------------------------------------------


def content(path: Path) -> str:
    """Everything in a ledger, as one digest; 'absent' when there is none. The time each
    migration was applied comes from the clock, so it is left out."""
    if not path.exists():
        return "absent"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path
        digest = hashlib.sha256()
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]
            kept = ", ".join(f"[{c}]" for c in columns if c != "applied_at")
            digest.update(f"{table}({kept})".encode())
            for row in conn.execute(
                f"SELECT {kept} FROM [{table}] ORDER BY {row_order(conn, table)}"
            ):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def check_evidence(ledger: Path) -> None:
    """Every named file is there and whole; every file under a hash name holds that hash."""
    store = ledger.with_name(ledger.stem + ".evidence")
    if ledger.exists():
        conn = sqlite3.connect(ledger)
        named = {row[0] for row in conn.execute("SELECT sha256 FROM evidence WHERE sha256 > ''")}
        conn.close()
    else:
        named = set()
    for sha256 in named:
        assert (store / sha256[:2] / sha256).is_file(), f"the ledger names {sha256}: missing"
    for path in store.glob("??/*"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, f"half file {path}"


def archive_content(path: Path, scratch: Path) -> str:
    """The ledger inside a backup archive ('absent' when there is no archive)."""
    if not path.exists():
        return "absent"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        (scratch / "inside.db").write_bytes(zf.read("ledger.db"))
        return content(scratch / "inside.db")


# -- running the child ----------------------------------------------------------------------------


def child_env(case: Path, scenario: Scenario, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REFUNDCTL_DB=str(case / "ledger.db"),
        REFUNDCTL_CONFIG=str(case / "config.toml"),
        REFUNDCTL_NOW=NOW,
        CRASH_FAKE_MIGRATION="1" if scenario.upgrade else "0",
        **scenario.env,
        **extra,
    )
    for name in ("CRASH_KILL_AT", "CRASH_COUNT_TO", "CRASH_READY_FD"):
        if name not in extra:
            env.pop(name, None)
    return env


def run_child(case: Path, scenario: Scenario, args: list[str] | None = None, **extra: str) -> int:
    done = subprocess.run(
        [sys.executable, str(CHILD), *(args or scenario.args)],
        cwd=case,
        env=child_env(case, scenario, **extra),
        capture_output=True,
        timeout=120,
    )
    return done.returncode


def run_timed(
    case: Path, scenario: Scenario, kill_after: float | None = None, **extra: str
) -> tuple[int, float]:
    """Run the command; kill it ``kill_after`` seconds after it starts working (its first
    step, not Python starting). Returns the exit status and the seconds it worked."""
    read, write = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), *scenario.args],
            cwd=case,
            env=child_env(case, scenario, CRASH_READY_FD=str(write), **extra),
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        write = -1
        os.read(read, 1)
        started = time.monotonic()
        if kill_after is not None:
            time.sleep(kill_after)
            child.send_signal(signal.SIGKILL)
        code = child.wait(timeout=120)
        return code, time.monotonic() - started
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


# -- the template and the cases -------------------------------------------------------------------


def in_process(*args: str, env: dict[str, str]) -> int:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash-template")
    (folder / "config.toml").write_text('timezone = "UTC"\n')
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"first photo" * 20)
    (folder / "photo2.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"second photo" * 20)
    (folder / "photo3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"after the crash" * 20)
    (folder / "big.bin").write_bytes(random.Random(SEED).randbytes(BIG))
    rows = [f"IMP-{n},temu,{n % 50 + 1}.25,2026-11-0{n % 9 + 1}" for n in range(300)]
    rows.append("TWO,ebay,31.00,2026-11-02")  # and one change to an order that is there
    (folder / "orders.csv").write_text("order_no,marketplace,total,ordered\n" + "\n".join(rows))
    env = {
        "REFUNDCTL_DB": str(folder / "ledger.db"),
        "REFUNDCTL_CONFIG": str(folder / "config.toml"),
        "REFUNDCTL_NOW": NOW,
    }
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        for args in STORY:
            assert in_process(*args, env=env) == 0, args
        # other.zip: the same story and one more order, to restore over the template.
        other = folder / "other"
        other.mkdir()
        shutil.copy(folder / "ledger.db", other / "ledger.db")
        shutil.copytree(folder / "ledger.evidence", other / "ledger.evidence")
        other_env = {**env, "REFUNDCTL_DB": str(other / "ledger.db")}
        add = ["order", "add", "FROM-BACKUP", "-m", "ebay", "--total", "3"]
        assert in_process(*add, env=other_env) == 0
        assert in_process("attach", "1", "photo2.png", env=other_env) == 0
        assert in_process("backup", str(folder / "other.zip"), env=other_env) == 0
        shutil.rmtree(other)
    finally:
        os.chdir(cwd)
    return folder


def new_case(template: Path, root: Path, name: str) -> Path:
    case = root / name
    case.mkdir(parents=True)
    for path in template.iterdir():
        if path.is_dir():
            shutil.copytree(path, case / path.name)
        elif path.suffix in {".bin", ".png", ".zip", ".csv"}:
            os.link(path, case / path.name)  # inputs are only read: share them
        else:
            shutil.copy2(path, case / path.name)
    return case


def state(case: Path, scenario: Scenario) -> str:
    if scenario.archive is not None:
        return archive_content(case / scenario.archive, case)
    return content(case / scenario.ledger)


def kill_points(steps: int, scenario: Scenario, rng: random.Random) -> list[int]:
    if KILLS == "all":
        return list(range(1, steps + 1))
    count = int(KILLS)
    # Half in the second half of the run, where the writing is; half anywhere.
    late = [rng.randint(max(1, steps // 2), steps) for _ in range((count + 1) // 2)]
    anywhere = [rng.randint(1, steps) for _ in range(count // 2)]
    return sorted(set(late + anywhere))


def learn(template: Path, root: Path, scenario: Scenario) -> tuple[str, str, int, float]:
    """Run the command to the end here, counting its steps: the state before and after it, how
    many steps it takes, and how long it works."""
    case = new_case(template, root, scenario.name)
    before = state(case, scenario)
    env = {
        "REFUNDCTL_DB": str(case / "ledger.db"),
        "REFUNDCTL_CONFIG": str(case / "config.toml"),
        "REFUNDCTL_NOW": NOW,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(case)
        if scenario.upgrade:
            crash_child.fake_migration(patch.setattr)
        started = time.monotonic()
        with crash_child.counting() as counted:
            code = in_process(*scenario.args, env=env)
        took = time.monotonic() - started
    assert code == 0, scenario.name
    after = state(case, scenario)
    assert after != before, scenario.name
    return before, after, counted[0], took


@dataclass
class Outcome:
    scenario: Scenario
    case: Path
    how: str
    code: int


def recover_and_check(outcome: Outcome, before: str, after: str, template: Path) -> str:
    """The checks after one kill; returns which state the kill left."""
    scenario, case = outcome.scenario, outcome.case
    found = state(case, scenario)
    assert found in {before, after}, (scenario.name, outcome.how, "neither before nor after")
    check_evidence(case / scenario.ledger)
    env = {
        "REFUNDCTL_DB": str(case / scenario.ledger),
        "REFUNDCTL_CONFIG": str(case / "config.toml"),
        "REFUNDCTL_NOW": NOW,
    }
    if scenario.upgrade:
        # The upgrade runs again (a ledger at the new schema needs the new code to open).
        assert run_child(case, scenario) == 0, (scenario.name, outcome.how)
        assert content(case / "ledger.db") == after
        bak = case / f"ledger.db.{NEWEST_SCHEMA}.bak"
        assert content(bak) == before, "the copy made before the upgrade is not the old ledger"
    elif scenario.archive is not None or found == "absent":
        # Run the command again: it works, and it cleans up after the killed one.
        again = [*scenario.args, *(["--force"] if found != "absent" else [])]
        assert run_child(case, scenario, again) == 0, (scenario.name, outcome.how)
        assert state(case, scenario) == after
    else:
        assert in_process("status", "--json", env=env) == 0
        evidence = str(template / "photo3.png")
        if scenario.ledger == "ledger.db":
            opened = ["open", "FOUR", "--reason", "other", "--amount", "1", "--evidence", evidence]
            assert in_process(*opened, env=env) == 0, (scenario.name, outcome.how)
        assert in_process("verify", env=env) == 0, (scenario.name, outcome.how)
        # The next attach removed the temporary copy the killed one left.
        if scenario.ledger == "ledger.db":
            assert not list(case.rglob(".incoming-*")), (scenario.name, outcome.how)
    if scenario.upgrade or scenario.archive is not None or found == "absent":
        # Running the command again removed the temporaries the killed one left.
        leftovers = [p.name for p in case.rglob(".*") if TEMPORARY.fullmatch(p.name)]
        assert leftovers == [], (scenario.name, outcome.how, leftovers)
    return "before" if found == before else "after"


def test_a_killed_command_leaves_the_ledger_before_or_after_it(
    template: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    workers = max(2, os.cpu_count() or 2)

    chosen = [s for s in SCENARIOS if not ONLY or s.name in ONLY]
    learned = {s.name: learn(template, tmp_path / "learn", s) for s in chosen}

    jobs: list[tuple[Scenario, str, Callable[[Path], int]]] = []
    for scenario in chosen:
        _, _, steps, took = learned[scenario.name]
        for point in kill_points(steps, scenario, rng):
            jobs.append((scenario, f"step {point}/{steps}", _at_step(scenario, point)))
        if scenario.random_moments:
            for n in range(RANDOM_MOMENT_KILLS):
                delay = rng.uniform(0, took * 0.8)
                jobs.append((scenario, f"moment {n}: {delay:.3f}s", _at_moment(scenario, delay)))

    def kill(job: tuple[Scenario, str, Callable[[Path], int]]) -> Outcome:
        scenario, how, action = job
        case = new_case(template, tmp_path / "kills", f"{scenario.name} {how}".replace("/", "-"))
        return Outcome(scenario, case, how, action(case))

    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(kill, jobs))

    tally: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        before, after, _, _ = learned[outcome.scenario.name]
        left = recover_and_check(outcome, before, after, template)
        tally.setdefault(outcome.scenario.name, {"before": 0, "after": 0})[left] += 1
        shutil.rmtree(outcome.case)
    killed = sum(1 for o in outcomes if o.code == -signal.SIGKILL)
    assert killed >= len(outcomes) * 0.8, "most kills should land before the command ends"
    print(f"{len(outcomes)} kills ({killed} by SIGKILL); state left:", json.dumps(tally))


def _at_step(scenario: Scenario, point: int) -> Callable[[Path], int]:
    return lambda case: run_child(case, scenario, CRASH_KILL_AT=str(point))


def _at_moment(scenario: Scenario, delay: float) -> Callable[[Path], int]:
    return lambda case: run_timed(case, scenario, kill_after=delay)[0]
