"""Build a large, realistic refundctl ledger quickly, for the performance harness.

``python benchmarks/make_ledger.py --orders N --out FILE [--as-of WHEN] [--seed S]`` writes N
orders across the six built-in marketplaces, each with one active dispute in a random state.
Each dispute's *next deadline* (as ``refundctl status`` computes it) falls at a target time
drawn uniformly from 30 days before to 90 days after ``--as-of``: the generator picks the
target, the state and the rule that will set the deadline, puts the event that rule counts from
at the target less the policy's duration, lays the rest of the dispute's story around it, and
finally shifts the whole story so that the deadline the real deadline code computes lands on the
target (business days and holidays make the first guess a day or two off). Around the moves
sit the facts a buyer records: messages, links and photos (tiny PNGs, stored once in the
evidence store and shared, as the store's content addressing does for a real buyer), seller
offers and counter-offers, returns with tracking numbers, and now and then an ``undo``.

Which path it takes, and why. Orders go in through ``Ledger.import_orders``, the same bulk
method ``refundctl order import`` uses (about 5 s of the build at 100k). Disputes do not:
recording them through ``Ledger.open_dispute`` and ``Ledger.move`` measured about 0.3 ms per
call even with ``synchronous=OFF`` (each call re-reads and replays the dispute, and commits), and
a dispute here has four events on average, so 100k disputes would take over two minutes; and
``move`` rightly refuses moves dated after "now", while no policy rule runs longer than about 30
days, so a deadline up to 90 days after ``--as-of`` needs a story partly dated after it. So
disputes, events and evidence rows are written with ``executemany`` in one transaction, on the
connection of a ledger that ``Ledger.open`` created and migrated (same schema, triggers and
constraints). What keeps those rows honest: each dispute's events are folded with
``domain.replay`` while building, and the cached state columns are taken from that fold (as
``Ledger._save_state`` does); afterwards a sample of disputes (``--check``, default 500) is read
back in-process through ``Ledger.dispute`` and the deadline code, and a few (``--check-cli``)
through ``refundctl status ID --json``, which must show the same state and next deadline; the
build exits 1 if any disagrees. ``refundctl verify`` on a built ledger replays every dispute.
100k orders take about 35 s on a 2-core machine, most of it generating and folding the stories.

Because the rules are short (3 to 30 days), a deadline more than a rule's length after
``--as-of`` needs the event it counts from to lie after ``--as-of``: about 60% of the stories
end after it. The ledger hides nothing (DESIGN.md, ``--as-of``), so they count as recorded;
the harness picks a dispute whose story is over for its ``respond``. Orders are always placed,
shipped and received by ``--as-of``.

``--csv FILE`` writes N orders of the same kind, without disputes, as a file for ``refundctl
order import``. Both are deterministic for a seed: the same N, seed and ``--as-of`` give the
same rows (apart from the time sqlite-utils records for the migration).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path

from refundctl import domain
from refundctl.deadlines import Deadline, dispute_deadlines
from refundctl.domain import Actor, Event, EventKind, Move, OfferKind, Reason, State
from refundctl.importing import ImportedOrder
from refundctl.ledger.connection import Settings
from refundctl.ledger.evidence import evidence_dir
from refundctl.ledger.store import Ledger
from refundctl.money import from_minor, to_minor
from refundctl.policies import Binds, Policy, RuleName, policy_for, resolve
from refundctl.records import Item, Order
from refundctl.timeparse import Unit, iso, parse_when
from refundctl.views import dispute_view

DEFAULT_AS_OF = "2026-11-26T12:00:00+00:00"
DAY = 86400.0
HOUR = 3600.0

# How a small reseller's disputes spread over the marketplaces, and over the states.
MARKETPLACES = {"aliexpress": 30, "ebay": 20, "amazon": 20, "paypal": 10, "etsy": 10, "temu": 10}
STATES = {
    State.AWAITING_SELLER: 30,
    State.AWAITING_BUYER: 25,
    State.ESCALATED: 15,
    State.RETURN_TO_SHIP: 8,
    State.RETURN_IN_TRANSIT: 7,
    State.REFUND_PENDING: 15,
}
CURRENCIES = {"USD": 85, "EUR": 10, "GBP": 5}
REASONS = {
    Reason.NOT_AS_DESCRIBED: 25,
    Reason.DAMAGED: 15,
    Reason.DEFECTIVE: 15,
    Reason.MISSING_PARTS: 12,
    Reason.WRONG_ITEM: 12,
    Reason.LATE_DELIVERY: 5,
    Reason.CHANGED_MIND: 3,
    Reason.OTHER: 3,
}
NOT_RECEIVED_SHARE = 0.15
PAYMENTS = {
    "aliexpress": ("card", "paypal"),
    "ebay": ("card", "paypal"),
    "amazon": ("card", "gift card"),
    "paypal": ("paypal",),
    "etsy": ("card", "paypal"),
    "temu": ("card", "paypal", "apple pay"),
}
NOUNS = tuple(
    "USB-C hub|LED desk lamp|phone case|wool socks|garden lights|film camera|bluetooth speaker|"
    "handmade mug|oak frame|braided cable|drill bits|yoga mat|kitchen scale|watch strap|"
    "headphones|keyboard|mouse pad|poster|tent|water bottle|sunglasses|backpack|charger|"
    "SSD enclosure|smart plug".split("|")
)
ADJECTIVES = ("mini", "pro", "2-pack", "vintage", "wireless", "XL", "stainless", "kids", "eco")
SELLER_WORDS = ("Best", "Global", "Happy", "Smart", "Bright", "Cozy", "Prime", "Direct", "Top")
SELLER_TAILS = ("Store", "Shop", "Trading", "Outlet", "Goods", "Official", "Mart", "Co")
BUYER_NOTES = (
    "Arrived with a cracked corner",
    "Two pieces missing from the box",
    "Does not match the listing photos",
    "Stopped working after a day",
    "Wrong colour sent",
    "Parcel never arrived",
)
SELLER_MESSAGES = (
    "Sorry for the trouble, we can offer a partial refund.",
    "Please send a photo of the label.",
    "We shipped it correctly, please check again.",
    "Can you return the item? We will refund on arrival.",
)
BUYER_MESSAGES = ("Photos attached.", "I would prefer a full refund.", "Any update on this?")
URL_EVIDENCE = (
    ("listing", "https://www.{m}.com/item/{n}"),
    ("tracking", "https://t.17track.net/en#nums=LX{n}CN"),
    ("screenshot", "https://imgur.com/a/{n}"),
    ("chat", "https://www.{m}.com/messages/{n}"),
)


def pick(rng: random.Random, weighted: dict[object, int]) -> object:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def tiny_png(seed: int) -> bytes:
    """A valid 2x2 PNG whose colour depends on ``seed``: a stand-in for a buyer's photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    pixel = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    rows = b"".join(b"\x00" + pixel * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def approx_seconds(policy: Policy, rule: RuleName) -> float:
    """The rule's duration as a first guess in seconds (business days as 7/5 of a day)."""
    resolved = resolve(policy, rule)
    assert resolved is not None, f"{policy.name} has no {rule}"
    duration = resolved.duration
    per_unit = {Unit.HOURS: HOUR, Unit.DAYS: DAY, Unit.WEEKS: 7 * DAY}
    if duration.unit is Unit.BUSINESS_DAYS:
        return duration.count * DAY * 7 / 5
    return duration.count * per_unit[duration.unit]


