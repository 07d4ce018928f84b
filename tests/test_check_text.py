"""``check --json`` joins each item's text from what its stored deadline keeps: jsonshape's bytes.

The ledger stores with every deadline the text of its ``check --json`` item but for whether it
is overdue and the rule (``jsonshape.check_parts``), and SQLite joins the three on each run. The
index oracle (``tests/index_oracle.py``) holds the joined text to jsonshape's text of the items
computed in full, for several moments, windows, filters, with and without ``--all``. Here it
runs on random ledgers whose text the state machines keep plain: order numbers and sellers in
several scripts and with JSON's own characters, orders with and without disputes, asks with an
amount or the full total, dates that leave deadlines overdue and still to come. A stale index
(other deadline code) answers with the same bytes and exit code, computed afresh. The output
goes out in chunks as it is read.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundctl import due
from refundctl.cli.common import STREAM_CHUNK, emit_streamed
from refundctl.config import load_config
from refundctl.due import Filters
from tests.conftest import NOW, invoke
from tests.index_oracle import assert_index_agrees

MOMENT = datetime.fromisoformat(NOW)
MARKETPLACES = ("aliexpress", "ebay", "temu", "amazon", "etsy", "paypal")
# Order numbers are one printable word; these carry what JSON escapes and what it need not.
NUMBERS = ('A"1', "B\\2", "注文-3", "🙂4", "Ünï/5", "x'6", "{7}", "<8>")
SELLERS = ("Straße", "家電ストア", 'Best "Store"', "back\\slash", "Ωmega", "plain seller")
# Filters on what the random orders hold: Straße casefolds to strasse.
FILTERS = [
    Filters(),
    Filters(seller="STRASSE"),
    Filters(marketplace="ebay", states=frozenset({"awaiting_seller", "awaiting_buyer"})),
    Filters(since=MOMENT - timedelta(days=20), until=MOMENT + timedelta(hours=1)),
]


@st.composite
def ledgers(draw: st.DrawFn) -> list[list[str]]:
    """The commands of a random ledger: orders, some received, some with a dispute."""
    commands = []
    numbers = draw(st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=5, unique=True))
    for number in numbers:
        ordered = MOMENT - timedelta(days=draw(st.integers(1, 80)), hours=draw(st.integers(0, 23)))
        add = ["order", "add", number, "-m", draw(st.sampled_from(MARKETPLACES))]
        add += ["--total", str(draw(st.integers(5, 500))), "--ordered", ordered.isoformat()]
        seller = draw(st.none() | st.sampled_from(SELLERS))
        add += ["--seller", seller] if seller else []
        days = draw(st.none() | st.integers(1, 30))
        received = None if days is None else ordered + timedelta(days=days)
        received = received if received is not None and received < MOMENT else None
        add += ["--received", received.isoformat()] if received else []
        commands.append(add)
        if draw(st.booleans()):
            opened = (received or ordered) + timedelta(days=draw(st.integers(0, 10)))
            ask = draw(st.sampled_from([["--full"], ["--amount", "3"], ["--amount", "4.50"]]))
            on = ["--on", min(opened, MOMENT).isoformat()]
            commands.append(["open", number, "--reason", "damaged", *ask, *on])
    return commands


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=ledgers())
def test_check_json_joined_from_stored_text_is_jsonshapes(
    commands: list[list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("check-text")
    ledger = folder / "ledger.db"
    for command in commands:
        done = invoke("--db", str(ledger), *command)
        assert done.exit_code == 0, (command, done.stderr)
    assert_index_agrees(ledger, load_config(), MOMENT, FILTERS)


def test_a_stale_index_prints_the_same_bytes_for_text_json_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "odd.db"

    def run(*args: str) -> None:
        done = invoke("--db", str(ledger), *args)
        assert done.exit_code == 0, (args, done.stderr)

    for n, number in enumerate(NUMBERS):
        market, seller = MARKETPLACES[n % len(MARKETPLACES)], SELLERS[n % len(SELLERS)]
        received = ["--received", "2026-11-02"] if n % 3 else []
        run("order", "add", number, "-m", market, "--total", "40", "--seller", seller,
            "--ordered", "2026-10-20", *received)  # fmt: skip
        if n % 2:
            run("open", number, "--reason", "damaged", "--full", "--on", "2026-11-05")
            run("respond", str(n // 2 + 1), "seller-offers", "5", "--on", f"2026-11-{10 + n}")
    for options in (["--within", "30d"], ["--within", "400d", "--all"], ["--seller", "strasse"]):
        args = ["--db", str(ledger), "check", "--json", *options]
        stored = invoke(*args)
        with monkeypatch.context() as patch:  # stale: every deadline is computed afresh
            patch.setattr(due, "DEADLINE_CODE_VERSION", "another")
            afresh = invoke(*args)
        assert stored.exit_code in (0, 1), stored.stderr
        assert (stored.exit_code, stored.stdout) == (afresh.exit_code, afresh.stdout), options
        assert json.loads(stored.stdout)["items"], options
    # Every order number came through, escaped as JSON escapes it.
    listed = invoke("--db", str(ledger), "check", "--json", "--within", "400d", "--all").stdout
    for number in NUMBERS:
        assert json.dumps(number, ensure_ascii=False) in listed, number


def test_json_quote_and_jsonshape_escape_every_character_alike() -> None:
    # The upgrade to m006 writes the stored text with SQLite's json_quote, the ledger with
    # jsonshape's encoder (json's): the same bytes for every character there is.
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    conn = sqlite3.connect(":memory:")
    (quoted,) = conn.execute("SELECT json_quote(?)", (every,)).fetchone()
    conn.close()
    assert quoted == json.dumps(every, ensure_ascii=False)


def test_a_long_listing_is_written_in_chunks_as_it_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where stdout is unbuffered (PYTHONUNBUFFERED), each write is a system call.
    writes: list[str] = []
    monkeypatch.setattr("sys.stdout", type("Out", (), {"write": staticmethod(writes.append)}))
    lines = [f'{{"item": {n}, "text": "{"x" * 600}"}},\n' for n in range(5000)]
    emit_streamed(iter(lines))
    assert "".join(writes) == "".join(lines)
    assert len(writes) <= len("".join(lines)) // STREAM_CHUNK + 1
    assert all(len(w) < STREAM_CHUNK + 700 for w in writes)  # never the whole listing at once
