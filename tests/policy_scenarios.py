"""Orders and disputes that, between them, open a deadline of every rule, each counted from one
chosen moment.

Shared by the policy and business-day tests: ``every_deadline(policy, start, zone)`` returns the
deadlines of a received and a not-received order (every anchor at ``start``) and of a dispute in
each state whose deadline-starting move happened at ``start``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from refundctl import domain
from refundctl.deadlines import Deadline, dispute_deadlines, order_deadlines
from refundctl.domain import Actor, Dispute, Event, Move, OfferKind, Reason
from refundctl.policies import Policy
from refundctl.records import Order

HOUR = timedelta(hours=1)
RETURN = OfferKind.REFUND_WITH_RETURN


def dispute(*moves: tuple[Move, datetime] | tuple[Move, datetime, OfferKind]) -> Dispute:
    """A dispute replayed from ``(move, when[, offer kind])``; the first move must be open."""
    events = []
    for number, step in enumerate(moves, start=1):
        move, when = step[0], step[1]
        kind = step[2] if len(step) == 3 else None
        amount = Decimal("12.50") if move in domain.NEEDS_AMOUNT else None
        actor: Actor = domain.ACTOR_OF[move]
        events.append(Event(move.value, actor, when, when, amount, offer_kind=kind, id=number))
    return domain.replay(events)


def order(marketplace: str, **dates: datetime | None) -> Order:
    return Order(
        marketplace=marketplace,
        order_no="8101234567890123",
        total=Decimal("45.90"),
        currency="USD",
        **dates,  # type: ignore[arg-type]
    )


def deadlines_of(
    d: Dispute,
    policy: Policy,
    zone: tzinfo,
    order_: Order | None = None,
    reason: Reason = Reason.MISSING_PARTS,
) -> list[Deadline]:
    """A dispute's deadlines, on an order with no dates unless one is given (so that no
    outer claim limit counts from them)."""
    return dispute_deadlines(d, order_ or order(policy.name), reason, policy, zone)


def disputes_at(start: datetime) -> dict[str, Dispute]:
    """A dispute per state, with the move its deadlines count from at ``start``."""
    before = start - 2 * HOUR
    return {
        "awaiting_seller": dispute((Move.OPEN, start)),
        "awaiting_buyer": dispute((Move.OPEN, before), (Move.SELLER_OFFERS, start)),
        "escalated": dispute((Move.OPEN, before), (Move.ESCALATE, start)),
        "info_requested": dispute(
            (Move.OPEN, before - HOUR),
            (Move.ESCALATE, before),
            (Move.PLATFORM_REQUESTS_INFO, start),
        ),
        "return_to_ship": dispute((Move.OPEN, before), (Move.SELLER_AGREES, start, RETURN)),
        "return_shipped": dispute(
            (Move.OPEN, before - HOUR),
            (Move.SELLER_AGREES, before, RETURN),
            (Move.RETURN_SHIPPED, start),
        ),
        "return_in_transit": dispute(
            (Move.OPEN, before - HOUR),
            (Move.SELLER_AGREES, before - HOUR, RETURN),
            (Move.RETURN_SHIPPED, before),
            (Move.RETURN_DELIVERED, start),
        ),
        "refund_pending": dispute((Move.OPEN, before), (Move.SELLER_AGREES, start)),
        "lost": dispute(
            (Move.OPEN, before - HOUR), (Move.ESCALATE, before), (Move.PLATFORM_REJECTS, start)
        ),
    }


def every_deadline(policy: Policy, start: datetime, zone: tzinfo) -> list[Deadline]:
    """Every deadline the policy opens, each counted from ``start``."""
    anchors = {"ordered": start, "shipped": start, "expected_by": start}
    found = order_deadlines(order(policy.name, received=start, **anchors), policy, zone)
    found += order_deadlines(order(policy.name, **anchors), policy, zone)
    dated = order(policy.name, **anchors)
    for d in disputes_at(start).values():
        found += deadlines_of(d, policy, zone, dated)
    return found
