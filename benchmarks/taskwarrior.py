"""refundctl beside Taskwarrior: the deadlines due within a week, out of 100,000.

``python benchmarks/taskwarrior.py [--tasks N] [--ledger FILE]`` writes N Taskwarrior tasks
whose due dates spread uniformly from 30 days before to 90 days after ``--as-of`` (the spread
``make_ledger.py`` gives the disputes' next deadlines), loads them with ``task import`` into a
temporary ``TASKDATA`` with its own ``TASKRC`` and ``HOME`` (the user's ``~/.task`` and
``~/.taskrc`` are never read or written), and times ``task due.before:<as-of + 7d> export``
beside ``refundctl check --within 7d --json`` on a ledger of N orders (built with
``make_ledger.py`` unless ``--ledger`` names one built with the same ``--as-of``). Both are
timed as whole processes: median wall time on a monotonic clock and peak RSS from ``wait4``.

Taskwarrior runs with its defaults except ``confirmation=off``, ``verbose=nothing`` and
``hooks=off``. When ``task`` is not installed (Debian: ``apt-get install taskwarrior``) the
script says so and exits 0 without measuring anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from run import AS_OF, HERE, Timing, child_env, load, measure, ms, refundctl_command

MARKETPLACES = ("aliexpress", "ebay", "amazon", "paypal", "etsy", "temu")
ACTIONS = (
    "accept, counter or escalate",
    "escalate or lose the case",
    "ship the return",
    "answer the platform's request",
    "chase the refund",
)


def tw_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_tasks(path: Path, count: int, as_of: datetime, seed: int) -> None:
    """Pending tasks shaped like refund deadlines, due -30d..+90d around ``as_of``."""
    rng = random.Random(seed)
    tasks = []
    for index in range(count):
        due = as_of + timedelta(seconds=rng.uniform(-30 * 86400, 90 * 86400))
        entry = min(as_of, due - timedelta(days=rng.uniform(3, 40)))
        marketplace = rng.choice(MARKETPLACES)
        tasks.append(
            {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "status": "pending",
                "description": f"{rng.choice(ACTIONS)}: {marketplace} order {index:07d}",
                "project": f"refunds.{marketplace}",
                "tags": ["refund", marketplace],
                "entry": tw_time(entry),
                "modified": tw_time(entry),
                "due": tw_time(due),
            }
        )
    path.write_text(json.dumps(tasks), encoding="utf-8")


def task_env(scratch: Path) -> dict[str, str]:
    """Taskwarrior pointed at the scratch folder only."""
    home = scratch / "home"
    data = scratch / "taskdata"
    home.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    rc = scratch / "taskrc"
    rc.write_text(
        f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASK")}
    env.update(HOME=str(home), TASKRC=str(rc), TASKDATA=str(data), TZ="UTC")
    return env


def shown(argv: Sequence[str], env: dict[str, str], key: str | None = None) -> list[object]:
    """What a command printed: Taskwarrior's list of tasks, or refundctl's ``items``."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    data = json.loads(done.stdout)
    return list(data[key] if key else data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, metavar="N")
    parser.add_argument("--ledger", type=Path, metavar="FILE", help="A ledger of N orders.")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="Taskwarrior runs.")
    parser.add_argument(
        "--refundctl-runs", type=int, default=3, metavar="N", help="refundctl runs (max)."
    )
    parser.add_argument("--budget", type=float, default=60.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    task = shutil.which("task")
    if task is None:
        print("Taskwarrior is not installed ('task' is not on PATH); skipping the comparison.")
        print("Install it with: apt-get install -y taskwarrior")
        return 0
    version = subprocess.run(
        [task, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    as_of = datetime.fromisoformat(AS_OF)
    before = tw_time(as_of + timedelta(days=7))
    with tempfile.TemporaryDirectory(prefix="refundctl-tw-") as temporary:
        scratch = Path(temporary)
        env = task_env(scratch)
        tasks_file = scratch / "tasks.json"
        write_tasks(tasks_file, args.tasks, as_of, args.seed)
        started = time.monotonic()
        subprocess.run(
            [task, "import", str(tasks_file)], env=env, check=True, stdout=subprocess.DEVNULL
        )
        imported = time.monotonic() - started
        export = [task, f"due.before:{before}", "export"]
        # Measure before reading any output here: a child's peak memory (ru_maxrss) counts
        # the pages of this process it starts from, so a parent holding a parsed list of
        # 40,000 items would add its own size to every child's figure.
        tw = measure(export, env, args.runs, budget=float("inf"))

        ledger = args.ledger
        if ledger is None:
            ledger = scratch / "ledger.db"
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_ledger.py"),
                    "--orders",
                    str(args.tasks),
                    "--out",
                    str(ledger),
                    "--as-of",
                    AS_OF,
                    "--check",
                    "0",
                    "--quiet",
                ],
                check=True,
            )
        r_env = child_env(scratch)
        r_env["REFUNDCTL_DB"] = str(ledger)
        check = [*refundctl_command(), "check", "--within", "7d", "--json"]
        # fill the bytecode cache, untimed
        subprocess.run(
            [*refundctl_command(), "--version"], env=r_env, capture_output=True, check=False
        )
        ours = measure(check, r_env, args.refundctl_runs, args.budget)
        shown_tasks = len(shown(export, env))
        items = shown(check, r_env, "items")
        shown_items = len(items)
        disputes = len({item["id"] for item in items if isinstance(item, dict)})

    print(f"Deadlines due within 7 days of {AS_OF}, out of {args.tasks:,}")
    print(f"load average: {load()}\n")
    print(
        f"{'tool and command':<52} {'shown':>7} {'runs':>4} {'wall ms':>9} {'cpu ms':>8} "
        f"{'peak MiB':>9}"
    )
    print("-" * 94)
    rows: list[tuple[str, int, Timing]] = [
        (f"Taskwarrior {version}: task due.before:... export", shown_tasks, tw),
        ("refundctl check --within 7d --json", shown_items, ours),
    ]
    for label, count, timing in rows:
        print(
            f"{label:<52} {count:>7,} {timing.runs:>4} {ms(timing.wall):>9} {ms(timing.cpu):>8} "
            f"{timing.peak_mib:>9.1f}"
        )
    print(
        f"\n(task import of {args.tasks:,} tasks took {imported:.1f}s. refundctl lists one item "
        f"per open deadline due in the window: its {shown_items:,} items are {disputes:,} "
        "disputes, as a dispute waiting on the seller or on the buyer has two deadlines)"
    )
    speed = tw.wall / ours.wall
    faster = speed >= 5
    lighter = ours.peak_mib < 64 and ours.peak_mib < tw.peak_mib / 4
    print(
        f"\nTarget: refundctl at least 5x faster than Taskwarrior: {speed:.3f}x by wall time "
        f"({tw.cpu / ours.cpu:.3f}x by CPU time) -> {'holds' if faster else 'DOES NOT HOLD'}"
    )
    print(
        f"Target: under a quarter of its memory and under 64 MiB: {ours.peak_mib:.0f} MiB vs "
        f"{tw.peak_mib:.0f} MiB -> {'holds' if lighter else 'DOES NOT HOLD'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
