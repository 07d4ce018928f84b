"""The letter to the card issuer (``refundctl draft DISPUTE --to issuer``): a chargeback
asked for in the words issuers look for. Which charge (amount, day, card, merchant), what is
wrong, what the buyer did to settle it with the seller and the marketplace (the case's
timeline), what is asked, and the evidence enclosed. The issuer needs the same evidence as
the marketplace did: ``refundctl bundle`` writes it.

Pure, as render/draft.py, whose message pieces it uses: one dispute (the marketplace's, or the
one filed ``--via`` the card) and the order's marketplace disputes in full in; a ``Draft`` out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from refundctl.domain import State
from refundctl.payment import recognise
from refundctl.records import DisputeRecord, EvidenceRecord
from refundctl.render.case import what_happened
from refundctl.render.draft import CLOSING, Draft, DraftKind, Recipient, _Writer
from refundctl.render.fmt import clean
from refundctl.views import DisputeView


def _evidence_of(records: Sequence[DisputeRecord]) -> list[EvidenceRecord]:
    """Every piece of evidence of these disputes, each once (by content, else by name)."""
    seen: set[str] = set()
    found = []
    for record in records:
        for e in record.evidence:
            key = e.sha256 or e.url or e.name
            if key not in seen:
                seen.add(key)
                found.append(e)
    return found


def issuer_letter(
    view: DisputeView, marketplace: Sequence[DisputeRecord], now: datetime, zone: tzinfo
) -> Draft:
    """The chargeback letter for ``view``'s order; ``marketplace``: the order's disputes with
    the marketplace, in full, oldest first (their timeline is what the buyer tried)."""
    writer = _Writer(view, now, zone)
    record, order = view.record, view.record.order
    payment = recognise(order.payment)
    card = payment.describe() if payment is not None else "my card"
    seller = clean(order.seller) if order.seller else "the seller"
    place = writer.market if record.via is None else _marketplace_name(order.marketplace)
    when = f" on {writer.day(order.ordered)}" if order.ordered is not None else ""
    opening = (
        f"I dispute the charge of {writer.money(order.total)}{when} on my {card}, paid to "
        f"{seller} for {writer.order_ref} on {place}."
    )
    tried = [r for r in marketplace if r.via is None] or ([record] if record.via is None else [])
    history: list[str] = []
    for case in tried:
        history += [f"- {writer.day(e.at)}: {text}." for e, text in what_happened(case)]
        d = case.dispute
        if d.state is State.LOST and d.closed_at is not None and not d.rejected_by_platform:
            history.append(
                f"- {writer.day(d.closed_at)}: the case with {place} closed without a refund."
            )
    settled = (
        "\n".join([f"I tried to settle it with the seller and {place} first:", *history])
        if history
        else f"I asked {seller} to put it right, without result."
    )
    evidence = _evidence_of([record, *tried])
    enclosed = (
        "\n".join(
            [
                "Enclosed:",
                *(f"- {clean(e.name)}" + (f" ({e.kind})" if e.kind else "") for e in evidence),
            ]
        )
        if evidence
        else None
    )
    body = [
        opening,
        writer.problem(),
        settled,
        writer.ask(record.dispute.requested, lead="I ask for"),
        enclosed,
        "Please tell me if you need anything else to process this dispute.",
    ]
    return Draft(
        DraftKind.ISSUER,
        Recipient.ISSUER,
        f"Dispute of a charge: {writer.money(order.total)} to {seller}",
        "Dear card services team,",
        tuple(part for part in body if part),
        CLOSING,
    )


def _marketplace_name(marketplace: str) -> str:
    from refundctl.render.case import marketplace_name

    return marketplace_name(marketplace)
