"""Each marketplace's rules as data: named durations, what they count from, where they are written.

Pure data and look-ups, no I/O. A ``Policy`` maps rule names to ``Rule`` values; a rule the
marketplace has no published number for is left out and falls back to ``generic``'s assumed
value, labelled as assumed; a rule set to ``None`` is a step the marketplace does not have (no
appeal on AliExpress). A marketplace with no policy here uses ``generic`` and says so. Ranges
("5–7 days") keep both ends: a buyer deadline takes the low end, an other-side one the high end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    # Where the number was read, when it is not on the policy's main page, and what it says.
    note: str | None = None

    def for_binds(self, binds: Binds) -> Duration:
        """The safe end of the range: low for the buyer, high for the other side."""
        if binds is Binds.BUYER or self.upto is None:
            return self.duration
        return self.upto

    def __str__(self) -> str:
        if self.upto is None:
            return str(self.duration)
        if self.upto.unit is self.duration.unit:
            return f"{self.duration.count}–{self.upto}"
        return f"{self.duration}–{self.upto}"


class Origin(StrEnum):
    """Where a rule in effect comes from."""

    BUILT_IN = "built-in"
    CONFIG = "config"
    ASSUMED = "assumed"


@dataclass(frozen=True, slots=True)
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

    @property
    def kind(self) -> RuleKind:
        return RULE_KINDS[self.name]

    @property
    def duration(self) -> Duration:
        return self.rule.for_binds(self.kind.binds)

    @property
    def anchors(self) -> tuple[Anchor, ...]:
        return self.rule.counts_from or self.kind.counts_from


def _d(count: int, unit: Unit = Unit.DAYS, **extra: object) -> Rule:
    return Rule(Duration(count, unit), **extra)  # type: ignore[arg-type]


def _range(low: int, high: int, unit: Unit = Unit.DAYS, **extra: object) -> Rule:
    return Rule(Duration(low, unit), Duration(high, unit), **extra)  # type: ignore[arg-type]


CHECKED = date(2026, 11, 26)
BD = Unit.BUSINESS_DAYS
HOURS = Unit.HOURS

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
        RuleName.REFUND_EXPECTED: _d(20, BD),
        RuleName.APPEAL_BY: _d(7),
    },
)

ALIEXPRESS = Policy(
    name="aliexpress",
    title="AliExpress Buyer Protection",
    timezone="America/Los_Angeles",
    holidays="CN",
    source="https://www.aliexpress.com/p/buyerprotection/index.html",
    checked=CHECKED,
    rules={
        # 15 days after confirming receipt, or after the delivery countdown (PST) runs out.
        RuleName.DISPUTE_WINDOW: _d(15),
        RuleName.PROTECTION_ENDS: _d(15, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        RuleName.SELLER_RESPONSE: _range(5, 7),
        # An unanswered dispute goes to AliExpress by itself: the buyer cannot lose by waiting.
        RuleName.ESCALATE_BY: None,
        RuleName.RETURN_SHIP_BY: _d(10),
        RuleName.REFUND_EXPECTED: _range(3, 20, BD, note="card refunds: 3–20 business days"),
        # AliExpress's decision on an escalated dispute is final.
        RuleName.APPEAL_BY: None,
    },
)

EBAY = Policy(
    name="ebay",
    title="eBay Money Back Guarantee",
    timezone="America/Los_Angeles",
    holidays="US",
    source=(
        "https://www.ebay.com/help/policies/ebay-money-back-guarantee-policy/"
        "ebay-money-back-guarantee-policy?id=4210"
    ),
    checked=CHECKED,
    rules={
        # 30 days after the actual, else the latest estimated, delivery date.
        RuleName.DISPUTE_WINDOW: _d(30),
        RuleName.PROTECTION_ENDS: _d(30, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        RuleName.SELLER_RESPONSE: _d(3, BD),
        # A request nobody asks eBay to step into may close after 21 business days.
        RuleName.ESCALATE_BY: _d(21, BD),
        RuleName.RETURN_REFUND_DUE: _d(2, BD, note="sellers refund within 2 business days"),
        RuleName.REFUND_EXPECTED: _range(3, 5, BD),
        RuleName.APPEAL_BY: _d(
            30,
            note="https://www.ebay.com/help/selling/managing-returns-refunds/"
            "appeal-ebays-decision-return-missing-item-sellers?id=5123",
        ),
    },
)

AMAZON = Policy(
    name="amazon",
    title="Amazon A-to-z Guarantee",
    timezone="America/Los_Angeles",
    holidays="US",
    source="https://www.amazon.com/gp/help/customer/display.html?nodeId=GQ37ZCNECJKTFYQV",
    checked=CHECKED,
    rules={
        # 90 days after the latest estimated delivery date; receipt stands in when unknown.
        RuleName.DISPUTE_WINDOW: _d(90, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        RuleName.PROTECTION_ENDS: _d(90, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        # Contact the seller first and give them 48 hours before a claim.
        RuleName.SELLER_RESPONSE: _d(48, HOURS),
        RuleName.APPEAL_BY: _d(30),
    },
)

PAYPAL = Policy(
    name="paypal",
    title="PayPal Buyer Protection",
    timezone="America/Los_Angeles",
    holidays="US",
    source="https://www.paypal.com/us/legalhub/paypal/useragreement-full",
    checked=CHECKED,
    rules={
        # 180 days from the payment, received or not.
        RuleName.DISPUTE_WINDOW: _d(180, counts_from=(Anchor.PAYMENT,)),
        RuleName.PROTECTION_ENDS: _d(180, counts_from=(Anchor.PAYMENT,)),
        RuleName.SELLER_RESPONSE: _d(10),
        RuleName.ESCALATE_BY: _d(20),
        RuleName.BUYER_RESPONSE: _d(10),
    },
)

ETSY = Policy(
    name="etsy",
    title="Etsy Purchase Protection",
    timezone="America/New_York",
    holidays="US",
    source="https://help.etsy.com/hc/en-us/articles/360016126873",
    checked=CHECKED,
    rules={
        # A case can be opened up to 100 days after the estimated delivery date.
        RuleName.DISPUTE_WINDOW: _d(100, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        RuleName.PROTECTION_ENDS: _d(100, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        # Message the seller and wait 48 hours; once a case is open they have 3 days.
        RuleName.SELLER_RESPONSE: _range(48, 72, HOURS),
    },
)

TEMU = Policy(
    name="temu",
    title="Temu Return and Refund Policy",
    timezone=None,
    holidays="US",
    source="https://www.temu.com/return-and-refund-policy.html",
    checked=CHECKED,
    rules={
        # 90 days from the date of purchase.
        RuleName.DISPUTE_WINDOW: _d(90, counts_from=(Anchor.PAYMENT,)),
        RuleName.PROTECTION_ENDS: _d(90, counts_from=(Anchor.PAYMENT,)),
    },
)

BUILT_IN: dict[str, Policy] = {
    p.name: p for p in (GENERIC, ALIEXPRESS, AMAZON, EBAY, ETSY, PAYPAL, TEMU)
}

# Marketplaces refundctl knows by name: the built-in policies.
KNOWN_MARKETPLACES = tuple(name for name in BUILT_IN if name != "generic")


def policy_for(marketplace: str) -> Policy:
    """The built-in policy of a marketplace, or ``generic`` when it has none."""
    return BUILT_IN.get(marketplace, GENERIC)


def resolve(policy: Policy, name: RuleName) -> ResolvedRule | None:
    """The rule in effect, falling back to ``generic`` (assumed); None if the step is absent."""
    if name in policy.rules:
        rule = policy.rules[name]
        if rule is None:
            return None
        if name in policy.from_config:
            origin, assumed = Origin.CONFIG, False
        elif policy.name == GENERIC.name:
            origin, assumed = Origin.ASSUMED, True
        else:
            origin, assumed = Origin.BUILT_IN, False
        source = None if assumed else (rule.note if _is_url(rule.note) else policy.source)
        if origin is Origin.CONFIG:
            source = None
        return ResolvedRule(
            policy.name, name, rule, assumed, source, policy.timezone, policy.holidays, origin
        )
    generic = policy.fallback or GENERIC
    fallback = generic.rules.get(name)
    if fallback is None:  # the config's generic switched the step off: use the built-in one
        generic, fallback = GENERIC, GENERIC.rules[name]
    assert fallback is not None, f"generic must define every rule, {name} is missing"
    origin = Origin.CONFIG if name in generic.from_config else Origin.ASSUMED
    return ResolvedRule(
        policy.name,
        name,
        fallback,
        origin is Origin.ASSUMED,
        None,
        policy.timezone,
        policy.holidays,
        origin,
    )


def _is_url(text: str | None) -> bool:
    return text is not None and text.startswith("https://")


def has_appeals(policy: Policy) -> bool:
    return resolve(policy, RuleName.APPEAL_BY) is not None


def normalize_marketplace(text: str) -> str:
    """Marketplace names are case-insensitive words: ``AliExpress`` is ``aliexpress``."""
    return text.strip().lower()


@dataclass(frozen=True, slots=True)
class Policies:
    """The policies in effect: the built-in table with the config file's overrides on top."""

    by_name: Mapping[str, Policy]

    def for_marketplace(self, marketplace: str) -> Policy:
        return self.by_name.get(marketplace, self.by_name["generic"])

    def names(self) -> list[str]:
        return sorted(self.by_name)


