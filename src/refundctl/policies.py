"""Each marketplace's rules as data: named durations, what they count from, where they are written.

Pure data and look-ups, no I/O. A ``Policy`` maps rule names to ``Rule`` values; a rule the
marketplace has no published number for is left out and falls back to ``generic``'s assumed
value, labelled as assumed; a rule set to ``None`` is a step the marketplace does not have (no
appeal on AliExpress). A marketplace with no policy here uses ``generic`` and says so. Ranges
("5–7 days") keep both ends: a buyer deadline takes the low end, an other-side one the high end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from refundctl.timeparse import Duration, Unit


class RuleName(StrEnum):
    DISPUTE_WINDOW = "dispute_window"
    PROTECTION_ENDS = "protection_ends"
    SELLER_RESPONSE = "seller_response"
    ESCALATE_BY = "escalate_by"
    BUYER_RESPONSE = "buyer_response"
    PLATFORM_DECISION = "platform_decision"
    INFO_DUE = "info_due"
    RETURN_SHIP_BY = "return_ship_by"
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
    RETURN_DELIVERED = "return delivered"
    CLOSING = "closing"


class Binds(StrEnum):
    """Who must act before the deadline. Only ``buyer`` deadlines are the buyer's to meet."""

    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class RuleKind:
    """What a rule name means, whatever the marketplace: whom it binds and what to do."""

    binds: Binds
    action: str
    counts_from: tuple[Anchor, ...]


