"""What a marketplace's policy is made of, whatever the marketplace: the rule names and what
each means (``RULE_KINDS``: whom it binds, what to do, what happens if missed), a ``Rule``'s
duration or range, the ``Policy`` that maps rule names to rules, and a ``ResolvedRule``, the
rule in effect for one marketplace. Most rules are deadlines; three are the *earliest* moment
to act (``open_after``, ``escalate_after``, ``claim_after``). Ranges ("5–7 days") keep both
ends: a buyer deadline takes the low end, an other-side one the high end. Pure types, no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from refundctl.timeparse import Duration


class RuleName(StrEnum):
    DISPUTE_WINDOW = "dispute_window"
    PROTECTION_ENDS = "protection_ends"
    OPEN_AFTER = "open_after"
    SELLER_RESPONSE = "seller_response"
    ESCALATE_AFTER = "escalate_after"
    CLAIM_AFTER = "claim_after"
    ESCALATE_BY = "escalate_by"
    CLAIM_BY = "claim_by"
    NEGOTIATION_ENDS = "negotiation_ends"
    BUYER_RESPONSE = "buyer_response"
    PLATFORM_DECISION = "platform_decision"
    CLAIM_RESPONSE = "claim_response"
    INFO_DUE = "info_due"
    RETURN_SHIP_BY = "return_ship_by"
    RETURN_DELIVERY = "return_delivery"
    RETURN_REFUND_DUE = "return_refund_due"
    REFUND_EXPECTED = "refund_expected"
    APPEAL_BY = "appeal_by"


class Anchor(StrEnum):
    """What a rule counts from; the values are what tables and JSON show."""

    PAYMENT = "payment"
    SHIPPING = "shipping"
    EXPECTED_DELIVERY = "expected delivery"
    RECEIPT = "receipt"
    OPENING = "opening"
    BUYER_MOVE = "buyer move"
    SELLER_MOVE = "seller move"
    ESCALATION = "escalation"
    INFO_REQUEST = "platform request"
    AGREEMENT = "agreement"
    RETURN_SHIPPED = "return shipped"
    RETURN_DELIVERED = "return delivered"
    CLOSING = "closing"


class Binds(StrEnum):
    """Who must act before the deadline. Only ``buyer`` deadlines are the buyer's to meet."""

    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"
    PAYMENT = "payment"


class IfMissed(StrEnum):
    """What happens when a deadline passes: the action a table shows follows from it."""

    YOU_LOSE = "you_lose"  # the window or the case closes against the buyer
    YOU_MAY_ESCALATE = "you_may_escalate"  # the other side's time is up: take it further
    PLATFORM_STEPS_IN = "platform_steps_in"  # the marketplace acts by itself
    CHASE = "chase"  # the platform or the payment is late: contact them


@dataclass(frozen=True, slots=True)
class RuleKind:
    """What a rule name means, whatever the marketplace.

    ``binds`` is None for the earliest-moment rules, which bind nobody. ``task`` says what must
    happen by the deadline, ``loss`` what the buyer loses when it passes (for ``you_lose``),
    ``whom`` whom to chase (for ``chase``); ``{market}`` is the marketplace's name.
    """

    binds: Binds | None
    task: str
    counts_from: tuple[Anchor, ...]
    if_missed: IfMissed | None
    loss: str = "the case"
    whom: str = "{market}"
    # What the marketplace does when it steps in, where "steps in by itself" is not the word.
    steps_in: str = "{market} steps in by itself"


