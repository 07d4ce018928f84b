"""Policy overrides in the config file, through the command line (issue 3, items 5 and 6).

A ``[marketplaces.NAME]`` table changes any rule of a built-in marketplace or adds a new one; the
change shows on the very next command, read-only ones included. ``false`` removes a step, a
range gives each side its safe end, and a bad file is refused whole: exit 2, one line naming the
file, the line and what is wrong, and the ledger untouched. ``refundctl policies`` shows the rules
in effect and where each comes from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from refundctl.policies import BUILT_IN, RuleName
from tests.conftest import Cli, Run, snapshot

RECEIVED = "2026-11-20"
BASE = 'timezone = "UTC"\n'


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def config_file() -> Path:
    return Path(os.environ["REFUNDCTL_CONFIG"])


def configure(text: str) -> None:
    config_file().write_text(BASE + text)


def rule(policy_json: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [r for r in policy_json["rules"] if r["name"] == name]
    return found


def named(deadlines: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [d for d in deadlines if d["name"] == name]
    return found


def policy(cli: Cli, name: str) -> dict[str, Any]:
    [found] = ok(cli("policies", name, "--json")).json()["policies"]
    assert found["name"] == name
    return found


def add_received(cli: Cli, number: str, market: str, *extra: str) -> Run:
    return ok(
        cli(
            "order",
            "add",
            number,
            "-m",
            market,
            "--total",
            "45.90",
            "--ordered",
            "2026-11-01",
            "--received",
            RECEIVED,
            *extra,
        )
    )


# -- an override takes effect on the next command ------------------------------------------------


def test_an_aliexpress_override_shows_on_the_very_next_read_only_command(
    cli: Cli, ledger_path: Path
) -> None:
    add_received(cli, "A1", "aliexpress")
    before = ok(cli("status", "--json")).json()["orders"][0]["deadline"]
    assert before["due"] == "2026-12-05T00:00:00+00:00"
    assert before["rule"]["origin"] == "built-in"
    assert ok(cli("check", "--within", "5d")).exit_code == 0
    unchanged = snapshot(ledger_path)

    configure('[marketplaces.aliexpress]\ndispute_window = "10d"\n')

    shown = ok(cli("order", "show", "A1", "--json")).json()["deadline"]
    assert shown["due"] == "2026-11-30T00:00:00+00:00"
    assert shown["rule"]["duration"] == "10d"
    assert shown["rule"]["origin"] == "config"
    assert shown["rule"]["assumed"] is False
    assert "end of Nov 29" in ok(cli("order", "show", "A1")).stdout
    status = ok(cli("status", "--json")).json()["orders"][0]
    assert status["deadline"]["due"] == "2026-11-30T00:00:00+00:00"
    assert named(status["deadlines"], "dispute_window")["rule"]["origin"] == "config"
    check = cli("check", "--within", "5d", "--json")
    assert check.exit_code == 1
    [item] = check.json()["items"]
    assert (item["kind"], item["order"]) == ("order", "A1")
    assert item["deadline"]["due"] == "2026-11-30T00:00:00+00:00"
    assert snapshot(ledger_path) == unchanged

    aliexpress = policy(cli, "aliexpress")
    window = rule(aliexpress, "dispute_window")
    assert (window["duration"], window["origin"], window["assumed"]) == ("10d", "config", False)
    assert rule(aliexpress, "seller_response")["origin"] == "built-in"
    assert rule(aliexpress, "info_due")["origin"] == "assumed"

    # And back again, as soon as the override is gone.
    configure("")
    again = ok(cli("status", "--json")).json()["orders"][0]["deadline"]
    assert again["due"] == "2026-12-05T00:00:00+00:00"
    assert ok(cli("check", "--within", "5d")).exit_code == 0


def test_an_override_moves_an_open_disputes_deadline_too(story: Cli, ledger_path: Path) -> None:
    shown = ok(story("status", "1", "--json")).json()
    seller = named(shown["deadlines"], "seller_response")
    assert seller["due"] == "2026-11-29T00:00:00+00:00"
    assert story("check", "--within", "1d").exit_code == 0
    unchanged = snapshot(ledger_path)

    configure('[marketplaces.aliexpress]\nseller_response = "2d"\n')

    seller = named(ok(story("status", "1", "--json")).json()["deadlines"], "seller_response")
    assert seller["due"] == "2026-11-24T00:00:00+00:00"
    assert seller["overdue"] is True
    assert seller["rule"]["origin"] == "config"
    check = story("check", "--within", "1d", "--json")
    assert check.exit_code == 1
    assert [i["deadline"]["name"] for i in check.json()["items"]] == ["seller_response"]
    assert snapshot(ledger_path) == unchanged


# -- a new marketplace ---------------------------------------------------------------------------

SHOPEE = """[marketplaces.shopee]
timezone = "Asia/Singapore"
dispute_window = "7d"
seller_response = "3bd"   # business days
"""


def test_a_new_marketplace_from_the_config_works_end_to_end(cli: Cli) -> None:
    configure(SHOPEE)
    added = ok(
        cli(
            "order",
            "add",
            "S1",
            "-m",
            "Shopee",
            "--total",
            "30",
            "--ordered",
            "2026-11-01",
            "--json",
        )
    ).json()
    assert added["policy"] == "shopee"
    ok(cli("order", "receive", "S1", "--on", RECEIVED))
    order = ok(cli("status", "--json")).json()["orders"][0]
    assert order["marketplace"] == "shopee"
    window = order["deadline"]
    assert window["name"] == "dispute_window"
    assert window["due"] == "2026-11-27T00:00:00+00:00"
    assert window["rule"]["policy"] == "shopee"
    assert (window["rule"]["duration"], window["rule"]["origin"]) == ("7d", "config")
    check = cli("check", "--within", "3d", "--json")
    assert check.exit_code == 1
    assert [(i["order"], i["deadline"]["name"]) for i in check.json()["items"]] == [
        ("S1", "dispute_window")
    ]

    # Opened Tuesday 20:00 UTC, Wednesday 04:00 in Singapore: three business days end on
    # Friday 20:00 UTC read in UTC, Monday 04:00 read in Singapore; the seller gets the later.
    ok(cli("open", "S1", "--reason", "damaged", "--full", "--on", "2026-11-24T20:00"))
    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    seller = named(dispute["deadlines"], "seller_response")
    assert seller["due"] == "2026-11-29T20:00:00+00:00"
    assert (seller["rule"]["duration"], seller["rule"]["origin"]) == ("3bd", "config")
    assert seller["rule"]["assumed"] is False
    escalate = named(dispute["deadlines"], "escalate_by")
    assert (escalate["rule"]["origin"], escalate["rule"]["assumed"]) == ("assumed", True)
    # The seller's answer is due first, so it leads; but it is the seller's clock, so a
    # plain check stays quiet about it and only --all lists it, still exiting 0: nothing
    # needs the buyer yet.
    assert dispute["deadline"]["name"] == "seller_response"
    assert ok(cli("check", "--within", "4d")).stdout == "Nothing is due in this window.\n"
    listed = ok(cli("check", "--within", "4d", "--all")).stdout
    assert listed.startswith("dispute 1: shopee S1: seller's answer in 3d 8h (Nov 29 20:00)")

    shopee = policy(cli, "shopee")
    assert shopee["timezone"] == "Asia/Singapore"
    assert rule(shopee, "dispute_window")["origin"] == "config"
    assert rule(shopee, "seller_response")["applied"] == "3bd"
    assert rule(shopee, "protection_ends")["origin"] == "assumed"
    text = ok(cli("policies", "shopee")).stdout
    assert "Asia/Singapore" in text
    assert "config" in text and "assumed" in text
    assert "shopee" in ok(cli("policies")).stdout


def test_a_new_marketplace_can_skip_a_countrys_holidays(cli: Cli) -> None:
    configure('[marketplaces.shopee]\nholidays = "us"\nseller_response = "1bd"\n')
    ok(cli("order", "add", "S1", "-m", "shopee", "--total", "30", "--ordered", "2026-11-01"))
    ok(cli("open", "S1", "--reason", "not-received", "--full", "--on", "2026-11-25"))
    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    # Thanksgiving (Thursday Nov 26) is skipped.
    assert named(dispute["deadlines"], "seller_response")["due"] == "2026-11-27T00:00:00+00:00"
    assert policy(cli, "shopee")["holidays"] == "US"


def test_false_removes_a_step(cli: Cli) -> None:
    add_received(cli, "P1", "paypal")
    ok(cli("open", "P1", "--reason", "damaged", "--full", "--on", "2026-11-22"))
    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    # PayPal's seller has no deadline in the dispute stage; the 180 days from payment run.
    assert sorted(d["name"] for d in dispute["deadlines"]) == ["claim_by", "escalate_by"]

    configure("[marketplaces.paypal]\nescalate_by = false\n")

    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    assert [d["name"] for d in dispute["deadlines"]] == ["claim_by"]
    escalate = rule(policy(cli, "paypal"), "escalate_by")
    assert escalate["present"] is False


def test_a_range_gives_the_seller_the_high_end_and_the_buyer_the_low_end(cli: Cli) -> None:
    configure('[marketplaces.ebay]\nseller_response = "5-7d"\nbuyer_response = "5-7d"\n')
    add_received(cli, "E1", "ebay")
    ok(cli("open", "E1", "--reason", "damaged", "--full", "--on", "2026-11-20"))
    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    seller = named(dispute["deadlines"], "seller_response")
    assert seller["due"] == "2026-11-27T00:00:00+00:00"
    assert seller["rule"]["duration"] == "7d"
    ok(cli("respond", "1", "seller-rejects", "--on", "2026-11-24"))
    [dispute] = ok(cli("status", "--json")).json()["disputes"]
    buyer = named(dispute["deadlines"], "buyer_response")
    assert buyer["due"] == "2026-11-29T00:00:00+00:00"
    assert buyer["rule"]["duration"] == "5d"

    ebay = policy(cli, "ebay")
    seller_rule = rule(ebay, "seller_response")
    assert (seller_rule["duration"], seller_rule["upto"], seller_rule["applied"]) == (
        "5d",
        "7d",
        "7d",
    )
    assert rule(ebay, "buyer_response")["applied"] == "5d"
    assert "5–7d†" in ok(cli("policies")).stdout


# -- bad config files ----------------------------------------------------------------------------

BAD = [
    pytest.param(
        '[marketplaces.aliexpress]\ndispute_window = "10x"\n', 3, "'10x'", id="bad-duration"
    ),
    pytest.param(
        '[marketplaces.aliexpress]\ndispute_windw = "10d"\n', 3, "dispute_windw", id="unknown-key"
    ),
    pytest.param(
        '[marketplaces.shopee]\ndispute_window = "7d"\ntimezone = "Mars/Olympus"\n',
        4,
        "Mars/Olympus",
        id="unknown-zone",
    ),
    pytest.param(
        '[marketplaces.ebay]\nholidays = "XX"\n', 3, "'XX'", id="unknown-holidays-country"
    ),
    pytest.param(
        '[marketplaces.ebay]\nholidays = "USA"\n', 3, "two-letter", id="bad-holidays-code"
    ),
    pytest.param('[marketplaces]\naliexpress = "10d"\n', 3, "table", id="non-table-marketplace"),
    pytest.param("marketplaces = 3\n", 2, "table", id="marketplaces-not-a-table"),
    pytest.param(
        '[marketplaces.ebay]\nseller_response = "7-5d"\n', 3, "'7-5d'", id="range-low-above-high"
    ),
    pytest.param('[marketplaces.ebay]\nseller_response = "0d"\n', 3, "zero", id="zero"),
    pytest.param("[marketplaces.ebay]\nseller_response = 10\n", 3, "string", id="not-a-string"),
    pytest.param(
        # A good table first, then a bad one: nothing of the file is applied.
        '[marketplaces.ebay]\ndispute_window = "10d"\n\n'
        '[marketplaces.aliexpress]\ndispute_window = "10d"\nseller_response = "soon"\n',
        7,
        "'soon'",
        id="bad-after-good",
    ),
    pytest.param(
        '[marketplaces.aliexpress]\ndispute_window = "10d\n', 3, "", id="toml-syntax-error"
    ),
]


def refused_everywhere(cli: Cli, line: int, fragment: str, ledger_path: Path) -> None:
    unchanged = snapshot(ledger_path)
    for command in (
        ("order", "add", "X2", "-m", "ebay", "--total", "5"),
        ("order", "receive", "A1"),
        ("open", "A1", "--reason", "damaged", "--full"),
        ("status", "--json"),
        ("order", "show", "A1"),
        ("check",),
        ("policies",),
        ("export", "--format", "ics"),
    ):
        run = cli(*command)
        assert run.exit_code == 2, (command, run.exit_code, run.stdout, run.stderr)
        assert run.stdout == "", command
        assert run.stderr.count("\n") == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert str(config_file()) in run.stderr, run.stderr
        assert f"line {line}" in run.stderr, run.stderr
        assert fragment in run.stderr, run.stderr
    assert snapshot(ledger_path) == unchanged


@pytest.mark.parametrize(("text", "line", "fragment"), BAD)
def test_a_bad_config_is_refused_whole_with_file_line_and_reason(
    cli: Cli, ledger_path: Path, text: str, line: int, fragment: str
) -> None:
    add_received(cli, "A1", "aliexpress")
    configure(text)
    refused_everywhere(cli, line, fragment, ledger_path)
    # Fixed, it works again, and the ledger is as it was.
    configure("")
    assert ok(cli("status", "--json")).json()["orders"][0]["order"] == "A1"


def test_a_bad_buyer_zone_names_its_line(cli: Cli, ledger_path: Path) -> None:
    add_received(cli, "A1", "aliexpress")
    config_file().write_text('# mine\ntimezone = "Nowhere/Land"\n')
    refused_everywhere(cli, 2, "Nowhere/Land", ledger_path)


@pytest.mark.parametrize(
    "text",
    [
        'marketplaces.aliexpress.dispute_window = "10x"\n',
        '[marketplaces]\naliexpress = { dispute_window = "10x" }\n',
        '[marketplaces.aliexpress]\n"dispute_window" = "10d"\n[marketplaces.ebay]\n'
        'seller_response.x = "1d"\n',
    ],
    ids=["dotted-key", "inline-table", "dotted-rule"],
)
def test_a_bad_rule_in_any_toml_form_names_its_line(cli: Cli, ledger_path: Path, text: str) -> None:
    add_received(cli, "A1", "aliexpress")
    config_file().write_text(text)
    run = cli("status")
    assert run.exit_code == 2
    assert ", line " in run.stderr, run.stderr


def test_a_bad_marketplace_name_names_its_line(cli: Cli) -> None:
    config_file().write_text('timezone = "UTC"\n[marketplaces."Shop Ee"]\ndispute_window = "7d"\n')
    run = cli("status")
    assert run.exit_code == 2
    assert "line 2" in run.stderr, run.stderr


def test_a_reversed_range_says_what_is_wrong(cli: Cli) -> None:
    configure('[marketplaces.ebay]\nseller_response = "7-5d"\n')
    run = cli("status")
    assert run.exit_code == 2
    assert "not a duration" not in run.stderr, run.stderr
    assert "range" in run.stderr or "high" in run.stderr, run.stderr


def test_one_marketplace_named_twice_is_merged_or_refused(cli: Cli) -> None:
    configure(
        '[marketplaces.ebay]\ndispute_window = "10d"\n[marketplaces.EBay]\nseller_response = "1d"\n'
    )
    run = cli("policies", "ebay", "--json")
    if run.exit_code == 2:
        assert "line" in run.stderr
        return
    ebay = ok(run).json()["policies"][0]
    assert rule(ebay, "seller_response")["applied"] == "1d"
    assert rule(ebay, "dispute_window")["applied"] == "10d"


def test_an_override_of_generic_reaches_every_assumed_rule(cli: Cli) -> None:
    configure('[marketplaces.generic]\ninfo_due = "1d"\n')
    assert rule(policy(cli, "generic"), "info_due")["applied"] == "1d"
    configure('[marketplaces.generic]\ninfo_due = "1d"\n' + SHOPEE)
    for name in ("aliexpress", "shopee"):
        fallback = rule(policy(cli, name), "info_due")
        # The number is no longer refundctl's assumption but the buyer's own setting.
        assert fallback["origin"] == "config" and fallback["assumed"] is False
        assert fallback["applied"] == "1d", name


# -- refundctl policies --------------------------------------------------------------------------


def test_an_unknown_marketplace_is_refused_with_the_known_names(
    cli: Cli, ledger_path: Path
) -> None:
    before = snapshot(ledger_path)
    run = cli("policies", "nowhere")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert "nowhere" in run.stderr
    for name in BUILT_IN:
        assert name in run.stderr
    configure(SHOPEE)
    assert "shopee" in cli("policies", "nowhere").stderr
    assert snapshot(ledger_path) == before


def _overview(out: str) -> dict[str, dict[str, str]]:
    """The overview's cells by rule and marketplace, across its tables (six columns each)."""
    cells: dict[str, dict[str, str]] = {}
    markets: list[str] = []
    for line in out.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "Rule":
            markets = words[1:]
        elif words[0] in {r.value for r in RuleName}:
            cells.setdefault(words[0], {}).update(zip(markets, words[1:], strict=True))
    return cells


