"""Dispute writes: open, move, undo, enter a deadline's date, attach evidence.

Each is one transaction: read the dispute, let the domain refuse or allow the move, append
the event, then store the dispute's state, fold and deadlines from what the events now say.
Evidence files go into the content-addressed store (ledger/evidence.py) first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, assert_never

from refundctl import domain
from refundctl.deadlines import can_escalate_from, opening_warnings, timing_warnings
from refundctl.domain import Actor, Event, EventKind, Move, MoveContext, OfferKind, Reason, State
from refundctl.errors import BadInput
from refundctl.ledger.orders import OrderWrites
from refundctl.ledger.reads import OrderRef, _closed_words, _placeholders
from refundctl.ledger.remedy import Remedies
from refundctl.ledger.rows import fold_text, stored_time
from refundctl.ledger.rows import left as _left
from refundctl.ledger.rows import ts as _ts
from refundctl.money import format_money, from_minor, parse_amount, percent_of, to_minor
from refundctl.payment import Network
from refundctl.policies import has_appeals
from refundctl.records import (
    DisputeRecord,
    EvidenceKind,
    EvidenceRecord,
    Order,
    case_ref_problem,
)
from refundctl.remedies import filed_with, undo_refusals
from refundctl.render.fmt import state_words
from refundctl.timeparse import iso


@dataclass(frozen=True, slots=True)
class AmountSpec:
    """What ``open`` asks for: an amount, a percentage of the refundable, or all of it."""

    amount: str | None = None
    percent: Decimal | None = None
    full: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """What a write returns: the dispute after it, any warnings, and the dispute before it
    (None for a new one), so that no command reads it again."""

    record: DisputeRecord
    warnings: tuple[str, ...] = ()
    before: DisputeRecord | None = None


@dataclass(frozen=True, slots=True)
class Files:
    """Files to store and record as evidence."""

    paths: Sequence[Path]
    kind: EvidenceKind | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A web address recorded as evidence (a listing, a tracking page)."""

    url: str
    kind: EvidenceKind | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A message of the case's chat, kept as written."""

    text: str
    sender: Actor


# What ``Ledger.attach`` adds to a dispute.
Attachment = Files | Link | Message


@dataclass(frozen=True, slots=True)
class _Added:
    """What a write appended to a dispute: events and evidence, as the ledger now holds them."""

    events: tuple[Event, ...] = ()
    evidence: tuple[EvidenceRecord, ...] = ()
    notes: tuple[str, ...] = ()

    def __add__(self, other: _Added) -> _Added:
        return _Added(
            self.events + other.events,
            self.evidence + other.evidence,
            self.notes + other.notes,
        )


def _after(record: DisputeRecord, added: _Added, **changes: Any) -> DisputeRecord:
    """The dispute once ``added`` is in: its events folded in memory, never read back. An
    undo's retraction takes a move back, so the history is replayed (it is in memory too)."""
    events = (*record.events, *added.events)
    if any(e.kind == EventKind.RETRACT for e in added.events):
        dispute = domain.replay(events)
    else:
        dispute = record.dispute
        for event in added.events:
            dispute = domain.fold(dispute, event)
    after: DisputeRecord = replace(
        record, dispute=dispute, events=events, evidence=record.evidence + added.evidence, **changes
    )
    return after


def _local(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}".strip()


def _refuse_future(at: datetime, now: datetime, zone: tzinfo) -> None:
    if at > now:
        raise BadInput(
            f"--on {_local(at, zone)} is in the future; record a move once it has happened"
        )


def _asked_amount(ask: AmountSpec, refundable: Decimal, currency: str) -> Decimal:
    if ask.full:
        return refundable
    if ask.percent is not None:
        amount = percent_of(refundable, ask.percent, currency)
        if amount <= 0:
            raise BadInput(f"{ask.percent}% of {refundable} {currency} rounds down to nothing")
        return amount
    assert ask.amount is not None
    amount = parse_amount(ask.amount, currency)
    domain.check_amount(amount, refundable, currency)
    return amount


