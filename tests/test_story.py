"""The AliExpress partial-refund story of DESIGN.md, told through the command line."""

from __future__ import annotations

from tests.conftest import Cli


def test_partial_refund_from_receipt_to_money_in_the_bank(story: Cli, tmp_path) -> None:
    photo = tmp_path / "box.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    attached = story("attach", "1", str(photo), "--note", "box as delivered", "--on", "2026-11-22")
    assert attached.exit_code == 0, attached.stderr

    offered = story("respond", "1", "seller-offers", "8.00", "--on", "2026-11-24", "--json")
    assert offered.exit_code == 0, offered.stderr
    dispute = offered.json()
    assert dispute["state"] == "awaiting_buyer"
    assert dispute["offer"] == "8.00"
    # AliExpress gives the buyer no deadline to answer an offer: it steps in by itself.
    assert dispute["deadline"]["name"] == "negotiation_ends"
    assert dispute["deadline"]["if_missed"] == "platform_steps_in"

    countered = story("respond", "1", "counter", "10.00", "--on", "2026-11-25", "--json")
    assert countered.json()["state"] == "awaiting_seller"
    assert countered.json()["requested"] == "10.00"

    agreed = story("respond", "1", "seller-agrees", "--on", "2026-11-26", "--json").json()
    assert agreed["state"] == "refund_pending"
    assert agreed["agreed"] == "10.00"
    assert agreed["deadline"]["name"] == "refund_expected"

    done = story("resolve", "1", "--refunded", "10.00", "--json").json()
    assert done["state"] == "refunded"
    assert done["refunded"] == "10.00"
    assert [o["outcome"] for o in done["offers"]] == [
        "declined",
        "declined",
        "accepted",
    ]
    assert story("status", "--json").json()["disputes"] == []
