"""``status --json``'s disputes, each one's JSON built by SQLite from what the ledger stores.

A dispute's line is its stored state (the columns and the fold), its order's columns, what
the order's other disputes took, and its stored deadlines and escalation time, joined as JSON
text in two queries per batch (the disputes; their deadlines in one pass, spliced in): no
dispute is replayed or decoded, no deadline computed, no JSON parsed. The domain's own rules
come in as SQL functions (what a dispute took of its order, money as the JSON contract spells
it) or as SQL written from the domain's own table (who a state waits on), so they are written
once. The keys and values are those of ``render/jsonshape.dispute``; ``tests/index_oracle.py``
holds every line to it after every step of the random ledgers. Used only while the stored
deadlines are current (``Cache.ranked_json``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from refundctl.domain import WAITING_ON, State, shortfall_of, taken_from_order
from refundctl.ledger.deadline_index import NEXT_ORDER, shown_sql
from refundctl.ledger.deadline_index import _active_sql as active_sql
from refundctl.ledger.deadline_index import _seconds as seconds
from refundctl.money import exponent
from refundctl.policies import Policy


def _took(state: str, agreed: int | None, refunded: int | None) -> int:
    """``domain.taken_from_order`` in minor units (it only chooses among them)."""
    taken = taken_from_order(
        State(state),
        None if agreed is None else Decimal(agreed),
        None if refunded is None else Decimal(refunded),
    )
    return int(taken)


_PLACES: dict[str, int] = {}


def _money(minor: int | None, currency: str) -> str | None:
    """``to_json(from_minor(minor, currency))`` in integer arithmetic: it runs several times
    for every dispute of the listing (tests/test_status_lines.py holds the two equal)."""
    if minor is None:
        return None
    places = _PLACES.get(currency)
    if places is None:
        places = _PLACES[currency] = exponent(currency)
    if places == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{places}d}"


def _shortfall(state: str, agreed: int | None, refunded: int | None, currency: str) -> str | None:
    """``domain.shortfall``, from the stored columns (in minor units: it only subtracts)."""
    missing = shortfall_of(
        State(state),
        None if agreed is None else Decimal(agreed),
        None if refunded is None else Decimal(refunded),
    )
    return None if missing is None else _money(int(missing), currency)


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _capped(left: int, item_value: int | None) -> int:
    """``rows.left``: what is left, at most the item's value where it has one."""
    return left if item_value is None else min(left, item_value)


def _wanted(text: str | None) -> str | None:
    """An item's name as ``Order.item`` looks it up."""
    return None if text is None else text.strip().casefold()


def register_money(conn: sqlite3.Connection) -> None:
    """``refundctl_money(minor, currency)``: money as the JSON contract spells it."""
    conn.create_function("refundctl_money", 2, _money, deterministic=True)


def register(conn: sqlite3.Connection, policy_for: Callable[[str], Policy]) -> None:
    policies: dict[tuple[str, str | None], str] = {}

    def policy_name(marketplace: str, via: str | None) -> str:
        """``remedies.dispute_policy``'s name: the marketplace's, or the rail's."""
        found = policies.get((marketplace, via))
        if found is None:
            from refundctl.remedies import dispute_policy

            found = dispute_policy(via, marketplace, policy_for).name
            policies[marketplace, via] = found
        return found

    register_money(conn)
    conn.create_function("refundctl_took", 3, _took, deterministic=True)
    conn.create_function("refundctl_shortfall", 4, _shortfall, deterministic=True)
    conn.create_function("refundctl_casefold", 1, _casefold, deterministic=True)
    conn.create_function("refundctl_capped", 2, _capped, deterministic=True)
    conn.create_function("refundctl_wanted", 1, _wanted, deterministic=True)
    conn.create_function("refundctl_policy", 2, policy_name)


# One stored deadline as jsonshape.deadline shapes it, as JSON text: every string through
# json_quote, the rule as the index stored it (JSON already), so that no JSON is parsed.
_DEADLINE = """'{"name":' || json_quote(d.name)
    || ',"due":"' || strftime('%Y-%m-%dT%H:%M:%S+00:00', d.due_at, 'unixepoch')
    || '","binds":' || json_quote(d.binds)
    || ',"action":' || json_quote(d.action)
    || ',"overdue":' || CASE WHEN d.due_at <= :now THEN 'true' ELSE 'false' END
    || ',"if_missed":' || json_quote(d.if_missed)
    || ',"rule":' || d.rule || '}'"""
# What the order's other disputes took of it.
_OTHERS = """(SELECT coalesce(sum(refundctl_took(x.state, x.agreed, x.refunded)), 0)
    FROM disputes x WHERE x.order_id = s.order_id AND x.id != s.id)"""
# The value of the dispute's item (as Order.item finds it; NULL when it has no price).
_ITEM_VALUE = """(SELECT i.price * i.quantity FROM order_items i
    WHERE i.order_id = s.order_id AND refundctl_casefold(i.name) = refundctl_wanted(s.item)
    ORDER BY i.position LIMIT 1)"""


