"""The next remedy after the marketplace, as deadlines: which rail the order was paid with,
whether its remedy covers the case, when its window closes (``chargeback_by``,
``paypal_claim_by``), and when that is worth a deadline of its own.

A remedy's window is a deadline of the buyer's, ``if_missed: you_lose``, that never closes the
marketplace's case (``deadline_types.REMEDY_DEADLINES``). It is open on a marketplace dispute
that was lost (beside any appeal window), and on one still running whose marketplace is likely
to decide only after the window closes (the warning: file now, or lose that option); on an
order that never arrived and was never disputed, beside its protection. A remedy already in
use (a dispute filed ``--via`` that rail) opens no window of its own again.

Pure: the order, the dispute, the rules in remedy_rules.py and the buyer's zone in; deadlines
and warnings out. Never reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from refundctl.deadline_types import REMEDY_DEADLINES, Deadline, RuleRef
from refundctl.payment import Network, Payment, recognise
from refundctl.policies import Anchor, Binds, IfMissed, Policy, RuleName, resolve
from refundctl.records import Order
from refundctl.remedy_rules import (
    NETWORK_POLICIES,
    PAYPAL_NOT_ON,
    REASON_FAMILY,
    REMEDIES,
    Family,
    RemedyRule,
    exclusion_for,
)
from refundctl.terms import Actor, Dispute, Event, Move, Reason, State
from refundctl.timeparse import Duration, add, add_exact, local_text

_NEGOTIATING = frozenset({State.AWAITING_SELLER, State.AWAITING_BUYER})


def payment_of(order: Order) -> Payment | None:
    """The rail the order's payment text names, if any."""
    return recognise(order.payment)


def dispute_policy(
    via: str | None, marketplace: str, policy_for: Callable[[str], Policy]
) -> Policy:
    """The policy a dispute moves by: the marketplace's, or for one filed ``--via`` a rail,
    that rail's (PayPal's own policy, with the config's overrides; a card network's built-in
    one)."""
    if via is None:
        return policy_for(marketplace)
    network = Network(via)
    if network is Network.PAYPAL:
        return policy_for(Network.PAYPAL.value)
    return NETWORK_POLICIES[network]


def not_offered(order: Order, network: Network) -> str | None:
    """Why this rail is no remedy of its own for this order (None: it is one)."""
    if network is Network.PAYPAL:
        return PAYPAL_NOT_ON.get(order.marketplace)
    return None


def family_of(reason: Reason | None, order: Order) -> Family | None:
    """What a remedy would cover: the dispute's reason, or without one, whether it came."""
    if reason is not None:
        return REASON_FAMILY[reason]
    return Family.NOT_AS_DESCRIBED if order.received is not None else Family.NOT_RECEIVED


def _buyer_due(start: datetime, duration: Duration, zone: tzinfo) -> tuple[datetime, bool]:
    """A buyer's span of calendar days from ``start`` (DESIGN.md principle 2): the earlier
    of the wall clock in the buyer's zone and exact hours; and whether exact hours won."""
    wall = add(start, duration, zone)
    exact = add_exact(start, duration, UTC)
    return (exact, True) if exact < wall else (wall, False)


def _order_moments(order: Order) -> dict[Anchor, datetime | None]:
    return {
        Anchor.PAYMENT: order.ordered,
        Anchor.EXPECTED_DELIVERY: order.expected_by,
        Anchor.RECEIPT: order.received,
    }


def action(rule: RemedyRule, marketplace: str | None = None) -> str:
    """What the window asks: the task and what missing it loses; with the marketplace whose
    case is still running, what filing does to it."""
    text = f"{rule.task} by then, or lose {rule.loss}"
    if marketplace is not None:
        text += f"; doing so {exclusion_for(marketplace).effect}"
    return text