RULE_KINDS: dict[RuleName, RuleKind] = {
    RuleName.DISPUTE_WINDOW: RuleKind(
        Binds.BUYER,
        "open a dispute by then",
        (Anchor.RECEIPT,),
        IfMissed.YOU_LOSE,
        loss="the right to one",
    ),
    RuleName.PROTECTION_ENDS: RuleKind(
        Binds.BUYER,
        "open a not-received dispute by then",
        # The latest promised delivery is the best anchor; without one, shipping, then payment.
        (Anchor.EXPECTED_DELIVERY, Anchor.SHIPPING, Anchor.PAYMENT),
        IfMissed.YOU_LOSE,
        loss="the protection",
    ),
    RuleName.OPEN_AFTER: RuleKind(
        None, "a not-received dispute can be opened from then", (Anchor.EXPECTED_DELIVERY,), None
    ),
    RuleName.SELLER_RESPONSE: RuleKind(
        Binds.SELLER, "the seller answers by then", (Anchor.BUYER_MOVE,), IfMissed.YOU_MAY_ESCALATE
    ),
    RuleName.ESCALATE_AFTER: RuleKind(None, "you can escalate from then", (Anchor.OPENING,), None),
    RuleName.CLAIM_AFTER: RuleKind(
        None, "you can escalate from then", (Anchor.EXPECTED_DELIVERY,), None
    ),
    RuleName.ESCALATE_BY: RuleKind(
        Binds.BUYER, "escalate by then", (Anchor.OPENING,), IfMissed.YOU_LOSE
    ),
    RuleName.CLAIM_BY: RuleKind(
        Binds.BUYER,
        "escalate to {market} by then",
        (Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT),
        IfMissed.YOU_LOSE,
        loss="its guarantee",
    ),
    RuleName.NEGOTIATION_ENDS: RuleKind(
        Binds.PLATFORM,
        "settle with the seller by then",
        (Anchor.OPENING,),
        IfMissed.PLATFORM_STEPS_IN,
    ),
    RuleName.BUYER_RESPONSE: RuleKind(
        Binds.BUYER,
        "accept, counter or escalate by then",
        (Anchor.SELLER_MOVE,),
        IfMissed.YOU_LOSE,
    ),
    RuleName.PLATFORM_DECISION: RuleKind(
        Binds.PLATFORM, "{market} decides by then", (Anchor.ESCALATION,), IfMissed.CHASE
    ),
    RuleName.CLAIM_RESPONSE: RuleKind(
        Binds.SELLER,
        "the seller answers the claim by then",
        (Anchor.ESCALATION,),
        IfMissed.PLATFORM_STEPS_IN,
        steps_in="{market} decides without the seller's answer",
    ),
    RuleName.INFO_DUE: RuleKind(
        Binds.BUYER,
        "answer {market}'s request by then",
        (Anchor.INFO_REQUEST,),
        IfMissed.YOU_LOSE,
    ),
    RuleName.RETURN_SHIP_BY: RuleKind(
        Binds.BUYER,
        "ship the return by then",
        (Anchor.AGREEMENT,),
        IfMissed.YOU_LOSE,
        loss="the refund",
    ),
    RuleName.RETURN_DELIVERY: RuleKind(
        Binds.SELLER,
        "the return reaches the seller by then",
        (Anchor.RETURN_SHIPPED,),
        IfMissed.CHASE,
        whom="the carrier and {market}",
    ),
    RuleName.RETURN_REFUND_DUE: RuleKind(
        Binds.SELLER,
        "the seller refunds the return by then",
        (Anchor.RETURN_DELIVERED,),
        IfMissed.YOU_MAY_ESCALATE,
    ),
    RuleName.REFUND_EXPECTED: RuleKind(
        Binds.PAYMENT,
        "the refund arrives by then",
        (Anchor.AGREEMENT,),
        IfMissed.CHASE,
        whom="{market} and your bank",
    ),
    RuleName.APPEAL_BY: RuleKind(
        Binds.BUYER,
        "appeal the decision by then",
        (Anchor.CLOSING,),
        IfMissed.YOU_LOSE,
        loss="the appeal",
    ),
}

# The rules that are an earliest moment to act rather than a deadline.
EARLIEST_RULES = frozenset(name for name, kind in RULE_KINDS.items() if kind.binds is None)
# The steps only some marketplaces have: generic assumes none of them.
OPTIONAL_RULES = EARLIEST_RULES | {
    RuleName.CLAIM_BY,
    RuleName.NEGOTIATION_ENDS,
    RuleName.CLAIM_RESPONSE,
}


@functools.lru_cache(maxsize=256)
def action_text(kind: RuleKind, if_missed: IfMissed, market: str) -> str:
    """What a table says to do: the rule's task and what its passing means. Never "escalate"
    where the marketplace steps in by itself, never "or lose" where nothing is lost."""
    match if_missed:
        case IfMissed.YOU_LOSE:
            text = f"{kind.task}, or lose {kind.loss}"
        case IfMissed.YOU_MAY_ESCALATE:
            text = f"{kind.task}; after it, you may escalate"
        case IfMissed.PLATFORM_STEPS_IN:
            text = f"{kind.task}; after it, {kind.steps_in}"
        case IfMissed.CHASE:
            text = f"{kind.task}; after it, chase {kind.whom}"
    return text.replace("{market}", market)