def _unit(policy: Policy, rule: RuleName) -> Unit:
    resolved = resolve(policy, rule)
    assert resolved is not None
    return resolved.duration.unit


def order_number(marketplace: str, index: int) -> str:
    """A number shaped like the marketplace's, unique per index below ten million: the tail is
    the index times a multiplier coprime with 10, modulo 10**7 (a bijection), so numbers do
    not look serial and their tails, which tables keep, tell them apart."""
    tail = (index * 7_919_113 + 104_729) % 10**7
    head = (index * 48_271 + 11) % 10**5
    match marketplace:
        case "aliexpress":
            return f"81{head:05d}{index % 100:02d}{tail:07d}"
        case "ebay":
            digits = f"{head:05d}{tail:07d}"
            return f"{digits[:2]}-{digits[2:7]}-{digits[7:]}"
        case "amazon":
            return f"1{head % 100:02d}-{head:05d}{index % 100:02d}-{tail:07d}"
        case "paypal":
            return f"{head * 7 + 3:06X}{index % 16**4:04X}{tail:07d}"
        case "etsy":
            return f"{head % 1000:03d}{tail:07d}"
        case _:
            return f"PO-211-{head % 1000:03d}{tail:07d}"


@dataclass(slots=True)
class Step:
    """One event of a dispute's story, before it has a time."""

    kind: str
    actor: Actor
    amount: int | None = None  # minor units
    offer_kind: OfferKind | None = None
    note: str | None = None
    tracking: str | None = None
    retracts: int | None = None  # index of the step it takes back
    evidence: int | None = None  # index into the story's evidence list
    gap: float = 0.0  # seconds since the step before


@dataclass(slots=True)
class Story:
    """A dispute's events with the one whose time sets the next deadline."""

    steps: list[Step] = field(default_factory=list)
    anchor: int = 0
    rule: RuleName = RuleName.SELLER_RESPONSE
    evidence: list[tuple[str, str, str | None]] = field(default_factory=list)

    def add(self, step: Step, *, anchor: bool = False) -> None:
        self.steps.append(step)
        if anchor:
            self.anchor = len(self.steps) - 1


