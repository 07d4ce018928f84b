"""Words and numbers shared by the case file (``bundle``) and the message drafts (``draft``).

Pure: how a marketplace is named to people, how a moment and a day are written in a document
that leaves the buyer's hands, what share of the total an ask is, and what each move and reason
means in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from refundctl.domain import Actor, Event, EventKind, Move, Reason, effective_events
from refundctl.money import format_money
from refundctl.policies import market_name
from refundctl.records import DisputeRecord, Item
from refundctl.render.fmt import clean

# What is wrong, as the buyer would say it in one sentence.
REASON_SENTENCES = {
    Reason.NOT_RECEIVED: "the order has not arrived",
    Reason.NOT_AS_DESCRIBED: "the item is not as described in the listing",
    Reason.DAMAGED: "the item arrived damaged",
    Reason.DEFECTIVE: "the item does not work as it should",
    Reason.MISSING_PARTS: "part of the order is missing",
    Reason.WRONG_ITEM: "I received the wrong item",
    Reason.LATE_DELIVERY: "the order arrived late",
    Reason.CHANGED_MIND: "I would like to return the item",
    Reason.OTHER: "there is a problem with the order",
}

EVENT_WORDS: dict[str, str] = {
    Move.OPEN: "opened the dispute",
    Move.SELLER_AGREES: "agreed to the request",
    Move.SELLER_OFFERS: "made an offer",
    Move.SELLER_REJECTS: "rejected the request",
    Move.ACCEPT: "accepted the offer",
    Move.DECLINE: "declined the offer",
    Move.COUNTER: "made a counter-offer",
    Move.RETURN_SHIPPED: "shipped the return",
    Move.RETURN_DELIVERED: "received the return",
    Move.PLATFORM_REQUESTS_INFO: "asked for more information",
    Move.PLATFORM_AWARDS: "awarded a refund",
    Move.PLATFORM_REJECTS: "rejected the claim",
    Move.ESCALATE: "escalated to the marketplace",
    Move.REFUNDED: "received the refund",
    Move.LOST: "closed the dispute as lost",
    Move.WITHDRAWN: "withdrew the dispute",
    Move.CANCEL: "cancelled the dispute",
    EventKind.MESSAGE: "sent a message",
    EventKind.EVIDENCE: "attached evidence",
    EventKind.RETRACT: "took back an entry",
    EventKind.DUE: "entered the marketplace's date for a deadline",
}


def marketplace_name(marketplace: str) -> str:
    return market_name(marketplace)


def stamp(moment: datetime, zone: tzinfo) -> str:
    """``2026-11-22 10:00 UTC``: a moment in the buyer's zone, with the zone said."""
    local = moment.astimezone(zone)
    name = local.strftime("%Z") or local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {name}"


def day(moment: datetime, zone: tzinfo) -> str:
    """``22 Nov 2026``: a day no reader can misread, whatever their country's habit."""
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def share(part: Decimal, whole: Decimal) -> str:
    """``27%`` or ``27.2%``: what ``part`` is of ``whole``, with one decimal where it matters."""
    if whole <= 0:
        return "?%"
    ratio = part * 100 / whole
    whole_percent = ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if abs(ratio - whole_percent) < Decimal("0.05"):
        return f"{whole_percent}%"
    return f"{ratio.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def disputed_item(record: DisputeRecord) -> Item | None:
    return None if record.item is None else record.order.item(record.item)


def ask_basis(record: DisputeRecord, amount: Decimal) -> str:
    """Why ``amount`` is a fair ask: its share of the total paid, or of the item's price."""
    currency = record.order.currency
    item = disputed_item(record)
    if item is not None and item.value is not None:
        price = format_money(item.value, currency)
        if amount == item.value:
            return f"the full price of the {clean(item.name)} ({price})"
        return f"{share(amount, item.value)} of the price of the {clean(item.name)} ({price})"
    total = format_money(record.order.total, currency)
    if amount == record.order.total:
        return f"the full {total} paid"
    return f"{share(amount, record.order.total)} of the {total} paid"


def what_happened(record: DisputeRecord) -> list[tuple[Event, str]]:
    """The moves that still count, oldest first, each with a sentence for a reader."""
    currency = record.order.currency
    lines = []
    # The seller's latest move since the buyer's latest ask: what a counter answers.
    answer: Move | None = None
    for event in effective_events(record.events):
        move = event.move
        if move is None:
            continue
        amount = "" if event.amount is None else format_money(event.amount, currency)
        who = {"buyer": "I", "seller": "the seller", "platform": "the marketplace"}[event.actor]
        match move:
            case Move.OPEN:
                text = f"I asked the seller for a refund of {amount}"
            case Move.SELLER_OFFERS:
                text = f"the seller offered {amount}"
            case Move.COUNTER if answer is None:
                text = f"I changed my ask to {amount}"
            case Move.COUNTER if answer is Move.SELLER_OFFERS:
                text = f"I declined and asked for {amount}"
            case Move.COUNTER:
                text = f"I asked for {amount} instead"
            case Move.PLATFORM_AWARDS:
                text = f"the marketplace awarded {amount}"
            case Move.REFUNDED:
                text = f"I received {amount}"
            case _:
                text = f"{who} {EVENT_WORDS[move]}"
        if event.tracking:
            text += f" (tracking {clean(event.tracking)})"
        lines.append((event, text))
        if move in {Move.OPEN, Move.COUNTER}:
            answer = None
        elif event.actor is Actor.SELLER:
            answer = move
    return lines


def sentence(text: str) -> str:
    """The first letter up, a full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def joined(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
