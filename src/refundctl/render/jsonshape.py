"""The JSON contract of DESIGN.md: plain dicts of strings, numbers, booleans and nulls.

Pure and free of Rich, so ``--json`` never pays for importing it. Money is a decimal string
beside a ``currency``; times are ISO 8601 with a UTC offset. Fields are only ever added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from json.encoder import encode_basestring as _text
from typing import TYPE_CHECKING, Any

from refundctl.money import to_json
from refundctl.timeparse import iso

if TYPE_CHECKING:  # `check --json` renders without loading the domain model
    from refundctl.deadlines import Deadline, Earliest
    from refundctl.domain import Event, Proposal
    from refundctl.due import CheckItem
    from refundctl.records import DisputeRecord, EvidenceRecord, Order
    from refundctl.remedy_view import OrderRemedies
    from refundctl.views import DisputeView, OrderView

JSON = dict[str, Any]


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def deadline(d: Deadline | None, now: datetime) -> JSON | None:
    if d is None:
        return None
    return {
        "name": d.name,
        "due": iso(d.due),
        "binds": str(d.binds),
        "action": d.action,
        "overdue": d.overdue(now),
        "if_missed": str(d.if_missed),
        "rule": d.rule.as_json(),
    }


def _earliest_at(e: Earliest | None) -> str | None:
    return None if e is None else iso(e.at)


def _earliest_rule(e: Earliest | None) -> JSON | None:
    return None if e is None else e.rule.as_json()


def dispute_facts(record: DisputeRecord) -> JSON:
    """What ``dispute`` says of a dispute that no clock, config or deadline changes: it
    changes only with the dispute, its order or what the order's other disputes took."""
    from refundctl.domain import shortfall  # loaded with the dispute already

    d, order = record.dispute, record.order
    return {
        "id": record.id,
        "order": order.order_no,
        "marketplace": order.marketplace,
        "seller": order.seller,
        "item": record.item,
        "reason": str(record.reason),
        "state": str(d.state),
        "waiting_on": d.state.waiting_on,
        "currency": order.currency,
        "requested": to_json(d.requested),
        "offer": to_json(d.offer),
        "offer_kind": None if d.offer_kind is None else str(d.offer_kind),
        "agreed": to_json(d.agreed),
        "refunded": to_json(d.refunded),
        "shortfall": to_json(shortfall(d)),
        "credit": d.credit,
        "refundable": to_json(record.refundable),
        "max_ask": to_json(record.max_ask),
        "case_ref": record.case_ref,
        "opened": iso(d.opened_at),
    }


def dispute_head(record: DisputeRecord) -> str:
    """``dispute_facts`` as compact JSON text without its closing brace: the ledger stores it
    with the dispute (ledger/status_lines.py), and ``status --json`` adds the rest."""
    return json.dumps(dispute_facts(record), ensure_ascii=False, separators=(",", ":"))[:-1]


def dispute(view: DisputeView, now: datetime, *, detail: bool = False) -> JSON:
    record = view.record
    shape: JSON = {
        **dispute_facts(record),
        "policy": view.policy.name,
        "via": record.via,
        "deadline": deadline(view.next, now),
        "deadlines": [deadline(x, now) for x in view.deadlines],
        "can_escalate_from": _earliest_at(earliest := view.can_escalate_from()),
        "can_escalate_rule": _earliest_rule(earliest),
    }
    if detail:
        shape["description"] = record.description
        shape["tracking"] = record.dispute.tracking
        shape["offers"] = [_proposal(p) for p in record.dispute.proposals]
        shape["evidence"] = [_evidence(e) for e in record.evidence]
        shape["events"] = [_event(e) for e in record.events]
    return shape


def _proposal(p: Proposal) -> JSON:
    return {
        "at": iso(p.at),
        "actor": str(p.actor),
        "kind": str(p.kind),
        "amount": to_json(p.amount),
        "outcome": str(p.outcome),
    }


def _evidence(e: EvidenceRecord) -> JSON:
    return {
        "id": e.id,
        "kind": e.kind,
        "name": e.name,
        "sha256": e.sha256,
        "size": e.size,
        "media_type": e.media_type,
        "url": e.url,
        "note": e.note,
        "added": iso(e.added),
        "present": e.present,
        "intact": e.intact,
    }


def _event(e: Event) -> JSON:
    return {
        "id": e.id,
        "at": iso(e.at),
        "recorded": iso(e.recorded),
        "actor": str(e.actor),
        "kind": e.kind,
        "amount": to_json(e.amount),
        "offer_kind": None if e.offer_kind is None else str(e.offer_kind),
        "note": e.note,
        "tracking": e.tracking,
        "credit": e.credit,
        "retracts": e.retracts,
        "evidence_id": e.evidence_id,
        "deadline": e.deadline,
        "due": _time(e.due),
    }


def order(o: Order) -> JSON:
    return {
        "order": o.order_no,
        "marketplace": o.marketplace,
        "seller": o.seller,
        "title": o.title,
        "total": to_json(o.total),
        "currency": o.currency,
        "items": [
            {"name": i.name, "quantity": i.quantity, "price": to_json(i.price)} for i in o.items
        ],
        "ordered": _time(o.ordered),
        "shipped": _time(o.shipped),
        "expected_by": _time(o.expected_by),
        "received": _time(o.received),
        "protection_ends": _time(o.protection_ends),
        "payment": o.payment,
        **_payment(o.payment),
        "closed": None if o.closed_at is None else (o.closed or "closed"),
        "closed_at": _time(o.closed_at),
    }


