"""Money that came back, as an export records it, and what the ledger made of it.

Pure values. A ``MoneyBack`` is a refund (Amazon's refund payments, a PayPal refund row) or a
return (Amazon's returns file) for one order; the import hands each to the ledger, which
records a refund on the one active dispute waiting for that money and otherwise says why not
(``Matched``), so that the summary can list it with the command that records it. Nothing is
guessed: a refund is recorded only where exactly one dispute can be meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Back(StrEnum):
    REFUND = "refund"  # the money arrived
    RETURN = "return"  # an item went back; the money may follow


@dataclass(frozen=True, slots=True)
class MoneyBack:
    kind: Back
    marketplace: str
    order_no: str
    amount: Decimal
    currency: str
    at: datetime | None
    line: int  # where in the file
    reason: str | None = None  # the service's own words for why (a return's reason)
    reference: str | None = None  # the service's id of the refund or return


class Matched(StrEnum):
    """What became of a refund or a return in the ledger."""

    RECORDED = "recorded"  # the refund, on the one active dispute waiting for it
    ALREADY = "already"  # a dispute of the order holds this refund already
    NO_ORDER = "no-order"  # the ledger has no such order
    NO_DISPUTE = "no-dispute"  # the order has no active dispute
    NOT_WAITING = "not-waiting"  # its one active dispute is not waiting for this money
    SEVERAL = "several"  # several active disputes: which one is meant is not refundctl's guess
    REFUSED = "refused"  # the dispute could not take it (``note`` says why)
    OPEN = "open"  # a return whose order has an active dispute already


@dataclass(frozen=True, slots=True)
class MoneyMatch:
    back: MoneyBack
    outcome: Matched
    disputes: tuple[int, ...] = ()  # the active disputes of the order (the one recorded on)
    note: str | None = None