def _already_attached(name: str, dispute_id: int, existing: sqlite3.Row, restored: bool) -> str:
    same = "" if existing["name"] == name else f" ({existing['name']}, the same content)"
    note = (
        f"{name} is already attached to dispute {dispute_id} as evidence #{existing['id']}"
        f"{same}; nothing new was recorded"
    )
    if restored:
        note += "; its stored copy was missing or altered and is now restored"
    return note


class DisputeWrites(OrderWrites, Remedies):
    """Dispute writes, each one transaction (``_write``), returning the dispute as it now is."""

    def open_dispute(
        self,
        ref: OrderRef,
        *,
        reason: Reason,
        ask: AmountSpec,
        item: str | None,
        note: str | None,
        case_ref: str | None,
        evidence: Sequence[Path],
        evidence_kind: EvidenceKind | None,
        at: datetime,
        now: datetime,
        via: Network | None = None,
    ) -> Result:
        """Open a dispute with the marketplace, or ``via`` a payment rail (a chargeback, a
        PayPal claim: remedies.py), which then moves by the rail's policy."""
        self._refuse_before_the_lock(evidence, at, now, case_ref)
        with self._write():
            order = self._find_order(ref)
            if order.closed_at is not None:
                raise BadInput(
                    f"order {order.order_no} is {_closed_words(order)}; reopen it first with "
                    f"'refundctl order reopen {order.order_no}'"
                )
            item_name = self._resolve_item(order, item)
            self._refuse_overlap(order, item_name, via=via)
            if order.ordered is not None and at < order.ordered:
                raise BadInput("--on is before the order was placed")
            refundable = self._refundable(order, None, item_name)
            if refundable <= 0:
                raise BadInput(f"nothing is left to refund on order {order.order_no}")
            amount = _asked_amount(ask, refundable, order.currency)
            zone = self.settings.zone
            warnings = self._opening_warnings(order, via, reason, at)
            cursor = self.conn.execute(
                "INSERT INTO disputes (order_id, item, reason, case_ref, description, state, "
                "requested, opened_at, updated, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.id,
                    item_name,
                    reason.value,
                    case_ref,
                    note,
                    State.AWAITING_SELLER.value,
                    to_minor(amount, order.currency),
                    iso(at),
                    iso(now),
                    None if via is None else via.value,
                ),
            )
            dispute_id = int(cursor.lastrowid or 0)
            opening = Event(Move.OPEN, Actor.BUYER, at, now, amount=amount, note=note)
            added = self._append(dispute_id, opening, order.currency)
            for filed in filed_with(via, at, now):  # a card issuer holds it from the start
                added += self._append(dispute_id, filed, order.currency)
            added += self._store_files(dispute_id, evidence, evidence_kind, None, at, now)
            record = self._new_record(dispute_id, order, item_name, reason, case_ref, note, added)
            record = replace(record, via=None if via is None else via.value)
            self._save_state(record)
            if via is not None:
                self._reindex_siblings(record)
            policy = self._policy_of(record)
            found = self._deadlines_of(record)
            warnings += opening_warnings(
                order,
                policy,
                zone,
                found,
                can_escalate_from(record.dispute, order, reason, policy, zone, found),
            )
            return Result(record, (*warnings, *added.notes))

    def move(
        self,
        dispute_id: int,
        move: Move,
        *,
        amount: str | None = None,
        offer_kind: OfferKind | None = None,
        note: str | None = None,
        tracking: str | None = None,
        credit: bool = False,
        actor: Actor | None = None,
        case_ref: str | None = None,
        evidence: Sequence[Path] = (),
        at: datetime,
        now: datetime,
    ) -> Result:
        """Record one move on a dispute, after the domain has allowed it."""
        self._refuse_before_the_lock(evidence, at, now, case_ref)
        with self._write():
            record = self._record(dispute_id)
            order = record.order
            policy = self._policy_of(record)
            zone = self.settings.zone
            ctx = MoveContext(record.max_ask, order.currency, has_appeals(policy), zone)
            value = None
            if amount is not None:
                value = parse_amount(amount, order.currency)
            domain.check(record.dispute, move, ctx, value, offer_kind, at)
            if move is Move.ESCALATE and record.dispute.state is State.LOST:
                self._refuse_overlap(order, record.item, exclude=dispute_id, via=record.via)
            zone = self.settings.zone
            before = self._deadlines_of(record)
            earliest = None
            if move is Move.ESCALATE:
                earliest = can_escalate_from(
                    record.dispute, order, record.reason, policy, zone, before
                )
            by_platform = actor is Actor.PLATFORM
            warnings = [] if by_platform else timing_warnings(before, move, at, zone, earliest)
            event = Event(
                move,
                actor or domain.ACTOR_OF[move],
                at,
                now,
                amount=value,
                offer_kind=offer_kind,
                note=note,
                tracking=tracking,
                credit=credit,
            )
            added = self._append(dispute_id, event, order.currency)
            added += self._store_files(dispute_id, evidence, None, None, at, now)
            warnings += added.notes
            if case_ref is not None:
                self.conn.execute(
                    "UPDATE disputes SET case_ref = ? WHERE id = ?", (case_ref, dispute_id)
                )
            updated = _after(
                record, added, case_ref=record.case_ref if case_ref is None else case_ref
            )
            self._save_state(updated)
            short = domain.shortfall(updated.dispute)
            if short is not None:
                d, currency = updated.dispute, order.currency
                warnings.append(
                    f"received {format_money(d.refunded or short, currency)} of the "
                    f"{format_money(d.agreed or short, currency)} agreed: "
                    f"{format_money(short, currency)} short, and the dispute is closed; if "
                    f"the rest is still owed, 'refundctl undo {dispute_id}' reopens it to "
                    "chase or escalate"
                )
            return Result(updated, tuple(warnings), record)

    def undo(self, dispute_id: int, now: datetime) -> tuple[Result, Event]:
        """Retract the last move by appending a retraction; returns the move taken back."""
        with self._write():
            record = self._record(dispute_id)
            last = domain.last_move(record.events)
            if last is None:
                raise BadInput(
                    f"dispute {dispute_id} has no move to undo; "
                    f"to withdraw it, use 'refundctl cancel {dispute_id}'"
                )
            retraction = Event(EventKind.RETRACT, Actor.BUYER, now, now, retracts=last.id)
            added = self._append(dispute_id, retraction, record.order.currency)
            updated = _after(record, added)
            if updated.dispute.active and not record.dispute.active:
                self._refuse_overlap(record.order, record.item, exclude=dispute_id, via=record.via)
            refused = domain.undo_refusals(updated.dispute, updated.max_ask, record.order.currency)
            refused += undo_refusals(record.via, updated.dispute, dispute_id)
            if refused:
                raise BadInput(refused[0])
            self._save_state(updated)
            return Result(updated, (), record), last

    def enter_due(self, dispute_id: int, name: str, due: datetime | None, now: datetime) -> Result:
        """Record the marketplace's own date for one of the dispute's open deadlines, or with
        ``due`` None go back to the rule's (an event either way, so ``undo`` takes it back)."""
        with self._write():
            record = self._record(dispute_id)
            open_now = [d.name for d in self._deadlines_of(record)]
            entered = record.dispute.entered_for(name)
            if due is None and entered is None:
                raise BadInput(
                    f"dispute {dispute_id} has no date entered for {name}; nothing to clear"
                )
            if due is not None and name not in open_now:
                listed = ", ".join(open_now) if open_now else "none"
                raise BadInput(
                    f"dispute {dispute_id} ({state_words(record.dispute.state)}) has no open "
                    f"deadline {name}; its open deadlines: {listed}"
                )
            event = Event(EventKind.DUE, Actor.BUYER, now, now, deadline=name, due=due)
            updated = _after(record, self._append(dispute_id, event, record.order.currency))
            self._save_state(updated)
            return Result(updated, (), record)

    def attach(self, dispute_id: int, what: Attachment, at: datetime, now: datetime) -> Result:
        """Add evidence or a message to a dispute in one transaction. A file or address the
        dispute has already is noted in the result's warnings, not recorded again."""
        paths = what.paths if isinstance(what, Files) else ()
        self._refuse_before_the_lock(paths, at, now)
        with self._write():
            before = self._record(dispute_id)
            match what:
                case Files(paths, kind, note):
                    added = self._store_files(dispute_id, paths, kind, note, at, now)
                case Link(url, kind, note):
                    added = self._add_link(before, url, kind, note, at, now)
                case Message(text, sender):
                    event = Event(EventKind.MESSAGE, sender, at, now, note=text)
                    added = self._append(dispute_id, event, before.order.currency)
                case _:
                    assert_never(what)
            if not added.events and not added.evidence:
                return Result(before, added.notes, before)
            record = _after(before, added)
            self._save_state(record)
            return Result(record, added.notes, before)

    def _add_link(
        self,
        before: DisputeRecord,
        url: str,
        kind: EvidenceKind | None,
        note: str | None,
        at: datetime,
        now: datetime,
    ) -> _Added:
        existing = self.conn.execute(
            "SELECT id FROM evidence WHERE dispute_id = ? AND sha256 IS NULL AND url = ? "
            "ORDER BY id LIMIT 1",
            (before.id, url),
        ).fetchone()
        if existing is not None:
            return _Added(
                notes=(
                    f"{url} is already attached to dispute {before.id} as evidence "
                    f"#{existing['id']}; nothing new was recorded",
                )
            )
        link = EvidenceRecord(
            id=0,
            kind=(kind or EvidenceKind.LISTING).value,
            name=url,
            sha256=None,
            size=None,
            media_type=None,
            url=url,
            note=note,
            added=stored_time(at),
            recorded=stored_time(now),
        )
        return self._add_evidence(before.id, link)

    def _refuse_before_the_lock(
        self, paths: Sequence[Path], at: datetime, now: datetime, case_ref: str | None = None
    ) -> None:
        """What a write refuses before it waits for the lock: a blank case number, files it
        cannot read, and a move dated in the future."""
        if case_ref is not None and (problem := case_ref_problem(case_ref)):
            raise BadInput(problem)
        if paths:
            store = self.evidence_store
            for path in paths:
                store.check_readable(path)
        _refuse_future(at, now, self.settings.zone)

    def _store_files(
        self,
        dispute_id: int,
        paths: Sequence[Path],
        kind: EvidenceKind | None,
        note: str | None,
        at: datetime,
        now: datetime,
    ) -> _Added:
        """Store and record each file, with a note for each one the dispute has already."""
        from refundctl.ledger.evidence import stored_name

        store = self.evidence_store
        added = _Added()
        for path in paths:
            stored = store.put(path)
            name = stored_name(path)
            existing = self.conn.execute(
                "SELECT id, name FROM evidence WHERE dispute_id = ? AND sha256 = ? "
                "ORDER BY id LIMIT 1",
                (dispute_id, stored.sha256),
            ).fetchone()
            if existing is not None:
                note_text = _already_attached(name, dispute_id, existing, stored.written)
                added += _Added(notes=(note_text,))
                continue
            evidence = EvidenceRecord(
                id=0,
                kind=(kind or EvidenceKind.of_media_type(stored.media_type)).value,
                name=name,
                sha256=stored.sha256,
                size=stored.size,
                media_type=stored.media_type,
                url=None,
                note=note,
                added=stored_time(at),
                recorded=stored_time(now),
            )
            added += self._add_evidence(dispute_id, evidence)
        return added

    def _add_evidence(self, dispute_id: int, e: EvidenceRecord) -> _Added:
        """One evidence row and the event that records it."""
        cursor = self.conn.execute(
            "INSERT INTO evidence (dispute_id, kind, name, sha256, size, media_type, url, note, "
            "added, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dispute_id,
                e.kind,
                e.name,
                e.sha256,
                e.size,
                e.media_type,
                e.url,
                e.note,
                iso(e.added),
                iso(e.recorded),
            ),
        )
        stored = replace(e, id=int(cursor.lastrowid or 0))
        event = Event(
            EventKind.EVIDENCE, Actor.BUYER, e.added, e.recorded, note=e.note, evidence_id=stored.id
        )
        return self._append(dispute_id, event, "") + _Added(evidence=(stored,))

    def _append(self, dispute_id: int, event: Event, currency: str) -> _Added:
        """Append the event; it comes back as the ledger holds it (its id, whole seconds)."""
        amount = None if event.amount is None else to_minor(event.amount, currency)
        cursor = self.conn.execute(
            "INSERT INTO events (dispute_id, kind, actor, amount, offer_kind, note, tracking, "
            "credit, retracts, evidence_id, deadline, due, at, recorded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dispute_id,
                str(event.kind),
                event.actor.value,
                amount,
                None if event.offer_kind is None else event.offer_kind.value,
                event.note,
                event.tracking,
                int(event.credit),
                event.retracts,
                event.evidence_id,
                event.deadline,
                _ts(event.due),
                iso(event.at),
                iso(event.recorded),
            ),
        )
        stored = replace(
            event,
            id=int(cursor.lastrowid or 0),
            at=stored_time(event.at),
            recorded=stored_time(event.recorded),
            due=None if event.due is None else stored_time(event.due),
            amount=None if amount is None else from_minor(amount, currency),
        )
        return _Added(events=(stored,))

    def _new_record(
        self,
        dispute_id: int,
        order: Order,
        item: str | None,
        reason: Reason,
        case_ref: str | None,
        description: str | None,
        added: _Added,
    ) -> DisputeRecord:
        """A dispute just opened, from what went into it: nothing is read back."""
        taken = self._taken(order, exclude=dispute_id).took
        return DisputeRecord(
            id=dispute_id,
            order=order,
            item=item,
            reason=reason,
            case_ref=case_ref,
            description=description,
            dispute=domain.replay(added.events),
            events=added.events,
            evidence=added.evidence,
            max_ask=_left(order, taken, item),
            others_took=taken,
        )

    def _save_state(self, record: DisputeRecord) -> None:
        """Refresh the cached current state from what the events say."""
        d, currency = record.dispute, record.order.currency

        def minor(value: Decimal | None) -> int | None:
            return None if value is None else to_minor(value, currency)

        try:
            self.conn.execute(
                "UPDATE disputes SET state = ?, requested = ?, offer = ?, agreed = ?, "
                "refunded = ?, folded = ?, updated = ? WHERE id = ?",
                (
                    d.state.value,
                    minor(d.requested),
                    minor(d.offer),
                    minor(d.agreed),
                    minor(d.refunded),
                    fold_text(d),
                    iso(record.events[-1].recorded),
                    record.id,
                ),
            )
        except sqlite3.IntegrityError:
            raise BadInput(
                f"order {record.order.order_no} already has an active dispute"
                + (f" on {record.item}" if record.item else "")
            ) from None
        self._index_dispute(record)
        self._index_order(record.order)
        self._store_order_lines(record)

    def _refuse_overlap(
        self, order: Order, item: str | None, exclude: int = 0, via: str | None = None
    ) -> None:
        """At most one active dispute per order item with the marketplace, and one beside it
        through a payment rail (any rail)."""
        rows = self.conn.execute(
            f"SELECT id, item, state FROM disputes WHERE order_id = ? AND id != ? "
            f"AND state IN ({_placeholders(domain.ACTIVE)}) AND (via IS NULL) = ?",
            (order.id, exclude, *domain.ACTIVE, via is None),
        ).fetchall()
        for row in rows:
            if item is None or row["item"] is None or row["item"] == item:
                what = f" on {row['item']}" if row["item"] else ""
                raise BadInput(
                    f"order {order.order_no} already has an active dispute{what} "
                    f"(#{row['id']}, {state_words(row['state'])}); work with it, or close it first"
                )