def _payment(text: str | None) -> JSON:
    """What the payment text names, beside it: the rail (``visa``, ``paypal``...) and, where
    the text says, ``debit`` or ``credit``; nulls for text that names none."""
    from refundctl.payment import recognise

    found = recognise(text)
    return {
        "payment_network": None if found is None else str(found.network),
        "payment_funding": None if found is None or found.funding is None else str(found.funding),
    }


def order_with_deadlines(view: OrderView, now: datetime) -> JSON:
    return {
        **order(view.order),
        "refundable": to_json(view.refundable),
        "undisputed": to_json(view.undisputed),
        "policy": view.policy.name,
        "deadline": deadline(view.next, now),
        "deadlines": [deadline(x, now) for x in view.deadlines],
        "can_open_from": _earliest_at(view.can_open_from),
        "can_open_rule": _earliest_rule(view.can_open_from),
    }


def remedies(found: OrderRemedies, now: datetime) -> JSON:
    """``remedies ORDER --json``: every remedy of the order, in the order to try them."""
    o = found.order
    return {
        "as_of": iso(now),
        "order": o.order_no,
        "marketplace": o.marketplace,
        "payment": o.payment,
        **_payment(o.payment),
        "family": None if found.family is None else str(found.family),
        "remedies": [
            {
                "kind": str(r.kind),
                "name": r.name,
                "title": r.title,
                "standing": str(r.standing),
                "open": r.standing == "open",
                "dispute": r.dispute,
                "deadline": deadline(r.deadline, now),
                "can_file_from": _time(r.can_file_from),
                "excludes": list(r.excludes),
                "to_do": r.to_do,
                "source": r.source,
                "assumed": r.assumed,
            }
            for r in found.remedies
        ],
        "notes": list(found.notes),
    }


def status(
    disputes: Iterable[DisputeView], orders: Iterable[OrderView], now: datetime
) -> Iterator[str]:
    """``status --json`` as text, one dispute or order per line as they come, so that a
    ledger of any size is printed without being held in memory whole."""
    yield from status_text((dispute_text(v, now) for v in disputes), orders, now)


def dispute_text(view: DisputeView, now: datetime) -> str:
    """One dispute of ``status --json``, as JSON text."""
    return json.dumps(dispute(view, now), ensure_ascii=False)


def status_text(
    disputes: Iterable[str], orders: Iterable[OrderView], now: datetime
) -> Iterator[str]:
    """``status`` with its disputes given as JSON text already (the ledger's SQLite builds
    them from what it stores: ``ledger/status_lines.py``)."""
    yield f'{{"as_of": {_text(iso(now))}, "disputes": ['
    separator = "\n"
    for text in disputes:
        yield separator + text
        separator = ",\n"
    yield ("\n" if separator != "\n" else "") + "]"
    yield ', "orders": ['
    yield from array_lines((order_with_deadlines(v, now) for v in orders), "]}\n")


def orders_text(lines: Iterable[str]) -> Iterator[str]:
    """``order list --json``: ``{"orders": [...]}``, one order per line as they come, each
    already JSON text (``Ledger.order_lines``, which holds each to ``order``)."""
    yield '{"orders": ['
    yield from array_text(lines, "]}\n")


def array_text(texts: Iterable[str], close: str) -> Iterator[str]:
    """``array_lines`` of elements already JSON text."""
    separator = "\n"
    for text in texts:
        yield separator + text
        separator = ",\n"
    yield ("\n" if separator != "\n" else "") + close


def array_lines(shapes: Iterable[JSON], close: str) -> Iterator[str]:
    """The rest of a JSON array, one element per line as they come, then ``close``."""
    yield from array_text((json.dumps(shape, ensure_ascii=False) for shape in shapes), close)


def check(items: Iterable[CheckItem], now: datetime, label: str) -> Iterator[str]:
    """``check --json`` as text, one item per line as the items come, so that a long list
    is neither held in memory nor encoded by the slow pure-Python pretty-printer."""
    at = now.timestamp()
    yield from check_text((check_item(item, at) for item in items), now, label)


def check_item(item: CheckItem, now: float) -> str:
    """One item of ``check --json``, as JSON text; ``now`` in seconds since the epoch. The
    values are those of ``deadline``; the rule is spliced in as the index stored it."""
    head, tail = check_parts(item)
    return f"{head}{'true' if item.due_at <= now else 'false'}{tail}{item.rule}}}}}"


def check_parts(item: CheckItem) -> tuple[str, str]:
    """``check_item``'s text before and after the one value that depends on the time (whether
    it is overdue), without the rule that ends it: what the ledger stores with each deadline,
    so that ``check --json`` joins stored text (``deadline_index.due_json``)."""
    # Unpacked rather than read by attribute: this runs once per item of a long list.
    kind, dispute_id, _, order_no, marketplace, name, _, due, binds, action, _, missed = item
    return (
        f'{{"kind": {_text(kind)}, "id": {"null" if dispute_id is None else dispute_id}, '
        f'"order": {_text(order_no)}, "marketplace": {_text(marketplace)}, '
        f'"deadline": {{"name": {_text(name)}, "due": "{due}", '
        f'"binds": {_text(binds)}, "action": {_text(action)}, "overdue": ',
        f', "if_missed": {_text(missed)}, "rule": ',
    )


def check_text(items: Iterable[str], now: datetime, label: str) -> Iterator[str]:
    """``check --json`` with its items given as JSON text already (``check_item``'s, or the
    ledger's SQLite's: ``deadline_index.due_json``)."""
    yield f'{{"as_of": {_text(iso(now))}, "within": {_text(label)}, "items": ['
    separator = "\n"
    for text in items:
        yield separator + text
        separator = ",\n"
    yield "\n]}\n" if separator != "\n" else "]}\n"
