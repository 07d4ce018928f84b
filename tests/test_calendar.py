"""The calendar feed: ``refundctl export --format ics [-o FILE]`` (issue 3, item 8).

One event per open deadline, titled with the marketplace, the order and the action, described
with the rule and the money at stake, with an alarm a day before; UIDs stay put across exports so
a calendar that re-imports the file updates its events instead of duplicating them. Everything
is checked by parsing the output back with icalendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from refundctl.timeparse import from_iso
from tests.conftest import Cli, Run, snapshot

ORDER = "8101234567890123"


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def events(data: bytes | str) -> list[Any]:
    raw = data.encode() if isinstance(data, str) else data
    calendar = Calendar.from_ical(raw)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar.get("PRODID")
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def by_uid(found: list[Any]) -> dict[str, Any]:
    uids = [str(e["UID"]) for e in found]
    assert len(uids) == len(set(uids)), uids
    return dict(zip(uids, found, strict=True))


def start_of(event: Any) -> datetime:
    value = event.decoded("DTSTART")
    assert isinstance(value, datetime) and value.tzinfo is not None
    return value


def export(cli: Cli, path: Path) -> list[Any]:
    run = ok(cli("export", "--format", "ics", "-o", str(path)))
    found = events(path.read_bytes())
    count = len(found)
    assert run.stdout.strip() == f"Wrote {count} deadline{'s' if count != 1 else ''} to {path}."
    return found


def open_deadlines(cli: Cli) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """Every open deadline of ``status --json``, with its owner and the money at stake."""
    shown = ok(cli("status", "--json")).json()
    found = []
    for d in shown["disputes"]:
        stake = d["agreed"] or d["requested"]
        found += [(d, deadline, stake) for deadline in d["deadlines"]]
    for o in shown["orders"]:
        found += [(o, deadline, o["refundable"]) for deadline in o["deadlines"]]
    return found


@pytest.fixture
def ledger(story: Cli) -> Cli:
    """The README's AliExpress dispute, a PayPal one, and two undisputed orders."""
    cli = story
    ok(cli("order", "add", "B1", "-m", "ebay", "--total", "20", "--ordered", "2026-11-01"))
    ok(cli("order", "update", "B1", "--expected-by", "2026-11-28"))
    ok(
        cli(
            "order",
            "add",
            "A2",
            "-m",
            "aliexpress",
            "--total",
            "9.99",
            "--seller",
            "Shop, Inc.; the best",
            "--ordered",
            "2026-11-01",
            "--received",
            "2026-11-20",
        )
    )
    ok(cli("order", "add", "P1", "-m", "paypal", "--total", "80", "--ordered", "2026-11-02"))
    ok(cli("open", "P1", "--reason", "not-received", "--full", "--on", "2026-11-24"))
    return cli


# -- one event per deadline ----------------------------------------------------------------------


def test_one_event_per_open_deadline_each_naming_what_to_do(ledger: Cli, tmp_path: Path) -> None:
    found = export(ledger, tmp_path / "refunds.ics")
    expected = open_deadlines(ledger)
    # AliExpress: the seller's answer and its own step-in; PayPal: 20 days to escalate and the
    # 180 days from payment; the two orders' windows.
    assert len(expected) == 6
    assert len(found) == len(expected)
    by_uid(found)
    for owner, deadline, stake in expected:
        due = from_iso(deadline["due"])
        matches = [
            e
            for e in found
            if owner["order"] in str(e["SUMMARY"])
            and owner["marketplace"] in str(e["SUMMARY"])
            and deadline["action"] in str(e["SUMMARY"])
            and start_of(e) == due
        ]
        assert len(matches) == 1, (owner["order"], deadline["name"])
        [event] = matches
        description = str(event["DESCRIPTION"])
        assert deadline["rule"]["explanation"] in description
        assert f"${stake}" in description
        assert deadline["name"] in description
        if deadline["rule"]["source"]:
            assert deadline["rule"]["source"] in description
        assert event.decoded("DTEND") > start_of(event)


def test_every_event_has_an_alarm_a_day_before(ledger: Cli, tmp_path: Path) -> None:
    for event in export(ledger, tmp_path / "refunds.ics"):
        alarms = [c for c in event.subcomponents if c.name == "VALARM"]
        assert len(alarms) == 1
        [alarm] = alarms
        assert alarm.decoded("TRIGGER") == timedelta(days=-1)
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert str(alarm["DESCRIPTION"])


def test_text_with_commas_and_semicolons_survives_the_round_trip(
    ledger: Cli, tmp_path: Path
) -> None:
    found = export(ledger, tmp_path / "refunds.ics")
    [a2] = [e for e in found if "A2" in str(e["SUMMARY"])]
    assert "Shop, Inc.; the best" in str(a2["DESCRIPTION"])
    [seller] = [e for e in found if "seller_response" in str(e["DESCRIPTION"])]
    assert str(seller["SUMMARY"]).endswith(
        "the seller answers by then; after it, AliExpress steps in by itself"
    )


