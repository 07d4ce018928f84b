"""The deadline index checked against the plain computation, for any ledger.

``assert_index_agrees`` opens a ledger the way a read-only command does and asks, for several
moments, windows, limits and filters, both ways: the index (``Ledger.due``,
``Ledger.most_urgent``) and the plain computation that replays every dispute
(``Ledger.disputes`` and ``open_orders``, then ``views``). They must agree exactly: the same
items, in the same order, with the same JSON. The state machines call it after every step.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import product
from pathlib import Path

from refundctl.config import Config
from refundctl.due import CheckItem, Filters
from refundctl.ledger.connection import Settings
from refundctl.ledger.store import Ledger
from refundctl.render import jsonshape
from refundctl.views import (
    DisputeView,
    OrderView,
    by_urgency,
    check_items,
    dispute_line,
    dispute_view,
    order_view,
    orders_by_urgency,
)

WINDOWS = (timedelta(0), timedelta(hours=36), timedelta(days=400))
SHIFTS = (timedelta(0), -timedelta(days=20), timedelta(days=9, hours=5))


def plain(
    ledger: Ledger, settings: Settings, now: datetime, include_closed: bool, filters: Filters
) -> tuple[list[DisputeView], list[OrderView]]:
    """What the commands computed before the index: every dispute replayed, most urgent first.
    A listing's records carry no history (their state is the stored fold): so neither do these,
    whose state is the replay's, the truth the fold must equal."""
    policy_for = settings.policy_for
    disputes = [
        v
        for v in (
            dispute_view(replace(r, events=(), evidence=()), policy_for, settings.zone, now)
            for r in ledger._disputes(include_closed=include_closed)
        )
        if filters.dispute(v) and (include_closed or v.record.dispute.active or v.deadlines)
    ]
    orders = [
        v
        for v in (order_view(o, policy_for, settings.zone, now) for o in ledger._every_open_order())
        if v.deadlines and filters.order(v.order)
    ]
    return by_urgency(disputes, now), orders_by_urgency(orders, now)


def assert_index_agrees(path: Path, config: Config, now: datetime, filters: list[Filters]) -> None:
    if not path.exists():
        return
    settings = Settings(zone=config.zone(), policy_for=config.policies.for_marketplace)
    with Ledger.open(path, settings, write=False) as ledger:
        assert ledger.index_current
        counted = ledger.conn.execute(
            "SELECT state, n FROM dispute_counts WHERE n != 0 ORDER BY state"
        ).fetchall()
        actual = ledger.conn.execute(
            "SELECT state, count(*) FROM disputes GROUP BY state ORDER BY state"
        ).fetchall()
        assert [tuple(row) for row in counted] == [tuple(row) for row in actual]
        replayed = [
            replace(r, events=(), evidence=()) for r in ledger._disputes(include_closed=True)
        ]
        for shift in SHIFTS:
            moment = now + shift
            # An export's lines, read from the stored state and deadlines, are the lines of
            # every dispute computed in full; and status --json's (below). At two of the
            # moments: they read the stored rows as ``ranked`` does, checked at every one.
            lines_too = shift != SHIFTS[1]
            computed = [
                dispute_line(dispute_view(r, settings.policy_for, settings.zone, moment))
                for r in (replayed if lines_too else ())
            ]
            if lines_too:
                assert list(ledger.each_dispute_line(moment)) == computed, moment
            for chosen in filters:
                for include_closed in (False, True):
                    disputes, orders = plain(ledger, settings, moment, include_closed, chosen)
                    if lines_too and chosen == filters[0]:
                        # status --json's lines, built by SQLite from what is stored, are what
                        # jsonshape makes of the disputes computed in full (which disputes, in
                        # which order, under each filter, is ``ranked``'s, checked below).
                        with ledger.ranked_json(
                            moment,
                            include_closed=include_closed,
                            filters=chosen,
                            shape=lambda *_: "unused",
                        ) as (texts, _):
                            assert [json.loads(t) for t in texts] == [
                                jsonshape.dispute(v, moment) for v in disputes
                            ], (moment, include_closed, chosen)
                    with ledger.ranked(moment, include_closed=include_closed, filters=chosen) as (
                        every,
                        windows,
                    ):
                        assert [
                            dispute_view(r, settings.policy_for, settings.zone, moment, found)
                            for r, found in every
                        ] == disputes
                        assert [
                            order_view(o, settings.policy_for, settings.zone, moment, found)
                            for o, found in windows
                        ] == orders
                    for limit in (2, 1000):
                        top = ledger.most_urgent(
                            moment, limit, include_closed=include_closed, filters=chosen
                        )
                        records, total, shown, total_orders = (
                            top.records,
                            top.disputes,
                            top.orders,
                            top.open_orders,
                        )
                        for record, view in zip(top.records, disputes[:limit], strict=False):
                            stored = top.dispute_deadlines.get(record.id, [])
                            from_index = dispute_view(
                                record, settings.policy_for, settings.zone, moment, stored
                            )
                            assert from_index == view, (moment, limit, chosen)
                        for shown_order, view in zip(top.orders, orders[:limit], strict=False):
                            from_index = order_view(
                                shown_order,
                                settings.policy_for,
                                settings.zone,
                                moment,
                                top.order_deadlines.get(shown_order.order.id, []),
                            )
                            assert from_index == view, (moment, limit, chosen)
                        where = (moment, limit, include_closed, chosen)
                        assert [r.id for r in records] == [v.id for v in disputes][:limit], where
                        assert total == len(disputes), where
                        assert [(o.order, o.refundable) for o in shown] == [
                            (v.order, v.refundable) for v in orders
                        ][:limit], where
                        assert total_orders == len(orders), where
                    if include_closed:
                        continue
                    for window, everything in product(WINDOWS, (False, True)):
                        assert_check_agrees(
                            ledger, disputes, orders, moment, window, chosen, everything
                        )


def assert_check_agrees(
    ledger: Ledger,
    disputes: list[DisputeView],
    orders: list[OrderView],
    moment: datetime,
    window: timedelta,
    chosen: Filters,
    everything: bool,
) -> None:
    """``check``'s items from the index are the plain computation's, and ``check --json``'s
    text joined by SQLite from what each row stores is, byte for byte, what jsonshape makes
    of the items computed in full."""
    where = (moment, window, chosen, everything)
    expected = check_items(disputes, orders, moment, window, everything=everything)
    found = list(ledger.due(moment, moment + window, chosen, everything))
    assert found == expected, where
    lines = list(ledger.due_json(moment, moment + window, chosen, everything, _never_shaped))
    assert "".join(jsonshape.check_text((line.json for line in lines), moment, "w")) == "".join(
        jsonshape.check(expected, moment, "w")
    ), where
    # What check's exit code reads of each item.
    assert [line[:4] for line in lines] == [
        (item.due_at, item.binds, item.name, item.order_no) for item in expected
    ], where


def _never_shaped(item: CheckItem) -> str:
    raise AssertionError(f"computed afresh, though the index is current: {item}")
