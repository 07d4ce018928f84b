"""After the marketplace says no: the next remedy, and its deadline (issue 18).

One buyer's story per rail through the command line, at the moments ``--as-of`` names, each
deadline worked out by hand in a comment: an AliExpress case lost, paid by Visa; an Amazon
A-to-z claim still open while a Mastercard window closes; an AliExpress parcel that never came,
paid with PayPal. Then what the payment text is read as, what is refused, and the rules
``refundctl policies`` shows agreeing with docs/remedies.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from refundctl.payment import Funding, Network, recognise
from tests.conftest import Cli, Run, snapshot

ROOT = Path(__file__).resolve().parent.parent


def ok(run: Run) -> Run:
    assert run.exit_code == 0, run.stderr
    return run


def test_lost_on_aliexpress_paid_by_visa(cli: Cli, ledger_path: Path) -> None:
    """The card is the next remedy once AliExpress has said no, and its window counts from
    the receipt; filing it takes the window off the lost case."""
    (ledger_path.parent / "config.toml").write_text('timezone = "Europe/Berlin"\n')
    now = ("--as-of", "2026-11-12T12:00:00+00:00")
    ok(
        cli(
            *now,
            "order",
            "add",
            "8101",
            "-m",
            "aliexpress",
            "--total",
            "45.90",
            "--seller",
            "Best Store",
            "--ordered",
            "2026-10-01",
            "--expected-by",
            "2026-10-25",
            "--received",
            "2026-10-20",
            "--payment",
            "Visa - 4242",
        )
    )
    ok(cli(*now, "open", "8101", "--reason", "not-as-described", "--full", "--on", "2026-10-22"))
    ok(cli(*now, "escalate", "1", "--on", "2026-10-28"))
    ok(cli(*now, "respond", "1", "platform-rejects", "--on", "2026-11-10"))

    lost = ok(cli(*now, "status", "1", "--json")).json()
    assert lost["state"] == "lost"
    # Visa 13.3 (not as described): 120 days from the later of the processing date (on or
    # after the order, 2026-10-01) and the receipt, 2026-10-20: from the receipt, midnight in
    # Berlin, CEST, 2026-10-19 22:00 UTC. The clocks go back on 2026-10-25, so the 120 days
    # in exact hours (2026-10-19 22:00 + 2880 h = 2027-02-16 22:00 UTC) come an hour before
    # the wall clock's (2027-02-17 00:00 CET = 23:00 UTC): the earlier, your deadline. The
    # 540-day cap (from 2026-10-01) is far later. AliExpress has no appeal: it stands alone.
    assert [d["name"] for d in lost["deadlines"]] == ["chargeback_by"]
    window = lost["deadlines"][0]
    assert window["due"] == "2027-02-16T22:00:00+00:00"
    assert (window["binds"], window["if_missed"]) == ("buyer", "you_lose")
    assert window["rule"]["policy"] == "visa"
    assert window["rule"]["counts_from"] == "receipt"
    assert window["rule"]["source"].startswith("https://usa.visa.com/")

    # From 2026-11-12 12:00 UTC that is 96 days and 10 hours away: outside 96 days, inside 97.
    assert cli(*now, "check", "--within", "96d").exit_code == 0
    due = cli(*now, "check", "--within", "97d", "--json")
    assert due.exit_code == 1
    assert [(i["id"], i["deadline"]["name"]) for i in due.json()["items"]] == [(1, "chargeback_by")]
    listed = ok(cli(*now, "status", "--json")).json()["disputes"]
    assert [(d["id"], d["deadline"]["name"]) for d in listed] == [(1, "chargeback_by")]

    # Letting it go: a closed order's remedy windows are not watched; reopened, they are.
    ok(cli(*now, "order", "close", "8101", "--reason", "gave-up"))
    assert cli(*now, "check", "--within", "97d").exit_code == 0
    ok(cli(*now, "order", "reopen", "8101"))
    assert cli(*now, "check", "--within", "97d").exit_code == 1

    remedies = ok(cli(*now, "remedies", "8101", "--json")).json()
    assert (remedies["payment_network"], remedies["family"]) == ("visa", "not as described")
    assert [(r["kind"], r["standing"]) for r in remedies["remedies"]] == [
        ("marketplace", "closed"),
        ("card", "open"),
    ]
    card = remedies["remedies"][1]
    assert card["deadline"]["due"] == window["due"]
    assert "--via visa --reason not-as-described" in card["to_do"]

    # The buyer may also enter the issuer's own, sooner date: it stands in for Visa's.
    ok(cli(*now, "due", "1", "chargeback_by", "2027-01-20"))
    entered = ok(cli(*now, "status", "1", "--json")).json()["deadlines"][0]
    assert entered["due"] == "2027-01-19T23:00:00+00:00"  # 2027-01-20 00:00 CET, its start
    assert entered["rule"]["origin"] == "entered"

    filed = ok(cli(*now, "open", "8101", "--via", "visa", "--reason", "not-as-described", "--full"))
    assert "still open" not in filed.stderr  # the marketplace's case is over
    chargeback = ok(cli(*now, "status", "2", "--json")).json()
    assert (chargeback["via"], chargeback["policy"], chargeback["state"]) == (
        "visa",
        "visa",
        "escalated",
    )
    # Filed 2026-11-12 13:00 Berlin (12:00 UTC, CET since October). The merchant answers
    # within 30 days: 2026-12-12 12:00 UTC, no clock change between. The issuer decides in
    # 30 to 90 days (the Fair Credit Billing Act); the other side's is the later end:
    # 2027-02-10 12:00 UTC.
    assert [(d["name"], d["due"]) for d in chargeback["deadlines"]] == [
        ("claim_response", "2026-12-12T12:00:00+00:00"),
        ("platform_decision", "2027-02-10T12:00:00+00:00"),
    ]
    # The card is in use now: the lost case shows its window no more.
    assert ok(cli(*now, "status", "1", "--json")).json()["deadlines"] == []
    # Its filing is part of its opening: undo refuses to take it back.
    before = snapshot(ledger_path)
    refused = cli(*now, "undo", "2")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "filed with the card issuer" in refused.stderr
    assert snapshot(ledger_path) == before

    letter = ok(cli(*now, "draft", "2")).stdout
    assert letter.startswith("Subject: Dispute of a charge: $45.90 to Best Store")
    assert "on my Visa card ending 4242, paid to Best Store for order 8101 on AliExpress" in letter
    assert "- 10 Nov 2026: the marketplace rejected the claim." in letter

    ok(cli(*now, "respond", "2", "platform-awards", "45.90"))
    ok(cli(*now, "resolve", "2", "--refunded", "45.90"))
    assert [
        (r["kind"], r["standing"])
        for r in cli(*now, "remedies", "8101", "--json").json()["remedies"]
    ] == [("marketplace", "closed"), ("card", "used")]


def test_an_amazon_claim_still_open_while_the_card_window_closes(cli: Cli) -> None:
    """While the A-to-z claim runs, a Mastercard window that closes before Amazon is likely
    to decide is a warning in `status D` and `check`; filing ends the claim, and says so."""
    now = ("--as-of", "2026-08-10T12:00:00+00:00")
    ok(
        cli(
            *now,
            "order",
            "add",
            "113-77",
            "-m",
            "amazon",
            "--total",
            "80",
            "--seller",
            "Gadget Hub",
            "--ordered",
            "2026-05-01",
            "--expected-by",
            "2026-05-10",
            "--received",
            "2026-05-08",
            "--payment",
            "MasterCard - 2111",
        )
    )
    ok(cli(*now, "open", "113-77", "--reason", "defective", "--full", "--on", "2026-08-04"))
    ok(cli(*now, "escalate", "1", "--on", "2026-08-07", "--note", "A-to-z claim"))
    claim = ok(cli(*now, "status", "1", "--json")).json()
    # The buyer's zone is UTC and no clock changes in between. Mastercard, not as described:
    # 120 days from the later of the payment (05-01) and the delivery (05-08): 2026-05-08 +
    # 120 days = 09-05 (23 days of May, 30 of June, 31 of July, 31 of August: 115, and 5).
    # Amazon decides within 30 days (generic's assumed value) of the claim on 08-07: 09-06.
    # The window closes first: it is open on the running claim, with what filing does.
    assert [(d["name"], d["due"]) for d in claim["deadlines"]] == [
        ("chargeback_by", "2026-09-05T00:00:00+00:00"),
        ("platform_decision", "2026-09-06T00:00:00+00:00"),
    ]
    assert claim["deadlines"][0]["action"] == (
        "file a chargeback with your card issuer by then, or lose that option; "
        "doing so ends the A-to-z claim"
    )
    shown = " ".join(ok(cli(*now, "status", "1")).stdout.split())
    assert (
        "Mind: file a chargeback with your card issuer by end of Sep 04, or lose that option; "
        "doing so ends the A-to-z claim" in shown
    )
    # 25 days and 12 hours from 08-10 12:00: not within 3 days, within 30.
    assert cli(*now, "check", "--within", "3d").exit_code == 0
    warned = cli(*now, "check", "--within", "30d")
    assert warned.exit_code == 1
    assert "card chargeback in 25d 12h" in warned.stdout
    assert "doing so ends the A-to-z claim" in warned.stdout

    filed = ok(
        cli(*now, "open", "113-77", "--via", "mastercard", "--reason", "defective", "--full")
    )
    assert filed.stderr == (
        "warning: dispute 1 with the marketplace is still open (escalated): filing with "
        "Mastercard ends the A-to-z claim; record what it does with 'refundctl resolve 1'\n"
    )
    # Mastercard's merchant has 45 days from the filing (08-10 12:00): 09-24 12:00.
    chargeback = ok(cli(*now, "status", "2", "--json")).json()
    assert chargeback["deadlines"][0] == {
        **chargeback["deadlines"][0],
        "name": "claim_response",
        "due": "2026-09-24T12:00:00+00:00",
    }
    # The card is in use: the claim's warning is gone.
    assert [d["name"] for d in ok(cli(*now, "status", "1", "--json")).json()["deadlines"]] == [
        "platform_decision"
    ]


def test_an_aliexpress_parcel_that_never_came_paid_with_paypal(cli: Cli) -> None:
    """The order shows PayPal's window beside its protection; once the protection has
    ended, PayPal is the remedy, and a PayPal claim moves by PayPal's own policy."""
    ok(
        cli(
            "--as-of",
            "2026-06-01T12:00:00+00:00",
            "order",
            "add",
            "8102",
            "-m",
            "aliexpress",
            "--total",
            "25",
            "--seller",
            "Lamp Store",
            "--ordered",
            "2026-06-01",
            "--expected-by",
            "2026-06-20",
            "--payment",
            "PayPal",
        )
    )
    now = ("--as-of", "2026-07-10T12:00:00+00:00")
    order = ok(cli(*now, "order", "show", "8102", "--json")).json()
    assert (order["payment"], order["payment_network"]) == ("PayPal", "paypal")
    # AliExpress protects a parcel 15 days past the promised delivery: 06-20 + 15 = 07-05
    # (the UTC and Los Angeles readings agree: no clock change). PayPal: 180 days from the
    # payment, 06-01: 29 days of June, 31 of July, August, October, 30 of September: 152 to
    # 11-01, then 28 more: 11-28.
    assert [(d["name"], d["due"], d["overdue"]) for d in order["deadlines"]] == [
        ("protection_ends", "2026-07-05T00:00:00+00:00", True),
        ("paypal_claim_by", "2026-11-28T00:00:00+00:00", False),
    ]
    assert order["deadlines"][1]["rule"]["policy"] == "paypal"
    # The missed protection keeps `check` at 1; PayPal's window is 140 days away.
    due = cli(*now, "check", "--within", "200d", "--json")
    assert due.exit_code == 1
    assert [i["deadline"]["name"] for i in due.json()["items"]] == [
        "protection_ends",
        "paypal_claim_by",
    ]
    remedies = ok(cli(*now, "remedies", "8102", "--json")).json()
    assert remedies["family"] == "not received"
    assert [(r["kind"], r["standing"]) for r in remedies["remedies"]] == [
        ("marketplace", "closed"),
        ("paypal", "open"),
    ]
    assert remedies["remedies"][1]["deadline"]["due"] == "2026-11-28T00:00:00+00:00"

    ok(cli(*now, "open", "8102", "--via", "paypal", "--reason", "not-received", "--full"))
    claim = ok(cli(*now, "status", "1", "--json")).json()
    # A PayPal dispute starts with the seller. Escalate it within 20 days of opening it
    # (07-10 12:00: 07-30 12:00), and within PayPal's 180 days of the payment (11-28; the
    # Los Angeles reading, 11-27 17:00 PST after the clocks went back, is an hour later);
    # PayPal takes a claim from 7 days after the payment, 06-08.
    assert (claim["via"], claim["policy"], claim["state"]) == (
        "paypal",
        "paypal",
        "awaiting_seller",
    )
    assert [(d["name"], d["due"]) for d in claim["deadlines"]] == [
        ("escalate_by", "2026-07-30T12:00:00+00:00"),
        ("claim_by", "2026-11-28T00:00:00+00:00"),
    ]
    assert claim["can_escalate_from"] == "2026-06-08T00:00:00+00:00"
    # The whole order is under the claim: its own window is watched no more.
    listed = ok(cli(*now, "status", "--json")).json()
    assert listed["orders"] == []
    assert "via paypal" in ok(cli(*now, "status")).stdout