class Builder:
    """Generates orders and disputes for one ledger, deterministically from a seed."""

    def __init__(self, seed: int, as_of: datetime, photos: Sequence[tuple[str, int, str]]):
        self.rng = random.Random(seed)
        self.as_of = as_of.timestamp()
        self.as_of_dt = as_of
        self.photos = photos
        self.event_id = 0
        self.evidence_id = 0
        self.states: Counter[str] = Counter()
        self.offsets = {
            (m, r): approx_seconds(policy_for(m), r)
            for m in MARKETPLACES
            for r in RuleName
            if resolve(policy_for(m), r) is not None
        }
        self.escalates = {
            m: resolve(policy_for(m), RuleName.ESCALATE_BY) is not None for m in MARKETPLACES
        }
        # Rules counted in business days: weekends and holidays make the first guess a few
        # days off, so the build asks the deadline code and shifts the story (calendar days and
        # hours need no correction: the guess is exact within a DST hour).
        self.business_days = {
            key for key in self.offsets if _unit(policy_for(key[0]), key[1]) is Unit.BUSINESS_DAYS
        }

    # -- one order ------------------------------------------------------------------------------

    def order(self, index: int) -> tuple[Order, int, str, float]:
        """An order (without times yet), its minor-unit total, its currency and the target."""
        rng = self.rng
        marketplace = str(pick(rng, MARKETPLACES))
        currency = str(pick(rng, CURRENCIES))
        total = max(150, round(math.exp(rng.gauss(3.2, 0.9)) * 100))
        total = min(total, 90_000)
        items: tuple[Item, ...] = ()
        if rng.random() < 0.5:
            count = rng.choice((1, 1, 1, 2, 3))
            left = total
            chosen = rng.sample(NOUNS, count)
            made = []
            for position, noun in enumerate(chosen):
                share = left if position == count - 1 else max(1, int(left * rng.uniform(0.2, 0.7)))
                left -= share
                made.append(Item(noun, 1, from_minor(share, currency)))
            items = tuple(made)
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        seller = f"{rng.choice(SELLER_WORDS)} {rng.choice(SELLER_TAILS)} {rng.randint(1, 9999)}"
        order = Order(
            marketplace=marketplace,
            order_no=order_number(marketplace, index),
            total=from_minor(total, currency),
            currency=currency,
            seller=seller,
            title=title,
            items=items,
            payment=rng.choice(PAYMENTS[marketplace]),
        )
        target = self.as_of + rng.uniform(-30 * DAY, 90 * DAY)
        return order, total, currency, target

    def order_times(self, order: Order, opened: float, not_received: bool) -> Order:
        rng = self.rng
        latest = min(opened, self.as_of)

        def at(seconds: float) -> datetime:
            return datetime.fromtimestamp(int(seconds), UTC)

        if not_received:
            expected = latest - rng.uniform(0.5, 10) * DAY
            shipped = expected - rng.uniform(10, 30) * DAY
            ordered = shipped - rng.uniform(0.3, 4) * DAY
            return replace(
                order, ordered=at(ordered), shipped=at(shipped), expected_by=at(expected)
            )
        received = latest - rng.uniform(0.2, 12) * DAY
        shipped = received - rng.uniform(3, 20) * DAY
        ordered = shipped - rng.uniform(0.3, 4) * DAY
        expected = shipped + rng.uniform(7, 30) * DAY
        return replace(
            order,
            ordered=at(ordered),
            shipped=at(shipped),
            received=at(received),
            expected_by=at(expected),
        )

    # -- one dispute's story --------------------------------------------------------------------

    def story(self, marketplace: str, state: State, limit: int, not_received: bool) -> Story:
        """The moves that lead to ``state``, amounts within ``limit`` (the refundable)."""
        rng = self.rng
        s = Story()
        requested = limit if rng.random() < 0.4 else max(1, int(limit * rng.uniform(0.2, 1)))
        note = "Parcel never arrived" if not_received else rng.choice(BUYER_NOTES)
        s.add(Step(Move.OPEN, Actor.BUYER, requested, note=note))
        self._facts(s, marketplace)

        def offer(kind: OfferKind | None = None) -> int:
            amount = max(1, int(requested * rng.uniform(0.3, 0.9)))
            s.add(
                Step(Move.SELLER_OFFERS, Actor.SELLER, amount, kind, gap=rng.uniform(0.3, 5) * DAY)
            )
            return amount

        def seller_message() -> None:
            if rng.random() < 0.4:
                text = rng.choice(SELLER_MESSAGES)
                s.add(
                    Step(EventKind.MESSAGE, Actor.SELLER, note=text, gap=rng.uniform(0.1, 2) * DAY)
                )

        match state:
            case State.AWAITING_SELLER:
                counter = rng.random() < 0.3
                if counter:
                    seller_message()
                    offered = offer()
                    asked = rng.randint(offered + 1, requested) if offered < requested else offered
                    s.add(Step(Move.COUNTER, Actor.BUYER, asked, gap=rng.uniform(0.1, 2) * DAY))
                if self.escalates[marketplace]:
                    s.anchor, s.rule = 0, RuleName.ESCALATE_BY
                else:
                    s.anchor, s.rule = len(s.steps) - 1, RuleName.SELLER_RESPONSE
                    # the last buyer move is the open or the counter; facts may follow it
                    s.anchor = max(
                        i for i, st in enumerate(s.steps) if st.kind in (Move.OPEN, Move.COUNTER)
                    )
            case State.AWAITING_BUYER:
                policy = policy_for(marketplace)
                answer = resolve(policy, RuleName.BUYER_RESPONSE)
                # Without a buyer_response (AliExpress), or with one only while an offer is on
                # the table (PayPal), the limit from the opening is the deadline to aim.
                # Amazon, eBay and Etsy have neither: their story is timed from the opening by
                # a rule they do have (Amazon's and Etsy's claim limit is then put on the target
                # by _claim_on_target; eBay's buyer has no deadline while it is their move).
                fallback = next(
                    rule
                    for rule in (
                        RuleName.ESCALATE_BY,
                        RuleName.NEGOTIATION_ENDS,
                        RuleName.CLAIM_BY,
                        RuleName.PLATFORM_DECISION,
                    )
                    if (marketplace, rule) in self.offsets
                )
                s.rule = RuleName.BUYER_RESPONSE if answer is not None else fallback
                if rng.random() < 0.2:
                    offered = offer()
                    asked = rng.randint(offered + 1, requested) if offered < requested else offered
                    s.add(Step(Move.COUNTER, Actor.BUYER, asked, gap=rng.uniform(0.1, 2) * DAY))
                seller_message()
                if rng.random() < 0.25:
                    s.add(
                        Step(Move.SELLER_REJECTS, Actor.SELLER, gap=rng.uniform(0.3, 5) * DAY),
                        anchor=True,
                    )
                else:
                    kind = OfferKind.REPLACEMENT if rng.random() < 0.08 else None
                    offer(kind)
                    s.anchor = len(s.steps) - 1
                    roll = rng.random()
                    if roll < 0.10:
                        s.add(Step(Move.DECLINE, Actor.BUYER, gap=rng.uniform(0.05, 1) * DAY))
                    elif roll < 0.13:  # a decline by mistake, taken back with undo
                        s.add(Step(Move.DECLINE, Actor.BUYER, gap=rng.uniform(0.05, 1) * DAY))
                        s.add(
                            Step(
                                EventKind.RETRACT,
                                Actor.BUYER,
                                retracts=len(s.steps) - 1,
                                gap=rng.uniform(60, 3600),
                            )
                        )
                declined = any(st.kind in (Move.SELLER_REJECTS, Move.DECLINE) for st in s.steps)
                if answer is not None and answer.rule.offer_only and declined:
                    s.rule = fallback
                if s.rule is fallback:
                    s.anchor = 0  # counted from the opening
            case State.ESCALATED:
                before = rng.random()
                if before < 0.4:
                    s.add(Step(Move.SELLER_REJECTS, Actor.SELLER, gap=rng.uniform(0.3, 5) * DAY))
                elif before < 0.7:
                    offer()
                s.add(Step(Move.ESCALATE, Actor.BUYER, gap=rng.uniform(1, 8) * DAY), anchor=True)
                s.rule = RuleName.PLATFORM_DECISION
                if rng.random() < 0.4:
                    note = "Please provide a photo of the shipping label"
                    s.add(
                        Step(
                            Move.PLATFORM_REQUESTS_INFO,
                            Actor.PLATFORM,
                            note=note,
                            gap=rng.uniform(1, 10) * DAY,
                        ),
                        anchor=True,
                    )
                    s.rule = RuleName.INFO_DUE
            case State.RETURN_TO_SHIP:
                s.rule = RuleName.RETURN_SHIP_BY
                self._agree(s, OfferKind.REFUND_WITH_RETURN, requested)
            case State.RETURN_IN_TRANSIT:
                s.rule = RuleName.RETURN_REFUND_DUE
                self._agree(s, OfferKind.REFUND_WITH_RETURN, requested)
                tracking = f"LX{rng.randint(10**8, 10**9 - 1)}CN"
                s.add(
                    Step(
                        Move.RETURN_SHIPPED,
                        Actor.BUYER,
                        tracking=tracking,
                        gap=rng.uniform(0.5, 6) * DAY,
                    )
                )
                s.add(
                    Step(Move.RETURN_DELIVERED, Actor.SELLER, gap=rng.uniform(3, 15) * DAY),
                    anchor=True,
                )
            case State.REFUND_PENDING:
                s.rule = RuleName.REFUND_EXPECTED
                if rng.random() < 0.2:
                    s.add(Step(Move.SELLER_REJECTS, Actor.SELLER, gap=rng.uniform(0.3, 5) * DAY))
                    s.add(Step(Move.ESCALATE, Actor.BUYER, gap=rng.uniform(1, 8) * DAY))
                    s.add(
                        Step(
                            Move.PLATFORM_AWARDS,
                            Actor.PLATFORM,
                            requested,
                            gap=rng.uniform(5, 25) * DAY,
                        ),
                        anchor=True,
                    )
                else:
                    self._agree(s, None, requested)
            case _:
                raise AssertionError(state)
        return s

    def _agree(self, s: Story, kind: OfferKind | None, requested: int) -> None:
        """The seller agrees to the ask, or offers and the buyer accepts."""
        rng = self.rng
        if rng.random() < 0.6:
            s.add(
                Step(Move.SELLER_AGREES, Actor.SELLER, None, kind, gap=rng.uniform(0.3, 5) * DAY),
                anchor=True,
            )
            return
        amount = max(1, int(requested * rng.uniform(0.5, 1)))
        s.add(Step(Move.SELLER_OFFERS, Actor.SELLER, amount, kind, gap=rng.uniform(0.3, 5) * DAY))
        s.add(Step(Move.ACCEPT, Actor.BUYER, gap=rng.uniform(0.05, 2) * DAY), anchor=True)

    def _facts(self, s: Story, marketplace: str) -> None:
        """Evidence and messages the buyer records right after opening."""
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 4, 5), weights=(30, 35, 20, 10, 3, 2))[0]
        for _ in range(count):
            if rng.random() < 0.3:
                sha256, _size, name = self.photos[rng.randrange(len(self.photos))]
                s.evidence.append(("photo", name, sha256))
            else:
                kind, pattern = rng.choice(URL_EVIDENCE)
                url = pattern.format(m=marketplace, n=rng.randint(10**9, 10**10 - 1))
                s.evidence.append((kind, url, None))
            note = "box as delivered" if rng.random() < 0.2 else None
            s.add(
                Step(
                    EventKind.EVIDENCE,
                    Actor.BUYER,
                    note=note,
                    evidence=len(s.evidence) - 1,
                    gap=rng.uniform(60, 6 * HOUR),
                )
            )
        if rng.random() < 0.3:
            s.add(
                Step(
                    EventKind.MESSAGE,
                    Actor.BUYER,
                    note=rng.choice(BUYER_MESSAGES),
                    gap=rng.uniform(60, 6 * HOUR),
                )
            )

    def times(self, s: Story, marketplace: str, target: float) -> list[float]:
        """Event times: the anchor at ``target`` less the rule's duration, the rest around it.

        In ``awaiting_buyer`` the opening is kept close enough that ``escalate_by`` (which also
        binds the buyer) does not fall before ``buyer_response``.
        """
        anchor_at = target - self.offsets[(marketplace, s.rule)]
        gaps = [step.gap for step in s.steps]
        if s.rule is RuleName.BUYER_RESPONSE and self.escalates[marketplace]:
            room = self.offsets[(marketplace, RuleName.ESCALATE_BY)]
            room -= self.offsets[(marketplace, RuleName.BUYER_RESPONSE)] + 2 * DAY
            span = sum(gaps[1 : s.anchor + 1])
            if span > room:
                gaps = [g * room / span for g in gaps]
        times = [0.0] * len(s.steps)
        times[s.anchor] = anchor_at
        for i in range(s.anchor - 1, -1, -1):
            times[i] = times[i + 1] - gaps[i + 1]
        for i in range(s.anchor + 1, len(s.steps)):
            times[i] = times[i - 1] + gaps[i]
        return [float(int(t)) for t in times]


