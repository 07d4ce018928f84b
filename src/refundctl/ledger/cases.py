"""Disputes as the figures of ``stats`` and a seller's record see them (``CaseReads``).

``stats`` has SQLite add the disputes up from the state and fold stored beside each (one parse
of each fold, a GROUP BY, and one row per closed dispute for the medians): no dispute is read
whole or replayed. ``cases`` gives the disputes one by one, for a seller's record, and for the
figures while some dispute has no stored fold yet (an upgrade not yet written through).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from refundctl.ledger.cache import Cache
from refundctl.ledger.reads import _BATCH
from refundctl.money import from_minor
from refundctl.records import DisputeRecord
from refundctl.stats import (
    OUTCOMES,
    Case,
    Closed,
    Count,
    GroupBy,
    Stats,
    seller_key,
    tally,
    tally_counts,
)
from refundctl.terms import State
from refundctl.timeparse import from_iso, iso

# A group's key, the name it is shown by, and its marketplace (a seller's), by grouping.
_KEYS: dict[GroupBy | None, str] = {
    None: "'' AS key, '' AS shown, NULL AS marketplace",
    # A chargeback or PayPal claim counts under its rail: it is no marketplace's case.
    GroupBy.MARKETPLACE: "coalesce(d.via, o.marketplace) AS key, "
    "coalesce(d.via, o.marketplace) AS shown, NULL AS marketplace",
    GroupBy.SELLER: "o.marketplace || char(31) || seller_key(o.seller) AS key, "
    "coalesce(nullif(shown_seller(o.seller), ''), '(no seller)') AS shown, "
    "o.marketplace AS marketplace",
    GroupBy.REASON: "d.reason AS key, d.reason AS shown, NULL AS marketplace",
    GroupBy.MONTH: "month_of(d.opened_at) AS key, month_of(d.opened_at) AS shown, "
    "NULL AS marketplace",
}
# Each dispute counted, with the three facts of its fold the figures need, parsed once.
_FACTS = (
    "SELECT d.id, {keys}, o.currency, d.state, d.requested, d.refunded, d.opened_at, "
    "json_extract(d.folded, '$.credit', '$.escalated_at', '$.closed_at') AS facts "
    "FROM disputes d JOIN orders o ON o.id = d.order_id WHERE 1{where}"
)
_COUNTS = (
    "SELECT key, shown, marketplace, currency, state, json_extract(facts, '$[1]') IS NOT NULL, "
    "coalesce(json_extract(facts, '$[0]'), 0), count(*), sum(requested), "
    "coalesce(sum(refunded), 0), min(id) "
    "FROM ({facts}) GROUP BY key, currency, state, 6, 7 ORDER BY min(id)"
)
_CLOSED = (
    "SELECT key, currency, "
    "max(strftime('%s', json_extract(facts, '$[2]')) - strftime('%s', opened_at), 0) / 86400.0 "
    "FROM ({facts}) WHERE state IN ({states}) AND json_extract(facts, '$[2]') IS NOT NULL"
)
_CLOSED_STATES = ", ".join(f"'{state.value}'" for state in OUTCOMES)

_CASES = (
    "SELECT d.id, o.marketplace, o.seller, d.reason, o.currency, d.state, d.requested, "
    "d.refunded, d.opened_at, d.folded IS NOT NULL, "
    "json_extract(d.folded, '$.credit', '$.closed_at', '$.escalated_at'), d.via "
    "FROM disputes d JOIN orders o ON o.id = d.order_id "
    "WHERE d.id > :last{where} ORDER BY d.id LIMIT :batch"
)


class CaseReads(Cache):
    """The disputes the figures count, from their stored state."""

    def stats(
        self,
        groupings: Sequence[GroupBy | None] = (None,),
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        zone: tzinfo = UTC,
    ) -> list[Stats]:
        """The figures of the disputes opened between ``since`` and ``until``, per currency,
        and per group for each grouping asked (a month is the month of opening in ``zone``),
        all from one snapshot."""
        with self._read():
            if self._unfolded():
                cases = list(self._each_case(since, until, None, 0))
                return [tally(cases, by, zone) for by in groupings]
            self._register_keys(zone)
            return [self._tally(by, since, until) for by in groupings]

    def _tally(self, by: GroupBy | None, since: datetime | None, until: datetime | None) -> Stats:
        where, params = _span(since, until)
        facts = _FACTS.format(keys=_KEYS[by], where=where)
        counts = self.conn.execute(_COUNTS.format(facts=facts), params).fetchall()
        closed = self.conn.execute(
            _CLOSED.format(facts=facts, states=_CLOSED_STATES), params
        ).fetchall()
        return tally_counts(
            map(_count, counts),
            (Closed((key,), currency, days) for key, currency, days in closed),
            by,
        )

    def cases(self, *, seller: tuple[str, str] | None = None, exclude: int = 0) -> Iterator[Case]:
        """Every dispute (or those of one ``seller``, given as marketplace and name, matched
        regardless of case and spacing) but ``exclude``, by number, in one snapshot. Iterate
        it inside the ``with`` that opened the ledger."""
        with self._read():
            yield from self._each_case(None, None, seller, exclude)

    def _each_case(
        self,
        since: datetime | None,
        until: datetime | None,
        seller: tuple[str, str] | None,
        exclude: int,
    ) -> Iterator[Case]:
        where, params = _span(since, until)
        if seller is not None:
            where += " AND o.marketplace = :marketplace AND o.seller IS NOT NULL"
            # The seller's record counts every case against them, a chargeback too.
            params["marketplace"] = seller[0]
        wanted = seller_key(seller[1]) if seller is not None else None
        sql = _CASES.format(where=where)
        last = 0
        while rows := self.conn.execute(sql, {**params, "last": last, "batch": _BATCH}).fetchall():
            last = rows[-1][0]
            unfolded = [row[0] for row in rows if not row[9]]
            replayed = {r.id: r for r in self._record_batch(unfolded, history=False)}
            for row in rows:
                if row[0] == exclude or (wanted is not None and seller_key(row[2]) != wanted):
                    continue
                yield _case(row, replayed.get(row[0]))

    def _register_keys(self, zone: tzinfo) -> None:
        def month_of(opened: str) -> str:
            return f"{from_iso(opened).astimezone(zone):%Y-%m}"

        self.conn.create_function("month_of", 1, month_of, deterministic=True)
        self.conn.create_function("seller_key", 1, seller_key, deterministic=True)
        self.conn.create_function("shown_seller", 1, _shown_seller, deterministic=True)


def _count(row: sqlite3.Row) -> Count:
    key, shown, marketplace, currency, state, escalated, credit, n, requested, refunded = row[:10]
    return Count(
        (key,),
        shown,
        marketplace,
        currency,
        State(state),
        bool(escalated),
        bool(credit),
        n,
        from_minor(requested, currency),
        from_minor(refunded, currency),
    )


def _shown_seller(name: str | None) -> str:
    return " ".join((name or "").split())


def _span(since: datetime | None, until: datetime | None) -> tuple[str, dict[str, object]]:
    """The clauses and parameters that keep the disputes opened from ``since`` to ``until``."""
    where, params = "", dict[str, object]()
    if since is not None:
        # Stored times are whole seconds: a fraction rounds up, as the listings do.
        start = since.astimezone(UTC)
        if start.microsecond:
            start = start.replace(microsecond=0) + timedelta(seconds=1)
        where += " AND d.opened_at >= :since"
        params["since"] = iso(start)
    if until is not None:
        where += " AND d.opened_at <= :until"
        params["until"] = iso(until.astimezone(UTC))
    return where, params


def _case(row: sqlite3.Row, replayed: DisputeRecord | None) -> Case:
    import json

    currency = row[4]
    if replayed is not None:
        d = replayed.dispute
        credit, closed, escalated = d.credit, d.closed_at, d.escalated_at is not None
    else:
        credit_fact, closed_at, escalated_at = json.loads(row[10])
        credit, escalated = bool(credit_fact), escalated_at is not None
        closed = None if closed_at is None else from_iso(closed_at)
    return Case(
        marketplace=row[1],
        seller=row[2],
        reason=row[3],
        currency=currency,
        state=State(row[5]),
        requested=from_minor(row[6], currency),
        refunded=None if row[7] is None else from_minor(row[7], currency),
        credit=credit,
        opened=from_iso(row[8]),
        closed=closed,
        escalated=escalated,
        via=row[11],
    )