def test_the_overview_has_a_column_per_marketplace_and_a_legend(cli: Cli) -> None:
    out = ok(cli("policies")).stdout
    cells = _overview(out)
    assert set(cells) == {name.value for name in RuleName}
    assert all(sorted(row) == sorted(BUILT_IN) for row in cells.values())
    legend = " ".join(out.split())
    for words in ("calendar days", "business days", "assumed", "from your config", "no such step"):
        assert words in legend, words
    configure(SHOPEE)
    out = ok(cli("policies")).stdout
    assert sorted(_overview(out)["dispute_window"]) == sorted([*BUILT_IN, "shopee"])


def test_the_overview_marks_assumed_configured_and_absent_rules(cli: Cli) -> None:
    configure('[marketplaces.ebay]\ndispute_window = "20d"\n')
    cells = _overview(ok(cli("policies")).stdout)
    window = cells["dispute_window"]
    assert window["ebay"] == "20d†"
    assert window["generic"] == "15d*"
    assert window["aliexpress"] == "15d"
    assert cells["appeal_by"]["aliexpress"] == "—"


def test_one_policy_in_full_shows_its_source_zone_and_where_each_rule_comes_from(
    cli: Cli,
) -> None:
    out = ok(cli("policies", "AliExpress")).stdout
    aliexpress = BUILT_IN["aliexpress"]
    assert aliexpress.source is not None
    assert aliexpress.source in out
    assert "America/Los_Angeles" in out
    assert "CN public holidays" in out
    assert "checked 2026-12-01" in out
    assert "no such step" in out
    assert "built-in" in out and "assumed" in out


