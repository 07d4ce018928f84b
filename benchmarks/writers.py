"""Many writers at once (issue 17): how long each write holds the ledger's lock, and whether
any writer waits past the lock timeout (exit 75) when 50 write at once with 3 readers.

``python benchmarks/writers.py`` prints two tables:

- **Lock hold per command**: each write command run as its own process, with SQLite's trace
  callback timing BEGIN IMMEDIATE to COMMIT (the write lock is held exactly in between);
  median and worst of ``--runs`` runs.
- **50 writers × 3 stories, 3 readers**: ``--writers`` processes each walk ``--stories``
  buyer stories (``order add``, ``open``, ``respond``: three writes each) while ``--readers``
  processes run ``status`` and ``check`` in a loop; the table counts every exit code. Beside
  it, the same number of Taskwarrior processes each add as many tasks at once (its own
  lock), when ``task`` is installed: the peer's figure in the same run.

Every process sees ``REFUNDCTL_NOW``, an empty config and ``TZ=UTC``. The ledger lives in a
temporary folder (``--keep DIR`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

NOW = "2026-11-26T12:00:00+00:00"

# Run one command in this process with SQLite's statements traced: prints the lock hold in ms.
# (A benchmark may patch what it measures; refundctl itself has no such hook.)
HOLD_PROBE = r"""
import sqlite3, sys, time
held, began = [], [None]
real = sqlite3.connect
def traced(*args, **kwargs):
    conn = real(*args, **kwargs)
    def trace(statement):
        word = statement.strip().split(None, 1)[0].upper() if statement.strip() else ""
        if statement.strip().upper().startswith("BEGIN IMMEDIATE"):
            began[0] = time.perf_counter()
        elif word in ("COMMIT", "ROLLBACK") and began[0] is not None:
            held.append(time.perf_counter() - began[0]); began[0] = None
    conn.set_trace_callback(trace)
    return conn
