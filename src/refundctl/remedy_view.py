"""``refundctl remedies ORDER``: every remedy for an order, in the order a buyer should try
them (the marketplace first, then PayPal, then the card), each with where it stands, its
window, what it excludes and what to do.

Pure: the order, its disputes, the policies, the buyer's zone and ``now`` in; an
``OrderRemedies`` out for the renderers. The windows are remedies.py's.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from refundctl.deadline_types import Deadline
from refundctl.deadlines import order_deadlines
from refundctl.domain import State
from refundctl.payment import Funding, Network, Payment
from refundctl.policies import GENERIC
from refundctl.records import DisputeRecord, OpenOrder, Order
from refundctl.remedies import family_of, file_from, not_offered, payment_of, window
from refundctl.remedy_rules import PAYPAL_REFUSES_REFUNDED, REMEDIES, Family, exclusion_for
from refundctl.timeparse import local_text
from refundctl.views import PolicyFor, dispute_view


class RemedyKind(StrEnum):
    """In the order a buyer tries them."""

    MARKETPLACE = "marketplace"
    PAYPAL = "paypal"
    CARD = "card"


class Standing(StrEnum):
    OPEN = "open"  # it can be used now (or from ``can_file_from``)
    IN_PROGRESS = "in_progress"  # a dispute through it is running
    USED = "used"  # it refunded the order
    CLOSED = "closed"  # lost, withdrawn, or its window has passed
    NOT_AVAILABLE = "not_available"  # it does not apply to this order


@dataclass(frozen=True, slots=True)
class Remedy:
    kind: RemedyKind
    name: str  # the policy or rail: "aliexpress", "visa"
    title: str
    standing: Standing
    # Its window (a marketplace case in progress: its next deadline).
    deadline: Deadline | None
    to_do: str
    dispute: int | None = None
    can_file_from: datetime | None = None
    excludes: tuple[str, ...] = ()
    source: str | None = None
    assumed: bool = False


@dataclass(frozen=True, slots=True)
class OrderRemedies:
    order: Order
    payment: Payment | None
    family: Family | None
    remedies: tuple[Remedy, ...]
    # What to record to find out more, or what to know about the payment.
    notes: tuple[str, ...]


def _cmd(*words: str) -> str:
    return "'refundctl " + " ".join(shlex.quote(w) for w in words) + "'"


def _dispute_standing(
    record: DisputeRecord, policy_for: PolicyFor, zone: tzinfo, now: datetime
) -> tuple[Standing, Deadline | None, str]:
    """Where a remedy stands that a dispute went through, and what to do."""
    view = dispute_view(record, policy_for, zone, now)
    d, number = record.dispute, str(record.id)
    if d.active:
        return Standing.IN_PROGRESS, view.next, f"follow dispute {number}: {_cmd('status', number)}"
    if d.state is State.LOST:
        appeal = next((x for x in view.deadlines if x.name == "appeal_by"), None)
        if appeal is not None:
            return Standing.OPEN, appeal, f"appeal the decision: {_cmd('escalate', number)}"
        closed = "" if d.closed_at is None else f" on {local_text(d.closed_at, zone)}"
        return Standing.CLOSED, None, f"dispute {number} was lost{closed}"
    if d.state is State.REFUNDED:
        return Standing.USED, None, f"dispute {number} was refunded"
    return Standing.CLOSED, None, f"dispute {number} was {d.state}"


def _marketplace(
    standing: OpenOrder,
    records: Sequence[DisputeRecord],
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
) -> Remedy:
    order = standing.order
    policy = policy_for(order.marketplace)
    title = policy.title if policy.name != GENERIC.name else f"{order.marketplace} (no policy)"
    source = policy.source
    ours = [r for r in records if r.via is None]
    if ours:
        record = next((r for r in reversed(ours) if r.dispute.active), ours[-1])
        state, deadline, to_do = _dispute_standing(record, policy_for, zone, now)
        return Remedy(
            RemedyKind.MARKETPLACE,
            policy.name,
            title,
            state,
            deadline,
            to_do,
            record.id,
            source=source,
        )
    found = order_deadlines(order, policy, zone)
    deadline = found[0] if found else None
    opening = f"open a dispute: {_cmd('open', order.order_no, '--reason', 'REASON', '--full')}"
    if order.closed_at is not None:
        return Remedy(
            RemedyKind.MARKETPLACE,
            policy.name,
            title,
            Standing.CLOSED,
            None,
            "the order is closed: 'refundctl order reopen' to watch it again",
            source=source,
        )
    if deadline is not None and deadline.due <= now:
        missed = f"its window closed on {local_text(deadline.due, zone)}"
        return Remedy(
            RemedyKind.MARKETPLACE,
            policy.name,
            title,
            Standing.CLOSED,
            deadline,
            missed,
            source=source,
            assumed=deadline.rule.assumed,
        )
    return Remedy(
        RemedyKind.MARKETPLACE,
        policy.name,
        title,
        Standing.OPEN,
        deadline,
        opening,
        source=source,
        assumed=deadline is not None and deadline.rule.assumed,
    )


def _rail(
    order: Order,
    payment: Payment,
    family: Family | None,
    records: Sequence[DisputeRecord],
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
    live: bool,
) -> Remedy:
    """The rail's remedy; ``live``: the marketplace's own is still open or in progress."""
    network = payment.network
    rule = REMEDIES[network]
    kind = RemedyKind.CARD if network.card else RemedyKind.PAYPAL
    exclusion = exclusion_for(order.marketplace)
    # What filing does to the marketplace's case, while there is one to lose.
    excludes: tuple[str, ...] = ()
    if live:
        excludes = (
            f"{'filing' if network.card else 'a PayPal claim'} {exclusion.effect}"
            + (" (assumed)" if exclusion.assumed else ""),
        )
    if network is Network.PAYPAL:
        excludes += (PAYPAL_REFUSES_REFUNDED,)

    def made(
        standing: Standing,
        deadline: Deadline | None,
        to_do: str,
        dispute: int | None = None,
        can_file_from: datetime | None = None,
    ) -> Remedy:
        return Remedy(
            kind,
            network.value,
            rule.title,
            standing,
            deadline,
            to_do,
            dispute,
            can_file_from,
            excludes,
            rule.source,
            rule.assumed,
        )

    filed = [r for r in records if r.via == network.value]
    if filed:
        state, deadline, to_do = _dispute_standing(filed[-1], policy_for, zone, now)
        return made(state, deadline, to_do, dispute=filed[-1].id)
    why_not = not_offered(order, network)
    if why_not is not None:
        return made(Standing.NOT_AVAILABLE, None, why_not)
    if family is None:
        covered = " and ".join(str(f) for f in rule.windows)
        return made(Standing.NOT_AVAILABLE, None, f"it covers {covered} only")
    marketplace = [r for r in records if r.via is None]
    if network is Network.PAYPAL and any(r.dispute.state is State.REFUNDED for r in marketplace):
        return made(Standing.NOT_AVAILABLE, None, PAYPAL_REFUSES_REFUNDED)
    running = any(r.dispute.active for r in marketplace)
    deadline = window(order, rule, family, zone, running=running)
    reason = next((str(r.reason) for r in reversed(marketplace)), None) or (
        "not-received" if family is Family.NOT_RECEIVED else "not-as-described"
    )
    record = _cmd("open", order.order_no, "--via", network.value, "--reason", reason, "--full")
    if deadline is None:
        return made(Standing.OPEN, None, f"{rule.task}, then record it: {record}")
    if deadline.due <= now:
        return made(
            Standing.CLOSED,
            deadline,
            f"its window closed on {local_text(deadline.due, zone)}; the issuer may still "
            "take it: ask",
        )
    earliest = file_from(order, rule, family, zone)
    return made(
        Standing.OPEN,
        deadline,
        f"{rule.task}, then record it: {record}",
        can_file_from=earliest if earliest is not None and earliest > now else None,
    )


def remedies_for(
    standing: OpenOrder,
    records: Sequence[DisputeRecord],
    policy_for: PolicyFor,
    zone: tzinfo,
    now: datetime,
) -> OrderRemedies:
    """Every remedy of the order: the marketplace, then the rail that paid."""
    order = standing.order
    payment = payment_of(order)
    marketplace = [r for r in records if r.via is None]
    family = family_of(marketplace[-1].reason if marketplace else None, order)
    first = _marketplace(standing, records, policy_for, zone, now)
    found = [first]
    live = first.standing in {Standing.OPEN, Standing.IN_PROGRESS}
    notes: list[str] = []
    number = order.order_no
    if payment is None:
        example = _cmd("order", "update", number, "--payment", "Visa - 1234")
        if order.payment:
            notes.append(
                f"the payment '{order.payment}' names no card network or PayPal: record which "
                f"paid, e.g. {example}, to see its window"
            )
        else:
            notes.append(
                "no payment is recorded: a card or PayPal may refund what the marketplace "
                f"will not; record it with {example}"
            )
    else:
        found.append(_rail(order, payment, family, records, policy_for, zone, now, live))
        if order.ordered is None:
            notes.append(
                "no payment date is recorded: the window counts from it; record it with "
                f"{_cmd('order', 'update', number, '--ordered', 'WHEN')}"
            )
        if payment.funding is Funding.DEBIT:
            notes.append(
                "a debit card: the network's chargeback rules apply, but the Fair Credit "
                "Billing Act's protections for credit cards do not"
            )
        if payment.shared:
            notes.append(
                "another method paid part of the order: only the card's part can be disputed"
            )
        if payment.network.card:
            notes.append(
                "your card issuer's own deadline may be shorter than the network's: once you "
                "know it, enter it on a lost dispute with "
                "'refundctl due DISPUTE chargeback_by WHEN'"
            )
    return OrderRemedies(order, payment, family, tuple(found), tuple(notes))
