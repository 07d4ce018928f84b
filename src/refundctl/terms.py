"""The words of the dispute model: its states, actors, reasons, moves and events, and a
dispute's current state as a value (``Dispute``) and what it is worth to the buyer.

Pure values with no behaviour beyond naming themselves; domain.py says how a dispute moves
from one state to another, and re-exports all of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from refundctl.errors import BadInput


class State(StrEnum):
    AWAITING_SELLER = "awaiting_seller"
    AWAITING_BUYER = "awaiting_buyer"
    ESCALATED = "escalated"
    RETURN_TO_SHIP = "return_to_ship"
    RETURN_IN_TRANSIT = "return_in_transit"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    LOST = "lost"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self not in CLOSED

    @property
    def waiting_on(self) -> str | None:
        return WAITING_ON[self]


CLOSED = frozenset({State.REFUNDED, State.LOST, State.WITHDRAWN, State.CANCELLED})
ACTIVE = frozenset(State) - CLOSED
WAITING_ON: dict[State, str | None] = {
    State.AWAITING_SELLER: "seller",
    State.AWAITING_BUYER: "buyer",
    State.ESCALATED: "platform",
    State.RETURN_TO_SHIP: "buyer",
    State.RETURN_IN_TRANSIT: "seller",
    State.REFUND_PENDING: "payment",
    State.REFUNDED: None,
    State.LOST: None,
    State.WITHDRAWN: None,
    State.CANCELLED: None,
}


class Actor(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"


class Reason(StrEnum):
    NOT_RECEIVED = "not-received"
    NOT_AS_DESCRIBED = "not-as-described"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    MISSING_PARTS = "missing-parts"
    WRONG_ITEM = "wrong-item"
    LATE_DELIVERY = "late-delivery"
    CHANGED_MIND = "changed-mind"
    OTHER = "other"


class OfferKind(StrEnum):
    REFUND = "refund"
    REFUND_WITH_RETURN = "refund_with_return"
    REPLACEMENT = "replacement"


class Outcome(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class Move(StrEnum):
    """Every move that changes a dispute. The values are the words the CLI takes."""

    OPEN = "open"
    SELLER_AGREES = "seller-agrees"
    SELLER_OFFERS = "seller-offers"
    SELLER_REJECTS = "seller-rejects"
    ACCEPT = "accept"
    DECLINE = "decline"
    COUNTER = "counter"
    RETURN_SHIPPED = "return-shipped"
    RETURN_DELIVERED = "return-delivered"
    PLATFORM_REQUESTS_INFO = "platform-requests-info"
    PLATFORM_AWARDS = "platform-awards"
    PLATFORM_REJECTS = "platform-rejects"
    ESCALATE = "escalate"
    REFUNDED = "refunded"
    LOST = "lost"
    WITHDRAWN = "withdrawn"
    CANCEL = "cancel"


# The moves `refundctl respond` takes; the rest have commands of their own.
RESPOND_MOVES = (
    Move.SELLER_AGREES,
    Move.SELLER_OFFERS,
    Move.SELLER_REJECTS,
    Move.ACCEPT,
    Move.DECLINE,
    Move.COUNTER,
    Move.RETURN_SHIPPED,
    Move.RETURN_DELIVERED,
    Move.PLATFORM_REQUESTS_INFO,
    Move.PLATFORM_AWARDS,
    Move.PLATFORM_REJECTS,
)
NEEDS_AMOUNT = frozenset(
    {Move.OPEN, Move.SELLER_OFFERS, Move.COUNTER, Move.PLATFORM_AWARDS, Move.REFUNDED}
)


class EventKind(StrEnum):
    """What an event records: a move, or one of the facts that do not move the dispute."""

    MESSAGE = "message"
    EVIDENCE = "evidence"
    RETRACT = "undo"
    # The marketplace's own date for one deadline, copied in by the buyer (``refundctl due``);
    # a ``due`` of None goes back to the rule.
    DUE = "due"


MOVE_KINDS = frozenset(m.value for m in Move)


class MoveRefused(BadInput):
    """A move the model does not allow; the message names the state and what is possible."""


@dataclass(frozen=True, slots=True)
class Event:
    """One appended fact. ``kind`` is a ``Move`` value or an ``EventKind`` value."""

    kind: str
    actor: Actor
    at: datetime
    recorded: datetime
    amount: Decimal | None = None
    offer_kind: OfferKind | None = None
    note: str | None = None
    tracking: str | None = None
    credit: bool = False
    retracts: int | None = None
    evidence_id: int | None = None
    deadline: str | None = None  # a ``due`` event: the deadline's name...
    due: datetime | None = None  # ...and the marketplace's date for it (None: the rule again)
    id: int = 0

    @property
    def move(self) -> Move | None:
        return Move(self.kind) if self.kind in MOVE_KINDS else None


@dataclass(frozen=True, slots=True)
class Entered:
    """The marketplace's own date for one of the dispute's deadlines, entered at ``at``. It
    stands for the deadline as long as the rule still counts from a moment before ``at``: a
    later move that starts the rule's clock again (a new ask) makes it stale."""

    name: str
    due: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    """One entry of the offer history, derived from the events."""

    at: datetime
    actor: Actor
    kind: OfferKind
    amount: Decimal
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Dispute:
    """The current state of a dispute: a pure function of its events (see ``replay``)."""

    state: State
    requested: Decimal
    opened_at: datetime
    last_move_at: datetime
    last_buyer_move_at: datetime
    offer: Decimal | None = None
    offer_kind: OfferKind | None = None
    agreed: Decimal | None = None
    agreed_kind: OfferKind | None = None
    refunded: Decimal | None = None
    credit: bool = False
    last_seller_move_at: datetime | None = None
    seller_has_moved: bool = False
    escalated_at: datetime | None = None
    info_requested_at: datetime | None = None
    agreed_at: datetime | None = None
    return_shipped_at: datetime | None = None
    return_delivered_at: datetime | None = None
    tracking: str | None = None
    closed_at: datetime | None = None
    rejected_by_platform: bool = False
    appealed: bool = False
    proposals: tuple[Proposal, ...] = field(default=())
    first_seller_move_at: datetime | None = None
    entered: tuple[Entered, ...] = ()
    # When the seller's current turn began: the opening, or the buyer's counter that answered
    # the seller. A revised ask within the turn leaves it (``last_buyer_move_at`` moves).
    seller_turn_at: datetime | None = None
    # What is agreed was the platform's decision (an award), not the seller's agreement.
    decided_by_platform: bool = False

    def entered_for(self, name: str) -> Entered | None:
        return next((e for e in self.entered if e.name == name), None)

    @property
    def active(self) -> bool:
        return self.state.active


