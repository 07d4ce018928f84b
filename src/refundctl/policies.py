"""The policies in effect and their look-ups: a marketplace's built-in policy, the rule in
effect for it (falling back to ``generic``'s assumed value, labelled as assumed), and the
config file's overrides on top of the built-in table. Pure, no I/O. What a policy is made of
lives in policy_types.py and the marketplaces' built-in rules in marketplace_rules.py; the
rest of refundctl imports both from here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace

from refundctl.marketplace_rules import (
    ALIEXPRESS,
    ALIEXPRESS_STEPS,
    AMAZON,
    AMAZON_CLAIMS,
    BUILT_IN,
    CHECKED,
    EBAY,
    EBAY_NOT_RECEIVED,
    EBAY_STEP_IN,
    ETSY,
    GENERIC,
    KNOWN_MARKETPLACES,
    PAYPAL,
    PAYPAL_ESCALATE,
    TEMU,
)
from refundctl.policy_types import (
    EARLIEST_RULES,
    OPTIONAL_RULES,
    RULE_KINDS,
    Anchor,
    Binds,
    CoverLimit,
    IfMissed,
    Origin,
    Policy,
    ResolvedRule,
    Rule,
    RuleKind,
    RuleName,
    action_text,
)

# Imported from here by the rest of refundctl (and its tests), though they live in the two
# modules above: one place to import a policy's names from, whichever module holds them.
__all__ = [
    "ALIEXPRESS",
    "ALIEXPRESS_STEPS",
    "AMAZON",
    "AMAZON_CLAIMS",
    "BUILT_IN",
    "CHECKED",
    "EARLIEST_RULES",
    "EBAY",
    "EBAY_NOT_RECEIVED",
    "EBAY_STEP_IN",
    "ETSY",
    "GENERIC",
    "KNOWN_MARKETPLACES",
    "OPTIONAL_RULES",
    "PAYPAL",
    "PAYPAL_ESCALATE",
    "RULE_KINDS",
    "TEMU",
    "Anchor",
    "Binds",
    "CoverLimit",
    "IfMissed",
    "Origin",
    "Policy",
    "ResolvedRule",
    "Rule",
    "RuleKind",
    "RuleName",
    "action_text",
]


def policy_for(marketplace: str) -> Policy:
    """The built-in policy of a marketplace, or ``generic`` when it has none."""
    return BUILT_IN.get(marketplace, GENERIC)


def market_name(marketplace: str) -> str:
    """How people write a marketplace's name: ``aliexpress`` is AliExpress."""
    found = BUILT_IN.get(marketplace)
    return marketplace if found is None or found is GENERIC else found.market


@functools.lru_cache(maxsize=1024)
def resolve(policy: Policy, name: RuleName) -> ResolvedRule | None:
    """The rule in effect, falling back to ``generic`` (assumed); None if the step is absent.
    Cached: every deadline of every order asks, and the answer is the same for the policy."""
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
            policy.name,
            name,
            rule,
            assumed,
            source,
            policy.timezone,
            policy.holidays,
            origin,
            policy.market,
        )
    generic = policy.fallback or GENERIC
    if name not in generic.rules:
        generic = GENERIC
    fallback = generic.rules[name]
    if fallback is None and generic is not GENERIC and name not in OPTIONAL_RULES:
        generic, fallback = GENERIC, GENERIC.rules[name]  # the config's generic switched it off
    if fallback is None:
        return None  # a step generic assumes nowhere
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
        policy.market,
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
    ``timezone`` / ``holidays`` → ``str | None``. A new name starts from ``generic``.

    An override changes a rule's numbers; what the built-in rule counts from, what happens
    when it passes and its other readings stay as they were."""
    table = dict(BUILT_IN)
    for name, settings in overrides.items():
        base = table.get(name) or Policy(
            name=name, title="From your config file", timezone=None, rules={}, market=name
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
                rules[RuleName(key)] = _overridden(base.rules.get(RuleName(key)), value)
        table[name] = Policy(
            name=name,
            title=base.title,
            timezone=timezone,
            rules=rules,
            source=base.source,
            checked=base.checked,
            holidays=holidays,
            from_config=base.from_config | frozenset(changed),
            market=base.market,
            cover_limit=base.cover_limit,
        )
    generic = table[GENERIC.name]
    if generic is not GENERIC:
        table = {
            name: policy if name == GENERIC.name else replace(policy, fallback=generic)
            for name, policy in table.items()
        }
    return Policies(table)


def _overridden(built_in: Rule | None, new: Rule | None) -> Rule | None:
    if new is None or built_in is None:
        return new
    return replace(built_in, duration=new.duration, upto=new.upto, note=None)


DEFAULT_POLICIES = Policies(BUILT_IN)
