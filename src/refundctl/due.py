"""What is due, told without the dispute model: what ``check`` and the stored deadlines need.

``CheckItem`` is one deadline as ``check`` lists it (``CheckLine`` as ``--json`` prints it),
``Filters`` what a listing is narrowed by, and ``basis`` the fingerprint of everything a
computed deadline depends on (the policy values, the buyer's zone, the holiday data and
``DEADLINE_CODE_VERSION``). They live apart from deadlines.py and views.py, which use them,
so that ``check`` can answer from the ledger's stored deadlines without loading the domain
model at all: start-up is most of its cost.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from refundctl.timeparse import holiday_data_version, zone_identity

if TYPE_CHECKING:
    from refundctl.policies import Policy
    from refundctl.records import Order
    from refundctl.views import DisputeView


class CheckItem(NamedTuple):
    """One deadline that needs attention, with just what ``check`` prints about it.

    Flat, so that the ledger's deadline index can hand out thousands of them straight from
    its rows without rebuilding each dispute: ``due_at`` is the due time in whole seconds
    since the epoch, ``due_text`` the same in ISO 8601 (UTC), ``rule`` the rule's JSON text
    (``RuleRef.json_text``).
    """

    kind: str  # "dispute" or "order"
    dispute_id: int | None
    order_id: int
    order_no: str
    marketplace: str
    name: str
    due_at: int
    due_text: str
    binds: str
    action: str
    rule: str
    if_missed: str

    @property
    def due(self) -> datetime:
        return datetime.fromtimestamp(self.due_at, UTC)

    def overdue(self, now: datetime) -> bool:
        return self.due <= now

    @property
    def assumed(self) -> bool:
        """The rule behind it is refundctl's assumption, not a published value."""
        import json

        return bool(json.loads(self.rule)["assumed"])


class CheckLine(NamedTuple):
    """One item of ``check --json`` as its JSON text, beside what ``check``'s exit code reads
    of it (``due_at``, ``binds``, ``name``: its ``CheckItem``'s) and the order it concerns.
    The ledger's SQLite joins the text from what each stored deadline keeps
    (``deadline_index.due_json``), so that no item of a long list is built field by field."""

    due_at: int
    binds: str
    name: str
    order_no: str
    json: str


# The other side's deadlines whose passing asks nothing of the buyer: the platform already
# holds the case and decides without the seller's answer. `check` lists them, and exits 0.
NOTHING_TO_DO_WHEN_PASSED = frozenset({"claim_response"})


# Bump when the code that computes deadlines changes what it computes, or when the text of a
# check --json item changes (jsonshape.check_parts, stored with each deadline): stored
# deadlines computed by an older version are then recomputed (DESIGN.md: a stored deadline is
# a cache).
# Version 5: the remedies beyond the marketplace (remedy_rules.py, built in: this version
# stands for their values) and the disputes filed through a rail.
DEADLINE_CODE_VERSION = "5"


def basis(policy: Policy, zone: tzinfo, paypal: Policy | None = None) -> str:
    """What a marketplace's stored deadlines depend on: the policy's values (built-in and
    from the config), the buyer's zone, the holiday data and this code; and PayPal's policy
    (``paypal``), by which a PayPal claim on any marketplace's order moves. Kept whole rather
    than hashed: a few kilobytes per marketplace, compared exactly, and no hash module to
    load."""
    holidays = _uses_holidays(policy) or (paypal is not None and _uses_holidays(paypal))
    return "\n".join(
        (
            DEADLINE_CODE_VERSION,
            _policy_facts(policy),
            zone_identity(zone),
            holiday_data_version() if holidays else "",
            "" if paypal is None or paypal is policy else _policy_facts(paypal),
        )
    )


def _policy_facts(policy: Policy) -> str:
    """A policy's values as text that is the same in every process: its sets sorted (the
    order of a frozenset's repr varies with the hash seed) and its rules by name (the config
    file's order does not matter)."""
    rules = sorted((str(name), repr(rule)) for name, rule in policy.rules.items())
    fallback = "" if policy.fallback is None else _policy_facts(policy.fallback)
    return repr(
        (
            policy.name,
            policy.timezone,
            policy.holidays,
            policy.source,
            str(policy.checked),
            rules,
            sorted(policy.from_config),
            fallback,
        )
    )


def _uses_holidays(policy: Policy) -> bool:
    return policy.holidays is not None or (
        policy.fallback is not None and policy.fallback.holidays is not None
    )


# Immutable records on the way of every `check` are NamedTuples rather than frozen dataclasses:
# Python builds such a class in a tenth of the time, and start-up is most of what `check` costs.
def seller_matches(wanted: str, seller: str | None) -> bool:
    """``--seller``'s test: the seller's name contains the words asked, in any case."""
    return wanted.casefold() in (seller or "").casefold()


class Filters(NamedTuple):
    """What scripts ask of a listing: one marketplace, some states, a seller, a time span.

    ``since``/``until`` bound when a dispute was opened, or when an order was placed.
    """

    marketplace: str | None = None
    states: frozenset[str] = frozenset()
    seller: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def _order_ok(self, order: Order, moment: datetime | None) -> bool:
        if self.marketplace is not None and order.marketplace != self.marketplace:
            return False
        if self.seller is not None and not seller_matches(self.seller, order.seller):
            return False
        if self.since is not None and (moment is None or moment < self.since):
            return False
        return not (self.until is not None and (moment is None or moment > self.until))

    def dispute(self, view: DisputeView) -> bool:
        if self.states and str(view.record.dispute.state) not in self.states:
            return False
        return self._order_ok(view.record.order, view.record.dispute.opened_at)

    def order(self, order: Order) -> bool:
        # An order has no dispute state: asking for states keeps only disputes.
        return not self.states and self._order_ok(order, order.ordered)