@functools.cache
def _waiting_on_sql() -> str:
    """``WAITING_ON`` as a CASE on ``s.state``, JSON text: the table itself, not a function
    called back for every dispute."""
    cases = " ".join(
        f"WHEN '{state}' THEN '{'null' if who is None else json.dumps(who)}'"
        for state, who in WAITING_ON.items()
    )
    return f"CASE s.state {cases} END"


# Each line is JSON text joined from its parts (strings through json_quote, the stored rules
# spliced in as they are), so that SQLite parses no JSON: the part before its deadlines, and
# the escalation time after them. What a dispute needs twice (what the order's other disputes
# took, its item's value) is worked out once per dispute, in the materialised ``s``.
_QUERY = """
WITH s AS MATERIALIZED (
    SELECT s.*, {others} AS others_took, {item_value} AS item_value
    FROM disputes s WHERE s.id IN ({ids}))
SELECT s.id, '{{"id":' || s.id
    || ',"order":' || json_quote(o.order_no)
    || ',"marketplace":' || json_quote(o.marketplace)
    || ',"seller":' || json_quote(o.seller)
    || ',"item":' || json_quote(s.item)
    || ',"reason":' || json_quote(s.reason)
    || ',"state":' || json_quote(s.state)
    || ',"waiting_on":' || {waiting_on}
    || ',"currency":' || json_quote(o.currency)
    || ',"requested":' || json_quote(refundctl_money(s.requested, o.currency))
    || ',"offer":' || json_quote(refundctl_money(s.offer, o.currency))
    || ',"offer_kind":' || json_quote(json_extract(s.folded, '$.offer_kind'))
    || ',"agreed":' || json_quote(refundctl_money(s.agreed, o.currency))
    || ',"refunded":' || json_quote(refundctl_money(s.refunded, o.currency))
    || ',"shortfall":' || json_quote(refundctl_shortfall(s.state, s.agreed, s.refunded,
        o.currency))
    || ',"credit":' || CASE WHEN json_extract(s.folded, '$.credit') THEN 'true' ELSE 'false' END
    || ',"refundable":' || json_quote(refundctl_money(
        o.total - s.others_took - refundctl_took(s.state, s.agreed, s.refunded), o.currency))
    || ',"max_ask":' || json_quote(refundctl_money(
        CASE WHEN s.item IS NULL THEN o.total - s.others_took
             ELSE refundctl_capped(o.total - s.others_took, s.item_value) END, o.currency))
    || ',"case_ref":' || json_quote(s.case_ref)
    || ',"opened":' || json_quote(s.opened_at)
    || ',"policy":' || json_quote(refundctl_policy(o.marketplace, s.via))
    || ',"via":' || json_quote(s.via),
    s.state IN ({active}),
    CASE WHEN e.at IS NULL THEN NULL
        ELSE '"' || strftime('%Y-%m-%dT%H:%M:%S+00:00', e.at, 'unixepoch')
            || '","can_escalate_rule":' || e.rule END
FROM s
JOIN orders o ON o.id = s.order_id
LEFT JOIN escalation e ON e.dispute_id = s.id
"""
# The batch's deadlines in one pass, each dispute's in their stored order: whether the row is
# on show, whether it is a passed one that loses the case (views.DisputeView.likely_closed:
# then no escalation time is shown), its JSON text, and its place among the dispute's rows
# on show in deadlines.next_deadline's order (1: the next one).
_DEADLINES = """
SELECT d.dispute_id, {shown} AS shown, d.first_lapse = 1 AND d.due_at <= :now, {deadline},
    row_number() OVER (PARTITION BY d.dispute_id ORDER BY NOT ({shown}), {next_order})
FROM deadlines d JOIN disputes s ON s.id = d.dispute_id
WHERE d.dispute_id IN ({ids})
ORDER BY d.dispute_id, d.position
"""


def dispute_lines(conn: sqlite3.Connection, ids: Sequence[int], now: datetime) -> dict[int, str]:
    """The JSON text of each of these disputes (that exists), by id. ``register`` first."""
    if not ids:
        return {}
    parts = {
        "deadline": _DEADLINE,
        "shown": shown_sql(),
        "next_order": NEXT_ORDER,
        "active": active_sql(),
        "others": _OTHERS,
        "item_value": _ITEM_VALUE,
        "waiting_on": _waiting_on_sql(),
        "ids": ", ".join(f":i{n}" for n in range(len(ids))),
    }
    params: dict[str, object] = {f"i{n}": i for n, i in enumerate(ids)}
    params["now"] = seconds(now)
    shown: dict[int, list[str]] = {}
    first: dict[int, str] = {}
    lost: set[int] = set()
    for dispute_id, on_show, loses, text, place in conn.execute(_DEADLINES.format(**parts), params):
        if loses:
            lost.add(dispute_id)
        if on_show:
            shown.setdefault(dispute_id, []).append(text)
            if place == 1:
                first[dispute_id] = text
    lines = {}
    for dispute_id, head, active, escalation in conn.execute(_QUERY.format(**parts), params):
        if escalation is None or (active and dispute_id in lost):
            escalation = 'null,"can_escalate_rule":null'
        lines[dispute_id] = (
            f'{head},"deadline":{first.get(dispute_id, "null")},'
            f'"deadlines":[{",".join(shown.get(dispute_id, ()))}],'
            f'"can_escalate_from":{escalation}}}'
        )
    return lines
