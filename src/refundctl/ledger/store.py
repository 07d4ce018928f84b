"""The ledger's one face: ``Ledger``, opened once per command, every public method one transaction.

With ledger/connection.py (opening, migrating, refusing what is not a ledger), the rooms behind
it are the only code that speaks SQL, and they point one way, each using only those below it:

    rows.py      rows <-> domain values
    reads.py     orders and disputes as they are read (``Reads``); with order_lines.py
                 (``order list --json`` built by SQLite)
    cache.py     the stored deadlines, folds, escalation times and status lines, always
                 right: current or computed afresh (``Cache``), and the write transaction
                 that keeps them so; with deadline_index.py (its queries) and status_lines.py
                 (``status --json`` joined from the stored text)
    orders.py    order writes (``OrderWrites``)
    remedy.py    what a dispute filed through a payment rail (a chargeback) is checked
                 against, and its siblings' stored deadlines (``Remedies``)
    disputes.py  dispute writes: open, move, undo, attach (``DisputeWrites``)
    importer.py  ``order import`` (``Importer``)
    verify.py    ``verify`` (``Verifier``)
    cases.py     disputes as ``stats`` counts them (``CaseReads``)

Every write is one ``BEGIN IMMEDIATE`` transaction: the event and the cached current state land
together or not at all, and parallel invocations wait for each other.
"""

from __future__ import annotations

from refundctl.ledger.cases import CaseReads
from refundctl.ledger.disputes import (
    AmountSpec,
    Attachment,
    DisputeWrites,
    Files,
    Link,
    Message,
    Result,
)
from refundctl.ledger.importer import Importer, ImportSummary
from refundctl.ledger.orders import Close, NewOrders, OrderChange, Receive, Reopen, Update
from refundctl.ledger.reads import OrderRef
from refundctl.ledger.verify import Verifier

__all__ = [
    "AmountSpec",
    "Attachment",
    "Close",
    "Files",
    "ImportSummary",
    "Ledger",
    "Link",
    "Message",
    "NewOrders",
    "OrderChange",
    "OrderRef",
    "Receive",
    "Reopen",
    "Result",
    "Update",
]


class Ledger(Importer, DisputeWrites, Verifier, CaseReads):
    """One open ledger. Create it with ``Ledger.open``; every public write is a transaction."""
