"""Messages the buyer can paste, read the way the seller or the marketplace will read them.

Issue 4: clear, polite, specific: the order, what is wrong, the amount and why it is fair (its
share of the total, or of the item's price), the evidence, and what happens next; a different
text for the first request, the answer to a counter-offer and the escalation statement;
``--json`` gives the parts. The story is conftest's: dispute 1, $12.50 of a $45.90 AliExpress
order, opened on Nov 22; "now" is Nov 26.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from refundctl.render.case import share
from tests.conftest import Cli, Run, snapshot

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x01" * 40


def ok(run: Run) -> Run:
    assert run.exit_code == 0, (run.exit_code, run.stdout, run.stderr)
    return run


def test_the_first_request_says_everything_once(story: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "box.jpg"
    photo.write_bytes(JPEG)
    ok(story("attach", "1", str(photo), "--note", "as delivered", "--on", "2026-11-22"))
    ok(story("attach", "1", "--url", "https://shop.example/item/1", "--on", "2026-11-22"))
    assert ok(story("draft", "1")).stdout == (
        "Subject: Order 8101234567890123: refund request (missing parts)\n"
        "\n"
        "Hello Best Store,\n"
        "\n"
        "I am writing about order 8101234567890123 (USB-C hub), which I received on "
        "20 Nov 2026. Part of the order is missing. HDMI adapter missing.\n"
        "\n"
        "I am asking for a partial refund of $12.50: 27.2% of what I paid ($45.90), for what "
        "is missing; I am keeping the rest of the order.\n"
        "\n"
        "I have attached:\n"
        "- box.jpg (photo: as delivered)\n"
        "- the listing: https://shop.example/item/1\n"
        "\n"
        "Could you please confirm the refund? If we cannot agree by 29 Nov 2026, AliExpress "
        "will step in.\n"
        "\n"
        "Kind regards\n"
    )


def test_json_gives_the_parts_and_the_text_is_them_joined(story: Cli, ledger_path: Path) -> None:
    before = snapshot(ledger_path)
    parts = ok(story("draft", "1", "--json")).json()
    assert set(parts) >= {"to", "subject", "greeting", "body", "closing", "text"}
    assert parts["to"] == "seller" and parts["kind"] == "request" and parts["dispute"] == 1
    assert (
        parts["text"] == "\n\n".join([parts["greeting"], *parts["body"], parts["closing"]]) + "\n"
    )
    plain = ok(story("draft", "1")).stdout
    assert plain == f"Subject: {parts['subject']}\n\n{parts['text']}"
    assert snapshot(ledger_path) == before  # drafting only reads


def test_the_answer_to_a_counter_offer_declines_it_and_restates_the_ask(story: Cli) -> None:
    ok(story("respond", "1", "seller-offers", "8.00", "--on", "2026-11-25T09:00"))
    message = ok(story("draft", "1", "--json")).json()
    assert message["kind"] == "reply"
    assert message["subject"] == "Order 8101234567890123: your offer of $8.00"
    first, *rest = message["body"]
    assert "your offer of $8.00" in first and "I cannot accept it" in first
    assert (
        "I am still asking for a partial refund of $12.50: 27.2% of what I paid" in message["text"]
    )
    # AliExpress has no buyer deadline to answer an offer: it steps in by itself 15 days after
    # the dispute opened (Nov 22), and the message says so.
    assert rest[-1] == "If we cannot agree by 7 Dec 2026, AliExpress will step in."


def test_an_offer_with_a_return_is_named_as_such(story: Cli) -> None:
    ok(story("respond", "1", "seller-offers", "12.50", "--return", "--on", "2026-11-24"))
    text = ok(story("draft", "1")).stdout
    assert "your offer of $12.50 on condition that I return the item" in text


def test_the_buyers_counter_names_the_new_amount(story: Cli) -> None:
    ok(story("respond", "1", "seller-offers", "8.00", "--on", "2026-11-24"))
    ok(story("respond", "1", "counter", "10.00", "--on", "2026-11-25"))
    message = ok(story("draft", "1", "--json")).json()
    assert message["kind"] == "counter"
    assert message["subject"] == "Order 8101234567890123: my counter-offer of $10.00"
    assert message["body"][0].startswith("Thank you for your offer of $8.00")
    assert (
        "I can accept a partial refund of $10.00: 21.8% of what I paid ($45.90)"
        in (message["text"])
    )


def test_after_a_rejection_the_ask_is_restated(story: Cli) -> None:
    ok(story("respond", "1", "seller-rejects", "--on", "2026-11-24"))
    message = ok(story("draft", "1", "--json")).json()
    assert message["kind"] == "rejected"
    assert "turned down my request, but the problem remains" in message["text"]
    assert "Could you please reconsider?" in message["text"]


def test_the_escalation_statement_tells_the_marketplace_what_happened(story: Cli) -> None:
    ok(story("respond", "1", "seller-offers", "8.00", "--on", "2026-11-24"))
    ok(story("respond", "1", "counter", "10.00", "--on", "2026-11-25"))
    asked = ok(story("draft", "1", "--to", "platform", "--json")).json()
    ok(story("escalate", "1", "--case-ref", "5012345"))
    message = ok(story("draft", "1", "--json")).json()  # escalated: the marketplace by default
    assert asked["kind"] == message["kind"] == "escalation"
    assert message["to"] == "platform"
    assert message["subject"] == "Order 8101234567890123: please review my dispute (case 5012345)"
    assert message["greeting"] == "Hello AliExpress team,"
    history = next(p for p in message["body"] if p.startswith("What happened:"))
    assert history.splitlines() == [
        "What happened:",
        "- 22 Nov 2026: I asked the seller for a refund of $12.50.",
        "- 24 Nov 2026: the seller offered $8.00.",
        "- 25 Nov 2026: I declined and asked for $10.00.",
        "- 26 Nov 2026: I escalated to the marketplace.",
    ]
    assert "I paid $45.90 on 1 Nov 2026 and received the order on 20 Nov 2026." in (message["text"])
    assert "I ask for a partial refund of $10.00" in message["text"]


def test_a_platform_request_for_information_is_answered(story: Cli) -> None:
    ok(story("escalate", "1", "--on", "2026-11-25"))
    ok(story("respond", "1", "platform-requests-info", "--on", "2026-11-26"))
    text = ok(story("draft", "1")).stdout
    assert "This answers your request for information of 26 Nov 2026." in text


def test_a_silent_seller_is_said_to_be_silent(story: Cli) -> None:
    later = ("--as-of", "2026-12-05")  # past the seller's 7 days
    text = ok(story(*later, "draft", "1", "--to", "platform")).stdout
    assert "- The seller has not answered since." in text
    first = ok(story(*later, "draft", "1")).stdout  # no day in the past is promised
    assert "If we cannot agree, I will ask AliExpress to step in." in first


def test_an_item_dispute_is_measured_against_the_items_price(story: Cli) -> None:
    ok(
        story(
            "order",
            "add",
            "E-9",
            "-m",
            "ebay",
            "--total",
            "30.00",
            "--seller",
            "gadgets",
            "--item",
            "Charger @20.00",
            "--item",
            "Cable x2 @5.00",
            "--ordered",
            "2026-11-01",
            "--received",
            "2026-11-10",
        )
    )
    ok(
        story(
            "open",
            "E-9",
            "--reason",
            "defective",
            "--item",
            "cable",
            "--amount",
            "4",
            "--on",
            "2026-11-20",
        )
    )
    text = ok(story("draft", "2")).stdout
    assert "The Cable does not work as it should." in text
    assert "a partial refund of $4.00: 40% of the price of the Cable ($10.00)" in text
    assert "Hello gadgets," in text and "(eBay" not in text


def test_a_full_refund_for_a_parcel_that_never_came(story: Cli) -> None:
    ok(
        story(
            "order",
            "add",
            "P-1",
            "-m",
            "paypal",
            "--total",
            "25.00",
            "--ordered",
            "2026-10-01",
            "--shipped",
            "2026-10-03",
            "--expected-by",
            "2026-10-20",
        )
    )
    ok(story("open", "P-1", "--reason", "not-received", "--full", "--on", "2026-11-20"))
    text = ok(story("draft", "2")).stdout
    assert text.splitlines()[2] == "Hello,"  # no seller name recorded
    assert "The order has not arrived. It was expected by 20 Oct 2026." in text
    assert "I am asking for a full refund of the $25.00 I paid, since nothing arrived." in text
    assert "photos" not in text  # nothing to photograph


def test_follow_ups_while_the_money_is_on_its_way(story: Cli) -> None:
    ok(story("respond", "1", "seller-agrees", "--on", "2026-11-23"))
    due = ok(story("draft", "1")).stdout
    assert "If it has not arrived by 21 Dec 2026, I will ask AliExpress to step in." in due
    message = ok(story("--as-of", "2026-12-28", "draft", "1", "--json")).json()
    assert message["kind"] == "follow_up"
    assert "Thank you for agreeing on 23 Nov 2026 to refund $12.50" in message["text"]
    assert "The refund has not reached me yet." in message["text"]
    assert "I will now ask AliExpress to step in." in message["text"]


def test_an_unpaid_agreed_refund_is_escalated_as_such(story: Cli) -> None:
    ok(story("respond", "1", "seller-agrees", "--on", "2026-11-23"))
    text = ok(story("--as-of", "2026-12-28", "draft", "1", "--to", "platform")).stdout
    assert "- 23 Nov 2026: the seller agreed to the request." in text
    assert "A refund of $12.50 was agreed on 23 Nov 2026 and has not reached me." in text


def test_a_return_in_transit_names_the_tracking(story: Cli) -> None:
    ok(story("respond", "1", "seller-agrees", "--return", "--on", "2026-11-23"))
    ok(story("respond", "1", "return-shipped", "--tracking", "LX123CN", "--on", "2026-11-24"))
    text = ok(story("draft", "1")).stdout
    assert "I shipped the return for order 8101234567890123 (USB-C hub) on 24 Nov 2026 " in text
    assert "(tracking LX123CN)" in text


@pytest.mark.parametrize(
    ("moves", "args", "says"),
    [
        ((("cancel", "1"),), ("draft", "1"), "dispute 1 is closed (cancelled)"),
        ((("resolve", "1", "--refunded", "12.50"),), ("draft", "1"), "closed (refunded)"),
        ((("escalate", "1"),), ("draft", "1", "--to", "seller"), "the marketplace decides now"),
        ((), ("draft", "7"), "unknown dispute 7"),
        ((), ("draft", "1", "--to", "court"), "--to"),
    ],
)
def test_what_cannot_be_drafted_is_refused(
    story: Cli,
    ledger_path: Path,
    moves: tuple[tuple[str, ...], ...],
    args: tuple[str, ...],
    says: str,
) -> None:
    for move in moves:
        ok(story(*move))
    before = snapshot(ledger_path)
    run = story(*args)
    assert run.exit_code == 2 and run.stderr.startswith("error: ") and says in run.stderr, run
    assert snapshot(ledger_path) == before


def test_the_buyers_own_text_cannot_run_in_the_terminal(story: Cli) -> None:
    ok(story("order", "add", "E-2", "-m", "ebay", "--total", "9", "--seller", "Evil\x1b[31mShop"))
    ok(story("open", "E-2", "--reason", "damaged", "--full", "--note", "cracked\x07\nbadly"))
    text = ok(story("draft", "2")).stdout
    assert "\x1b" not in text and "\x07" not in text
    assert "Hello Evil\\x1b[31mShop," in text and "Cracked\\x07 badly." in text


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        ("12.50", "45.90", "27.2%"),
        ("4", "10", "40%"),
        ("1", "3", "33.3%"),
        ("45.90", "45.90", "100%"),
    ],
)
def test_share_of_the_total(part: str, whole: str, shown: str) -> None:
    assert share(Decimal(part), Decimal(whole)) == shown
