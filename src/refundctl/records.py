"""What the ledger holds beside the dispute model: orders and their items, evidence, and a
dispute's full record (its order, its history and what is still refundable).

Pure values, like the dispute model in domain.py, which they use and which never uses them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from refundctl.domain import Dispute, Event, Reason, counts_toward_order
from refundctl.errors import BadInput, shown
from refundctl.money import parse_amount
from refundctl.timeparse import local_text


@dataclass(frozen=True, slots=True)
class Item:
    """One line of an order: ``USB cable x2 @3.50``."""

    name: str
    quantity: int = 1
    price: Decimal | None = None

    @property
    def value(self) -> Decimal | None:
        return None if self.price is None else self.price * self.quantity


class CloseReason(StrEnum):
    """Why an order's windows no longer need watching."""

    ARRIVED = "arrived"  # it came after all, and nothing is wrong with it
    GAVE_UP = "gave-up"  # the buyer lets it go
    MISTAKE = "mistake"  # recorded by mistake, or twice
    REMOVED = "removed"  # ``order remove``: hidden from the lists too, kept in history


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the buyer recorded it. Times are aware UTC datetimes."""

    marketplace: str
    order_no: str
    total: Decimal
    currency: str
    seller: str | None = None
    title: str | None = None
    items: tuple[Item, ...] = ()
    ordered: datetime | None = None
    shipped: datetime | None = None
    expected_by: datetime | None = None
    received: datetime | None = None
    protection_ends: datetime | None = None
    payment: str | None = None
    id: int = 0
    # Since when the order's windows no longer concern the buyer (``order close``, ``order
    # remove``), and why; None while it is open.
    closed_at: datetime | None = None
    closed: CloseReason | None = None

    def item(self, name: str) -> Item | None:
        wanted = name.strip().casefold()
        return next((i for i in self.items if i.name.casefold() == wanted), None)


# More of one item than any order holds; SQLite's integers end far above it, Python's never.
MAX_QUANTITY = 1_000_000
_ITEM = re.compile(r"(?P<name>.+?)(?:\s+x(?P<qty>\d+))?(?:\s+@\s*(?P<price>\S+))?")


def parse_item(text: str, currency: str) -> Item:
    """``"USB cable x2 @3.50"``: a name, an optional quantity and an optional unit price."""
    match = _ITEM.fullmatch(text.strip())
    if not match or not match.group("name").strip():
        raise BadInput(f'not an item: {text!r}; use "NAME [xQTY] [@PRICE]", e.g. "Cable x2 @3.50"')
    digits = match.group("qty") or "1"
    quantity = int(digits) if len(digits) <= 9 else MAX_QUANTITY + 1  # int() of 5,000 digits
    if quantity < 1:
        raise BadInput(f"item quantity must be at least 1, got {shown(text)}")
    if quantity > MAX_QUANTITY:
        raise BadInput(
            f"item quantity {shown(digits)} is too large: at most {MAX_QUANTITY:,} of one item"
        )
    price_text = match.group("price")
    price = parse_amount(price_text, currency, what="item price") if price_text else None
    return Item(match.group("name").strip(), quantity, price)


def order_problems(order: Order, now: datetime, zone: tzinfo = UTC) -> list[str]:
    """What cannot be true of an order: facts in the future, or out of order."""
    problems = []
    if order.total <= 0:
        problems.append(f"total must be positive, got {order.total}")
    for label, moment in (
        ("ordered", order.ordered),
        ("shipped", order.shipped),
        ("received", order.received),
    ):
        if moment is not None and moment > now:
            problems.append(f"--{label} {local_text(moment, zone)} is in the future")
    sequence = [
        ("ordered", order.ordered),
        ("shipped", order.shipped),
        ("received", order.received),
    ]
    known = [(label, moment) for label, moment in sequence if moment is not None]
    for (first, earlier), (second, later) in itertools.pairwise(known):
        if later < earlier:
            problems.append(f"--{second} is before --{first}")
    if order.expected_by and order.ordered and order.expected_by < order.ordered:
        problems.append("--expected-by is before --ordered")
    names = [item.name.casefold() for item in order.items]
    if len(names) != len(set(names)):
        problems.append("two items have the same name; give each a distinct name")
    return problems


def case_ref_problem(case_ref: str) -> str | None:
    """What is wrong with a case number given to record (None: nothing). Any text the
    marketplace shows is kept as it is (and escaped where it is shown); a blank one says
    nothing."""
    if not case_ref.strip():
        return "--case-ref is empty; give the marketplace's case number (--case-ref 5093-1187)"
    return None


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    SCREENSHOT = "screenshot"
    DOCUMENT = "document"
    CHAT = "chat"
    TRACKING = "tracking"
    LISTING = "listing"
    RECEIPT = "receipt"
    OTHER = "other"

    @classmethod
    def of_media_type(cls, media_type: str) -> EvidenceKind:
        """The kind a file is taken for when ``attach`` is not told: by its media type."""
        if media_type.startswith("image/"):
            return cls.PHOTO
        if media_type.startswith("video/"):
            return cls.VIDEO
        if media_type.startswith("audio/"):
            return cls.OTHER
        return cls.DOCUMENT


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    id: int
    kind: str
    name: str
    sha256: str | None
    size: int | None
    media_type: str | None
    url: str | None
    note: str | None
    added: datetime
    recorded: datetime
    # Whether the stored file is there, and still hashes to ``sha256``: filled in where the
    # ledger re-read the store (one dispute in full), ``None`` elsewhere and for links.
    present: bool | None = None
    intact: bool | None = None


class OrderEvent(NamedTuple):
    """One entry of an order's history: what was done (added, imported, updated, received,
    closed, reopened, removed), the fields it set (as JSON values), and when."""

    kind: str
    changes: dict[str, object]
    at: datetime


class OpenOrder(NamedTuple):
    """An order as its own window sees it: what is still refundable on it, whether it ever
    had a dispute, and how much of it no active dispute covers (what its window protects)."""

    order: Order
    refundable: Decimal
    disputed: bool
    undisputed: Decimal


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """A dispute with everything the ledger knows about it."""

    id: int
    order: Order
    item: str | None
    reason: Reason
    case_ref: str | None
    description: str | None
    dispute: Dispute
    events: tuple[Event, ...]
    evidence: tuple[EvidenceRecord, ...]
    # The most this dispute may ask for or agree: the order's total (or its item's price)
    # less what the order's other disputes agreed or recovered.
    max_ask: Decimal
    # What the order's other disputes agreed or recovered.
    others_took: Decimal = Decimal(0)
    # The rail this dispute was filed through (``open --via``: "visa", "paypal"...), or None
    # for a dispute with the marketplace.
    via: str | None = None
    # The rails the order's other disputes were filed through: remedies in use.
    remedies_used: frozenset[str] = frozenset()

    @property
    def refundable(self) -> Decimal:
        """What is still refundable on the order, this dispute's own agreement or refund
        taken out too: the same number ``order show`` gives."""
        return self.order.total - self.others_took - counts_toward_order(self.dispute)
