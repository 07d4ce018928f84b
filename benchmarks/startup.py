"""How long refundctl takes to answer, as a user feels it: whole processes, timed from outside.

Builds the demo ledger in a temporary folder, then runs each command many times and prints the
median wall time and the peak memory (max RSS) of one run, beside the baseline of
``python -c "import typer"``. Run: ``python benchmarks/startup.py [--runs N]``.
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
        }
        refundctl = [sys.executable, "-m", "refundctl"]
        subprocess.run([*refundctl, "demo", "--json"], env=env, check=True, capture_output=True)
        cases = [
            ('python -c "import typer" (baseline)', [sys.executable, "-c", "import typer"]),
            ("refundctl --version", [*refundctl, "--version"]),
            ("refundctl check --within 7d --json", [*refundctl, "check", "--within=7d", "--json"]),
            ("refundctl status", [*refundctl, "status"]),
            ("refundctl status --json", [*refundctl, "status", "--json"]),
            ("refundctl status 1", [*refundctl, "status", "1"]),
        ]
        print(f"demo ledger (10 disputes, 11 orders), median of {args.runs} runs\n")
        print(f"{'command':<42} {'wall ms':>8} {'peak MiB':>9}")
        print("-" * 61)
        for label, argv in cases:
            wall, peak = measure(argv, env, args.runs)
            print(f"{label:<42} {wall * 1000:>8.0f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