def test_export_is_read_only(ledger: Cli, tmp_path: Path, ledger_path: Path) -> None:
    before = snapshot(ledger_path)
    export(ledger, tmp_path / "refunds.ics")
    ok(ledger("export"))
    assert snapshot(ledger_path) == before


def test_an_empty_ledger_exports_an_empty_calendar(
    cli: Cli, tmp_path: Path, empty_ledger: Path
) -> None:
    assert events(ok(cli("export", "--format", "ics")).stdout) == []
    assert export(cli, tmp_path / "refunds.ics") == []


# -- stable UIDs ---------------------------------------------------------------------------------


def test_a_second_export_after_a_move_keeps_the_uids_and_moves_the_date(
    ledger: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "refunds.ics"
    first = by_uid(export(ledger, path))
    [seller_uid] = [
        u
        for u, e in first.items()
        if ORDER in str(e["SUMMARY"]) and "seller_response" in str(e["DESCRIPTION"])
    ]
    assert start_of(first[seller_uid]) == from_iso("2026-11-29T00:00:00+00:00")

    # The seller offers, the buyer counters: the seller's clock restarts from the counter.
    ok(ledger("respond", "1", "seller-offers", "8.00", "--on", "2026-11-23"))
    ok(ledger("respond", "1", "counter", "10.00", "--on", "2026-11-25"))
    second = by_uid(export(ledger, path))

    assert set(second) == set(first)
    assert start_of(second[seller_uid]) == from_iso("2026-12-02T00:00:00+00:00")
    assert "$10.00" in str(second[seller_uid]["DESCRIPTION"])
    for uid, event in first.items():
        if uid != seller_uid:
            assert start_of(second[uid]) == start_of(event), uid
            assert str(second[uid]["SUMMARY"]) == str(event["SUMMARY"])
    # A calendar that keeps one event per UID still has one event per deadline.
    merged = {**first, **second}
    assert len(merged) == len(open_deadlines(ledger))


def test_the_same_ledger_exports_the_same_uids_every_time(ledger: Cli, tmp_path: Path) -> None:
    one = by_uid(export(ledger, tmp_path / "one.ics"))
    two = by_uid(export(ledger, tmp_path / "two.ics"))
    assert set(one) == set(two)
    assert (tmp_path / "one.ics").read_bytes() == (tmp_path / "two.ics").read_bytes()


def test_an_overwritten_export_leaves_no_stray_files(ledger: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    export(ledger, folder / "refunds.ics")
    export(ledger, folder / "refunds.ics")
    assert [p.name for p in folder.iterdir()] == ["refunds.ics"]


def test_distinct_orders_get_distinct_uids(cli: Cli) -> None:
    for number in ("A/1", "A-1", "A.1", "a-1"):
        ok(
            cli(
                "order",
                "add",
                number,
                "-m",
                "ebay",
                "--total",
                "5",
                "--ordered",
                "2026-11-01",
                "--received",
                "2026-11-20",
            )
        )
    found = events(ok(cli("export", "--format", "ics")).stdout)
    assert len(found) == 4
    by_uid(found)


# -- where it goes -------------------------------------------------------------------------------


def test_without_output_the_calendar_goes_to_stdout(ledger: Cli, tmp_path: Path) -> None:
    in_file = by_uid(export(ledger, tmp_path / "refunds.ics"))
    for args in (("export", "--format", "ics"), ("export", "-f", "ics")):
        run = ok(ledger(*args))
        on_stdout = by_uid(events(run.stdout))
        assert set(on_stdout) == set(in_file)
        assert all(start_of(on_stdout[u]) == start_of(e) for u, e in in_file.items())
        assert run.stderr == ""


@pytest.mark.parametrize("where", ["missing-folder", "directory"])
def test_an_unusable_output_path_is_refused(
    ledger: Cli, tmp_path: Path, ledger_path: Path, where: str
) -> None:
    target = tmp_path / "nowhere" / "refunds.ics" if where == "missing-folder" else tmp_path
    before = snapshot(ledger_path)
    listing = sorted(tmp_path.iterdir())
    run = ledger("export", "--format", "ics", "-o", str(target))
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("error: ")
    assert run.stderr.count("\n") == 1
    assert ("no such folder" if where == "missing-folder" else "directory") in run.stderr
    assert not (tmp_path / "nowhere").exists()
    assert sorted(tmp_path.iterdir()) == listing
    assert snapshot(ledger_path) == before


def test_an_unknown_format_is_refused(ledger: Cli, tmp_path: Path) -> None:
    run = ledger("export", "--format", "xlsx", "-o", str(tmp_path / "x.xlsx"))
    assert run.exit_code == 2
    assert not (tmp_path / "x.xlsx").exists()
