"""``status --json``'s disputes, each one's JSON joined from text the ledger stores.

A dispute's line is the head stored with it (``dispute_lines``: its facts, its order's and
what the order's other disputes took, as ``render/jsonshape.dispute_head`` wrote them when
any of those last changed), the policy in effect, its stored deadlines and its escalation
time, joined in two queries per batch (the heads; the deadlines in one pass, spliced in): no
dispute is replayed or decoded, no deadline computed, no JSON parsed, no Python called back
from SQLite for each dispute. A dispute whose head is not stored (rows written around the
ledger layer) has it made from its record. The keys and values are those of
``render/jsonshape.dispute``; ``tests/index_oracle.py`` holds every line to it after every
step of the random ledgers. Used only while the stored deadlines are current
(``Cache.ranked_json``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from refundctl.ledger.deadline_index import NEXT_ORDER, shown_sql
from refundctl.ledger.deadline_index import _active_sql as active_sql
from refundctl.ledger.deadline_index import _seconds as seconds
from refundctl.money import exponent
from refundctl.policies import Policy

_PLACES: dict[str, int] = {}


def _money(minor: int | None, currency: str) -> str | None:
    """``to_json(from_minor(minor, currency))`` in integer arithmetic: it runs for every
    order of a listing (tests/test_status_lines.py holds the two equal)."""
    if minor is None:
        return None
    places = _PLACES.get(currency)
    if places is None:
        places = _PLACES[currency] = exponent(currency)
    if places == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{places}d}"


def register_money(conn: sqlite3.Connection) -> None:
    """``refundctl_money(minor, currency)``: money as the JSON contract spells it."""
    conn.create_function("refundctl_money", 2, _money, deterministic=True)


# What a dispute's stored head leaves out: the policy it moves by (from the config in
# effect), as JSON text, by marketplace and rail; and the rail.
PolicyText = Callable[[str, str | None], str]
# The row of ``dispute_lines`` (id, marketplace, rail, head) of disputes that have none stored.
Heads = Callable[[Sequence[int]], Iterable[tuple[int, str, str | None, str]]]


def policy_text(policy_for: Callable[[str], Policy]) -> PolicyText:
    """``remedies.dispute_policy``'s name as JSON text, looked up once per marketplace and
    rail."""

    @functools.cache
    def text(marketplace: str, via: str | None) -> str:
        from refundctl.remedies import dispute_policy

        name = dispute_policy(via, marketplace, policy_for).name
        via_text = "null" if via is None else json.dumps(via, ensure_ascii=False)
        return f',"policy":{json.dumps(name, ensure_ascii=False)},"via":{via_text}'

    return text


# One stored deadline as jsonshape.deadline shapes it, as JSON text: every string through
# json_quote, the rule as the index stored it (JSON already), so that no JSON is parsed.
_DEADLINE = """'{"name":' || json_quote(d.name)
    || ',"due":"' || strftime('%Y-%m-%dT%H:%M:%S+00:00', d.due_at, 'unixepoch')
    || '","binds":' || json_quote(d.binds)
    || ',"action":' || json_quote(d.action)
    || ',"overdue":' || CASE WHEN d.due_at <= :now THEN 'true' ELSE 'false' END
    || ',"if_missed":' || json_quote(d.if_missed)
    || ',"rule":' || d.rule || '}'"""
_HEADS = """
SELECT h.dispute_id, h.marketplace, h.via, h.head FROM dispute_lines h
WHERE h.dispute_id IN ({ids})
"""
_ESCALATION = """
SELECT e.dispute_id, '"' || strftime('%Y-%m-%dT%H:%M:%S+00:00', e.at, 'unixepoch')
    || '","can_escalate_rule":' || e.rule
FROM escalation e WHERE e.dispute_id IN ({ids})
"""
# The batch's deadlines in one pass, each dispute's in their stored order: whether the row is
# on show, whether it is a passed one that loses an active case (views.DisputeView.
# likely_closed: then no escalation time is shown), its JSON text, and its place among the
# dispute's rows on show in deadlines.next_deadline's order (1: the next one).
_DEADLINES = """
SELECT d.dispute_id, {shown} AS shown,
    s.state IN ({active}) AND d.first_lapse = 1 AND d.due_at <= :now, {deadline},
    row_number() OVER (PARTITION BY d.dispute_id ORDER BY NOT ({shown}), {next_order})
FROM deadlines d JOIN disputes s ON s.id = d.dispute_id
WHERE d.dispute_id IN ({ids})
ORDER BY d.dispute_id, d.position
"""


def dispute_lines(
    conn: sqlite3.Connection,
    ids: Sequence[int],
    now: datetime,
    policy: PolicyText,
    heads: Heads,
) -> dict[int, str]:
    """The JSON text of each of these disputes (that exists), by id; ``heads`` makes the
    heads the ledger has not stored."""
    if not ids:
        return {}
    parts = {
        "deadline": _DEADLINE,
        "shown": shown_sql(),
        "next_order": NEXT_ORDER,
        "active": active_sql(),
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
    escalations = dict(conn.execute(_ESCALATION.format(**parts), params).fetchall())
    found = {row[0]: row[1:] for row in conn.execute(_HEADS.format(**parts), params)}
    if missing := [i for i in ids if i not in found]:
        found.update((row[0], row[1:]) for row in heads(missing))
    lines = {}
    for dispute_id, (marketplace, via, head) in found.items():
        escalation = escalations.get(dispute_id)
        if escalation is None or dispute_id in lost:
            escalation = 'null,"can_escalate_rule":null'
        lines[dispute_id] = (
            f'{head}{policy(marketplace, via)},"deadline":{first.get(dispute_id, "null")},'
            f'"deadlines":[{",".join(shown.get(dispute_id, ()))}],'
            f'"can_escalate_from":{escalation}}}'
        )
    return lines