def with_overrides(overrides: Mapping[str, Mapping[str, object]]) -> Policies:
    """Apply already-validated overrides: per marketplace, rule name → ``Rule | None``, and
    ``timezone`` / ``holidays`` → ``str | None``. A new name starts from ``generic``."""
    table = dict(BUILT_IN)
    for name, settings in overrides.items():
        base = table.get(name) or Policy(
            name=name, title="From your config file", timezone=None, rules={}
        )
        rules = dict(base.rules)
        changed = set()
        timezone, holidays = base.timezone, base.holidays
        for key, value in settings.items():
            changed.add(key)
            if key == "timezone":
                timezone = value if isinstance(value, str) else None
            elif key == "holidays":
                holidays = value if isinstance(value, str) else None
            else:
                assert value is None or isinstance(value, Rule)
                rules[RuleName(key)] = value
        table[name] = Policy(
            name=name,
            title=base.title,
            timezone=timezone,
            rules=rules,
            source=base.source,
            checked=base.checked,
            holidays=holidays,
            from_config=base.from_config | frozenset(changed),
        )
    generic = table[GENERIC.name]
    if generic is not GENERIC:
        table = {
            name: policy if name == GENERIC.name else replace(policy, fallback=generic)
            for name, policy in table.items()
        }
    return Policies(table)


DEFAULT_POLICIES = Policies(BUILT_IN)
