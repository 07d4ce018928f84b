"""Small text formatters shared by the tables and the one-line summaries; no Rich here."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, tzinfo

ORDER_WIDTH = 14


def clean(text: str | None) -> str:
    """User text made safe for a terminal: control characters shown as escapes, not run."""
    if text is None:
        return ""
    out = []
    for char in text:
        if char == "\n":
            out.append(" ")
        elif unicodedata.category(char) in {"Cc", "Cf"} and char != "\u200d":
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


def tail(order_no: str, width: int = ORDER_WIDTH) -> str:
    """An order number shortened from the left: the last digits tell orders apart."""
    order_no = clean(order_no)
    return order_no if len(order_no) <= width else "…" + order_no[-(width - 1) :]


def when(moment: datetime | None, zone: tzinfo, now: datetime) -> str:
    """``Dec 01 08:00`` in the buyer's zone; with the year when it is not this year's."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if local.year != now.astimezone(zone).year:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%b %d %H:%M}"


def short_date(moment: datetime, zone: tzinfo, now: datetime) -> str:
    """``Nov 28`` in the buyer's zone, with the year when it is not this year's."""
    local = moment.astimezone(zone)
    if local.year != now.astimezone(zone).year:
        return f"{local:%Y-%m-%d}"
    return f"{local:%b %d}"


def due_when(moment: datetime, zone: tzinfo, now: datetime) -> str:
    """When a deadline falls, as the buyer reads it: one at midnight is the end of the day
    before (``end of Dec 19``), the last day they have, not the day it looks like."""
    local = moment.astimezone(zone)
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        return when(moment, zone, now)
    return "end of " + last_day(moment, zone, now)


def last_day(moment: datetime, zone: tzinfo, now: datetime) -> str:
    """The last day a deadline leaves, ``Dec 19`` (with the year when not this year's)."""
    local = moment.astimezone(zone)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        local -= timedelta(days=1)
    if local.year != now.astimezone(zone).year:
        return f"{local:%Y-%m-%d}"
    return f"{local:%b %d}"


# Deadlines and states in the words people read; JSON and the commands keep the keys.
DEADLINE_WORDS = {
    "dispute_window": "dispute window",
    "protection_ends": "protection ends",
    "seller_response": "seller's answer",
    "escalate_by": "last day to escalate",
    "claim_by": "claim limit",
    "negotiation_ends": "talks end",
    "buyer_response": "your answer",
    "platform_decision": "marketplace's decision",
    "claim_response": "seller's answer to the claim",
    "info_due": "information asked for",
    "return_ship_by": "ship the return",
    "return_delivery": "return delivery",
    "return_refund_due": "refund after the return",
    "refund_expected": "refund arrives",
    "appeal_by": "appeal",
    "chargeback_by": "card chargeback",
    "paypal_claim_by": "PayPal claim",
}

STATE_WORDS = {
    "awaiting_seller": "waiting for the seller",
    "awaiting_buyer": "your move",
    "escalated": "escalated",
    "return_to_ship": "return to ship",
    "return_in_transit": "return on its way",
    "refund_pending": "refund on its way",
    "refunded": "refunded",
    "lost": "lost",
    "withdrawn": "withdrawn",
    "cancelled": "cancelled",
}


def deadline_words(name: str, assumed: bool = False) -> str:
    """``seller's answer``, and ``(assumed)`` after a rule the marketplace publishes no
    number for."""
    words = DEADLINE_WORDS.get(name, name.replace("_", " "))
    return f"{words} (assumed)" if assumed else words


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, state.replace("_", " "))


WAITING_WORDS = {
    "buyer": "you",
    "seller": "the seller",
    "platform": "the marketplace",
    "payment": "the payment",
}


def waiting_words(waiting_on: str) -> str:
    """Who a state waits on, as a person reads it: ``you``, ``the seller`` …"""
    return WAITING_WORDS.get(waiting_on, waiting_on)
