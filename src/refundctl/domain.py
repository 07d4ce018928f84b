"""How a dispute moves: states, moves, the transition table, and the fold over events.

Pure: no I/O, no clock. A dispute's state is what its events say: ``replay`` folds them, skipping
the moves that later retractions (``undo``) took back. ``check`` decides whether a new move may be
recorded, by the small named rules of ``MOVE_RULES`` (``refusals`` lists every one that refuses
it), and raises ``MoveRefused`` with the sentence the buyer will read; ``fold`` applies a move
that has been checked. The table of who may move from where is ``ALLOWED_FROM``; every other
rule (an offer must be on the table, an amount within what is refundable, moves in the order
they happened) is one of ``MOVE_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import assert_never

from refundctl.money import format_money
from refundctl.terms import (
    ACTIVE,
    CLOSED,
    MOVE_KINDS,
    NEEDS_AMOUNT,
    RESPOND_MOVES,
    WAITING_ON,
    Actor,
    Dispute,
    Entered,
    Event,
    EventKind,
    Move,
    MoveContext,
    MoveRefused,
    OfferKind,
    Outcome,
    Proposal,
    Proposed,
    Reason,
    State,
    at_stake,
    counts_toward_order,
    shortfall,
    shortfall_of,
    taken_from_order,
)
from refundctl.timeparse import local_text

# The terms, re-exported: `from refundctl.domain import State` reads as the domain's word.
__all__ = [
    "ACTIVE",
    "CLOSED",
    "MOVE_KINDS",
    "NEEDS_AMOUNT",
    "RESPOND_MOVES",
    "WAITING_ON",
    "Actor",
    "Dispute",
    "Entered",
    "Event",
    "EventKind",
    "Move",
    "MoveContext",
    "MoveRefused",
    "OfferKind",
    "Outcome",
    "Proposal",
    "Proposed",
    "Reason",
    "State",
    "at_stake",
    "counts_toward_order",
    "shortfall",
    "shortfall_of",
    "taken_from_order",
]

ACTOR_OF: dict[Move, Actor] = {
    Move.OPEN: Actor.BUYER,
    Move.SELLER_AGREES: Actor.SELLER,
    Move.SELLER_OFFERS: Actor.SELLER,
    Move.SELLER_REJECTS: Actor.SELLER,
    Move.ACCEPT: Actor.BUYER,
    Move.DECLINE: Actor.BUYER,
    Move.COUNTER: Actor.BUYER,
    Move.RETURN_SHIPPED: Actor.BUYER,
    Move.RETURN_DELIVERED: Actor.SELLER,
    Move.PLATFORM_REQUESTS_INFO: Actor.PLATFORM,
    Move.PLATFORM_AWARDS: Actor.PLATFORM,
    Move.PLATFORM_REJECTS: Actor.PLATFORM,
    Move.ESCALATE: Actor.BUYER,
    Move.REFUNDED: Actor.BUYER,
    Move.LOST: Actor.BUYER,
    Move.WITHDRAWN: Actor.BUYER,
    Move.CANCEL: Actor.BUYER,
}

# DESIGN.md's lifecycle table: the states each move may start from. `open` starts from no
# dispute at all. Further conditions (an offer on the table, the seller's first move, an appeal
# window) are checked in `check`.
ALLOWED_FROM: dict[Move, frozenset[State]] = {
    Move.OPEN: frozenset(),
    Move.SELLER_AGREES: frozenset({State.AWAITING_SELLER}),
    Move.SELLER_OFFERS: frozenset({State.AWAITING_SELLER, State.AWAITING_BUYER}),
    Move.SELLER_REJECTS: frozenset({State.AWAITING_SELLER}),
    Move.ACCEPT: frozenset({State.AWAITING_BUYER}),
    Move.DECLINE: frozenset({State.AWAITING_BUYER}),
    # A counter-offer answers the seller; in awaiting_seller it revises the ask (AliExpress
    # lets the buyer change it at any time, and the seller's clock starts again).
    Move.COUNTER: frozenset({State.AWAITING_SELLER, State.AWAITING_BUYER}),
    Move.RETURN_SHIPPED: frozenset({State.RETURN_TO_SHIP}),
    Move.RETURN_DELIVERED: frozenset({State.RETURN_IN_TRANSIT}),
    Move.PLATFORM_REQUESTS_INFO: frozenset({State.ESCALATED}),
    Move.PLATFORM_AWARDS: frozenset({State.ESCALATED}),
    Move.PLATFORM_REJECTS: frozenset({State.ESCALATED}),
    Move.ESCALATE: frozenset(
        {
            State.AWAITING_SELLER,
            State.AWAITING_BUYER,
            State.RETURN_IN_TRANSIT,
            State.REFUND_PENDING,
            State.LOST,
        }
    ),
    Move.REFUNDED: ACTIVE,
    Move.LOST: ACTIVE,
    Move.WITHDRAWN: ACTIVE,
    Move.CANCEL: frozenset({State.AWAITING_SELLER}),
}


def _settle(
    proposals: Iterable[Proposal], actor: Actor | None, outcome: Outcome
) -> tuple[Proposal, ...]:
    """Give every open proposal (of ``actor``, or of anyone) its outcome."""
    return tuple(
        replace(p, outcome=outcome)
        if p.outcome is Outcome.OPEN and (actor is None or p.actor is actor)
        else p
        for p in proposals
    )


def _agreed_state(kind: OfferKind | None) -> State:
    return State.RETURN_TO_SHIP if kind is OfferKind.REFUND_WITH_RETURN else State.REFUND_PENDING


def start(event: Event) -> Dispute:
    """The dispute an ``open`` event creates."""
    assert event.move is Move.OPEN and event.amount is not None
    return Dispute(
        state=State.AWAITING_SELLER,
        requested=event.amount,
        opened_at=event.at,
        last_move_at=event.at,
        last_buyer_move_at=event.at,
        seller_turn_at=event.at,
        proposals=(Proposal(event.at, Actor.BUYER, OfferKind.REFUND, event.amount, Outcome.OPEN),),
    )


def fold(d: Dispute, event: Event) -> Dispute:
    """Apply one recorded event to a dispute. The event was checked when it was recorded."""
    move = event.move
    if move is None:
        return _fold_fact(d, event)
    if move is not Move.OPEN and d.state not in ALLOWED_FROM[move]:
        raise ValueError(f"event {event.id}: {move} cannot follow state {d.state}")
    at = event.at
    d = replace(d, last_move_at=at)
    if event.actor is Actor.SELLER:
        d = replace(
            d,
            last_seller_move_at=at,
            seller_has_moved=True,
            first_seller_move_at=d.first_seller_move_at or at,
        )
    match move:
        case Move.OPEN:
            raise ValueError(f"event {event.id}: a dispute is opened only once")
        case Move.SELLER_AGREES:
            kind = event.offer_kind or OfferKind.REFUND
            return replace(
                d,
                state=_agreed_state(kind),
                agreed=d.requested,
                agreed_kind=kind,
                agreed_at=at,
                decided_by_platform=False,
                proposals=_settle(d.proposals, Actor.BUYER, Outcome.ACCEPTED),
            )
        case Move.SELLER_OFFERS:
            assert event.amount is not None
            proposals = _settle(d.proposals, Actor.SELLER, Outcome.SUPERSEDED)
            proposals = _settle(proposals, Actor.BUYER, Outcome.DECLINED)
            kind = event.offer_kind or OfferKind.REFUND
            offer = Proposal(at, Actor.SELLER, kind, event.amount, Outcome.OPEN)
            return replace(
                d,
                state=State.AWAITING_BUYER,
                offer=event.amount,
                offer_kind=kind,
                proposals=(*proposals, offer),
            )
        case Move.SELLER_REJECTS:
            return replace(
                d,
                state=State.AWAITING_BUYER,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, Actor.BUYER, Outcome.DECLINED),
            )
        case Move.ACCEPT:
            return replace(
                d,
                state=_agreed_state(d.offer_kind),
                agreed=d.offer,
                agreed_kind=d.offer_kind,
                agreed_at=at,
                decided_by_platform=False,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, Actor.SELLER, Outcome.ACCEPTED),
            )
        case Move.DECLINE:
            return replace(
                d,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, Actor.SELLER, Outcome.DECLINED),
            )
        case Move.COUNTER:
            assert event.amount is not None
            proposals = _settle(d.proposals, Actor.SELLER, Outcome.DECLINED)
            proposals = _settle(proposals, Actor.BUYER, Outcome.SUPERSEDED)
            ask = Proposal(at, Actor.BUYER, OfferKind.REFUND, event.amount, Outcome.OPEN)
            return replace(
                d,
                state=State.AWAITING_SELLER,
                requested=event.amount,
                offer=None,
                offer_kind=None,
                last_buyer_move_at=at,
                seller_turn_at=d.seller_turn_at if d.state is State.AWAITING_SELLER else at,
                proposals=(*proposals, ask),
            )
        case Move.RETURN_SHIPPED:
            # A new shipment (a second return, after an escalation) is not yet delivered.
            return replace(
                d,
                state=State.RETURN_IN_TRANSIT,
                return_shipped_at=at,
                return_delivered_at=None,
                tracking=event.tracking,
            )
        case Move.RETURN_DELIVERED:
            return replace(d, return_delivered_at=at)
        case Move.PLATFORM_REQUESTS_INFO:
            return replace(d, info_requested_at=at)
        case Move.PLATFORM_AWARDS:
            assert event.amount is not None
            kind = event.offer_kind or OfferKind.REFUND
            return replace(
                d,
                state=_agreed_state(kind),
                agreed=event.amount,
                agreed_kind=kind,
                agreed_at=at,
                decided_by_platform=True,
                info_requested_at=None,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, None, Outcome.SUPERSEDED),
            )
        case Move.PLATFORM_REJECTS:
            return replace(
                d,
                state=State.LOST,
                closed_at=at,
                rejected_by_platform=True,
                info_requested_at=None,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, None, Outcome.SUPERSEDED),
            )
        case Move.ESCALATE:
            # The platform decides now: a seller offer can no longer be accepted, so it is
            # superseded; the buyer's ask stays open, it is what the platform weighs.
            appeal = d.state is State.LOST
            return replace(
                d,
                state=State.ESCALATED,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, Actor.SELLER, Outcome.SUPERSEDED),
                escalated_at=at,
                closed_at=None,
                appealed=d.appealed or appeal,
                rejected_by_platform=False,
            )
        case Move.REFUNDED:
            return replace(
                d,
                state=State.REFUNDED,
                refunded=event.amount,
                credit=event.credit,
                closed_at=at,
                info_requested_at=None,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, None, Outcome.SUPERSEDED),
            )
        case Move.LOST | Move.WITHDRAWN | Move.CANCEL:
            closed = {
                Move.LOST: State.LOST,
                Move.WITHDRAWN: State.WITHDRAWN,
                Move.CANCEL: State.CANCELLED,
            }[move]
            return replace(
                d,
                state=closed,
                closed_at=at,
                info_requested_at=None,
                offer=None,
                offer_kind=None,
                proposals=_settle(d.proposals, None, Outcome.SUPERSEDED),
            )
        case _ as unreachable:
            assert_never(unreachable)


def _fold_fact(d: Dispute, event: Event) -> Dispute:
    """Messages and evidence do not move a dispute, but a buyer's answers a platform request;
    an entered date replaces (or, without a date, clears) the one entered for that deadline."""
    if event.kind == EventKind.DUE:
        assert event.deadline is not None
        kept = tuple(e for e in d.entered if e.name != event.deadline)
        if event.due is not None:
            kept += (Entered(event.deadline, event.due, event.at),)
        return replace(d, entered=kept)
    if (
        d.info_requested_at is not None
        and event.actor is Actor.BUYER
        and event.at >= d.info_requested_at
    ):
        return replace(d, info_requested_at=None)
    return d


def effective_events(events: Sequence[Event]) -> list[Event]:
    """The events that still count: every retraction removes the move it names."""
    retracted = {e.retracts for e in events if e.kind == EventKind.RETRACT}
    return [e for e in events if e.kind != EventKind.RETRACT and e.id not in retracted]


def replay(events: Sequence[Event]) -> Dispute:
    """The dispute its events describe, oldest first; the first must be ``open``."""
    kept = effective_events(events)
    if not kept or kept[0].move is not Move.OPEN:
        raise ValueError("a dispute's first event must be 'open'")
    d = start(kept[0])
    for event in kept[1:]:
        d = fold(d, event)
    return d


def last_move(events: Sequence[Event]) -> Event | None:
    """What ``undo`` would take back: the latest move that still counts, never ``open``, or
    a date entered for a deadline after it."""
    kept = effective_events(events)
    steps = [e for e in kept if e.move is not None or e.kind == EventKind.DUE]
    if not steps or steps[-1] is kept[0]:
        return None
    return steps[-1]


def _describe(d: Dispute) -> str:
    """Where the dispute stands, in words that follow "the dispute is" (people read these)."""
    return {
        State.AWAITING_SELLER: "waiting for the seller's answer",
        State.AWAITING_BUYER: (
            f"waiting for your answer to the seller's offer of {d.offer}"
            if d.offer is not None
            else "waiting for your move"
        ),
        State.ESCALATED: "with the marketplace, which is to decide",
        State.RETURN_TO_SHIP: "waiting for you to ship the return",
        State.RETURN_IN_TRANSIT: (
            "waiting for the seller's refund for the returned item"
            if d.return_delivered_at is not None
            else "waiting for the return to reach the seller"
        ),
        State.REFUND_PENDING: "waiting for the refund to arrive",
        State.REFUNDED: "closed as refunded",
        State.LOST: "closed as lost",
        State.WITHDRAWN: "closed as withdrawn",
        State.CANCELLED: "closed as cancelled",
    }[d.state]


def _refusal(move: Move, d: Dispute, ctx: MoveContext) -> str | None:
    """Why ``move`` cannot be made now, or None when it can. Amounts are checked separately."""
    if move is Move.OPEN:
        return "this dispute is already open"
    if d.state not in ALLOWED_FROM[move]:
        return f"the dispute is {_describe(d)}"
    match move:
        case Move.ACCEPT | Move.DECLINE if d.offer is None:
            return (
                f"there is no seller offer on the table to {move} (the dispute is {_describe(d)})"
            )
        case Move.CANCEL if d.seller_has_moved:
            return (
                f"the seller has answered (the dispute is {_describe(d)}); "
                "use 'resolve --withdrawn' to close it"
            )
        case Move.WITHDRAWN if not d.seller_has_moved:
            return (
                f"the seller has not answered yet (the dispute is {_describe(d)}); "
                "use 'cancel' to withdraw it"
            )
        case Move.RETURN_DELIVERED if d.return_delivered_at is not None:
            return (
                "the return was recorded as delivered already; the seller's refund is next "
                "('refundctl undo' takes the delivery back to correct its date)"
            )
        case Move.ESCALATE if d.state is State.LOST:
            if not ctx.has_appeals:
                return "the dispute is closed as lost, and this marketplace has no appeal"
            if not d.rejected_by_platform:
                return (
                    "the dispute is closed as lost because you gave up; "
                    "only a platform's decision can be appealed"
                )
            if d.appealed:
                return "the dispute is closed as lost, and it was appealed already"
    return None


def _label(move: Move) -> str:
    if move in RESPOND_MOVES:
        return f"respond {move}"
    return {
        Move.OPEN: "open",
        Move.ESCALATE: "escalate",
        Move.REFUNDED: "resolve --refunded",
        Move.LOST: "resolve --lost",
        Move.WITHDRAWN: "resolve --withdrawn",
        Move.CANCEL: "cancel",
    }[move]


def possible_moves(d: Dispute, ctx: MoveContext) -> list[str]:
    """The commands that would be accepted now, as the user types them."""
    labels = []
    for move in Move:
        if _refusal(move, d, ctx) is None:
            label = _label(move)
            labels.append(f"{label} AMOUNT" if move in NEEDS_AMOUNT else label)
    return labels


def _allowed_now(p: Proposed) -> str | None:
    refusal = _refusal(p.move, p.dispute, p.ctx)
    if refusal is None:
        return None
    possible = possible_moves(p.dispute, p.ctx)
    hint = f"possible now: {', '.join(possible)}" if possible else "no move is possible now"
    return f"cannot {_label(p.move)}: {refusal}; {hint}"


def _amount_given_where_needed(p: Proposed) -> str | None:
    needs = p.move in NEEDS_AMOUNT and p.move is not Move.OPEN
    if needs and p.amount is None:
        return f"{_label(p.move)} needs an AMOUNT"
    if not needs and p.amount is not None:
        return f"{_label(p.move)} takes no amount (got {p.amount})"
    return None


def _amount_within_refundable(p: Proposed) -> str | None:
    if p.amount is None or p.move not in NEEDS_AMOUNT or p.move is Move.OPEN:
        return None
    return amount_refusal(p.amount, p.ctx.refundable, p.ctx.currency)


def _revised_ask_differs(p: Proposed) -> str | None:
    d = p.dispute
    if p.move is Move.COUNTER and d.state is State.AWAITING_SELLER and p.amount == d.requested:
        assert p.amount is not None
        return (
            f"cannot {_label(p.move)}: you already ask "
            f"{format_money(p.amount, p.ctx.currency)}; a revised ask names another amount"
        )
    return None


def _agreement_within_refundable(p: Proposed) -> str | None:
    # What is agreed can never exceed what is refundable (the order's total may have been
    # corrected since the ask or the offer was made).
    agreed = {Move.SELLER_AGREES: p.dispute.requested, Move.ACCEPT: p.dispute.offer}.get(p.move)
    if agreed is None or agreed <= p.ctx.refundable:
        return None
    currency = p.ctx.currency
    return (
        f"cannot {_label(p.move)}: {format_money(agreed, currency)} is more than the "
        f"{format_money(p.ctx.refundable, currency)} still refundable on this order; "
        "record what the seller offers within it with 'respond DISPUTE seller-offers AMOUNT'"
    )


def _offer_kind_fits(p: Proposed) -> str | None:
    if p.offer_kind is None:
        return None
    if p.move not in {Move.SELLER_AGREES, Move.SELLER_OFFERS, Move.PLATFORM_AWARDS}:
        return f"{_label(p.move)} takes no --return or --replacement"
    if p.offer_kind is OfferKind.REPLACEMENT and p.move is not Move.SELLER_OFFERS:
        return "only a seller offer can be a replacement"
    return None


def _in_the_order_it_happened(p: Proposed) -> str | None:
    last = p.dispute.last_move_at
    if p.at is None or p.at >= last:
        return None
    zone = p.ctx.zone
    return (
        f"--on {local_text(p.at, zone)} is before the dispute's last move "
        f"({local_text(last, zone)}); moves are recorded in the order they happened"
    )


# Every rule a move must pass, in the order they are asked: the first that refuses it says why
# (beancount's VALIDATIONS). Each is small, named for what it holds, and None when it holds.
MOVE_RULES: tuple[Callable[[Proposed], str | None], ...] = (
    _allowed_now,
    _amount_given_where_needed,
    _amount_within_refundable,
    _revised_ask_differs,
    _agreement_within_refundable,
    _offer_kind_fits,
    _in_the_order_it_happened,
)


def refusals(proposed: Proposed) -> list[str]:
    """Why the move may not be recorded, by every rule that refuses it (none: it may)."""
    return [why for rule in MOVE_RULES if (why := rule(proposed)) is not None]


def check(
    d: Dispute,
    move: Move,
    ctx: MoveContext,
    amount: Decimal | None = None,
    offer_kind: OfferKind | None = None,
    at: datetime | None = None,
) -> None:
    """Raise ``MoveRefused`` unless ``move`` may be recorded on ``d`` now: with the first of
    its ``refusals``, the one a buyer reads (the others often follow from it)."""
    found = refusals(Proposed(d, move, ctx, amount, offer_kind, at))
    if found:
        raise MoveRefused(found[0])


def undo_refusals(after: Dispute, max_ask: Decimal, currency: str) -> list[str]:
    """Why the dispute may not go back to ``after`` (what it is without its last move)."""
    if counts_toward_order(after) > max_ask:
        return [
            "undoing this would take more than the order's total "
            f"({max_ask} {currency} is still refundable); "
            "correct the total or close the other dispute first"
        ]
    return []


def amount_refusal(amount: Decimal, refundable: Decimal, currency: str) -> str | None:
    """An amount must be positive and at most what is still refundable."""
    if amount <= 0:
        return f"amount must be positive, got {amount}"
    if amount > refundable:
        return (
            f"amount {format_money(amount, currency)} is more than the "
            f"{format_money(refundable, currency)} still refundable on this order"
        )
    return None


def check_amount(amount: Decimal, refundable: Decimal, currency: str) -> None:
    """``amount_refusal`` as an error."""
    refusal = amount_refusal(amount, refundable, currency)
    if refusal is not None:
        raise MoveRefused(refusal)
