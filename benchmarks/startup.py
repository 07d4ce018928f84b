"""How long refundctl takes to answer, as a user feels it: whole processes, timed from outside.

Builds the demo ledger in a temporary folder, then runs each command many times and prints the
median wall time, how much longer that is than ``python -c "import typer"``, the peak memory
(max RSS) of one run, and which of the heavy libraries the command imported (from one run under
``python -X importtime``). Python's bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX``
(unless one is set), as an installed package's would be, even where PYTHONDONTWRITEBYTECODE is
set. Each command first runs once untimed, to fill that cache and to stop if the command fails.
Issue 7's target: ``--version`` and ``check`` on a missing ledger within 25 ms of the baseline,
importing none of these libraries. Run: ``python benchmarks/startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WATCHED = ("pydantic", "rich", "sqlite_utils", "dateutil", "holidays", "icalendar", "hypothesis")


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall seconds and the largest max-RSS (MiB) over ``runs`` runs."""
    times, peaks = [], []
    for _ in range(runs):
        started = time.monotonic()
        process = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, _, usage = os.wait4(process.pid, 0)
        times.append(time.monotonic() - started)
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
    return statistics.median(times), max(peaks)


def watched_imports(argv: list[str], env: dict[str, str]) -> list[str]:
    """Which ``WATCHED`` packages one run imports."""
    traced = [argv[0], "-X", "importtime", *argv[1:]]
    stderr = subprocess.run(traced, env=env, capture_output=True, text=True).stderr
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return [name for name in WATCHED if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        ledger = Path(scratch) / "demo.db"
        env = {
            **os.environ,
            "REFUNDCTL_DB": str(ledger),
            "REFUNDCTL_CONFIG": str(Path(scratch) / "config.toml"),
            "REFUNDCTL_NOW": "2026-11-26T12:00:00+00:00",
            "XDG_DATA_HOME": str(Path(scratch) / "data"),  # never the user's own folders
            "XDG_CONFIG_HOME": str(Path(scratch) / "config"),
            "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX")
            or str(Path(scratch) / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        missing = {**env, "REFUNDCTL_DB": str(Path(scratch) / "missing.db")}
        refundctl = [sys.executable, "-m", "refundctl"]
        # --db: demo otherwise builds in the user's data directory, not at REFUNDCTL_DB.
        demo = [*refundctl, "demo", "--db", str(ledger), "--json"]
        subprocess.run(demo, env=env, check=True, capture_output=True)
        cases = [
            ('python -c "import typer" (baseline)', [sys.executable, "-c", "import typer"], env),
            *[
                (f"refundctl {label}", [*refundctl, *words], case_env)
                for label, words, case_env in [
                    ("--version", ["--version"], env),
                    ("check (missing ledger)", ["check"], missing),
                    ("check --json (missing ledger)", ["check", "--json"], missing),
                    ("check --within 7d --json", ["check", "--within=7d", "--json"], env),
                    ("status", ["status"], env),
                    ("status --json", ["status", "--json"], env),
                    ("status 1", ["status", "1"], env),
                ]
            ],
        ]
        print(f"demo ledger (10 disputes, 11 orders), median of {args.runs} runs\n")
        print(f"{'command':<42} {'wall ms':>8} {'+ms':>5} {'peak MiB':>9}  imports")
        print("-" * 100)
        baseline = None
        for label, argv, case_env in cases:
            warm_up = subprocess.run(argv, env=case_env, capture_output=True, text=True)
            if warm_up.returncode not in (0, 1):  # 1: check found something due
                raise SystemExit(f"{label} failed ({warm_up.returncode}):\n{warm_up.stderr}")
            wall, peak = measure(argv, case_env, args.runs)
            baseline = wall if baseline is None else baseline
            extra = (wall - baseline) * 1000
            imported = ", ".join(watched_imports(argv, case_env)) or "-"
            print(f"{label:<42} {wall * 1000:>8.0f} {extra:>+5.0f} {peak:>9.1f}  {imported}")


if __name__ == "__main__":
    main()