def window(
    order: Order, rule: RemedyRule, family: Family, zone: tzinfo, *, running: bool = False
) -> Deadline | None:
    """When the rail's window for ``family`` closes on this order; None without the payment
    date it counts from (``order add --ordered``). ``running``: a marketplace case is still
    open, and the action says what filing does to it."""
    spec = rule.windows[family]
    moments = _order_moments(order)
    paid = moments[Anchor.PAYMENT]
    if paid is None:
        return None
    known = [(anchor, moments[anchor]) for anchor in spec.counts_from]
    anchor, start = max(((a, at) for a, at in known if at is not None), key=lambda pair: pair[1])
    due, exact = _buyer_due(start, spec.duration, zone)
    described = f"{anchor} {local_text(start, zone)} + {spec.duration.describe()}"
    missing = [str(a) for a, at in known if at is None]
    if missing and anchor is Anchor.PAYMENT:
        described += f" (no {' or '.join(missing)} recorded: counted from the payment)"
    if exact:
        described += " (in exact hours: the clocks change in between)"
    if spec.cap is not None:
        capped, _ = _buyer_due(paid, spec.cap, zone)
        if capped < due:
            due = capped
            described += f", capped at {spec.cap.describe()} from the payment"
    duration = spec.duration
    if spec.sooner is not None and moments.get(spec.sooner[1]) is not None:
        span, other = spec.sooner
        moment = moments[other]
        assert moment is not None
        sooner, _ = _buyer_due(moment, span, zone)
        if sooner < due:
            anchor, start, due, duration = other, moment, sooner, span
            described = (
                f"{other} {local_text(moment, zone)} + {span.describe()}, sooner than {described}"
            )
    ref = RuleRef(
        policy=rule.network.value,
        duration=str(duration),
        counts_from=str(anchor),
        start=start,
        assumed=rule.assumed,
        source=rule.source,
        described=described,
        origin="assumed" if rule.assumed else "built-in",
    )
    shown = action(rule, order.marketplace if running else None)
    return Deadline(rule.deadline, due, Binds.BUYER, shown, ref, IfMissed.YOU_LOSE)


def file_from(order: Order, rule: RemedyRule, family: Family, zone: tzinfo) -> datetime | None:
    """The earliest moment the issuer takes it, where the rail makes the buyer wait (Visa:
    15 days after the payment when no delivery date was given)."""
    spec = rule.windows[family]
    paid = order.ordered
    if spec.wait is None or paid is None:
        return None
    if spec.wait_unless is not None and _order_moments(order)[spec.wait_unless] is not None:
        return None
    return add(paid, spec.wait, zone)


def _rule_for(order: Order, family: Family | None, used: frozenset[str]) -> RemedyRule | None:
    """The remedy the order's payment carries for ``family``, unless it is in use already
    or is none of its own here."""
    payment = payment_of(order)
    if family is None or payment is None or payment.network.value in used:
        return None
    if not_offered(order, payment.network) is not None:
        return None
    return REMEDIES[payment.network]


def dispute_remedies(
    d: Dispute,
    order: Order,
    reason: Reason,
    policy: Policy,
    zone: tzinfo,
    deadlines: Sequence[Deadline],
    *,
    via: str | None = None,
    used: frozenset[str] = frozenset(),
) -> list[Deadline]:
    """The remedy window a marketplace dispute shows: once it is lost; while it runs, only
    when the window closes before the marketplace is likely to decide (``settled_by``)."""
    if via is not None or order.closed_at is not None:
        return []  # a closed order's windows, its remedies' too, are not watched
    family = REASON_FAMILY[reason]
    rule = _rule_for(order, family, used)
    if rule is None or family is None:
        return []
    if d.state is State.LOST:
        found = window(order, rule, family, zone)
        return [] if found is None else [found]
    if d.state not in _NEGOTIATING and d.state is not State.ESCALATED:
        return []  # agreed, or closed otherwise: the marketplace has decided
    found = window(order, rule, family, zone, running=True)
    settled = settled_by(d, deadlines, policy)
    if found is None or settled is None or found.due >= settled:
        return []
    return [found]


def settled_by(d: Dispute, deadlines: Sequence[Deadline], policy: Policy) -> datetime | None:
    """When the marketplace is likely to have decided a running case, at the latest: the last
    of its deadlines; while the buyer and the seller still talk, that plus the time the
    marketplace takes to decide once asked. None without any deadline to go by."""
    dues = [x.due for x in deadlines if x.name not in REMEDY_DEADLINES]
    if not dues:
        return None
    latest = max(dues)
    if d.state in _NEGOTIATING:
        decision = resolve(policy, RuleName.PLATFORM_DECISION)
        if decision is not None:
            latest = add(latest, decision.duration, UTC, decision.holidays)
    return latest