sqlite3.connect = traced
from refundctl.cli import main
sys.argv = ["refundctl", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(f"HOLD {max(held) * 1000 if held else 0:.3f}", file=sys.stderr)
"""


def environment(folder: Path) -> dict[str, str]:
    config = folder / "config.toml"
    config.touch()
    return {
        **os.environ,
        "REFUNDCTL_DB": str(folder / "ledger.db"),
        "REFUNDCTL_CONFIG": str(config),
        "REFUNDCTL_NOW": NOW,
        "TZ": "UTC",
        "HOME": str(folder),
    }


def refundctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refundctl", *args], env=env, capture_output=True, text=True
    )


def lock_holds(folder: Path, runs: int) -> list[tuple[str, float, float]]:
    env = environment(folder)
    refundctl(env, "order", "add", "SEED", "-m", "ebay", "--total", "40", "--ordered", "2026-11-01")
    rows = []
    commands = {
        "order add": lambda n: ["order", "add", f"H{n}", "-m", "ebay", "--total", "30"],
        "open": lambda n: ["open", f"H{n}", "--reason", "damaged", "--amount", "5"],
        "respond": lambda n: ["respond", str(n + 1), "seller-offers", "2"],
        "attach --message": lambda n: ["attach", str(n + 1), "--message", "hi", "--from", "buyer"],
    }
    for name, make in commands.items():
        holds = []
        for n in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", HOLD_PROBE, *make(n)],
                env=env,
                capture_output=True,
                text=True,
            )
            line = [x for x in done.stderr.splitlines() if x.startswith("HOLD ")]
            assert done.returncode == 0 and line, (name, done.stderr)
            holds.append(float(line[-1].split()[1]))
        rows.append((name, statistics.median(holds), max(holds)))
    return rows


def story(env: dict[str, str], writer: int, stories: int) -> list[int]:
    codes = []
    for k in range(stories):
        order = f"W{writer}-{k}"
        add = refundctl(env, "order", "add", order, "-m", "ebay", "--total", "20")
        codes.append(add.returncode)
        opened = refundctl(env, "open", order, "--reason", "damaged", "--amount", "5")
        codes.append(opened.returncode)
        number = opened.stdout.split("dispute ", 1)[1].split()[0] if opened.returncode == 0 else ""
        codes.append(refundctl(env, "respond", number or "0", "seller-offers", "3").returncode)
    return codes


def crowd(
    folder: Path, writers: int, stories: int, readers: int
) -> tuple[Counter[int | str], float]:
    env = environment(folder)
    refundctl(env, "order", "add", "SEED", "-m", "ebay", "--total", "40")
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--one-writer",
                str(n),
                "--stories",
                str(stories),
                "--folder",
                str(folder),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    stop = folder / "stop"
    loop = (
        f"while [ ! -e {stop} ]; do {sys.executable} -m refundctl status >/dev/null 2>&1; "
        f"echo $?; {sys.executable} -m refundctl check >/dev/null 2>&1; echo $?; done"
    )
    readers_ = [
        subprocess.Popen(["sh", "-c", loop], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(readers)
    ]
    import json

    codes: Counter[int | str] = Counter()
    for proc in procs:
        out, _ = proc.communicate()
        codes.update(json.loads(out))
    stop.touch()
    for proc in readers_:
        out, _ = proc.communicate()
        # A read exits 0 or 1 (check: something needs you); anything else is counted.
        codes.update(f"read {code}" for code in out.split() if code not in ("0", "1"))
    return codes, time.monotonic() - started


def taskwarrior_crowd(folder: Path, writers: int, tasks: int) -> Counter[int] | None:
    task = shutil.which("task")
    if task is None:
        return None
    home = folder / "tw"
    home.mkdir()
    (home / ".taskrc").write_text(f"data.location={home / 'data'}\nconfirmation=no\n")
    env = {**os.environ, "HOME": str(home), "TASKRC": str(home / ".taskrc")}
    line = (
        f"for k in $(seq {tasks}); do {task} rc.verbose=nothing add w$k >/dev/null 2>&1; "
        "echo $?; done"
    )
    procs = [
        subprocess.Popen(["sh", "-c", line], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(writers)
    ]
    codes: Counter[int] = Counter()
    for proc in procs:
        out, _ = proc.communicate()
        codes.update(int(x) for x in out.split())
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--stories", type=int, default=3)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--one-writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_writer is not None:  # one of the crowd's writers: its stories' exit codes
        import json

        print(json.dumps(story(environment(args.folder), args.one_writer, args.stories)))
        return
    folder = Path(tempfile.mkdtemp(prefix="refundctl-writers-"))
    try:
        (folder / "hold").mkdir()
        print(f"Lock hold per command ({args.runs} runs each, ms from BEGIN IMMEDIATE to COMMIT)")
        print(f"{'command':<20}{'median':>10}{'worst':>10}")
        for name, median, worst in lock_holds(folder / "hold", args.runs):
            print(f"{name:<20}{median:>10.1f}{worst:>10.1f}")
        (folder / "crowd").mkdir()
        codes, took = crowd(folder / "crowd", args.writers, args.stories, args.readers)
        peer = taskwarrior_crowd(folder / "crowd", args.writers, args.stories * 3)
        print()
        print(
            f"{args.writers} writers x {args.stories} stories (3 writes each), "
            f"{args.readers} readers: {took:.0f} s"
        )
        print(f"{'tool':<14}{'writes':>8}{'exit 0':>8}{'exit 75':>9}{'other':>7}")
        reads = {k: v for k, v in codes.items() if isinstance(k, str)}
        total = sum(v for k, v in codes.items() if isinstance(k, int))
        other = total - codes[0] - codes[75]
        print(f"{'refundctl':<14}{total:>8}{codes[0]:>8}{codes[75]:>9}{other:>7}")
        print(f"reads that failed: {dict(reads) or 'none'}")
        if peer is not None:
            total = sum(peer.values())
            print(f"{'taskwarrior':<14}{total:>8}{peer[0]:>8}{'-':>9}{total - peer[0]:>7}")
        else:
            print("taskwarrior   not installed (apt-get install taskwarrior)")
    finally:
        if args.keep:
            shutil.copytree(folder, args.keep, dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
