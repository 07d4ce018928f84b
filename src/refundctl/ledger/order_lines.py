"""``order list --json``'s orders, each one's JSON built by SQLite from the stored columns.

An order's line is its row and its items joined as text: strings through ``json_quote``, money
through ``refundctl_money`` (``status_lines``), the payment's rail through one memoised look-up
per distinct text. No order becomes a domain value, nothing is encoded by Python's ``json``:
a listing of 100,000 orders costs little more than reading its rows. The keys and values are
those of ``render/jsonshape.order``; ``tests/test_order_lines.py`` holds every fixture ledger's
lines and random ledgers' to it. The filters of ``order list`` are SQL here too, with the same
meaning as ``due.Filters.order``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator

from refundctl.due import Filters, seller_matches
from refundctl.ledger.deadline_index import since_text
from refundctl.timeparse import iso


def _network(text: str | None) -> str | None:
    from refundctl.payment import recognise  # memoised: a ledger's orders share a few texts

    found = recognise(text)
    return None if found is None else str(found.network)


def _funding(text: str | None) -> str | None:
    from refundctl.payment import recognise

    found = recognise(text)
    return None if found is None or found.funding is None else str(found.funding)


def register(conn: sqlite3.Connection) -> None:
    from refundctl.ledger import status_lines

    status_lines.register_money(conn)
    conn.create_function("refundctl_network", 1, _network, deterministic=True)
    conn.create_function("refundctl_funding", 1, _funding, deterministic=True)
    conn.create_function("refundctl_seller_matches", 2, seller_matches, deterministic=True)


_ITEMS = """(SELECT '[' || coalesce(group_concat(j, ', '), '') || ']' FROM
    (SELECT '{"name": ' || json_quote(i.name) || ', "quantity": ' || i.quantity
        || ', "price": ' || json_quote(refundctl_money(i.price, o.currency)) || '}' AS j
     FROM order_items i WHERE i.order_id = o.id ORDER BY i.position))"""

# The separators are json.dumps's, as in ``order show --json``: the same order reads the same.
_LINE = f"""'{{"order": ' || json_quote(o.order_no)
    || ', "marketplace": ' || json_quote(o.marketplace)
    || ', "seller": ' || json_quote(o.seller)
    || ', "title": ' || json_quote(o.title)
    || ', "total": ' || json_quote(refundctl_money(o.total, o.currency))
    || ', "currency": ' || json_quote(o.currency)
    || ', "items": ' || {_ITEMS}
    || ', "ordered": ' || json_quote(o.ordered)
    || ', "shipped": ' || json_quote(o.shipped)
    || ', "expected_by": ' || json_quote(o.expected_by)
    || ', "received": ' || json_quote(o.received)
    || ', "protection_ends": ' || json_quote(o.protection_ends)
    || ', "payment": ' || json_quote(o.payment)
    || ', "payment_network": ' || json_quote(refundctl_network(o.payment))
    || ', "payment_funding": ' || json_quote(refundctl_funding(o.payment))
    || ', "closed": ' || CASE WHEN o.closed_at IS NULL THEN 'null'
        ELSE json_quote(coalesce(o.closed, 'closed')) END
    || ', "closed_at": ' || json_quote(o.closed_at) || '}}'"""


def where(filters: Filters, removed: bool) -> tuple[str, dict[str, object]]:
    """``Filters.order`` (and ``order list --all``) as a condition on ``orders o``. Stored
    times are ``timeparse.iso`` text, UTC to the second, so their text sorts as they do."""
    conditions = ["o.id > :after"]
    params: dict[str, object] = {}
    if not removed:
        conditions.append("o.closed IS NOT 'removed'")
    if filters.states:  # an order has no dispute state: asking for states keeps none
        conditions.append("0")
    if filters.marketplace is not None:
        conditions.append("o.marketplace = :marketplace")
        params["marketplace"] = filters.marketplace
    if filters.seller is not None:
        conditions.append("refundctl_seller_matches(:seller, o.seller)")
        params["seller"] = filters.seller
    if filters.since is not None:
        conditions.append("o.ordered >= :since")
        params["since"] = since_text(filters.since)
    if filters.until is not None:
        conditions.append("o.ordered <= :until")
        params["until"] = iso(filters.until)
    return " AND ".join(conditions), params


def order_lines(
    conn: sqlite3.Connection, filters: Filters, *, removed: bool, batch: int = 2000
) -> Generator[str, None, None]:
    """The JSON text of every order the filters keep, by id, a batch at a time: ``register``
    first, and read in one snapshot."""
    where_sql, params = where(filters, removed)
    sql = f"SELECT o.id, {_LINE} FROM orders o WHERE {where_sql} ORDER BY o.id LIMIT :batch"
    after = 0
    while rows := conn.execute(sql, {**params, "after": after, "batch": batch}).fetchall():
        after = rows[-1][0]
        yield from (row[1] for row in rows)
