"""The deadline index: every open deadline stored in the ``deadlines`` table, and its queries.

``check`` and ``status`` read a range of this index instead of replaying every dispute and
recomputing its deadlines on every run, so their cost follows what they show, not the size of
the ledger. The rows are a cache (DESIGN.md): the ledger rewrites a dispute's rows in the same
transaction as the event that changed it, an order's rows with the order, and a marketplace's
rows whenever ``deadline_basis`` says they were computed with other policy values, another
zone or other holiday data than those in effect. Each row also keeps the text of its
``check --json`` item but for what depends on "now", so that ``check`` prints it as stored.
The queries order rows exactly as ``views.urgency`` does; tests compare both on random
ledgers.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from refundctl.due import CheckItem, CheckLine, Filters
from refundctl.errors import LedgerDamaged
from refundctl.ledger.schema import insert_sql
from refundctl.timeparse import iso

if TYPE_CHECKING:
    from refundctl.deadlines import Deadline
    from refundctl.records import Order

DAY = 86400


@functools.cache
def _active_sql() -> str:
    """The active states as an SQL list. The domain model is imported where rows are built
    or disputes ranked, never at the top: ``check`` reads the rows without it."""
    from refundctl.domain import ACTIVE

    return ", ".join(f"'{s}'" for s in sorted(str(s) for s in ACTIVE))


# views.urgency in SQL, for a deadline row ``d`` (NULL when a dispute has none): overdue ones
# that bind the buyer, then other overdue ones, then by whole days left; then the money at
# stake, largest first; then the due time. A passed row that lapses (a closed dispute's appeal
# window, a received order's window) counts as no deadline. :now is seconds since the epoch.
_GONE = "(d.due_at IS NULL OR (d.lapses = 1 AND d.due_at <= :now))"
_URGENCY = f"""
    CASE WHEN {_GONE} THEN 3 WHEN d.due_at <= :now THEN 1 - d.buyer ELSE 2 END,
    CASE WHEN {_GONE} OR d.due_at <= :now THEN 0
         ELSE CAST((d.due_at - :now) / 86400 AS INTEGER) END,
    CASE WHEN {_GONE} THEN 0 ELSE coalesce(d.stake, 0) END DESC,
    CASE WHEN {_GONE} THEN NULL ELSE d.due_at END
