"""``stats``: what disputes were worth, checked against figures worked out by hand.

The small ledger below is one buyer's autumn: eight disputes on four marketplaces in two
currencies, ending every way a dispute ends. Every figure the tests expect is computed in the
comments beside it.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from refundctl.render import stats as view
from refundctl.stats import OUTCOMES, Case, GroupBy, seller_record, tally
from refundctl.terms import State

from .conftest import Cli


def _run(cli: Cli, *args: str) -> None:
    done = cli(*args)
    assert done.exit_code == 0, (args, done.stdout, done.stderr)


def _order(cli: Cli, number: str, market: str, total: str, seller: str, currency: str) -> None:
    _run(
        cli,
        *("--as-of", "2026-09-01", "order", "add", number, "-m", market, "--total", total),
        *("--seller", seller, "--currency", currency, "--ordered", "2026-09-01"),
        *("--received", "2026-09-01"),
    )


def _open(cli: Cli, number: str, on: str, *ask: str) -> None:
    _run(cli, "--as-of", on, "open", number, "--reason", "not-as-described", *ask)


@pytest.fixture
def autumn(cli: Cli) -> Cli:
    """Eight disputes; the days each took are from opening to the move that closed it."""
    _order(cli, "A1", "aliexpress", "40.00", "Best Store", "USD")
    _order(cli, "A2", "aliexpress", "30.00", "best  store", "USD")  # the same seller
    _order(cli, "A3", "aliexpress", "20.00", "BEST STORE", "USD")  # the same seller
    _order(cli, "A4", "aliexpress", "10.00", "Other Shop", "USD")
    _order(cli, "Z1", "amazon", "100.00", "Acme", "USD")
    _order(cli, "E1", "ebay", "50.00", "Kamera", "EUR")
    _order(cli, "E2", "ebay", "80.00", "Kamera", "EUR")
    _order(cli, "T1", "temu", "15.00", "", "USD")
    # 1: A1 asks 40, refunded 40 after 10 days (Sep 02 -> Sep 12).
    _open(cli, "A1", "2026-09-02", "--amount", "40")
    _run(cli, "--as-of", "2026-09-12", "resolve", "1", "--refunded", "40")
    # 2: A2 asks 30, the seller offers 20, the buyer takes it: refunded 20 as store credit
    # after 4 days (Sep 03 -> Sep 07). Its last ask is still 30.
    _open(cli, "A2", "2026-09-03", "--amount", "30")
    _run(cli, "--as-of", "2026-09-05", "respond", "2", "seller-offers", "20")
    _run(cli, "--as-of", "2026-09-05", "respond", "2", "accept")
    _run(cli, "--as-of", "2026-09-07", "resolve", "2", "--refunded", "20", "--credit")
    # 3: A3 asks 20, escalated, lost after 25 days (Sep 05 -> Sep 30).
    _open(cli, "A3", "2026-09-05", "--amount", "20")
    _run(cli, "--as-of", "2026-09-08", "escalate", "3")
    _run(cli, "--as-of", "2026-09-30", "resolve", "3", "--lost")
    # 4: A4 asks 10, cancelled the next day (Oct 01 -> Oct 02).
    _open(cli, "A4", "2026-10-01", "--amount", "10")
    _run(cli, "--as-of", "2026-10-02", "cancel", "4")
    # 5: Z1 asks 100, escalated, still open: at stake 100.
    _open(cli, "Z1", "2026-10-03", "--amount", "100")
    _run(cli, "--as-of", "2026-10-06", "escalate", "5")
    # 6: E1 asks 50 EUR, refunded 45 after 6 days (Oct 04 -> Oct 10).
    _open(cli, "E1", "2026-10-04", "--amount", "50")
    _run(cli, "--as-of", "2026-10-10", "resolve", "6", "--refunded", "45")
    # 7: E2 asks 80 EUR, the seller answers, the buyer withdraws after 2 days.
    _open(cli, "E2", "2026-10-05", "--amount", "80")
    _run(cli, "--as-of", "2026-10-06", "respond", "7", "seller-rejects")
    _run(cli, "--as-of", "2026-10-07", "resolve", "7", "--withdrawn")
    # 8: T1 asks 15, still open with the seller: at stake 15.
    _open(cli, "T1", "2026-11-01", "--amount", "15")
    return cli


def test_the_figures_match_the_hand_count(autumn: Cli) -> None:
    shown = autumn("stats", "--json").json()
    usd, eur = shown["currencies"]["USD"], shown["currencies"]["EUR"]
    assert list(shown["currencies"]) == ["EUR", "USD"]
    assert shown["disputes"] == 8 and shown["by"] is None and "groups" not in shown
    # USD: closed 1 (40), 2 (30), 3 (20), 4 (10): asked 100; back 40 + 20 credit = 60.
    assert usd["disputes"] == 6
    assert usd["by_outcome"] == {"refunded": 2, "lost": 1, "withdrawn": 0, "cancelled": 1}
    assert (usd["requested"], usd["recovered"]) == ("100.00", "60.00")
    assert (usd["refunds"], usd["store_credit"]) == ("40.00", "20.00")
    assert usd["recovery_rate"] == 0.6
    # Days to close 10, 4, 25, 1: the median of four is (4 + 10) / 2 = 7.
    assert usd["median_days_to_close"] == 7.0
    # Escalated: 3 (lost) and 5 (still open).
    assert usd["escalated"] == 2
    assert usd["escalated_outcomes"] == {
        "refunded": 0,
        "lost": 1,
        "withdrawn": 0,
        "cancelled": 0,
        "active": 1,
    }
    # Active: 5 (100) and 8 (15).
    assert (usd["active"], usd["at_stake"]) == (2, "115.00")
    # EUR: closed 6 (50, back 45) and 7 (80, withdrawn): 45 of 130, days 6 and 2.
    assert eur["by_outcome"] == {"refunded": 1, "lost": 0, "withdrawn": 1, "cancelled": 0}
    assert (eur["requested"], eur["recovered"], eur["recovery_rate"]) == ("130.00", "45.00", 0.3462)
    assert eur["median_days_to_close"] == 4.0
    assert (eur["active"], eur["at_stake"], eur["escalated"]) == (0, "0.00", 0)


def test_sellers_match_across_case_and_spacing_and_rank_by_disputes(autumn: Cli) -> None:
    groups = autumn("stats", "--by", "seller", "--json").json()["groups"]
    keys = [(g["key"], g["marketplace"], g["disputes"]) for g in groups]
    # Best Store, best  store and BEST STORE are one seller on AliExpress (1, 2, 3); Kamera
    # has two on eBay; the rest one each, the worst recovery rate first, then by name.
    assert keys[0] == ("Best Store", "aliexpress", 3)
    assert keys[1] == ("Kamera", "ebay", 2)
    assert [k[:2] for k in keys[2:]] == [
        ("Other Shop", "aliexpress"),  # cancelled: 0 of 10
        ("(no seller)", "temu"),  # nothing closed: no rate
        ("Acme", "amazon"),
    ]
    best = groups[0]["currencies"]["USD"]
    # 40 + 20 of 40 + 30 + 20 = 60 of 90; days 10, 4, 25: median 10.
    assert (best["recovered"], best["requested"], best["recovery_rate"]) == (
        "60.00",
        "90.00",
        0.6667,
    )
    assert best["median_days_to_close"] == 10.0


def test_by_marketplace_reason_and_month(autumn: Cli) -> None:
    markets = autumn("stats", "--by", "marketplace", "--json").json()["groups"]
    assert [(g["key"], g["disputes"]) for g in markets] == [
        ("aliexpress", 4),
        ("ebay", 2),
        ("amazon", 1),
        ("temu", 1),
    ]
    reasons = autumn("stats", "--by", "reason", "--json").json()["groups"]
    assert [(g["key"], g["disputes"]) for g in reasons] == [("not-as-described", 8)]
    months = autumn("stats", "--by", "month", "--json").json()["groups"]
    # September: 1, 2, 3; October: 4, 5, 6, 7; November: 8. Months in time order.
    assert [(g["key"], g["disputes"]) for g in months] == [
        ("2026-09", 3),
        ("2026-10", 4),
        ("2026-11", 1),
    ]


def test_a_month_is_the_buyers_month(autumn: Cli, isolated: Path) -> None:
    # Dispute 4 was opened at midnight UTC on Oct 01, still September in New York; dispute 8
    # at midnight UTC on Nov 01, still October there.
    isolated.with_name("config.toml").write_text('timezone = "America/New_York"\n')
    months = autumn("stats", "--by", "month", "--json").json()["groups"]
    assert [(g["key"], g["disputes"]) for g in months] == [("2026-09", 4), ("2026-10", 4)]


def test_since_and_until_bound_when_the_dispute_was_opened(autumn: Cli) -> None:
    shown = autumn("stats", "--since", "2026-10-01", "--until", "2026-10-04", "--json").json()
    # Opened Oct 01 to Oct 04 00:00: disputes 4, 5 and 6.
    assert shown["disputes"] == 3
    assert shown["currencies"]["USD"]["by_outcome"]["cancelled"] == 1
    assert shown["currencies"]["EUR"]["recovered"] == "45.00"
    wrong = autumn("stats", "--since", "2026-10-05", "--until", "2026-10-01")
    assert wrong.exit_code == 2
    assert "--since is after --until" in wrong.stderr
    bad = autumn("stats", "--by", "colour")
    assert bad.exit_code == 2 and "colour" in bad.stderr and "Traceback" not in bad.stderr


def test_csv_has_a_row_per_group_and_currency(autumn: Cli) -> None:
    lines = autumn("stats", "--by", "marketplace", "--format", "csv").stdout.splitlines()
    assert lines[0].split(",") == list(view.CSV_COLUMNS)
    assert lines[1] == ("aliexpress,,USD,4,2,1,0,1,0,100.00,60.00,40.00,20.00,0.6000,7.0,1,0.00")
    plain = autumn("stats", "--format", "csv").stdout.splitlines()
    assert [line.split(",")[:4] for line in plain[1:]] == [
        ["all", "", "EUR", "2"],
        ["all", "", "USD", "6"],
    ]


def test_open_and_status_show_the_sellers_record(autumn: Cli) -> None:
    _order(autumn, "A5", "aliexpress", "12.00", "  best store ", "USD")
    opened = autumn("--as-of", "2026-11-02", "open", "A5", "--reason", "damaged", "--full")
    # Of 1, 2, 3: two refunded (1 and 2), median of 10, 4, 25 days = 10; 3 lost escalated.
    line = "best store: 2 of 3 earlier disputes refunded, median 10 days; 1 lost after escalation"
    assert opened.stdout.splitlines()[-1] == line
    detail = autumn("--as-of", "2026-11-02", "status", "9").stdout
    assert "Seller's record    2 of 3 earlier disputes refunded, median 10 days; 1 lost" in detail
    # The same name on another marketplace is another seller; a first dispute has no line.
    _order(autumn, "Z2", "amazon", "12.00", "Best Store", "USD")
    first = autumn("--as-of", "2026-11-02", "open", "Z2", "--reason", "damaged", "--full")
    assert "earlier" not in first.stdout
    assert "Seller's record" not in autumn("--as-of", "2026-11-02", "status", "10").stdout
    # JSON stays the dispute's own.
    assert "earlier" not in autumn("status", "9", "--json").stdout


def _console(width: int, terminal: bool) -> Console:
    return Console(width=width, force_terminal=terminal, color_system=None, highlight=False)


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("terminal", [True, False])
def test_the_terminal_view_fits_and_keeps_its_numbers(
    autumn: Cli, width: int, terminal: bool
) -> None:
    shown = autumn("stats", "--json").json()  # the ledger, read once for the cases below
    assert shown["disputes"] == 8
    from refundctl.ledger.connection import Settings
    from refundctl.ledger.store import Ledger
    from refundctl.policies import policy_for

    path = Path(__import__("os").environ["REFUNDCTL_DB"])
    with Ledger.open(path, Settings(zone=UTC, policy_for=policy_for), write=False) as ledger:
        cases = list(ledger.cases())
    console = _console(width, terminal)
    with console.capture() as captured:
        console.print(view.overview(tally(cases, GroupBy.MARKETPLACE), tally(cases, GroupBy.MONTH)))
        console.print(view.groups_view(tally(cases, GroupBy.SELLER)))
    text = captured.get()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text  # nothing cut
    assert "asked $100.00 on 4 closed, recovered $60.00 (60%)" in text
    assert "$60.00 of $100.00 · 60%" in text  # aliexpress, beside its bar
    assert "€45.00 of €130.00 · 35%" in text
    bar = next(line for line in lines if line.lstrip().startswith("aliexpress USD"))
    if terminal:
        assert "█" in bar and "#" not in bar
    else:
        # Piped: plain characters, 60% of the bar recovered, the rest dotted.
        assert set(re.sub(r"[^#.]", "", bar.split("  ")[2])) <= {"#", "."}
        assert "█" not in text
    assert "2026-10" in text and "Best Store (aliexpress)" in text


def test_piped_stats_prints_plain_bars(autumn: Cli) -> None:
    out = autumn("stats").stdout
    assert "Recovered of asked" in out and "#" in out and "█" not in out


def test_an_empty_ledger_says_so(cli: Cli, empty_ledger: Path) -> None:
    done = cli("stats")
    assert done.exit_code == 0 and "No disputes" in done.stdout
    assert cli("stats", "--json").json()["currencies"] == {}


@pytest.mark.parametrize("by", [None, *GroupBy])
def test_a_dispute_without_a_stored_fold_counts_the_same(
    autumn: Cli, isolated: Path, by: GroupBy | None
) -> None:
    # SQLite adds up the stored folds; with one missing, every case is read and added up in
    # Python: both must give the same figures, to the cent and the tenth of a day.
    grouping = [] if by is None else ["--by", by.value]
    before = autumn("stats", *grouping, "--json").json()
    conn = sqlite3.connect(isolated)
    with conn:
        conn.execute("UPDATE disputes SET folded = NULL WHERE id IN (2, 3)")
    conn.close()
    assert autumn("stats", *grouping, "--json").json() == before


# --- the arithmetic, for any cases ------------------------------------------------------------

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_CASES = st.builds(
    Case,
    marketplace=st.sampled_from(["aliexpress", "ebay", "amazon"]),
    seller=st.sampled_from(["Best Store", "best store", "Acme", None]),
    reason=st.sampled_from(["damaged", "not-received"]),
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    state=st.sampled_from(list(State)),
    requested=st.integers(1, 10**6).map(Decimal),
    refunded=st.none() | st.integers(0, 10**6).map(Decimal),
    credit=st.booleans(),
    opened=st.integers(0, 300).map(lambda d: _T0 + timedelta(days=d)),
    closed=st.none() | st.integers(301, 400).map(lambda d: _T0 + timedelta(days=d)),
    escalated=st.booleans(),
)


@given(st.lists(_CASES, max_size=40), st.sampled_from(list(GroupBy)))
def test_groups_add_up_to_the_whole(cases: list[Case], by: GroupBy) -> None:
    whole = tally(cases, by)
    assert whole.disputes == len(cases)
    for code, figures in whole.currencies.items():
        parts = [g.currencies[code] for g in whole.groups if code in g.currencies]
        assert sum(p.disputes for p in parts) == figures.disputes
        assert sum(p.recovered for p in parts) == figures.recovered
        assert sum(p.requested for p in parts) == figures.requested
        assert sum(p.at_stake for p in parts) == figures.at_stake
        for state in OUTCOMES:
            assert sum(p.by_outcome[state] for p in parts) == figures.by_outcome[state]
        assert figures.active + sum(figures.by_outcome.values()) == figures.disputes
        assert figures.recovered == figures.refunds + figures.store_credit
    sizes = [g.disputes for g in whole.groups]
    if by is not GroupBy.MONTH:
        assert sizes == sorted(sizes, reverse=True)


@given(st.lists(_CASES, max_size=20))
def test_a_sellers_record_counts_every_earlier_dispute(cases: list[Case]) -> None:
    line = seller_record("Best Store", cases)
    if not cases:
        assert line is None
        return
    assert line is not None
    refunded = sum(c.state is State.REFUNDED for c in cases)
    assert line.startswith(f"Best Store: {refunded} of {len(cases)} earlier dispute")


def test_a_chargeback_counts_under_its_rail_and_in_the_sellers_record(autumn: Cli) -> None:
    _run(
        autumn,
        *("--as-of", "2026-09-01", "order", "add", "A9", "-m", "aliexpress", "--total", "25"),
        *("--seller", "Best Store", "--payment", "Visa - 4242", "--ordered", "2026-09-01"),
    )
    _run(
        autumn,
        "--as-of",
        "2026-11-02",
        "open",
        "A9",
        "--via",
        "visa",
        "--reason",
        "not-received",
        "--full",
    )
    markets = autumn("stats", "--by", "marketplace", "--json").json()["groups"]
    assert ("visa", 1) in [(g["key"], g["disputes"]) for g in markets]
    assert ("aliexpress", 4) in [(g["key"], g["disputes"]) for g in markets]
    sellers = autumn("stats", "--by", "seller", "--json").json()["groups"]
    assert (sellers[0]["key"], sellers[0]["disputes"]) == ("Best Store", 4)