def _aimed(deadlines: Sequence[Deadline]) -> Deadline | None:
    """The deadline a story puts on its target: the earliest that binds the buyer, else the
    earliest (the spread of due times is what the benchmark needs, whatever ranks first)."""
    ordered = sorted(deadlines, key=lambda deadline: deadline.due)
    buyer = [d for d in ordered if d.binds is Binds.BUYER]
    return (buyer or ordered or [None])[0]


def _claim_on_target(
    order: Order, dispute: domain.Dispute, reason: Reason, target: float, zone: tzinfo
) -> Order:
    """Where the marketplace's outer claim limit, counted from the estimated delivery, comes
    before the story's deadline (Amazon, Etsy), it is the next deadline: move the estimate so
    that the limit falls on the target instead (never before the payment)."""
    policy = policy_for(order.marketplace)
    deadline = _aimed(dispute_deadlines(dispute, order, reason, policy, zone))
    if deadline is None or deadline.name != RuleName.CLAIM_BY or order.expected_by is None:
        return order
    if deadline.rule.counts_from != "expected delivery":
        return order
    moved = order.expected_by + timedelta(seconds=target - deadline.due.timestamp())
    if order.ordered is not None:
        moved = max(moved, order.ordered)
    return replace(order, expected_by=moved.replace(microsecond=0))