"""
COLUMNS = (
    *("due_at", "order_id", "dispute_id", "position", "name", "buyer", "binds"),
    *("action", "rule", "stake", "lapses", "order_no", "marketplace", "if_missed"),
    *("lapse_at", "first_lapse", "check_head", "check_tail"),
)
_COLUMNS = ", ".join(COLUMNS)


def rows_for(
    order: Order,
    dispute_id: int | None,
    deadlines: Sequence[Deadline],
    stake: Decimal,
    *,
    lapses: bool,
    order_id: int | None = None,
) -> list[tuple[object, ...]]:
    """The index rows of one dispute's (or one order's) deadlines, earliest first;
    ``order_id`` stands in for ``order.id`` while an order is being inserted."""
    from refundctl.deadline_types import REMEDY_DEADLINES
    from refundctl.policies import Binds
    from refundctl.render.jsonshape import check_parts

    kind = "dispute" if dispute_id else "order"
    losing = [d for d in deadlines if d.closes_case]
    # deadlines.live: the first deadline that loses the case (deadlines come earliest first);
    # a remedy's window stays on show past it (no lapse_at).
    first = losing[0] if losing and dispute_id else None
    lapse_at = None if first is None else int(first.due.timestamp())
    owner = order.id if order_id is None else order_id
    rows: list[tuple[object, ...]] = []
    for position, d in enumerate(deadlines):
        # As check lists it (views.check_item). Deadlines count from times the ledger stored
        # to the second, so they are whole seconds too.
        item = CheckItem(
            kind=kind,
            dispute_id=dispute_id or None,
            order_id=owner or 0,
            order_no=order.order_no,
            marketplace=order.marketplace,
            name=d.name,
            due_at=int(d.due.timestamp()),
            due_text=iso(d.due),
            binds=str(d.binds),
            action=d.action,
            rule=d.rule.json_text(),
            if_missed=str(d.if_missed),
        )
        head, tail = check_parts(item)  # its check --json text, but for the rule and "overdue"
        rows.append(
            (
                item.due_at,
                owner,
                dispute_id or 0,
                position,
                item.name,
                int(d.binds is Binds.BUYER),
                item.binds,
                item.action,
                item.rule,
                float(stake),  # a sort key only (urgency compares amounts as numbers), never money
                # A remedy's window is history once it has passed, on an open case too.
                int(lapses or d.name in REMEDY_DEADLINES),
                item.order_no,
                item.marketplace,
                item.if_missed,
                None if d.name in REMEDY_DEADLINES else lapse_at,
                int(d is first),
                head,
                tail,
            )
        )
    return rows


def insert(conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    conn.executemany(insert_sql("deadlines", COLUMNS), rows)


def replace(
    conn: sqlite3.Connection, where: str, params: Sequence[object], rows: list[tuple[object, ...]]
) -> None:
    """Make the rows matching ``where`` these; rows that are already right stay untouched,
    so a command that changes nothing (attaching a file again) leaves the file as it was."""
    stored = [
        tuple(row)
        for row in conn.execute(
            f"SELECT {_COLUMNS} FROM deadlines WHERE {where} ORDER BY position", params
        )
    ]
    if stored == rows:
        return
    conn.execute(f"DELETE FROM deadlines WHERE {where}", params)
    insert(conn, rows)


def stored(conn: sqlite3.Connection, column: str, ids: Sequence[int]) -> dict[int, list[Deadline]]:
    """The stored deadlines of these disputes (``column`` "dispute_id") or of these orders'
    own windows ("order_id"), earliest first, as the deadline code computed them."""
    from refundctl.deadlines import Deadline, RuleRef
    from refundctl.policies import Binds, IfMissed

    found: dict[int, list[Deadline]] = {}
    if not ids:
        return found
    # The unary + keeps SQLite from choosing deadlines_dispute for "dispute_id = 0" (every
    # order window: 30,016 rows at 1M orders, 0.17 s) over deadlines_order for the ids asked.
    scope = "" if column == "dispute_id" else " AND +dispute_id = 0"
    for key, name, due_at, binds, action, rule, if_missed in conn.execute(
        f"SELECT {column}, name, due_at, binds, action, rule, if_missed FROM deadlines "
        f"WHERE {column} IN ({', '.join('?' for _ in ids)}){scope} ORDER BY {column}, position",
        ids,
    ):
        try:
            deadline = Deadline(
                name,
                datetime.fromtimestamp(due_at, UTC),
                Binds(binds),
                action,
                RuleRef.from_json(rule),
                IfMissed(if_missed),
            )
        except (ValueError, KeyError, TypeError, OverflowError, OSError) as error:
            raise LedgerDamaged(f"a stored deadline does not read: {error}") from None
        found.setdefault(key, []).append(deadline)
    return found


def _seconds(moment: datetime) -> int | float:
    value = moment.timestamp()
    return int(value) if value.is_integer() else value


def since_text(since: datetime) -> str:
    """``--since`` as the stored times it compares with (``timeparse.iso`` text, whole seconds
    in UTC): "at or after 12:00:00.5" starts at 12:00:01."""
    if since.microsecond:
        since = since.replace(microsecond=0) + timedelta(seconds=1)
    return iso(since)


def _filter_sql(
    filters: Filters | None, marketplace: str = "d.marketplace"
) -> tuple[str, dict[str, object], bool]:
    """Filters as SQL over ``d`` (the deadline), ``o`` (its order) and ``s`` (its dispute,
    NULL for an order's own window), with the same rules as ``Filters.dispute`` and
    ``Filters.order``; and whether they need the order and dispute joined at all."""
    if filters is None:
        return "", {}, False
    clauses: list[str] = []
    params: dict[str, object] = {}
    if filters.marketplace is not None:
        clauses.append(f"{marketplace} = :marketplace")
        params["marketplace"] = filters.marketplace
    if filters.states:
        names = sorted(filters.states)
        clauses.append(f"s.state IN ({', '.join(f':state{i}' for i in range(len(names)))})")
        params.update({f"state{i}": name for i, name in enumerate(names)})
    if filters.seller is not None:
        clauses.append("refundctl_has(o.seller, :seller)")
        params["seller"] = filters.seller.casefold()
    moment = "(CASE WHEN s.id IS NULL THEN o.ordered ELSE s.opened_at END)"
    if filters.since is not None:
        clauses.append(f"{moment} >= :since")
        params["since"] = since_text(filters.since)
    if filters.until is not None:
        clauses.append(f"{moment} <= :until")
        params["until"] = iso(filters.until)
    joins = bool(filters.states or filters.seller or filters.since or filters.until)
    return "".join(f" AND {clause}" for clause in clauses), params, joins


def register_functions(conn: sqlite3.Connection) -> None:
    """The seller filter's case-insensitive "contains", with Python's casefold (SQLite's
    ``lower`` knows only ASCII)."""
    conn.create_function(
        "refundctl_has",
        2,
        lambda haystack, needle: needle in (haystack or "").casefold(),
        deterministic=True,
    )


# deadlines.live in SQL, for a row ``d``: once its dispute's first deadline that loses the case
# has passed, that row alone is shown.
_LIVE = " AND (d.lapse_at IS NULL OR d.lapse_at > :now OR d.first_lapse = 1)"

# deadlines.next_deadline's order of a dispute's rows ``d`` (urgency with nothing at stake),
# the first stored of equals.
NEXT_ORDER = """CASE WHEN d.due_at <= :now THEN 1 - d.buyer ELSE 2 END,
    CASE WHEN d.due_at <= :now THEN 0 ELSE CAST((d.due_at - :now) / 86400 AS INTEGER) END,
    d.due_at, d.position"""


@functools.cache
def shown_sql() -> str:
    """deadlines.live for the rows ``d`` of the dispute ``s``: an active dispute's, until one
    that loses the case has passed (then that one alone), but a passed one that lapses (a
    remedy's window); a closed one's still to come."""
    return (
        f"CASE WHEN s.state IN ({_active_sql()}) "
        "THEN (d.lapse_at IS NULL OR d.lapse_at > :now OR d.first_lapse = 1) "
        "AND NOT (d.lapses = 1 AND d.due_at <= :now) "
        "ELSE d.due_at > :now END"
    )


_JOINS = (
    " JOIN orders o ON o.id = d.order_id LEFT JOIN disputes s ON s.id = nullif(d.dispute_id, 0)"
)


def next_of_disputes(
    conn: sqlite3.Connection, ids: Sequence[int], now: datetime
) -> dict[int, tuple[str, int]]:
    """What ``status`` shows next for each of these disputes (``views.dispute_view``'s
    ``next``), from the stored rows, as a name and a due time: of an active dispute's rows
    those ``deadlines.live`` keeps (once one that loses the case has passed, that one alone),
    of a closed one's those still to come; then the most urgent (``deadlines.urgency`` with
    nothing at stake), the first stored of equals. Disputes without one are left out."""
    if not ids:
        return {}
    found: dict[int, tuple[str, int]] = {}
    for dispute_id, name, due_at in conn.execute(
        "SELECT d.dispute_id, d.name, d.due_at FROM deadlines d "
        "JOIN disputes s ON s.id = d.dispute_id "
        f"WHERE d.dispute_id IN ({', '.join(f':i{n}' for n in range(len(ids)))}) "
        f"AND {shown_sql()} ORDER BY d.dispute_id, {NEXT_ORDER}",
        {**{f"i{n}": i for n, i in enumerate(ids)}, "now": _seconds(now)},
    ):
        found.setdefault(dispute_id, (name, due_at))
    return found


def due(
    conn: sqlite3.Connection,
    now: datetime,
    horizon: datetime,
    filters: Filters | None,
    *,
    everything: bool = False,
) -> Iterator[CheckItem]:
    """What needs the buyer by ``horizon``, most urgent first (``views.check_items``): every
    deadline of theirs overdue or due by then, and every deadline of the other side that has
    passed (they may act now); with ``everything``, the other side's still running too.

    An order's own window that has passed drops out once the order arrived or had a
    dispute (``lapses``), as in ``views.order_view``. A row that does not read (a flipped
    byte in its rule) is damage, not an item.
    """
    for row in _due_rows(conn, _CHECK_COLUMNS, now, horizon, filters, everything):
        if not row[_FIELDS] or row[7] is None:
            raise _unreadable(row[5], row[3])
        yield CheckItem._make(row[:_FIELDS])


def due_json(
    conn: sqlite3.Connection,
    now: datetime,
    horizon: datetime,
    filters: Filters | None,
    *,
    everything: bool = False,
) -> Iterator[CheckLine]:
    """``due``, each item as the JSON text ``render/jsonshape.check_item`` makes of it: joined
    by SQLite from the text each row keeps (``check_parts``, written with the row), whether
    it is overdue, and its rule as stored, so that nothing of a long list is decoded or
    encoded field by field. ``tests/index_oracle.py`` holds every line to jsonshape's."""
    for line in map(
        CheckLine._make, _due_rows(conn, _JSON_COLUMNS, now, horizon, filters, everything)
    ):
        if line.json is None:
            raise _unreadable(line.name, line.order_no)
        yield line


def _due_rows(
    conn: sqlite3.Connection,
    columns: str,
    now: datetime,
    horizon: datetime,
    filters: Filters | None,
    everything: bool,
) -> sqlite3.Cursor:
    """The rows of ``due``, most urgent first: one range of the table's key (every deadline
    due by ``horizon``) sorted by SQLite as ``views.urgency`` ranks deadlines (overdue ones
    that bind the buyer, other overdue ones, then by whole days left; then the money at
    stake, the due time), then by dispute, order and position, as ``views.check_items``
    breaks ties."""
    where, params, joins = _filter_sql(filters)
    theirs = "" if everything else " AND (d.due_at <= :now OR d.buyer = 1)"
    rows = conn.cursor()
    rows.row_factory = None  # plain tuples: this runs once per item of a long list
    return rows.execute(
        f"SELECT {columns} FROM deadlines d{_JOINS if joins else ''} "
        f"WHERE d.due_at <= :horizon AND (d.due_at > :now OR d.lapses = 0){theirs}{where}"
        f"{_LIVE} ORDER BY {_CHECK_ORDER}",
        {"now": _seconds(now), "horizon": _seconds(horizon), **params},
    )


# _URGENCY for the rows ``due`` lists, none of which has lapsed: overdue first (the buyer's,
# then the other side's), then by whole days left; with plain columns for the sorter.
_CHECK_ORDER = (
    "d.due_at > :now, CASE WHEN d.due_at > :now "
    "THEN CAST((d.due_at - :now) / 86400 AS INTEGER) ELSE -d.buyer END, "
    "d.stake DESC, d.due_at, d.dispute_id, d.order_id, d.position"
)
# What does not read: a rule that is not JSON, or someone no deadline binds.
_READS = "json_valid(d.rule) AND d.binds IN ('buyer', 'seller', 'platform', 'payment')"
# The columns of CheckItem, in its order, and whether the row reads.
_CHECK_COLUMNS = (
    "CASE WHEN d.dispute_id THEN 'dispute' ELSE 'order' END, nullif(d.dispute_id, 0), "
    "d.order_id, d.order_no, d.marketplace, d.name, d.due_at, "
    "strftime('%Y-%m-%dT%H:%M:%S+00:00', d.due_at, 'unixepoch'), d.binds, d.action, d.rule, "
    f"d.if_missed, {_READS}"
)
_FIELDS = len(CheckItem._fields)
# The columns of CheckLine: jsonshape.check_item's text, joined from the parts stored with the
# row (check_parts) and the rule; NULL where the row does not read.
_JSON_COLUMNS = (
    f"d.due_at, d.binds, d.name, d.order_no, CASE WHEN {_READS} THEN d.check_head "
    "|| CASE WHEN d.due_at <= :now THEN 'true' ELSE 'false' END || d.check_tail || d.rule "
    "|| '}}' END"
)


def _unreadable(name: str, order_no: str) -> LedgerDamaged:
    return LedgerDamaged(f"the stored deadline {name!r} of order {order_no!r} does not read")


# deadlines.next_deadline in SQL: each dispute's most urgent row at :now among those it shows
# (deadlines.live) and that have not lapsed into history. Which one that is depends on now, so
# it is chosen here rather than stored.
_CHOSEN = f"""
    (SELECT * FROM (
        SELECT d.dispute_id, d.due_at, d.buyer, d.stake, d.lapses, row_number() OVER (
            PARTITION BY d.dispute_id ORDER BY {NEXT_ORDER}
        ) AS urgency_rank
        FROM deadlines d
        WHERE d.dispute_id > 0 AND NOT (d.lapses = 1 AND d.due_at <= :now){_LIVE}
    ) WHERE urgency_rank = 1)
"""


def _dispute_scope(include_closed: bool, filters: Filters | None) -> tuple[str, dict[str, object]]:
    where, params, _ = _filter_sql(filters, marketplace="o.marketplace")
    # Without --all: active disputes, and closed ones that still have a deadline (an appeal).
    scope = "1" if include_closed else f"(s.state IN ({_active_sql()}) OR d.due_at > :now)"
    return (
        "FROM disputes s JOIN orders o ON o.id = s.order_id "
        f"LEFT JOIN {_CHOSEN} d ON d.dispute_id = s.id "
        f"WHERE {scope}{where}",
        params,
    )


def _walk(conn: sqlite3.Connection, kind: str, now: datetime, limit: int) -> list[int]:
    """The ``limit`` most urgent disputes (``kind`` "dispute") or open orders ("order"),
    read row by row in urgency order from the indexes rather than sorted whole: the overdue
    ones by the money at stake (``deadlines_urgent_*``), then day by day of the clustered due
    times, each day sorted alone. A dispute's rank is that of its most urgent row, so it is
    taken where its first row comes. What it reads grows with ``limit``, not the ledger."""
    if kind == "dispute":
        key, index, where = "dispute_id", "deadlines_urgent_disputes", "d.dispute_id > 0"
    else:  # only the windows that do not lapse (m008): the overdue ones shown are of those
        key, index, where = "order_id", "deadlines_live_orders", "d.dispute_id = 0"
    where += _LIVE
    at = _seconds(now)
    found: dict[int, None] = {}  # in the order found
    for buyer in (1, 0):
        # A passed window of a received order, or a closed dispute's passed appeal window, is
        # history: not shown.
        for (value,) in conn.execute(
            f"SELECT d.{key} FROM deadlines d INDEXED BY {index} WHERE {where} "
            "AND d.buyer = :buyer AND d.due_at <= :now AND d.lapses = 0 "
            f"ORDER BY d.stake DESC, d.due_at, d.{key}",
            {"buyer": buyer, "now": at},
        ):
            found[value] = None
            if len(found) >= limit:
                return list(found)
    bound = at  # where the next day with rows is looked for
    while len(found) < limit:
        first = conn.execute(
            f"SELECT min(d.due_at) FROM deadlines d WHERE {where} AND d.due_at > :now "
            "AND d.due_at >= :bound",
            {"now": at, "bound": bound},
        ).fetchone()[0]
        if first is None:
            break
        low = at + (first - at) // DAY * DAY  # the start of the whole day left it falls in
        bound = low + DAY
        for (value,) in conn.execute(
            f"SELECT d.{key} FROM deadlines d WHERE {where} AND d.due_at > :now "
            "AND d.due_at >= :low AND d.due_at < :high "
            f"ORDER BY d.stake DESC, d.due_at, d.{key}",
            {"now": at, "low": low, "high": bound},
        ):
            found[value] = None
            if len(found) >= limit:
                break
    return list(found)


def top_disputes(
    conn: sqlite3.Connection,
    now: datetime,
    limit: int | None,
    *,
    include_closed: bool,
    filters: Filters | None,
) -> tuple[list[int], int]:
    """The ``limit`` (or all) most urgent disputes' ids (``views.by_urgency``) and how many
    there are."""
    if limit is not None and not include_closed and (filters is None or filters == Filters()):
        ids = _walk(conn, "dispute", now, limit)
        if len(ids) < limit:  # then come active disputes that have no deadline at all
            ids += [
                row[0]
                for row in conn.execute(
                    f"SELECT s.id FROM disputes s WHERE s.state IN ({_active_sql()}) AND NOT "
                    "EXISTS (SELECT 1 FROM deadlines d WHERE d.dispute_id = s.id) "
                    "ORDER BY s.id LIMIT ?",
                    (limit - len(ids),),
                )
            ]
        total = conn.execute(
            "SELECT (SELECT coalesce(sum(n), 0) FROM dispute_counts "
            f"WHERE state IN ({_active_sql()})) + "
            "(SELECT count(*) FROM disputes s WHERE s.state = 'lost' AND EXISTS "
            "(SELECT 1 FROM deadlines d WHERE d.dispute_id = s.id AND d.due_at > ?))",
            (_seconds(now),),
        ).fetchone()[0]
        return ids, int(total)
    scope, params = _dispute_scope(include_closed, filters)
    return _sorted(conn, "s.id", scope, params, now, limit)


# An order's rows that views.order_view shows: a passed one only while it does not lapse (an
# order that never arrived and was never disputed). An order may have two: its protection,
# and beside it the window of the remedy its payment carries.
_ORDER_SHOWN = "d.dispute_id = 0 AND (d.lapses = 0 OR d.due_at > :now)"


def top_orders(
    conn: sqlite3.Connection, now: datetime, limit: int | None, filters: Filters | None
) -> tuple[list[int], int]:
    """The ``limit`` (or all) most urgent open orders' ids (``views.orders_by_urgency``) and
    how many open orders have a window on show."""
    if limit is not None and (filters is None or filters == Filters()):
        # _ORDER_SHOWN counted from two covering index scans: the windows still to come,
        # and the passed ones that do not lapse (m008). Read row by row, the lapsed remedy
        # windows of a 1M ledger made this 0.2 s; so, 25 ms.
        total = conn.execute(
            "SELECT count(*) FROM (SELECT d.order_id FROM deadlines d "
            "INDEXED BY deadlines_urgent_orders WHERE d.dispute_id = 0 AND d.due_at > :now "
            "UNION SELECT d.order_id FROM deadlines d INDEXED BY deadlines_live_orders "
            "WHERE d.dispute_id = 0 AND d.lapses = 0 AND d.due_at <= :now)",
            {"now": _seconds(now)},
        ).fetchone()[0]
        return _walk(conn, "order", now, limit), int(total)
    where, params, joins = _filter_sql(filters)
    # An order ranks by its most urgent row (deadlines.next_deadline): its rows share one
    # stake, so the first of them in urgency order is that row, and the orders in the order
    # of their first rows are the orders ranked. One pass, no window function.
    found: dict[int, None] = {}
    for (order_id,) in conn.execute(
        f"SELECT d.order_id FROM deadlines d{_JOINS if joins else ''} WHERE {_ORDER_SHOWN}"
        f"{where} ORDER BY {_URGENCY}, d.order_id",
        {"now": _seconds(now), **params},
    ):
        found[order_id] = None
    ids = list(found)
    return (ids if limit is None else ids[:limit]), len(ids)


def _sorted(
    conn: sqlite3.Connection,
    key: str,
    scope: str,
    params: dict[str, object],
    now: datetime,
    limit: int | None,
) -> tuple[list[int], int]:
    """The ``key`` of the rows in ``scope`` (FROM ... WHERE ...) in urgency order, sorted
    whole: what a filtered or unlimited listing needs; and how many there are."""
    params = {"now": _seconds(now), "limit": -1 if limit is None else limit, **params}
    ids = [
        row[0]
        for row in conn.execute(
            f"SELECT {key} {scope} ORDER BY {_URGENCY}, {key} LIMIT :limit", params
        )
    ]
    if limit is None:  # they are all there: counting them again would read them again
        return ids, len(ids)
    total = conn.execute(f"SELECT count(*) {scope}", params).fetchone()[0]
    return ids, int(total)