@dataclass(frozen=True, slots=True)
class Rule:
    """A duration, or a range ``duration``–``upto`` when the marketplace gives one."""

    duration: Duration
    upto: Duration | None = None
    # What this marketplace counts the rule from, where it differs from the rule's usual
    # anchors (AliExpress counts its not-received window from the promised delivery only).
    counts_from: tuple[Anchor, ...] | None = None
    # Where the number was read, when it is not on the policy's main page, and what it says.
    note: str | None = None
    # What happens when it passes, where this marketplace differs from the rule's usual.
    if_missed: IfMissed | None = None
    # A second reading of which the sooner one counts ("30 days from delivery or 180 days
    # from payment, whichever is sooner").
    sooner: Rule | None = None
    # ``buyer_response``: only while a seller offer is on the table (PayPal closes the dispute
    # when an offer goes unanswered, not when the seller merely rejects).
    offer_only: bool = False
    # ``escalate_after``: the wait ends early when the seller answers ("wait for a response or
    # for 48 hours").
    waived_by_answer: bool = False
    # ``claim_after``: only for a not-received dispute.
    not_received_only: bool = False
    # ``seller_response``: a revised ask (a counter while the seller is still to answer)
    # starts the seller's time again (AliExpress: "within 5-7 days of each request"); else it
    # runs from the start of the seller's turn.
    restarts_on_revision: bool = False

    def for_binds(self, binds: Binds | None) -> Duration:
        """The safe end of the range: low for the buyer, high for the other side (and for an
        earliest moment, so that no early move goes unwarned)."""
        if binds is Binds.BUYER or self.upto is None:
            return self.duration
        return self.upto

    def __str__(self) -> str:
        if self.upto is None:
            text = str(self.duration)
        elif self.upto.unit is self.duration.unit:
            text = f"{self.duration.count}–{self.upto}"
        else:
            text = f"{self.duration}–{self.upto}"
        if self.sooner is not None:
            text += f"/{self.sooner}"  # "30d/180d": whichever reading comes sooner
        return text


class Origin(StrEnum):
    """Where a rule in effect comes from."""

    BUILT_IN = "built-in"
    CONFIG = "config"
    ASSUMED = "assumed"


@dataclass(frozen=True, slots=True)
class CoverLimit:
    """The most a marketplace's protection refunds (Etsy: $250), and optionally a higher amount
    for orders placed late in the year."""

    currency: str
    amount: Decimal
    holiday_amount: Decimal | None = None
    # Orders placed from this month and day to the end of the year get ``holiday_amount``.
    holiday_from: tuple[int, int] = (11, 1)
    source: str | None = None

    def for_order(self, ordered: date | None) -> Decimal:
        holiday = ordered is not None and (ordered.month, ordered.day) >= self.holiday_from
        if self.holiday_amount is not None and holiday:
            return self.holiday_amount
        return self.amount


# Compared and hashed by identity (eq=False): a policy is built once per run, and the look-ups
# of its rules are cached per policy (``resolve``), which a dict of rules could not be hashed for.
@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    name: str
    title: str
    timezone: str | None
    rules: Mapping[RuleName, Rule | None]
    source: str | None = None
    checked: date | None = None
    # ISO 3166 country whose public holidays business days skip (the marketplace's home).
    holidays: str | None = None
    # Rules (and "timezone"/"holidays") that the config file set, for `refundctl policies`.
    from_config: frozenset[str] = frozenset()
    # Where a rule this policy has no number for comes from: generic, or the config's generic.
    fallback: Policy | None = None
    # How people name the marketplace in a sentence ("AliExpress steps in by itself").
    market: str = "the marketplace"
    cover_limit: CoverLimit | None = None


@dataclass(frozen=True, slots=True)
class ResolvedRule:
    """The rule in effect for one marketplace, with where its number came from."""

    policy: str
    name: RuleName
    rule: Rule
    assumed: bool
    source: str | None
    timezone: str | None
    holidays: str | None = None
    origin: Origin = Origin.BUILT_IN
    market: str = "the marketplace"

    @property
    def kind(self) -> RuleKind:
        return RULE_KINDS[self.name]

    @property
    def duration(self) -> Duration:
        return self.rule.for_binds(self.kind.binds)

    @property
    def anchors(self) -> tuple[Anchor, ...]:
        return self.rule.counts_from or self.kind.counts_from

    @property
    def if_missed(self) -> IfMissed:
        found = self.rule.if_missed or self.kind.if_missed
        assert found is not None, f"{self.name} is not a deadline"
        return found

    @property
    def action(self) -> str:
        return action_text(self.kind, self.if_missed, self.market)