RULE_KINDS: dict[RuleName, RuleKind] = {
    RuleName.DISPUTE_WINDOW: RuleKind(
        Binds.BUYER, "last moment to open a dispute", (Anchor.RECEIPT,)
    ),
    RuleName.PROTECTION_ENDS: RuleKind(
        Binds.BUYER,
        "open a not-received dispute before it ends",
        # The latest promised delivery is the best anchor; without one, shipping, then payment.
        (Anchor.EXPECTED_DELIVERY, Anchor.SHIPPING, Anchor.PAYMENT),
    ),
    RuleName.SELLER_RESPONSE: RuleKind(
        Binds.SELLER, "seller answers by then; after it, escalate", (Anchor.BUYER_MOVE,)
    ),
    RuleName.ESCALATE_BY: RuleKind(Binds.BUYER, "escalate or lose the case", (Anchor.OPENING,)),
    RuleName.BUYER_RESPONSE: RuleKind(
        Binds.BUYER, "accept, counter or escalate", (Anchor.SELLER_MOVE,)
    ),
    RuleName.PLATFORM_DECISION: RuleKind(
        Binds.PLATFORM, "platform decides by then; after it, chase it", (Anchor.ESCALATION,)
    ),
    RuleName.INFO_DUE: RuleKind(
        Binds.BUYER, "answer the platform's request", (Anchor.INFO_REQUEST,)
    ),
    RuleName.RETURN_SHIP_BY: RuleKind(Binds.BUYER, "ship the return", (Anchor.AGREEMENT,)),
    RuleName.RETURN_REFUND_DUE: RuleKind(
        Binds.SELLER,
        "seller refunds the return by then; after it, escalate",
        (Anchor.RETURN_DELIVERED,),
    ),
    RuleName.REFUND_EXPECTED: RuleKind(
        Binds.PAYMENT, "refund arrives by then; after it, escalate", (Anchor.AGREEMENT,)
    ),
    RuleName.APPEAL_BY: RuleKind(Binds.BUYER, "appeal the decision", (Anchor.CLOSING,)),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """A duration, or a range ``duration``–``upto`` when the marketplace gives one."""

    duration: Duration
    upto: Duration | None = None
    # What this marketplace counts the rule from, where it differs from the rule's usual
    # anchors (AliExpress counts its not-received window from the promised delivery only).
    counts_from: tuple[Anchor, ...] | None = None

    def for_binds(self, binds: Binds) -> Duration:
        """The safe end of the range: low for the buyer, high for the other side."""
        if binds is Binds.BUYER or self.upto is None:
            return self.duration
        return self.upto

    def __str__(self) -> str:
        if self.upto is None:
            return str(self.duration)
        return f"{self.duration}–{self.upto}"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    title: str
    timezone: str | None
    rules: Mapping[RuleName, Rule | None]
    source: str | None = None
    checked: date | None = None


@dataclass(frozen=True, slots=True)
class ResolvedRule:
    """The rule in effect for one marketplace, with where its number came from."""

    policy: str
    name: RuleName
    rule: Rule
    assumed: bool
    source: str | None
    timezone: str | None

    @property
    def kind(self) -> RuleKind:
        return RULE_KINDS[self.name]

    @property
    def duration(self) -> Duration:
        return self.rule.for_binds(self.kind.binds)

    @property
    def anchors(self) -> tuple[Anchor, ...]:
        return self.rule.counts_from or self.kind.counts_from


def _d(count: int, unit: Unit = Unit.DAYS) -> Rule:
    return Rule(Duration(count, unit))


# Assumed, conservative values for a marketplace with no published number: buyer deadlines
# short (the warning comes early), other-side deadlines long (no escalation before it is due).
GENERIC = Policy(
    name="generic",
    title="Generic (assumed values)",
    timezone=None,
    rules={
        RuleName.DISPUTE_WINDOW: _d(15),
        RuleName.PROTECTION_ENDS: _d(30),
        RuleName.SELLER_RESPONSE: _d(7),
        RuleName.ESCALATE_BY: _d(20),
        RuleName.BUYER_RESPONSE: _d(3),
        RuleName.PLATFORM_DECISION: _d(30),
        RuleName.INFO_DUE: _d(3),
        RuleName.RETURN_SHIP_BY: _d(7),
        RuleName.RETURN_REFUND_DUE: _d(15),
        RuleName.REFUND_EXPECTED: _d(20, Unit.BUSINESS_DAYS),
        RuleName.APPEAL_BY: _d(7),
    },
)

ALIEXPRESS = Policy(
    name="aliexpress",
    title="AliExpress Buyer Protection",
    timezone="America/Los_Angeles",
    source="https://www.aliexpress.com/p/buyerprotection/index.html",
    checked=date(2026, 11, 26),
    rules={
        # 15 days after confirming receipt, or after the delivery countdown runs out.
        RuleName.DISPUTE_WINDOW: _d(15),
        RuleName.PROTECTION_ENDS: Rule(
            Duration(15, Unit.DAYS), counts_from=(Anchor.EXPECTED_DELIVERY,)
        ),
        RuleName.SELLER_RESPONSE: Rule(Duration(5, Unit.DAYS), Duration(7, Unit.DAYS)),
        # An unanswered dispute goes to AliExpress by itself: the buyer cannot lose by waiting.
        RuleName.ESCALATE_BY: None,
        RuleName.RETURN_SHIP_BY: _d(10),
        RuleName.REFUND_EXPECTED: Rule(
            Duration(3, Unit.BUSINESS_DAYS), Duration(20, Unit.BUSINESS_DAYS)
        ),
        # AliExpress's decision on an escalated dispute is final.
        RuleName.APPEAL_BY: None,
    },
)

BUILT_IN: dict[str, Policy] = {p.name: p for p in (GENERIC, ALIEXPRESS)}

# Marketplaces refundctl knows by name, with or without a policy of their own yet.
KNOWN_MARKETPLACES = ("aliexpress", "amazon", "ebay", "etsy", "paypal", "temu")


def policy_for(marketplace: str) -> Policy:
    """The marketplace's policy, or ``generic`` when it has none."""
    return BUILT_IN.get(marketplace, GENERIC)


def resolve(policy: Policy, name: RuleName) -> ResolvedRule | None:
    """The rule in effect, falling back to ``generic`` (assumed); None if the step is absent."""
    if name in policy.rules:
        rule = policy.rules[name]
        if rule is None:
            return None
        assumed = policy is GENERIC
        return ResolvedRule(
            policy.name, name, rule, assumed, None if assumed else policy.source, policy.timezone
        )
    fallback = GENERIC.rules[name]
    assert fallback is not None, f"generic must define every rule, {name} is missing"
    return ResolvedRule(policy.name, name, fallback, True, None, policy.timezone)


def has_appeals(policy: Policy) -> bool:
    return resolve(policy, RuleName.APPEAL_BY) is not None


def normalize_marketplace(text: str) -> str:
    """Marketplace names are case-insensitive words: ``AliExpress`` is ``aliexpress``."""
    return text.strip().lower()
