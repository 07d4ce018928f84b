"""The remedies beyond the marketplace, as the ledger holds them: what opening a dispute
``--via`` a rail is checked against, and the stored deadlines of an order's other disputes
once a rail is in use.

A room behind the face like the others (ledger/store.py): it reads through ``Reads`` and
rewrites stored deadlines through ``Cache``; what a remedy is and when its window closes is
remedies.py's.
"""

from __future__ import annotations

from datetime import datetime

from refundctl import domain
from refundctl.deadlines import can_open_from, order_deadlines, timing_warnings
from refundctl.domain import Move, Reason, State
from refundctl.errors import BadInput
from refundctl.ledger.cache import Cache
from refundctl.ledger.reads import _placeholders
from refundctl.payment import Network
from refundctl.records import DisputeRecord, Order
from refundctl.remedies import ViaCheck, via_refusal, via_warnings


class Remedies(Cache):
    """The order-wide reads and upkeep that a dispute through a payment rail needs."""

    def _opening_warnings(
        self, order: Order, via: Network | None, reason: Reason, at: datetime
    ) -> list[str]:
        """Inside ``open_dispute``: a marketplace dispute opened early or late; through a
        rail, refused where it is no dispute of its own, and warned as
        ``remedies.via_warnings`` says."""
        zone = self.settings.zone
        if via is None:
            policy = self.settings.policy_for(order.marketplace)
            earliest = can_open_from(order, policy, zone) if reason is Reason.NOT_RECEIVED else None
            return timing_warnings(
                order_deadlines(order, policy, zone), Move.OPEN, at, zone, earliest
            )
        refusal = via_refusal(order, via)
        if refusal is not None:
            raise BadInput(refusal)
        active = tuple(
            (int(row[0]), str(row[1]))
            for row in self.conn.execute(
                f"SELECT id, state FROM disputes WHERE order_id = ? AND via IS NULL "
                f"AND state IN ({_placeholders(domain.ACTIVE)}) ORDER BY id",
                (order.id, *domain.ACTIVE),
            )
        )
        refunded = self.conn.execute(
            "SELECT 1 FROM disputes WHERE order_id = ? AND via IS NULL AND state = ? LIMIT 1",
            (order.id, State.REFUNDED.value),
        ).fetchone()
        check = ViaCheck(active, refunded is not None)
        return via_warnings(order, via, reason, at, zone, check)

    def _reindex_siblings(self, record: DisputeRecord) -> None:
        """Inside a write that put a rail in use on the order: store again the deadlines of
        the order's other disputes, whose remedy window that rail was."""
        ids = [i for i in self._dispute_ids(record.order.id) if i != record.id]
        for sibling in self._records(ids, history=False):
            self._index_dispute(sibling)