def test_the_payment_text_is_read_and_kept_as_written(cli: Cli) -> None:
    ok(
        cli(
            "order", "add", "A-1", "-m", "amazon", "--total", "20", "--payment", "Visa Debit - 4242"
        )
    )
    shown = ok(cli("order", "show", "A-1", "--json")).json()
    assert (shown["payment"], shown["payment_network"], shown["payment_funding"]) == (
        "Visa Debit - 4242",
        "visa",
        "debit",
    )
    ok(cli("order", "add", "A-2", "-m", "amazon", "--total", "20", "--payment", "card"))
    unknown = ok(cli("remedies", "A-2", "--json")).json()
    assert unknown["payment_network"] is None
    assert [r["kind"] for r in unknown["remedies"]] == ["marketplace"]
    assert "names no card network or PayPal" in unknown["notes"][0]
    assert (
        "Visa Debit - 4242 (Visa debit card ending 4242)" in ok(cli("order", "show", "A-1")).stdout
    )


@pytest.mark.parametrize(
    ("text", "network", "funding", "last4", "shared"),
    [
        ("Visa - 4242", Network.VISA, None, "4242", False),
        ("MasterCard - 2111", Network.MASTERCARD, None, "2111", False),
        ("American Express - 0005", Network.AMEX, None, "0005", False),
        ("Gift Certificate/Card and Visa - 1234", Network.VISA, None, "1234", True),
        ("Visa Debit ending in 4242", Network.VISA, Funding.DEBIT, "4242", False),
        ("Mastercard credit card x1234", Network.MASTERCARD, Funding.CREDIT, "1234", False),
        ("Discover Card", Network.DISCOVER, None, None, False),
        ("amex ****0005", Network.AMEX, None, "0005", False),
        ("PayPal", Network.PAYPAL, None, None, False),
        ("PayPal (Visa - 4242)", Network.PAYPAL, None, None, False),
    ],
)
def test_the_rails_marketplace_exports_write_are_recognised(
    text: str, network: Network, funding: Funding | None, last4: str | None, shared: bool
) -> None:
    found = recognise(text)
    assert found is not None
    assert (found.network, found.funding, found.last4, found.shared) == (
        network,
        funding,
        last4,
        shared,
    )