RULE_JSON_KEYS = {
    "name",
    "present",
    "duration",
    "upto",
    "applied",
    "counts_from",
    "sooner",
    "binds",
    "earliest",
    "action",
    "if_missed",
    "origin",
    "assumed",
    "source",
    "note",
}


def test_the_json_shape(cli: Cli) -> None:
    every = ok(cli("policies", "--json")).json()
    # Beside the marketplaces, the remedies beyond them (tests/test_remedies.py).
    assert list(every) == ["policies", "remedies", "exclusions"]
    assert [p["name"] for p in every["policies"]] == sorted(BUILT_IN)
    for shown in every["policies"]:
        assert set(shown) == {"name", "title", "timezone", "holidays", "source", "checked", "rules"}
        assert [r["name"] for r in shown["rules"]] == [n.value for n in RuleName]
        built_in = BUILT_IN[shown["name"]]
        assert shown["timezone"] == built_in.timezone
        assert shown["holidays"] == built_in.holidays
        assert shown["source"] == built_in.source
        for item in shown["rules"]:
            assert item["binds"] in {"buyer", "seller", "platform", "payment", None}
            if not item["present"]:
                assert set(item) == {"name", "present", "binds"}
                continue
            assert set(item) == RULE_JSON_KEYS, sorted(item)
            assert isinstance(item["counts_from"], list) and item["counts_from"]
            assert item["origin"] in {"built-in", "assumed"}
            assert item["assumed"] is (item["origin"] == "assumed")
            assert (item["source"] is None) is item["assumed"]
    [one] = ok(cli("policies", "ebay", "--json")).json()["policies"]
    assert one == next(p for p in every["policies"] if p["name"] == "ebay")
    assert one["checked"] == "2026-12-01"
    appeal = rule(one, "appeal_by")
    assert appeal["source"].startswith("https://") and appeal["note"] is None


def test_the_overview_reads_at_80_columns_with_a_configured_marketplace(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert "…" not in ok(cli("policies")).stdout
    configure(SHOPEE)
    out = ok(cli("policies")).stdout
    assert "…" not in out, out
    assert sorted(_overview(out)["dispute_window"]) == sorted([*BUILT_IN, "shopee"])
    assert max(len(line) for line in out.splitlines()) <= 80