def recorded_at(at: float, as_of: float, rng: random.Random) -> float:
    """When the buyer typed it: a little after it happened, never after "now" if it could."""
    later = at + rng.uniform(0, 6 * HOUR)
    return float(int(min(later, as_of) if at <= as_of else later))


def ts(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))


# -- the build -----------------------------------------------------------------------------------


@dataclass
class Report:
    orders: int = 0
    disputes: int = 0
    events: int = 0
    offers: int = 0
    evidence: int = 0
    files: int = 0
    after_as_of: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    states: Counter[str] = field(default_factory=Counter)


def build(out: Path, orders: int, as_of: datetime, seed: int) -> Report:
    report = Report()
    clock = time.monotonic()
    settings = Settings(zone=UTC, policy_for=policy_for)
    with Ledger.open(out, settings, write=True) as ledger:
        conn = ledger.conn
        conn.execute("PRAGMA synchronous = OFF")  # a generated file: no need to survive a crash
        store = ledger.evidence_store
        photos = []
        with tempfile.TemporaryDirectory() as scratch:
            for n in range(48):
                path = Path(scratch) / f"IMG_{2000 + n}.png"
                path.write_bytes(tiny_png(n))
                stored = store.put(path)
                photos.append((stored.sha256, stored.size, path.name))
        sizes = {sha: size for sha, size, _ in photos}
        report.files = len(photos)
        builder = Builder(seed, as_of, photos)
        rng = builder.rng
        zone = UTC

        plans = []
        imported = []
        for index in range(orders):
            order, total, currency, target = builder.order(index)
            state = State(str(pick(rng, STATES)))
            not_received = rng.random() < NOT_RECEIVED_SHARE
            item = None
            limit = total
            if order.items and rng.random() < 0.15:
                chosen = rng.choice(order.items)
                item = chosen.name
                assert chosen.value is not None
                limit = to_minor(chosen.value, currency)
            story = builder.story(order.marketplace, state, limit, not_received)
            times = builder.times(story, order.marketplace, target)
            # Fold the story as the ledger will; put a business-day deadline on its target.
            events = _events(story, times, currency, builder.event_id)
            dispute = domain.replay(events)
            assert dispute.state is state, (index, state, dispute.state)
            reason = Reason.NOT_RECEIVED if not_received else Reason(str(pick(rng, REASONS)))
            if (order.marketplace, story.rule) in builder.business_days:
                policy = policy_for(order.marketplace)
                for _ in range(2):
                    # The order has no dates yet: no outer claim limit counts from them.
                    deadline = _aimed(dispute_deadlines(dispute, order, reason, policy, zone))
                    assert deadline is not None, (index, state)
                    shift = target - deadline.due.timestamp()
                    if abs(shift) < 60:
                        break
                    times = [float(int(t + shift)) for t in times]
                    dispute = domain.replay(_events(story, times, currency, builder.event_id))
            builder.event_id += len(story.steps)
            report.after_as_of += times[-1] > builder.as_of
            order = builder.order_times(order, times[0], not_received)
            order = _claim_on_target(order, dispute, reason, target, zone)
            given = frozenset(
                {
                    "marketplace",
                    "order_no",
                    "seller",
                    "title",
                    "total",
                    "currency",
                    "items",
                    "ordered",
                    "shipped",
                    "expected_by",
                    "received",
                    "payment",
                }
            )
            imported.append(ImportedOrder(index + 1, order, given))
            plans.append((story, times, dispute, currency, item, reason, state))
            report.states[state.value] += 1
        report.seconds["plan"] = time.monotonic() - clock

        clock = time.monotonic()
        ledger.import_orders([imported], as_of)
        report.seconds["import_orders"] = time.monotonic() - clock

        clock = time.monotonic()
        ids = {
            (row[0], row[1]): row[2]
            for row in conn.execute("SELECT marketplace, order_no, id FROM orders")
        }
        dispute_rows, event_rows, evidence_rows = [], [], []
        event_id = evidence_id = 0
        for dispute_id, ((story, times, dispute, currency, item, reason, state), row) in enumerate(
            zip(plans, imported, strict=True), start=1
        ):
            order_id = ids[(row.order.marketplace, row.order.order_no)]
            first_event = event_id + 1
            evidence_ids = list(range(evidence_id + 1, evidence_id + 1 + len(story.evidence)))
            evidence_id += len(story.evidence)
            recorded_times = []
            for step, at in zip(story.steps, times, strict=True):
                event_id += 1
                recorded = recorded_at(at, builder.as_of, rng)
                recorded_times.append(recorded)
                evidence_ref = None
                if step.evidence is not None:
                    evidence_ref = evidence_ids[step.evidence]
                    kind, name, sha256 = story.evidence[step.evidence]
                    evidence_rows.append(
                        (
                            evidence_ref,
                            dispute_id,
                            kind,
                            name,
                            sha256,
                            sizes.get(sha256) if sha256 else None,
                            "image/png" if sha256 else None,
                            None if sha256 else name,
                            step.note,
                            ts(at),
                            ts(recorded),
                        )
                    )
                event_rows.append(
                    (
                        event_id,
                        dispute_id,
                        str(step.kind),
                        step.actor.value,
                        step.amount,
                        None if step.offer_kind is None else step.offer_kind.value,
                        step.note,
                        step.tracking,
                        0,
                        None if step.retracts is None else first_event + step.retracts,
                        evidence_ref,
                        ts(at),
                        ts(recorded),
                    )
                )
                report.offers += step.kind in (Move.SELLER_OFFERS, Move.COUNTER)
            case_ref = None
            if state is State.ESCALATED and rng.random() < 0.5:
                case_ref = f"{row.order.marketplace[:2].upper()}-{rng.randint(10**7, 10**8 - 1)}"

            def minor(value: Decimal | None, currency: str = currency) -> int | None:
                return None if value is None else to_minor(value, currency)

            dispute_rows.append(
                (
                    dispute_id,
                    order_id,
                    item,
                    reason.value,
                    case_ref,
                    story.steps[0].note,
                    dispute.state.value,
                    minor(dispute.requested),
                    minor(dispute.offer),
                    minor(dispute.agreed),
                    minor(dispute.refunded),
                    ts(times[0]),
                    ts(recorded_times[-1]),
                )
            )
        report.seconds["rows"] = time.monotonic() - clock

        clock = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO disputes (id, order_id, item, reason, case_ref, description, state, "
                "requested, offer, agreed, refunded, opened_at, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                dispute_rows,
            )
            conn.executemany(
                "INSERT INTO evidence (id, dispute_id, kind, name, sha256, size, media_type, url, "
                "note, added, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                evidence_rows,
            )
            conn.executemany(
                "INSERT INTO events (id, dispute_id, kind, actor, amount, offer_kind, note, "
                "tracking, credit, retracts, evidence_id, at, recorded) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                event_rows,
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        report.seconds["insert"] = time.monotonic() - clock
        # The disputes went in around Ledger.move, so their deadlines are not stored yet: the
        # ledger computes and indexes them all, as it does after a policy change. No command
        # needs this (each write keeps the index current), so it is no part of the ledger's
        # face: this tool reaches in for it.
        clock = time.monotonic()
        ledger._reindex_all()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report.seconds["index"] = time.monotonic() - clock
        report.orders = orders
        report.disputes = len(dispute_rows)
        report.events = len(event_rows)
        report.evidence = len(evidence_rows)
    return report


def _events(story: Story, times: Sequence[float], currency: str, first_id: int) -> list[Event]:
    """The story as domain events, with the ids the rows will get."""
    events = []
    for offset, (step, at) in enumerate(zip(story.steps, times, strict=True)):
        moment = datetime.fromtimestamp(at, UTC)
        events.append(
            Event(
                kind=str(step.kind),
                actor=step.actor,
                at=moment,
                recorded=moment,
                amount=None if step.amount is None else from_minor(step.amount, currency),
                offer_kind=step.offer_kind,
                note=step.note,
                tracking=step.tracking,
                retracts=None if step.retracts is None else first_id + 1 + step.retracts,
                evidence_id=None,
                id=first_id + 1 + offset,
            )
        )
    return events


CSV_COLUMNS = tuple(
    "marketplace order_no seller title total currency ordered shipped expected_by received "
    "payment items".split()
)


def write_orders_csv(path: Path, orders: int, as_of: datetime, seed: int) -> None:
    """The same kind of orders, without disputes, as a file for ``refundctl order import``:
    placed over the 90 days before ``--as-of``, 15% of them not received yet."""
    builder = Builder(seed, as_of, photos=())
    rng = builder.rng
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for index in range(orders):
            order, _total, _currency, _target = builder.order(index)
            latest = builder.as_of - rng.uniform(0, 60) * DAY
            order = builder.order_times(order, latest, rng.random() < NOT_RECEIVED_SHARE)
            items = "; ".join(f"{item.name} x{item.quantity} @{item.price}" for item in order.items)
            writer.writerow(
                (
                    order.marketplace,
                    order.order_no,
                    order.seller,
                    order.title,
                    order.total,
                    order.currency,
                    *(
                        None if t is None else iso(t)
                        for t in (order.ordered, order.shipped, order.expected_by, order.received)
                    ),
                    order.payment,
                    items,
                )
            )


# -- checking what was built ---------------------------------------------------------------------


def validate(
    out: Path, as_of: datetime, sample: int, cli_sample: int, seed: int, *, quiet: bool = False
) -> list[str]:
    """Read a sample of disputes back through the ledger layer and the CLI; return problems.

    In-process, each sampled dispute is replayed by ``Ledger.dispute`` and its next deadline
    computed; through ``refundctl status ID --json`` the first few must show the same state and
    the same next deadline. Unless ``quiet``, prints how the sampled deadlines spread.
    """
    problems = []
    rng = random.Random(seed + 1)
    settings = Settings(zone=UTC, policy_for=policy_for)
    expected: dict[int, tuple[str, str]] = {}
    offsets = []
    with Ledger.open(out, settings, write=False) as ledger:
        ids = [int(row[0]) for row in ledger.completion("disputes")]
        chosen = sorted(rng.sample(ids, min(sample, len(ids))))
        for dispute_id in chosen:
            record = ledger.dispute(dispute_id, check_files=False)
            policy = policy_for(record.order.marketplace)
            deadline = _aimed(
                dispute_deadlines(record.dispute, record.order, record.reason, policy, UTC)
            )
            if not record.dispute.active or deadline is None:
                problems.append(f"dispute {dispute_id} is not active or has no deadline")
                continue
            # What `status` shows next: the story aims the buyer's deadline, but a seller's
            # that falls before it comes first.
            shown_next = dispute_view(record, policy_for, UTC, as_of).next
            expected[dispute_id] = (
                record.dispute.state.value,
                None if shown_next is None else iso(shown_next.due),
            )
            # PayPal's 180 days from payment stay open while a refund is on its way: a next
            # deadline far past the spread that the story did not aim at.
            if deadline.name != "claim_by" or deadline.rule.counts_from != "payment":
                offsets.append((deadline.due - as_of) / timedelta(days=1))
    outside = sum(1 for days in offsets if not -30.5 <= days <= 90.5)
    if outside > len(offsets) * 0.01:
        problems.append(f"{outside} of {len(offsets)} next deadlines fall outside the spread")
    env = {**os.environ, "REFUNDCTL_NOW": iso(as_of), "REFUNDCTL_DB": str(out), "TZ": "UTC"}
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.toml"
        config.touch()  # a config that REFUNDCTL_CONFIG names must exist: an empty one
        env["REFUNDCTL_CONFIG"] = str(config)
        for dispute_id in list(expected)[:cli_sample]:
            done = subprocess.run(
                [sys.executable, "-m", "refundctl", "status", str(dispute_id), "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                problems.append(f"status {dispute_id}: exit {done.returncode}: {done.stderr}")
                continue
            shown = json.loads(done.stdout)
            seen = (shown.get("state"), (shown.get("deadline") or {}).get("due"))
            if seen != expected[dispute_id] or not shown.get("events"):
                problems.append(
                    f"status {dispute_id} --json shows {seen}, not {expected[dispute_id]}"
                )
    if not quiet and offsets:
        buckets = Counter(int((days + 30) // 10) for days in offsets)
        line = " ".join(f"{b * 10 - 30:+d}d:{buckets.get(b, 0)}" for b in range(12))
        print(f"  next deadlines of {len(offsets)} sampled disputes, by 10 days from --as-of:")
        print(f"    {line}; outside [-30d, +90d]: {outside}")
        print(f"  read back: {len(chosen)} in-process, {min(cli_sample, len(chosen))} via the CLI")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, required=True, metavar="N")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="FILE", help="The ledger to write.")
    where.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="Instead, write N orders (no disputes) as a CSV for 'refundctl order import'.",
    )
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, metavar="WHEN")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--force", action="store_true", help="Replace FILE if it exists.")
    parser.add_argument(
        "--check",
        type=int,
        default=500,
        metavar="K",
        help="Disputes to read back in-process (0 skips checking).",
    )
    parser.add_argument(
        "--check-cli",
        type=int,
        default=3,
        metavar="K",
        help="Of those, how many to read with 'refundctl status ID --json'.",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    as_of = parse_when(args.as_of, now=datetime.now(UTC), zone=UTC)
    if args.csv is not None:
        started = time.monotonic()
        write_orders_csv(args.csv, args.orders, as_of, args.seed)
        if not args.quiet:
            print(f"{args.csv}: {args.orders} orders in {time.monotonic() - started:.1f}s")
        return 0
    out: Path = args.out
    if out.exists() or out.with_name(out.name + "-wal").exists():
        if not args.force:
            parser.error(f"{out} exists; pass --force to replace it")
        for stale in (out, out.with_name(out.name + "-wal"), out.with_name(out.name + "-shm")):
            stale.unlink(missing_ok=True)
        shutil.rmtree(evidence_dir(out), ignore_errors=True)
    started = time.monotonic()
    report = build(out, args.orders, as_of, args.seed)
    elapsed = time.monotonic() - started
    if not args.quiet:
        phases = ", ".join(f"{name} {secs:.1f}s" for name, secs in report.seconds.items())
        states = ", ".join(f"{name} {count}" for name, count in report.states.most_common())
        print(
            f"{out}: {report.orders} orders, {report.disputes} disputes, {report.events} events "
            f"({report.offers} offers and counter-offers), {report.evidence} evidence rows "
            f"({report.files} stored files), built in {elapsed:.1f}s ({phases})"
        )
        print(f"  states: {states}")
        print(f"  stories reaching past --as-of: {report.after_as_of}")
    problems = (
        validate(out, as_of, args.check, args.check_cli, args.seed, quiet=args.quiet)
        if args.check
        else []
    )
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