def order_remedies(order: Order, zone: tzinfo) -> list[Deadline]:
    """The remedy window an order shows beside its protection: one that never arrived (and
    was never disputed) may still be charged back once the marketplace's protection ends."""
    if order.received is not None:
        return []
    rule = _rule_for(order, Family.NOT_RECEIVED, frozenset())
    found = None if rule is None else window(order, rule, Family.NOT_RECEIVED, zone)
    return [] if found is None else [found]


@dataclass(frozen=True, slots=True)
class ViaCheck:
    """What opening a dispute ``--via`` a rail is checked against: the order's marketplace
    disputes still open, and whether one of them was refunded."""

    active: tuple[tuple[int, str], ...] = ()  # (id, state) of the marketplace's open cases
    refunded: bool = False


def via_refusal(order: Order, network: Network) -> str | None:
    """Why no dispute can be filed through this rail for this order: a PayPal claim on a
    PayPal order is the marketplace's own dispute."""
    if network is Network.PAYPAL and order.marketplace == Network.PAYPAL.value:
        return (
            f"order {order.order_no} is on PayPal: its dispute is PayPal's own; "
            "open it without --via"
        )
    return None


def via_warnings(
    order: Order,
    network: Network,
    reason: Reason,
    at: datetime,
    zone: tzinfo,
    check: ViaCheck,
) -> list[str]:
    """What a buyer should know as they record a chargeback or a PayPal claim: the order's
    payment names another rail (or none), the reason is one the rail does not cover, its
    window has passed or its wait has not, and a marketplace case still open (and what filing
    does to it)."""
    rule = REMEDIES[network]
    warnings = []
    payment = payment_of(order)
    if payment is None:
        said = f"'{order.payment}'" if order.payment else "nothing"
        warnings.append(
            f"the order's payment says {said}, which names no {network.brand}; record how you "
            f"paid with 'refundctl order update {order.order_no} --payment \"...\"'"
        )
    elif payment.network is not network:
        warnings.append(
            f"the order was paid by {payment.describe()}, not {network.brand}: "
            "the remedy is the one of the rail that paid"
        )
    family = REASON_FAMILY[reason]
    if family is None:
        covered = " and ".join(str(f) for f in rule.windows)
        warnings.append(f"{rule.title} covers {covered}; {reason} is not among them")
    else:
        found = window(order, rule, family, zone)
        if found is not None and found.due <= at:
            warnings.append(
                f"{found.name} passed on {local_text(found.due, zone)} "
                f"({found.rule.described}); the issuer may refuse it, ask them"
            )
        earliest = file_from(order, rule, family, zone)
        if earliest is not None and at < earliest:
            warnings.append(
                f"filing before {local_text(earliest, zone)}: with no delivery date given, "
                f"{rule.title} takes a not-received dispute only "
                f"{rule.windows[family].wait} after the payment"
            )
    reason_text = not_offered(order, network)
    if reason_text is not None:
        warnings.append(reason_text)
    if network is Network.PAYPAL and check.refunded:
        from refundctl.remedy_rules import PAYPAL_REFUSES_REFUNDED

        warnings.append(PAYPAL_REFUSES_REFUNDED)
    exclusion = exclusion_for(order.marketplace)
    for dispute_id, state in check.active:
        warnings.append(
            f"dispute {dispute_id} with the marketplace is still open ({state}): filing with "
            f"{network.brand} {exclusion.effect}"
            + (" (assumed: no published rule found)" if exclusion.assumed else "")
            + f"; record what it does with 'refundctl resolve {dispute_id}'"
        )
    return warnings


def filed_with(via: Network | None, at: datetime, now: datetime) -> list[Event]:
    """The events that file a dispute with a card issuer besides its opening: the issuer
    holds the case from the start (the merchant answers through the network), so it waits
    on the issuer's decision. A PayPal claim starts with the seller, as PayPal's own do."""
    if via is None or not via.card:
        return []
    return [Event(Move.ESCALATE, Actor.BUYER, at, now, note=f"filed with {via.brand}")]


def undo_refusals(via: str | None, after: Dispute, dispute_id: int) -> list[str]:
    """Why ``undo`` may not take a dispute filed with a card issuer back to ``after``: its
    filing is part of its opening."""
    if via is None or not Network(via).card or after.escalated_at is not None:
        return []
    return [
        f"dispute {dispute_id} was filed with the card issuer, which holds it from the start; "
        f"to end it, 'refundctl resolve {dispute_id} --lost' (or --refunded when the money "
        "came)"
    ]
