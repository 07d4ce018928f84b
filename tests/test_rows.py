"""The stored fold of a dispute (``disputes.folded``): the state a listing reads instead of
replaying the events. It must spell every field of ``Dispute``, come back equal to the replay,
be stored again where it is missing, and be reported by ``verify`` where it disagrees."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from refundctl import domain
from refundctl.domain import Dispute
from refundctl.ledger import rows
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import Ledger
from tests.conftest import Cli


def replayed(path: Path) -> dict[int, Dispute]:
    from refundctl.config import load_config

    config = load_config()
    settings = Settings(zone=config.zone(), policy_for=config.policies.for_marketplace)
    with Ledger.open(path, settings, write=False) as ledger:
        return {r.id: r.dispute for r in ledger._disputes(include_closed=True)}


def stored_folds(path: Path) -> dict[int, str | None]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, folded FROM disputes").fetchall())
    finally:
        conn.close()


def test_the_fold_spells_every_field_of_a_dispute() -> None:
    assert {f.name for f in dataclasses.fields(Dispute)} == rows.FOLDED_FIELDS


def test_every_demo_dispute_reads_back_from_its_fold_as_its_events_replay(
    cli: Cli, tmp_path: Path
) -> None:
    demo = tmp_path / "demo.db"
    assert cli("demo", "--db", str(demo)).exit_code == 0
    truth = replayed(demo)
    folds = stored_folds(demo)
    assert set(folds) == set(truth) and len(truth) >= 10
    for dispute_id, text in folds.items():
        assert text is not None
        assert rows.from_fold_text(text) == truth[dispute_id]
        assert text == rows.fold_text(truth[dispute_id])


def test_a_fold_of_another_version_is_not_read() -> None:
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    d = domain.start(
        domain.Event(domain.Move.OPEN, domain.Actor.BUYER, at, at, amount=Decimal("12.50"))
    )
    shape = json.loads(rows.fold_text(d))
    shape["v"] = rows.FOLD_VERSION + 1
    assert rows.from_fold_text(json.dumps(shape)) is None


def test_a_ledger_without_folds_gets_them_from_its_next_command(
    story: Cli, ledger_path: Path
) -> None:
    before = stored_folds(ledger_path)
    conn = sqlite3.connect(ledger_path)
    conn.execute("UPDATE disputes SET folded = NULL")
    conn.commit()
    conn.close()
    listed = story("status", "--json").json()  # replays those without one, and stores them
    assert stored_folds(ledger_path) == before
    assert story("status", "--json").json() == listed


def test_verify_reports_a_fold_that_disagrees_with_the_events(
    story: Cli, ledger_path: Path
) -> None:
    conn = sqlite3.connect(ledger_path)
    (dispute_id, text) = conn.execute("SELECT id, folded FROM disputes LIMIT 1").fetchone()
    shape = json.loads(text)
    shape["requested"] = "0.01"
    conn.execute("UPDATE disputes SET folded = ? WHERE id = ?", (json.dumps(shape), dispute_id))
    conn.commit()
    conn.close()
    result = story("verify")
    assert result.exit_code == 1  # verify's "problems found"
    assert f"dispute {dispute_id}: its stored state is not what its events say" in result.stdout
