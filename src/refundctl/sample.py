"""The demo ledger: a believable buyer's month, with a dispute in every state.

Built through the ledger's own methods, so the demo exercises the same paths a buyer's
commands do; times are relative to ``now``, so the deadlines are always live.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from refundctl.domain import Actor, Move, OfferKind, Reason
from refundctl.ledger.store import AmountSpec, Files, Ledger, Message, OrderRef
from refundctl.money import parse_amount
from refundctl.records import EvidenceKind, Order, parse_item


def _png(width: int = 4, height: int = 3) -> bytes:
    """A tiny, valid PNG: a stand-in for the buyer's photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xc0\x40\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build(ledger: Ledger, now: datetime) -> None:
    """Fill an empty ledger with the demo story."""

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    def order(
        marketplace: str,
        number: str,
        total: str,
        *,
        seller: str,
        title: str,
        ordered: float,
        received: float | None = None,
        shipped: float | None = None,
        items: tuple[str, ...] = (),
        payment: str = "card",
    ) -> OrderRef:
        ledger.add_order(
            Order(
                marketplace=marketplace,
                order_no=number,
                total=parse_amount(total, "USD"),
                currency="USD",
                seller=seller,
                title=title,
                items=tuple(parse_item(text, "USD") for text in items),
                ordered=ago(ordered),
                shipped=None if shipped is None else ago(shipped),
                received=None if received is None else ago(received),
                payment=payment,
            ),
            now,
        )
        return OrderRef(number, marketplace)

    def dispute(ref: OrderRef, reason: Reason, amount: str, days: float, note: str) -> int:
        result = ledger.open_dispute(
            ref,
            reason=reason,
            ask=AmountSpec(amount=amount),
            item=None,
            note=note,
            case_ref=None,
            evidence=(),
            evidence_kind=None,
            at=ago(days),
            now=now,
        )
        return result.record.id

    def move(
        dispute_id: int,
        kind: Move,
        days: float,
        amount: str | None = None,
        offer_kind: OfferKind | None = None,
        note: str | None = None,
        tracking: str | None = None,
    ) -> None:
        ledger.move(
            dispute_id,
            kind,
            amount=amount,
            offer_kind=offer_kind,
            note=note,
            tracking=tracking,
            at=ago(days),
            now=now,
        )

    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "hub-ports-missing.png"
        photo.write_bytes(_png())
        unboxing = Path(scratch) / "unboxing.png"
        unboxing.write_bytes(_png(6, 2))

        # The story of the README: a partial refund on AliExpress, with a counter-offer.
        hub = order(
            "aliexpress",
            "8101234567890123",
            "45.90",
            seller="Best Store",
            title="USB-C hub 7-in-1",
            ordered=24,
            shipped=21,
            received=6,
            items=("USB-C hub x1 @45.90",),
        )
        first = dispute(hub, Reason.MISSING_PARTS, "12.50", 4, "HDMI adapter missing from box")
        ledger.attach(first, Files([photo], EvidenceKind.PHOTO, "box as delivered"), ago(4), now)
        ledger.attach(first, Message("Sorry! We can refund $8.00.", Actor.SELLER), ago(1.2), now)
        move(first, Move.SELLER_OFFERS, 1.2, "8.00")

        # Still inside its window, no dispute yet.
        order(
            "aliexpress",
            "8109876543210987",
            "23.40",
            seller="Other Store",
            title="LED desk lamp",
            ordered=20,
            shipped=17,
            received=3,
        )

        # The seller has not answered for over a week: time to escalate.
        camera = order(
            "ebay",
            "12-34567-89012",
            "120.00",
            seller="vintage_finds",
            title="Film camera",
            ordered=30,
            shipped=27,
            received=12,
        )
        dispute(camera, Reason.NOT_AS_DESCRIBED, "120.00", 9, "Shutter does not fire")

        # A refund agreed on condition of a return: ship it.
        speaker = order(
            "amazon",
            "113-4567890-1234567",
            "59.99",
            seller="SoundCo",
            title="Bluetooth speaker",
            ordered=15,
            shipped=13,
            received=10,
        )
        third = dispute(speaker, Reason.DAMAGED, "59.99", 8, "Cracked grille")
        ledger.attach(third, Files([unboxing], EvidenceKind.PHOTO), ago(8), now)
        move(third, Move.SELLER_AGREES, 3, offer_kind=OfferKind.REFUND_WITH_RETURN)

        # Under the platform's review, which wants more information.
        cases = order(
            "temu",
            "PO-211-0987654321",
            "18.20",
            seller="Temu seller 4471",
            title="Phone case set",
            ordered=35,
            shipped=33,
            received=25,
        )
        fourth = dispute(cases, Reason.WRONG_ITEM, "18.20", 20, "Wrong phone model")
        move(fourth, Move.SELLER_REJECTS, 17)
        move(fourth, Move.ESCALATE, 12)
        move(fourth, Move.PLATFORM_REQUESTS_INFO, 0.5, note="Photo of the label, please")

        # Agreed a month ago, and the money never came: overdue.
        lights = order(
            "aliexpress",
            "8105550001112223",
            "31.00",
            seller="Bright Garden",
            title="Solar garden lights",
            ordered=60,
            shipped=57,
            received=40,
        )
        fifth = dispute(lights, Reason.DEFECTIVE, "31.00", 36, "Two of six lights dead")
        move(fifth, Move.SELLER_AGREES, 32)

        # A return on its way back to the seller.
        mug = order(
            "etsy",
            "2987654321",
            "34.00",
            seller="ClayCorner",
            title="Handmade mug",
            ordered=25,
            shipped=22,
            received=18,
        )
        sixth = dispute(mug, Reason.DAMAGED, "34.00", 16, "Chipped rim")
        move(sixth, Move.SELLER_AGREES, 14, offer_kind=OfferKind.REFUND_WITH_RETURN)
        move(sixth, Move.RETURN_SHIPPED, 11, tracking="LX123456789CN")
        move(sixth, Move.RETURN_DELIVERED, 3)

        # Lost at the platform, still appealable.
        poster = order(
            "paypal",
            "5TY12345AB678901C",
            "25.00",
            seller="gigposters",
            title="Concert poster",
            ordered=50,
            shipped=48,
            payment="paypal",
        )
        seventh = dispute(poster, Reason.NOT_RECEIVED, "25.00", 30, "Never arrived")
        move(seventh, Move.ESCALATE, 20)
        move(seventh, Move.PLATFORM_REJECTS, 2)

        # Closed: refunded, withdrawn, cancelled.
        socks = order(
            "aliexpress",
            "8104440009998887",
            "9.99",
            seller="Cozy Feet",
            title="Wool socks",
            ordered=70,
            shipped=66,
            received=45,
        )
        eighth = dispute(socks, Reason.WRONG_ITEM, "9.99", 40, "Wrong size")
        move(eighth, Move.SELLER_AGREES, 38)
        ledger.move(eighth, Move.REFUNDED, amount="9.99", at=ago(30), now=now)

        cable = order(
            "temu",
            "PO-211-1234000000",
            "6.50",
            seller="Temu seller 9001",
            title="Braided cable",
            ordered=40,
            shipped=38,
            received=30,
        )
        ninth = dispute(cable, Reason.DEFECTIVE, "6.50", 28, "Does not charge")
        move(ninth, Move.SELLER_OFFERS, 27, "3.00")
        ledger.move(ninth, Move.WITHDRAWN, note="It was the charger", at=ago(26), now=now)

        frame = order(
            "etsy",
            "2911110000",
            "42.00",
            seller="FrameWorks",
            title="Oak frame",
            ordered=21,
            shipped=19,
            received=9,
        )
        tenth = dispute(frame, Reason.LATE_DELIVERY, "5.00", 8, "Arrived a week late")
        ledger.move(tenth, Move.CANCEL, note="Seller sent a coupon instead", at=ago(7), now=now)
