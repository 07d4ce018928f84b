"""Text that is not UTF-8 (a byte string from a broken terminal) is refused, not a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Cli, snapshot


def test_a_note_that_is_not_utf8_is_refused_and_records_nothing(
    story: Cli, ledger_path: Path
) -> None:
    before = snapshot(ledger_path)
    run = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"refundctl",
            b"attach",
            b"1",
            b"--message",
            b"\xff\xfe broken",
            b"--from",
            b"seller",
        ],
        env=dict(os.environ),
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.decode().startswith("error: an argument is not valid UTF-8")
    assert b"Traceback" not in run.stderr
    assert snapshot(ledger_path) == before
