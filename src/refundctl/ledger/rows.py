"""Rows to domain values and back: minor units to ``Decimal``, text to aware datetimes.

The one place that knows how a stored row spells a domain value, so every room of the ledger
reads and writes the same way. Also the stored fold of a dispute (``disputes.folded``): its
current state as JSON, written with every event, so that a listing reads the state instead of
replaying the events (``replay`` stays the truth: ``verify`` compares the two).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from refundctl import domain
from refundctl.domain import Actor, Dispute, Entered, Event, OfferKind, Outcome, Proposal, State
from refundctl.errors import LedgerDamaged
from refundctl.money import from_minor
from refundctl.records import CloseReason, EvidenceRecord, Item, Order
from refundctl.timeparse import from_iso, iso

ORDER_TIMES = ("ordered", "shipped", "expected_by", "received", "protection_ends")


def t(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)


def ts(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def stored_time(moment: datetime) -> datetime:
    """A moment as the ledger gives it back once stored: UTC, whole seconds. A write folds its
    new events in memory with these, so that what it returns is what a later read gives."""
    return from_iso(iso(moment))


@contextmanager
def decoding(what: str) -> Iterator[None]:
    """Rows that SQLite reads but that do not make sense (a flipped byte, a stored date that
    is no date) are damage, exit 3: not a bug of refundctl's."""
    try:
        yield
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise LedgerDamaged(f"{what} does not read: {error}") from None


def order(row: sqlite3.Row, item_rows: Sequence[sqlite3.Row]) -> Order:
    currency = row["currency"]
    items = tuple(
        Item(
            item["name"],
            item["quantity"],
            None if item["price"] is None else from_minor(item["price"], currency),
        )
        for item in item_rows
    )
    return Order(
        id=row["id"],
        marketplace=row["marketplace"],
        order_no=row["order_no"],
        seller=row["seller"],
        title=row["title"],
        total=from_minor(row["total"], currency),
        currency=currency,
        items=items,
        payment=row["payment"],
        **{name: t(row[name]) for name in ORDER_TIMES},
        closed_at=t(row["closed_at"]),
        closed=None if row["closed"] is None else CloseReason(row["closed"]),
    )


def event(row: sqlite3.Row, currency: str) -> Event:
    return Event(
        id=row["id"],
        kind=row["kind"],
        actor=Actor(row["actor"]),
        at=from_iso(row["at"]),
        recorded=from_iso(row["recorded"]),
        amount=None if row["amount"] is None else from_minor(row["amount"], currency),
        offer_kind=None if row["offer_kind"] is None else OfferKind(row["offer_kind"]),
        note=row["note"],
        tracking=row["tracking"],
        credit=bool(row["credit"]),
        retracts=row["retracts"],
        evidence_id=row["evidence_id"],
        deadline=row["deadline"],
        due=t(row["due"]),
    )


def evidence(row: sqlite3.Row) -> EvidenceRecord:
    return EvidenceRecord(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        sha256=row["sha256"],
        size=row["size"],
        media_type=row["media_type"],
        url=row["url"],
        note=row["note"],
        added=from_iso(row["added"]),
        recorded=from_iso(row["recorded"]),
    )


def took(state: str, agreed: int | None, refunded: int | None, currency: str) -> Decimal:
    """What a dispute took out of its order, from the columns kept beside it."""
    return domain.taken_from_order(
        State(state),
        None if agreed is None else from_minor(agreed, currency),
        None if refunded is None else from_minor(refunded, currency),
    )


def left(of: Order, taken: Decimal, item: str | None) -> Decimal:
    """What is refundable: the total less what other disputes took, capped by the item."""
    remaining = of.total - taken
    if item is not None:
        found = of.item(item)
        if found is not None and found.value is not None:
            remaining = min(remaining, found.value)
    return remaining


# -- the stored fold of a dispute ---------------------------------------------------------------

# Each field of ``Dispute`` by how it is spelt in JSON. tests/test_rows.py holds this to the
# dataclass: a field added to ``Dispute`` and not here fails it, and so does a changed spelling
# that a migration did not recompute (FOLD_VERSION).
_TIMES = (
    "opened_at",
    "last_move_at",
    "last_buyer_move_at",
    "last_seller_move_at",
    "escalated_at",
    "info_requested_at",
    "agreed_at",
    "return_shipped_at",
    "return_delivered_at",
    "closed_at",
    "first_seller_move_at",
    "seller_turn_at",
)
_MONEY = ("requested", "offer", "agreed", "refunded")
_KINDS = ("offer_kind", "agreed_kind")
_PLAIN = (
    *("credit", "seller_has_moved", "tracking"),
    *("rejected_by_platform", "appealed", "decided_by_platform"),
)
FOLDED_FIELDS = frozenset(
    {"state", "proposals", "entered", *_TIMES, *_MONEY, *_KINDS, *_PLAIN},
)
# Bumped when the spelling changes; a stored fold of another version is replayed instead.
FOLD_VERSION = 1
_encode = json.JSONEncoder(separators=(",", ":")).encode


def fold_text(d: Dispute) -> str:
    """The dispute's state as the JSON stored beside it."""
    shape: dict[str, Any] = {"v": FOLD_VERSION, "state": d.state.value}
    for name in _TIMES:
        shape[name] = ts(getattr(d, name))
    for name in _MONEY:
        value = getattr(d, name)
        shape[name] = None if value is None else str(value)
    for name in _KINDS:
        kind = getattr(d, name)
        shape[name] = None if kind is None else kind.value
    for name in _PLAIN:
        shape[name] = getattr(d, name)
    shape["proposals"] = [
        [iso(p.at), p.actor.value, p.kind.value, str(p.amount), p.outcome.value]
        for p in d.proposals
    ]
    shape["entered"] = [[e.name, iso(e.due), iso(e.at)] for e in d.entered]
    return _encode(shape)


def from_fold_text(text: str) -> Dispute | None:
    """The dispute a stored fold spells; None for a fold of another version (replay it)."""
    shape = json.loads(text)
    if shape.get("v") != FOLD_VERSION:
        return None
    values: dict[str, Any] = {"state": State(shape["state"])}
    for name in _TIMES:
        values[name] = t(shape[name])
    for name in _MONEY:
        value = shape[name]
        values[name] = None if value is None else Decimal(value)
    for name in _KINDS:
        kind = shape[name]
        values[name] = None if kind is None else OfferKind(kind)
    for name in _PLAIN:
        values[name] = shape[name]
    values["proposals"] = tuple(
        Proposal(from_iso(at), Actor(actor), OfferKind(kind), Decimal(amount), Outcome(outcome))
        for at, actor, kind, amount, outcome in shape["proposals"]
    )
    values["entered"] = tuple(
        Entered(name, from_iso(due), from_iso(at)) for name, due, at in shape["entered"]
    )
    return Dispute(**values)