@pytest.mark.parametrize("text", ["card", "debit card", "Visa and Mastercard", "Invisalign", ""])
def test_text_that_names_no_rail_carries_no_remedy(text: str) -> None:
    assert recognise(text) is None


def test_what_cannot_be_filed_is_refused_in_one_line(cli: Cli, ledger_path: Path) -> None:
    ok(cli("order", "add", "P-1", "-m", "paypal", "--total", "20", "--payment", "PayPal"))
    before = snapshot(ledger_path)
    for args in (
        ["open", "P-1", "--via", "paypal", "--reason", "not-received", "--full"],
        ["open", "P-1", "--via", "diners", "--reason", "not-received", "--full"],
    ):
        refused = cli(*args)
        assert refused.exit_code == 2, args
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, args
    assert snapshot(ledger_path) == before
    ok(cli("order", "add", "E-1", "-m", "ebay", "--total", "20", "--payment", "Visa - 1"))
    ok(cli("open", "E-1", "--via", "visa", "--reason", "damaged", "--full"))
    twice = cli("open", "E-1", "--via", "mastercard", "--reason", "damaged", "--full")
    assert twice.exit_code == 2 and "already has an active dispute" in twice.stderr
    # A chargeback on an order paid by another rail, for a reason no rail covers: warned.
    ok(cli("order", "add", "E-2", "-m", "ebay", "--total", "20", "--payment", "Visa - 1"))
    odd = ok(cli("open", "E-2", "--via", "amex", "--reason", "changed-mind", "--full"))
    assert "paid by Visa card, not American Express" in odd.stderr
    assert "covers not received and not as described; changed-mind is not" in odd.stderr


