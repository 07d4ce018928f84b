"""Issue 8: deadlines a buyer can bet a refund on, one story per defect, through the CLI.

Each story records what a buyer did on a marketplace and reads the deadlines back with
``--as-of`` as the buyer would on that day, checked by hand against the marketplace's rule
(docs/policies.md). The buyer's zone is UTC (conftest) unless a story says otherwise.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from tests.conftest import Cli, Run


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def needs_you(run: Run) -> Run:
    """A ``check`` that found something needing the buyer: exit 1."""
    assert run.exit_code == 1, (run.exit_code, run.stdout, run.stderr)
    return run


def sh(cli: Cli, line: str) -> Run:
    return cli(*shlex.split(line))


def named(deadlines: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [d for d in deadlines if d["name"] == name]
    return found


def names(shown: dict[str, Any]) -> list[str]:
    return [d["name"] for d in shown["deadlines"]]


def dispute(cli: Cli, number: int, as_of: str) -> dict[str, Any]:
    return ok(sh(cli, f"--as-of {as_of} status {number} --json")).json()


def buyer_zone(zone: str) -> None:
    Path(os.environ["REFUNDCTL_CONFIG"]).write_text(f'timezone = "{zone}"\n')


# -- 1. Amazon's A-to-z limit stays once the seller is contacted (and Etsy's) ----------------


def test_amazon_a_to_z_limit_stays_after_contacting_the_seller(cli: Cli) -> None:
    # EDD 10 Dec; the seller contacted on 5 Mar. The claim must be filed by 10 Mar: 90 days
    # after the latest estimated delivery. (Amazon counts in Los Angeles, where the clocks
    # sprang forward on 8 Mar: the earliest reading is 23:00 UTC on 9 Mar.)
    ok(
        sh(
            cli,
            "order add 113-1 -m amazon --total 30 --ordered 2025-12-01 --expected-by 2025-12-10",
        )
    )
    ok(sh(cli, "--as-of 2026-03-05T12:00 open 113-1 --reason not-received --full --on 2026-03-05"))
    shown = dispute(cli, 1, "2026-03-09")
    assert "escalate_by" not in names(shown)  # no invented 20 days after opening
    limit = named(shown["deadlines"], "claim_by")
    assert limit["due"] == "2026-03-09T23:00:00+00:00"
    assert limit["binds"] == "buyer" and limit["if_missed"] == "you_lose"
    assert limit["action"] == "escalate to Amazon by then, or lose its guarantee"
    assert limit["rule"]["counts_from"] == "expected delivery"
    check = sh(cli, "--as-of 2026-03-09 check --within 1d")
    assert check.exit_code == 1
    assert "claim limit in 23h (Mar 09 23:00): escalate to Amazon by then" in check.stdout
    # Amazon takes the claim 48 hours after the seller was contacted.
    assert shown["can_escalate_from"] == "2026-03-07T00:00:00+00:00"


def test_etsy_case_limit_is_100_days_after_the_estimated_delivery(cli: Cli) -> None:
    ok(sh(cli, "order add E-1 -m etsy --total 40 --ordered 2026-08-01 --expected-by 2026-08-20"))
    ok(sh(cli, "--as-of 2026-11-20 open E-1 --reason not-received --full --on 2026-11-20"))
    shown = dispute(cli, 1, "2026-11-26")
    assert "escalate_by" not in names(shown)
    # 20 Aug 00:00 UTC + 100 days: Etsy's New York wall clock fell back in November, so the
    # exact 2,400 hours end an hour before 28 Nov 04:00 UTC (midnight there).
    assert named(shown["deadlines"], "claim_by")["due"] == "2026-11-28T00:00:00+00:00"


# -- 2. A dispute on one item leaves the rest of the order's window on show --------------------


def test_an_item_dispute_leaves_the_window_for_the_rest_of_the_order(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add 8101 -m aliexpress --total 40 --item 'Hub x1 @30' --item 'Cable x1 @10' "
            "--ordered 2026-11-01 --received 2026-11-20",
        )
    )
    ok(sh(cli, "open 8101 --reason defective --item Cable --full --on 2026-11-21"))
    # The window closes 5 Dec 00:00 (15 days after receipt): on that day, $30 is at stake.
    check = sh(cli, "--as-of 2026-12-04T12:00 check --within 1d --json")
    assert check.exit_code == 1
    [item] = [i for i in check.json()["items"] if i["kind"] == "order"]
    assert (item["order"], item["deadline"]["name"]) == ("8101", "dispute_window")
    orders = ok(sh(cli, "--as-of 2026-12-04T12:00 status --json")).json()["orders"]
    assert [o["order"] for o in orders] == ["8101"]
    shown = ok(sh(cli, "--as-of 2026-12-04T12:00 order show 8101 --json")).json()
    assert shown["deadline"]["name"] == "dispute_window"
    # A dispute on the whole order replaces the window.
    ok(
        sh(
            cli,
            "order add 8102 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-20",
        )
    )
    ok(sh(cli, "open 8102 --reason defective --full --on 2026-11-21"))
    orders = ok(sh(cli, "--as-of 2026-12-04T12:00 status --json")).json()["orders"]
    assert [o["order"] for o in orders] == ["8101"]


def test_an_item_dispute_that_agreed_its_item_leaves_the_rest_at_stake(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add 8103 -m aliexpress --total 40 --item 'Hub x1 @30' --item 'Cable x1 @10' "
            "--ordered 2026-11-01 --received 2026-11-20",
        )
    )
    ok(sh(cli, "open 8103 --reason defective --item Cable --full --on 2026-11-21"))
    ok(sh(cli, "respond 1 seller-agrees --on 2026-11-22"))
    [order] = ok(sh(cli, "status --json")).json()["orders"]
    assert (order["order"], order["refundable"]) == ("8103", "30.00")


# -- 3. PayPal, not as described: 30 days from delivery or 180 from payment --------------------


def test_paypal_window_for_a_received_item_is_30_days_from_delivery(cli: Cli) -> None:
    ok(sh(cli, "order add PP-1 -m paypal --total 80 --ordered 2026-11-02 --received 2026-11-10"))
    shown = ok(sh(cli, "order show PP-1 --json")).json()
    window = shown["deadline"]
    assert window["name"] == "dispute_window"
    # 10 Nov 00:00 UTC = 9 Nov 16:00 PST; + 30 days: 9 Dec 16:00 PST = 10 Dec 00:00 UTC.
    assert window["due"] == "2026-12-10T00:00:00+00:00"
    assert window["rule"]["counts_from"] == "receipt"
    not_received = ok(sh(cli, "order add PP-2 -m paypal --total 80 --ordered 2026-11-02 --json"))
    assert not_received.json()["protection_ends"] is None
    shown = ok(sh(cli, "order show PP-2 --json")).json()
    assert shown["deadline"]["name"] == "protection_ends"
    assert shown["deadline"]["rule"]["duration"] == "180d"


# -- 4. A countdown entered in transit never outlives the window receipt opens ---------------


def test_receipt_wins_over_a_countdown_entered_while_in_transit(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "--as-of 2026-10-10 order add AE-9 -m aliexpress --total 20 --ordered 2026-10-01 "
            "--protection-ends 2026-12-20",
        )
    )
    ok(sh(cli, "--as-of 2026-10-26 order receive AE-9 --on 2026-10-25"))
    shown = ok(sh(cli, "--as-of 2026-10-26 order show AE-9 --json")).json()
    window = shown["deadline"]
    # 25 Oct + 15 days is 9 Nov (AliExpress's Los Angeles reading, the clocks back on 1 Nov,
    # comes later): before the 20 Dec countdown.
    assert window["due"] == "2026-11-09T00:00:00+00:00"
    assert (
        "earlier than the countdown you entered (2026-12-20 00:00 UTC)"
        in (window["rule"]["explanation"])
    )
    text = ok(sh(cli, "--as-of 2026-10-26 order show AE-9")).stdout
    assert "earlier than the countdown you entered" in " ".join(text.split())


# -- 5. What happens at a deadline -------------------------------------------------------------


def test_paypal_closes_a_dispute_whose_offer_went_unanswered(cli: Cli) -> None:
    ok(sh(cli, "order add PP-3 -m paypal --total 80 --ordered 2026-11-02 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-12 open PP-3 --reason not-as-described --full --on 2026-11-12"))
    ok(sh(cli, "--as-of 2026-11-14 respond 1 seller-offers 20 --on 2026-11-14"))
    shown = dispute(cli, 1, "2026-11-20")
    answer = named(shown["deadlines"], "buyer_response")
    assert answer["if_missed"] == "you_lose"
    assert answer["due"] == "2026-11-24T00:00:00+00:00"
    # Day 11 after the offer: the case has likely closed; only that deadline is shown.
    late = dispute(cli, 1, "2026-11-25")
    assert names(late) == ["buyer_response"]
    text = ok(sh(cli, "--as-of 2026-11-25 status 1")).stdout
    assert "PayPal has likely closed the case" in " ".join(text.split())
    check = sh(cli, "--as-of 2026-11-25 check")
    assert "refundctl resolve 1 --lost" in check.stdout
    assert "escalate_by" not in check.stdout
    escalated = ok(sh(cli, "--as-of 2026-11-25 escalate 1 --on 2026-11-25"))
    assert "buyer_response passed on 2026-11-24 00:00 UTC" in escalated.stderr


def test_aliexpress_steps_in_by_itself_and_no_counter_pushes_past_day_15(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-1 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "--as-of 2026-11-11 open AE-1 --reason damaged --amount 20 --on 2026-11-11"))
    shown = dispute(cli, 1, "2026-11-12")
    assert names(shown) == ["seller_response", "negotiation_ends"]
    for deadline in shown["deadlines"]:
        assert deadline["if_missed"] == "platform_steps_in"
        assert "escalate" not in deadline["action"]
        assert "AliExpress steps in by itself" in deadline["action"]
    assert named(shown["deadlines"], "negotiation_ends")["due"] == "2026-11-26T00:00:00+00:00"
    # A revised ask on day 12 would give the seller 7 more days, past day 15: AliExpress has
    # the dispute by then, so the seller's clock is not shown past it.
    ok(sh(cli, "--as-of 2026-11-23 respond 1 counter 18 --on 2026-11-23"))
    assert names(dispute(cli, 1, "2026-11-23")) == ["negotiation_ends"]
    # After a rejection, waiting loses nothing: no buyer_response, nothing overdue of yours.
    ok(sh(cli, "--as-of 2026-11-24 respond 1 seller-rejects --on 2026-11-24"))
    after = dispute(cli, 1, "2026-11-25")
    assert names(after) == ["negotiation_ends"]
    assert sh(cli, "--as-of 2026-11-25 check --within 12h").exit_code == 0


# -- 6. Published values, cited from the buyer's pages ----------------------------------------


def test_ebay_decides_in_48_hours_and_a_return_ships_within_5_business_days(cli: Cli) -> None:
    ok(sh(cli, "order add EB-1 -m ebay --total 50 --ordered 2026-11-01 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-16 open EB-1 --reason damaged --full --on 2026-11-16"))
    ok(sh(cli, "--as-of 2026-11-20T12:00 escalate 1 --on 2026-11-20T10:00"))
    decision = named(dispute(cli, 1, "2026-11-20T12:00")["deadlines"], "platform_decision")
    assert decision["due"] == "2026-11-22T10:00:00+00:00"
    assert not decision["rule"]["assumed"]
    ok(sh(cli, "--as-of 2026-11-21 respond 1 platform-awards 50 --return --on 2026-11-21"))
    ship = named(dispute(cli, 1, "2026-11-21T12:00")["deadlines"], "return_ship_by")
    # Saturday 21 Nov: Mon 23, Tue 24, Wed 25, Fri 27 (Thanksgiving skipped), Mon 30; in
    # Los Angeles it is still Friday, and its reading ends 8 hours later: yours counts.
    assert ship["due"] == "2026-11-30T00:00:00+00:00"
    assert ship["rule"]["source"].startswith("https://pages.ebay.com/help/buy/")


def test_etsy_case_48_hours_after_the_help_request_is_not_early(cli: Cli) -> None:
    ok(sh(cli, "order add ET-2 -m etsy --total 40 --ordered 2026-11-01 --expected-by 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-20 open ET-2 --reason not-as-described --full --on 2026-11-20"))
    early = ok(sh(cli, "--as-of 2026-11-21 escalate 1 --on 2026-11-21"))
    assert "escalating before 2026-11-22 00:00 UTC" in early.stderr
    ok(sh(cli, "undo 1"))
    on_time = ok(sh(cli, "--as-of 2026-11-22T02:00 escalate 1 --on 2026-11-22T02:00"))
    assert on_time.stderr == ""


def test_temu_return_within_14_days_refund_up_to_30(cli: Cli) -> None:
    ok(sh(cli, "order add T-1 -m temu --total 25 --ordered 2026-11-01 --received 2026-11-08"))
    ok(sh(cli, "--as-of 2026-11-10 open T-1 --reason defective --full --on 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-11 respond 1 seller-agrees --return --on 2026-11-11"))
    ship = named(dispute(cli, 1, "2026-11-11T12:00")["deadlines"], "return_ship_by")
    assert ship["due"] == "2026-11-25T00:00:00+00:00"
    ok(sh(cli, "undo 1"))
    ok(sh(cli, "--as-of 2026-11-11 respond 1 seller-agrees --on 2026-11-11"))
    refund = named(dispute(cli, 1, "2026-11-11T12:00")["deadlines"], "refund_expected")
    assert refund["rule"]["duration"] == "30d" and refund["if_missed"] == "chase"
    assert refund["due"] == "2026-12-11T00:00:00+00:00"


def test_paypal_claim_stage_and_appeal(cli: Cli) -> None:
    ok(sh(cli, "order add PP-4 -m paypal --total 80 --ordered 2026-11-02 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-12 open PP-4 --reason not-as-described --full --on 2026-11-12"))
    shown = dispute(cli, 1, "2026-11-12T12:00")
    assert "seller_response" not in names(shown)  # no seller deadline in the dispute stage
    assert shown["can_escalate_from"] == "2026-11-09T00:00:00+00:00"  # 7 days after payment
    ok(sh(cli, "--as-of 2026-11-14 escalate 1 --on 2026-11-14"))
    claim = named(dispute(cli, 1, "2026-11-14T12:00")["deadlines"], "claim_response")
    assert claim["due"] == "2026-11-24T00:00:00+00:00" and claim["binds"] == "seller"
    ok(sh(cli, "--as-of 2026-11-25 respond 1 platform-rejects --on 2026-11-25"))
    appeal = named(dispute(cli, 1, "2026-11-25T12:00")["deadlines"], "appeal_by")
    assert appeal["due"] == "2026-12-05T00:00:00+00:00"
    assert not appeal["rule"]["assumed"]


# -- 7. A revised ask while waiting on the seller ----------------------------------------------


def test_a_revised_ask_while_the_seller_is_to_answer_restarts_its_clock(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-2 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "--as-of 2026-11-11 open AE-2 --reason damaged --amount 20 --on 2026-11-11"))
    revised = ok(sh(cli, "--as-of 2026-11-13 respond 1 counter 15 --on 2026-11-13 --json")).json()
    assert (revised["state"], revised["requested"]) == ("awaiting_seller", "15.00")
    # 13 Nov 00:00 UTC = 12 Nov 16:00 PST; + 7 days: 19 Nov 16:00 PST = 20 Nov 00:00 UTC.
    assert named(revised["deadlines"], "seller_response")["due"] == "2026-11-20T00:00:00+00:00"
    assert [(o["amount"], o["outcome"]) for o in revised["offers"]] == [
        ("20.00", "superseded"),
        ("15.00", "open"),
    ]


# -- 8. A return in transit has a deadline -----------------------------------------------------


def test_a_lost_return_surfaces(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-3 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "--as-of 2026-11-11 open AE-3 --reason damaged --full --on 2026-11-11"))
    ok(sh(cli, "--as-of 2026-11-12 respond 1 seller-agrees --return --on 2026-11-12"))
    ok(sh(cli, "--as-of 2026-11-13 respond 1 return-shipped --tracking LP1 --on 2026-11-13"))
    arrival = named(dispute(cli, 1, "2026-11-14")["deadlines"], "return_delivery")
    assert arrival["if_missed"] == "chase" and arrival["rule"]["assumed"]
    late = sh(cli, "--as-of 2026-12-14 check")
    assert late.exit_code == 1
    assert "return delivery (assumed) overdue" in late.stdout
    assert "chase the carrier and AliExpress" in late.stdout


# -- 9. DST in both zones: never later than the exact hours -----------------------------------


def test_paypals_20_days_across_two_clock_changes_end_on_the_exact_hour(cli: Cli) -> None:
    buyer_zone("Europe/Berlin")  # falls back on 25 Oct; Los Angeles on 1 Nov
    ok(sh(cli, "order add PP-5 -m paypal --total 80 --ordered 2026-10-01 --received 2026-10-15"))
    ok(sh(cli, "--as-of 2026-10-20T12:00 open PP-5 --reason damaged --full --on 2026-10-20T10:00"))
    escalate = named(dispute(cli, 1, "2026-10-21")["deadlines"], "escalate_by")
    # 20 Oct 10:00 CEST is 08:00 UTC; 20 x 24 hours later is 9 Nov 08:00 UTC (09:00 CET),
    # an hour before either wall clock's reading.
    assert escalate["due"] == "2026-11-09T08:00:00+00:00"
    assert "exact hours" in escalate["rule"]["explanation"]


# -- the marketplace's own date, for any deadline ----------------------------------------------


def test_due_enters_the_marketplaces_date_and_clear_and_undo_go_back(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-4 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "--as-of 2026-11-11 open AE-4 --reason damaged --full --on 2026-11-11"))
    entered = ok(sh(cli, "--as-of 2026-11-12 due 1 negotiation-ends 2026-11-30 --json")).json()
    step_in = named(entered["deadlines"], "negotiation_ends")
    # A day named for the other side's deadline is all theirs: it ends as 30 November ends.
    assert step_in["due"] == "2026-12-01T00:00:00+00:00"
    assert step_in["rule"]["origin"] == "entered"
    assert "the rule gives 2026-11-26 00:00 UTC" in step_in["rule"]["explanation"]
    assert entered["events"][-1]["kind"] == "due"
    assert entered["events"][-1]["deadline"] == "negotiation_ends"
    cleared = ok(sh(cli, "--as-of 2026-11-12 due 1 negotiation_ends --clear --json")).json()
    assert named(cleared["deadlines"], "negotiation_ends")["rule"]["origin"] == "built-in"
    undone = ok(sh(cli, "--as-of 2026-11-12 undo 1 --json")).json()
    assert named(undone["deadlines"], "negotiation_ends")["due"] == "2026-12-01T00:00:00+00:00"
    window = sh(cli, "--as-of 2026-11-12 due 1 dispute_window 2026-11-30")
    assert window.exit_code == 2
    assert "the order's window, not a deadline of the dispute" in window.stderr
    assert "order update ORDER_NO --protection-ends" in window.stderr


def test_a_day_entered_for_a_deadline_of_yours_starts_it(cli: Cli) -> None:
    ok(sh(cli, "order add PP-9 -m paypal --total 40 --ordered 2026-11-01 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-11 open PP-9 --reason damaged --full --on 2026-11-11"))
    entered = ok(sh(cli, "--as-of 2026-11-12 due 1 escalate_by 2026-11-28 --json")).json()
    assert named(entered["deadlines"], "escalate_by")["due"] == "2026-11-28T00:00:00+00:00"


def test_an_entered_date_goes_stale_when_the_rules_clock_starts_again(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-2 -m aliexpress --total 50 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "--as-of 2026-11-16 open AE-2 --reason damaged --amount 20 --on 2026-11-16"))
    ok(sh(cli, "--as-of 2026-11-16T12:00 due 1 seller_response 2026-11-25"))
    shown = dispute(cli, 1, "2026-11-17")
    assert named(shown["deadlines"], "seller_response")["rule"]["origin"] == "entered"
    # AliExpress gives the seller its 5-7 days again for each revised ask.
    ok(sh(cli, "--as-of 2026-11-18 respond 1 counter 15 --on 2026-11-18"))
    again = named(dispute(cli, 1, "2026-11-18T12:00")["deadlines"], "seller_response")
    assert again["rule"]["origin"] == "built-in"
    assert again["due"] == "2026-11-25T00:00:00+00:00"  # 7 days from the revised ask


def test_a_revised_ask_restarts_the_sellers_clock_only_where_the_marketplace_does(
    cli: Cli,
) -> None:
    ok(sh(cli, "order add EB-2 -m ebay --total 50 --ordered 2026-11-01 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-16 open EB-2 --reason damaged --amount 20 --on 2026-11-16"))
    first = named(dispute(cli, 1, "2026-11-17")["deadlines"], "seller_response")
    ok(sh(cli, "--as-of 2026-11-18 respond 1 counter 15 --on 2026-11-18"))
    # eBay's 3 business days run from the request, however often the ask is revised.
    assert named(dispute(cli, 1, "2026-11-18T12:00")["deadlines"], "seller_response") == first
    # Once the seller has answered, the buyer's counter starts the seller's turn again.
    ok(sh(cli, "--as-of 2026-11-19 respond 1 seller-offers 10 --on 2026-11-19"))
    ok(sh(cli, "--as-of 2026-11-20 respond 1 counter 14 --on 2026-11-20"))
    turn = named(dispute(cli, 1, "2026-11-20T12:00")["deadlines"], "seller_response")
    assert turn["rule"]["from"] == "2026-11-20T00:00:00+00:00"


def test_a_revised_ask_must_change_the_ask(cli: Cli, ledger_path: Path) -> None:
    from tests.conftest import snapshot

    ok(sh(cli, "order add AE-3 -m aliexpress --total 50 --ordered 2026-11-01"))
    ok(sh(cli, "open AE-3 --reason damaged --amount 20 --on 2026-11-20"))
    before = snapshot(ledger_path)
    refused = sh(cli, "respond 1 counter 20")
    assert refused.exit_code == 2
    assert "you already ask $20.00" in refused.stderr
    assert snapshot(ledger_path) == before


def test_due_refuses_what_is_not_an_open_deadline(cli: Cli, ledger_path: Path) -> None:
    from tests.conftest import snapshot

    ok(
        sh(
            cli,
            "order add AE-5 -m aliexpress --total 40 --ordered 2026-11-01 --received 2026-11-10",
        )
    )
    ok(sh(cli, "open AE-5 --reason damaged --full --on 2026-11-20"))
    before = snapshot(ledger_path)
    for line, says in (
        ("due 1 escalate_by 2026-12-01", "no open deadline escalate_by"),
        ("due 1 seller_respons 2026-12-01", "unknown deadline 'seller_respons'"),
        ("due 1 seller_response --clear", "no date entered for seller_response"),
        ("due 1 seller_response", "or --clear"),
        ("due 1 seller_response 2026-12-01 --clear", "or --clear"),
        ("due 1 seller_response 2026-13-01", "not a date or time"),
        ("due 9 seller_response 2026-12-01", "unknown dispute 9"),
    ):
        run = sh(cli, line)
        assert run.exit_code == 2, line
        assert says in run.stderr, (line, run.stderr)
        assert run.stderr.count("\n") == 1, run.stderr
    assert snapshot(ledger_path) == before


# -- earliest moments --------------------------------------------------------------------------


def test_ebay_not_received_can_be_opened_once_the_estimate_passed(cli: Cli) -> None:
    ok(sh(cli, "order add EB-3 -m ebay --total 50 --ordered 2026-11-01 --expected-by 2026-11-20"))
    shown = ok(sh(cli, "order show EB-3 --json")).json()
    # Once the estimated delivery date (20 Nov) has passed: from 21 Nov.
    assert shown["can_open_from"] == "2026-11-21T00:00:00+00:00"
    early = ok(sh(cli, "open EB-3 --reason not-received --full --on 2026-11-18"))
    assert "opening before 2026-11-21 00:00 UTC" in early.stderr
    # eBay takes an escalation 3 business days after the request (Wednesday 18 Nov): Thu,
    # Fri, Mon. Los Angeles' reading (from Tuesday there) is earlier; the later one counts.
    shown = dispute(cli, 1, "2026-11-18T12:00")
    assert shown["can_escalate_from"] == "2026-11-23T00:00:00+00:00"


def test_etsy_warns_of_an_order_over_its_protection(cli: Cli) -> None:
    ok(sh(cli, "order add ET-3 -m etsy --total 320 --ordered 2026-10-01 --received 2026-10-10"))
    opened = ok(sh(cli, "open ET-3 --reason damaged --full --on 2026-10-12"))
    assert "Etsy covers orders up to $250.00" in opened.stderr
    # Etsy's pages state no higher cap for holiday orders: one placed in November warns too.
    ok(sh(cli, "order add ET-4 -m etsy --total 320 --ordered 2026-11-05 --received 2026-11-10"))
    assert "covers orders up to $250.00" in ok(sh(cli, "open ET-4 --reason damaged --full")).stderr
    ok(sh(cli, "order add ET-5 -m etsy --total 240 --ordered 2026-11-05 --received 2026-11-10"))
    assert "covers orders" not in ok(sh(cli, "open ET-5 --reason damaged --full")).stderr


# -- what a passed deadline says, and what an assumed one never claims --------------------------


def test_after_the_sellers_answer_amazon_ebay_and_etsy_start_no_clock_of_yours(cli: Cli) -> None:
    for market, number in (("amazon", "A-1"), ("ebay", "E-1"), ("etsy", "T-1")):
        ok(
            sh(
                cli,
                f"order add {number} -m {market} --total 30 --ordered 2026-11-01 "
                "--expected-by 2026-11-10 --received 2026-11-12",
            )
        )
    for d, number in ((1, "A-1"), (2, "E-1"), (3, "T-1")):
        ok(sh(cli, f"--as-of 2026-11-14 open {number} --reason damaged --full --on 2026-11-14"))
        ok(sh(cli, f"--as-of 2026-11-15 respond {d} seller-rejects --on 2026-11-15"))
        shown = dispute(cli, d, "2026-11-20")
        assert "buyer_response" not in names(shown), shown["policy"]
        # Days after a 3-day guess would have passed, nothing says the case has closed.
        assert "likely closed" not in ok(sh(cli, f"--as-of 2026-11-20 status {d}")).stdout


def test_an_assumed_limit_that_passed_never_says_the_case_closed(cli: Cli) -> None:
    # A marketplace refundctl has no rules for: generic's 3 days to answer are assumed.
    ok(sh(cli, "order add PO-1 -m shopee --total 30 --ordered 2026-11-01 --received 2026-11-05"))
    ok(sh(cli, "--as-of 2026-11-06 open PO-1 --reason damaged --full --on 2026-11-06"))
    ok(sh(cli, "--as-of 2026-11-07 respond 1 seller-offers 5 --on 2026-11-07"))
    shown = dispute(cli, 1, "2026-11-12")
    answer = named(shown["deadlines"], "buyer_response")
    assert answer["rule"]["assumed"] is True
    assert len(shown["deadlines"]) > 1  # the case's other deadlines stay on show
    line = needs_you(sh(cli, "--as-of 2026-11-12 check")).stdout
    assert "this limit is assumed" in line
    assert "refundctl due 1 buyer_response WHEN" in line
    assert "likely closed" not in line


def test_a_passed_deadline_of_the_other_side_says_what_you_may_do_now(cli: Cli) -> None:
    ok(sh(cli, "order add E-2 -m ebay --total 30 --ordered 2026-11-01 --received 2026-11-05"))
    ok(
        sh(
            cli,
            "order add AE-9 -m aliexpress --total 30 --ordered 2026-11-01 --received 2026-11-05",
        )
    )
    ok(sh(cli, "--as-of 2026-11-06 open E-2 --reason damaged --full --on 2026-11-06"))
    ok(sh(cli, "--as-of 2026-11-06 open AE-9 --reason damaged --full --on 2026-11-06"))
    ebay = needs_you(sh(cli, "--as-of 2026-11-20 check -m ebay")).stdout
    assert "passed: you may escalate now ('refundctl escalate 1')" in ebay
    ali = needs_you(sh(cli, "--as-of 2026-11-20 check -m aliexpress")).stdout
    assert (
        "AliExpress has likely stepped in; record it with 'refundctl escalate 2 --by platform'"
        in ali
    )
    ok(sh(cli, "--as-of 2026-11-20 respond 1 seller-agrees --on 2026-11-07"))
    late = needs_you(sh(cli, "--as-of 2026-12-20 check -m ebay")).stdout
    assert "late: chase eBay and your bank" in late


def test_the_claim_limit_stays_only_while_you_negotiate(cli: Cli) -> None:
    ok(sh(cli, "order add A-2 -m amazon --total 30 --ordered 2026-11-01 --expected-by 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-14 open A-2 --reason damaged --full --on 2026-11-14"))
    assert "claim_by" in names(dispute(cli, 1, "2026-11-15"))
    ok(sh(cli, "--as-of 2026-11-15 respond 1 seller-agrees --return --on 2026-11-15"))
    shown = dispute(cli, 1, "2026-11-16")
    assert shown["state"] == "return_to_ship"
    assert "claim_by" not in names(shown)  # the return's own deadline takes over


def test_without_an_estimate_the_claim_limit_counts_from_shipping_and_is_assumed(cli: Cli) -> None:
    ok(sh(cli, "order add A-3 -m amazon --total 30 --ordered 2026-11-01 --shipped 2026-11-03"))
    ok(sh(cli, "--as-of 2026-11-14 open A-3 --reason not-received --full --on 2026-11-14"))
    limit = named(dispute(cli, 1, "2026-11-15")["deadlines"], "claim_by")
    assert limit["rule"]["counts_from"] == "shipping"
    assert limit["rule"]["assumed"] is True
    assert limit["due"].startswith("2027-02-01")  # 90 days after 3 November, sooner than EDD's


def test_a_case_that_has_likely_closed_offers_no_escalation_date(cli: Cli) -> None:
    ok(sh(cli, "order add PP-2 -m paypal --total 30 --ordered 2026-11-01 --received 2026-11-05"))
    ok(sh(cli, "--as-of 2026-11-09 open PP-2 --reason damaged --full --on 2026-11-09"))
    assert dispute(cli, 1, "2026-11-20")["can_escalate_from"] is not None
    closed = dispute(cli, 1, "2026-12-20")  # the 20 days to escalate have passed
    assert [d["name"] for d in closed["deadlines"]] == ["escalate_by"]
    assert closed["can_escalate_from"] is None
    assert "Can escalate from" not in ok(sh(cli, "--as-of 2026-12-20 status 1")).stdout


def test_the_timeline_says_what_was_undone_and_which_date_was_entered(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-7 -m aliexpress --total 30 --ordered 2026-11-01 --received 2026-11-05",
        )
    )
    ok(sh(cli, "--as-of 2026-11-06 open AE-7 --reason damaged --full --on 2026-11-06"))
    ok(sh(cli, "--as-of 2026-11-07 due 1 negotiation_ends 2026-11-25"))
    ok(sh(cli, "--as-of 2026-11-08 respond 1 seller-offers 10 --on 2026-11-08"))
    ok(sh(cli, "--as-of 2026-11-08 undo 1"))
    text = ok(sh(cli, "--as-of 2026-11-09 status 1")).stdout
    assert "seller-offers (undone)" in text
    assert "negotiation_ends: Nov 26 00:00" in text


def test_a_revised_ask_reads_as_one_in_the_draft(cli: Cli) -> None:
    ok(
        sh(
            cli,
            "order add AE-8 -m aliexpress --total 30 --ordered 2026-11-01 --received 2026-11-05",
        )
    )
    ok(sh(cli, "--as-of 2026-11-06 open AE-8 --reason damaged --amount 20 --on 2026-11-06"))
    ok(sh(cli, "--as-of 2026-11-07 respond 1 counter 15 --on 2026-11-07"))
    ok(sh(cli, "--as-of 2026-11-20 escalate 1 --on 2026-11-20"))
    text = ok(sh(cli, "--as-of 2026-11-20 draft 1")).stdout
    assert "I changed my ask to $15.00" in text
    assert "declined" not in text


# -- found walking one story per marketplace ----------------------------------------------------


def test_a_return_delivered_twice_is_refused_and_keeps_the_sellers_clock(cli: Cli) -> None:
    ok(sh(cli, "order add E3 -m ebay --total 80 --ordered 2026-11-01 --received 2026-11-19"))
    ok(sh(cli, "--as-of 2026-11-20T10:00 open E3 --reason defective --full --on 2026-11-20"))
    ok(sh(cli, "--as-of 2026-11-21T10:00 respond 1 seller-agrees --return --on 2026-11-21"))
    ok(sh(cli, "--as-of 2026-11-23T10:00 respond 1 return-shipped --on 2026-11-23"))
    ok(sh(cli, "--as-of 2026-11-25T10:00 respond 1 return-delivered --on 2026-11-25"))
    due = named(dispute(cli, 1, "2026-11-25T11:00")["deadlines"], "return_refund_due")["due"]
    again = sh(cli, "--as-of 2026-11-25T11:00 respond 1 return-delivered")
    assert again.exit_code == 2
    assert "recorded as delivered already" in again.stderr
    assert "return-delivered" not in again.stderr.split("possible now:", 1)[1]
    refused = sh(cli, "--as-of 2026-11-25T11:00 respond 1 seller-agrees")
    assert "waiting for the seller's refund for the returned item" in refused.stderr
    after = dispute(cli, 1, "2026-11-25T11:00")["deadlines"]
    assert named(after, "return_refund_due")["due"] == due


def test_a_paypal_appeal_gives_the_seller_no_second_claim_answer(cli: Cli) -> None:
    ok(sh(cli, "order add PP-9 -m paypal --total 60 --ordered 2026-11-01 --received 2026-11-05"))
    ok(sh(cli, "--as-of 2026-11-10 open PP-9 --reason not-as-described --full --on 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-12 escalate 1 --on 2026-11-12"))
    assert "claim_response" in names(dispute(cli, 1, "2026-11-12T01:00"))
    ok(sh(cli, "--as-of 2026-11-20 respond 1 platform-rejects --on 2026-11-20"))
    ok(sh(cli, "--as-of 2026-11-22 escalate 1 --on 2026-11-22"))
    assert names(dispute(cli, 1, "2026-11-22T01:00")) == ["platform_decision"]


def test_a_passed_paypal_claim_answer_is_listed_but_asks_nothing_of_you(cli: Cli) -> None:
    ok(sh(cli, "order add PP-8 -m paypal --total 60 --ordered 2026-11-01 --received 2026-11-05"))
    ok(sh(cli, "--as-of 2026-11-10 open PP-8 --reason not-as-described --full --on 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-12 escalate 1 --on 2026-11-12"))
    quiet = ok(sh(cli, "--as-of 2026-11-24 check --within 3d"))  # PayPal decides without it
    assert "seller's answer to the claim" in quiet.stdout
    assert "PayPal decides without the seller's answer" in quiet.stdout


def test_a_second_return_after_an_escalation_is_tracked_until_it_is_delivered(cli: Cli) -> None:
    """The first shipment's delivery was kept: the second return went unwatched."""
    ok(sh(cli, "order add E4 -m ebay --total 80 --ordered 2026-11-01 --received 2026-11-10"))
    ok(sh(cli, "--as-of 2026-11-11T10:00 open E4 --reason defective --full --on 2026-11-11"))
    ok(sh(cli, "--as-of 2026-11-12T10:00 respond 1 seller-agrees --return --on 2026-11-12"))
    ok(sh(cli, "--as-of 2026-11-13T10:00 respond 1 return-shipped --on 2026-11-13"))
    ok(sh(cli, "--as-of 2026-11-16T10:00 respond 1 return-delivered --on 2026-11-16"))
    ok(sh(cli, "--as-of 2026-11-20T10:00 escalate 1 --on 2026-11-20"))
    ok(sh(cli, "--as-of 2026-11-21T10:00 respond 1 platform-awards 80 --return --on 2026-11-21"))
    ok(sh(cli, "--as-of 2026-11-22T10:00 respond 1 return-shipped --on 2026-11-22"))
    assert "return_delivery" in names(dispute(cli, 1, "2026-11-22T11:00"))
    ok(sh(cli, "--as-of 2026-11-24T10:00 respond 1 return-delivered --on 2026-11-24"))
    assert "return_refund_due" in names(dispute(cli, 1, "2026-11-24T11:00"))