@dataclass(frozen=True, slots=True)
class MoveContext:
    """What a move is checked against besides the dispute itself."""

    refundable: Decimal
    currency: str
    has_appeals: bool = False
    zone: tzinfo = UTC  # the buyer's, for the times a refusal names


class Proposed(NamedTuple):
    """A move the buyer asks to record, with what it is checked against."""

    dispute: Dispute
    move: Move
    ctx: MoveContext
    amount: Decimal | None = None
    offer_kind: OfferKind | None = None
    # When the move happened (None: not checked here, as for a move dated now).
    at: datetime | None = None


def shortfall(d: Dispute) -> Decimal | None:
    """How much less than agreed arrived, for a dispute closed as refunded; None if nothing
    is missing (or nothing was agreed)."""
    return shortfall_of(d.state, d.agreed, d.refunded)


def shortfall_of(state: State, agreed: Decimal | None, refunded: Decimal | None) -> Decimal | None:
    """``shortfall`` from the three values it needs, which the ledger keeps beside each
    dispute."""
    if state is not State.REFUNDED or agreed is None or refunded is None:
        return None
    missing = agreed - refunded
    return missing if missing > 0 else None


def counts_toward_order(d: Dispute) -> Decimal:
    """What this dispute takes out of the order's refundable total: recovered, else agreed."""
    return taken_from_order(d.state, d.agreed, d.refunded)


def taken_from_order(state: State, agreed: Decimal | None, refunded: Decimal | None) -> Decimal:
    """``counts_toward_order`` from the three values it needs, which the ledger keeps beside
    each dispute, so an order's refundable total needs no replay of its other disputes."""
    if state is State.REFUNDED:
        return refunded or Decimal(0)
    if state in {State.REFUND_PENDING, State.RETURN_TO_SHIP, State.RETURN_IN_TRANSIT}:
        return agreed or Decimal(0)
    if state is State.ESCALATED and agreed is not None:
        return agreed
    return Decimal(0)


def at_stake(d: Dispute) -> Decimal:
    """What the dispute is worth to the buyer now: the agreed amount, else the ask."""
    if d.refunded is not None:
        return Decimal(0)
    return d.agreed if d.agreed is not None else d.requested