def _table(page: str, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table under ``heading``."""
    lines = page.split(heading, 1)[1].splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("|"))
    end = next((n for n in range(start, len(lines)) if not lines[n].startswith("|")), len(lines))
    rows = [[c.strip().strip("`") for c in row.strip("|").split("|")] for row in lines[start:end]]
    return rows[2:]  # past the header and its rule


def test_the_rules_policies_shows_agree_with_docs_remedies(cli: Cli) -> None:
    page = (ROOT / "docs" / "remedies.md").read_text()
    shown = ok(cli("policies", "--json")).json()
    expected = []
    for remedy in shown["remedies"]:
        for family, window in remedy["windows"].items():
            expected.append(
                [
                    remedy["rail"],
                    family,
                    window["duration"] + (" (assumed)" if remedy["assumed"] else ""),
                    ", ".join(window["counts_from"]),
                    window["cap"] or "",
                    window["sooner"] or "",
                    window["wait"] or "",
                ]
            )
    assert _table(page, "## The windows") == expected
    effects = [
        [e["marketplace"], e["effect"] + (" (assumed)" if e["assumed"] else "")]
        for e in shown["exclusions"]
    ]
    assert _table(page, "## What filing does to the marketplace's case") == effects
    for remedy in shown["remedies"]:
        if remedy["source"]:
            assert remedy["source"] in page, remedy["rail"]
    for exclusion in shown["exclusions"]:
        if exclusion["source"]:
            assert exclusion["source"] in page, exclusion["marketplace"]
    assert "Your card issuer's own deadline may be shorter" in page
    table = ok(cli("policies")).stdout
    assert "Remedies beyond the marketplace" in table and "may be shorter" in table
    visa = ok(cli("policies", "visa")).stdout
    assert "Visa chargeback" in visa and "claim_response" in visa


def test_the_stored_remedy_windows_agree_with_a_fresh_computation(
    cli: Cli, ledger_path: Path
) -> None:
    """The deadline index holds each kind of remedy window as the plain computation gives
    it, before and after it passes: on a lost case, on a running one, beside a protection,
    on a closed order, and with the rail in use."""
    from datetime import datetime

    from refundctl.config import load_config
    from refundctl.due import Filters
    from tests.index_oracle import assert_index_agrees

    at = ("--as-of", "2026-08-10T12:00:00+00:00")
    orders = [
        ("V-1", "aliexpress", "Visa - 4242", "2026-06-01", "2026-06-20", "2026-06-18"),
        ("M-1", "amazon", "MasterCard - 2111", "2026-05-01", "2026-05-10", "2026-05-08"),
        ("P-1", "aliexpress", "PayPal", "2026-06-01", "2026-06-20", None),
        ("A-1", "etsy", "Amex - 0005", "2026-07-01", "2026-07-10", "2026-07-09"),
        ("C-1", "ebay", "Visa - 1111", "2026-07-01", "2026-07-08", None),
    ]
    for number, market, payment, ordered, expected, received in orders:
        args = ["order", "add", number, "-m", market, "--total", "50", "--payment", payment]
        args += ["--ordered", ordered, "--expected-by", expected]
        ok(cli(*at, *args, *(["--received", received] if received else [])))
    ok(cli(*at, "open", "V-1", "--reason", "damaged", "--full", "--on", "2026-06-25"))
    ok(cli(*at, "resolve", "1", "--lost", "--on", "2026-07-01"))
    ok(cli(*at, "open", "M-1", "--reason", "defective", "--full", "--on", "2026-08-04"))
    ok(cli(*at, "escalate", "2", "--on", "2026-08-07"))
    ok(cli(*at, "open", "A-1", "--reason", "wrong-item", "--full", "--on", "2026-07-20"))
    ok(cli(*at, "resolve", "3", "--lost", "--on", "2026-07-25"))
    ok(cli(*at, "open", "A-1", "--via", "amex", "--reason", "wrong-item", "--full"))
    ok(cli(*at, "order", "close", "C-1", "--reason", "gave-up"))
    config = load_config(ledger_path.parent / "config.toml")
    filters = [Filters(), Filters(marketplace="amazon"), Filters(states=frozenset({"lost"}))]
    # Before any window closes, as the Mastercard one closes (09-05), and after them all.
    for moment in (
        "2026-08-10T12:00:00+00:00",
        "2026-09-05T00:00:00+00:00",
        "2027-01-10T00:00:00+00:00",
    ):
        assert_index_agrees(ledger_path, config, datetime.fromisoformat(moment), filters)
