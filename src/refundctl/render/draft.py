"""Messages the buyer can paste: to the seller, or the statement for the marketplace.

Pure: one dispute in full, ``now`` and the buyer's zone in; a ``Draft`` out. What to write
follows from where the dispute stands: the first request while the seller has not answered, the
answer to a counter-offer or a rejection, the buyer's own counter, a follow-up while a return or
a refund is under way, and the statement that asks the marketplace to step in (or appeals its
decision). Each is written the way claims that succeed are: polite, short, specific: which
order, what is wrong, how much is asked and why that is fair, what is attached, what happens
next. Every piece of the buyer's own text is shown escaped, never run by the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import assert_never

from refundctl.domain import Actor, OfferKind, Proposal, Reason, State
from refundctl.errors import BadInput
from refundctl.money import format_money
from refundctl.policies import Binds, IfMissed
from refundctl.records import DisputeRecord, EvidenceKind
from refundctl.render.case import (
    day,
    disputed_item,
    marketplace_name,
    sentence,
    share,
    what_happened,
)
from refundctl.render.fmt import clean
from refundctl.views import DisputeView


class Recipient(StrEnum):
    SELLER = "seller"
    PLATFORM = "platform"
    ISSUER = "issuer"  # the card issuer: a chargeback (render/issuer_letter.py)


class DraftKind(StrEnum):
    REQUEST = "request"  # the first request; the seller has not answered
    REPLY = "reply"  # the answer to the seller's offer: declined, the ask restated
    COUNTER = "counter"  # the buyer's counter-offer, as recorded with 'respond counter'
    REJECTED = "rejected"  # the answer to the seller's rejection
    FOLLOW_UP = "follow_up"  # a return or a refund under way
    ESCALATION = "escalation"  # to the marketplace: step in, answer it, or appeal
    ISSUER = "issuer"  # to the card issuer: charge it back


@dataclass(frozen=True, slots=True)
class Draft:
    kind: DraftKind
    to: Recipient
    subject: str
    greeting: str
    body: tuple[str, ...]
    closing: str

    @property
    def text(self) -> str:
        """The message to paste: greeting, paragraphs, closing."""
        return "\n\n".join((self.greeting, *self.body, self.closing)) + "\n"


CLOSING = "Kind regards"

# Why a partial ask is fair, by reason; and why a full one is.
_PARTIAL_BECAUSE = {
    Reason.MISSING_PARTS: "for what is missing; I am keeping the rest of the order",
    Reason.DAMAGED: "to make up for the damage",
    Reason.DEFECTIVE: "to make up for the fault",
    Reason.NOT_AS_DESCRIBED: "for the difference from what the listing promised",
    Reason.WRONG_ITEM: "for the difference from what I ordered",
    Reason.LATE_DELIVERY: "for the late delivery",
    Reason.NOT_RECEIVED: "for the part of the order that did not arrive",
}
_FULL_BECAUSE = {
    Reason.NOT_RECEIVED: "since nothing arrived",
    Reason.MISSING_PARTS: "since the order is incomplete",
    Reason.DAMAGED: "since it cannot be used as it is",
    Reason.DEFECTIVE: "since it cannot be used as it is",
    Reason.NOT_AS_DESCRIBED: "since it is not the item the listing described",
    Reason.WRONG_ITEM: "since it is not what I ordered",
}
# Reasons where the buyer can show the problem in a photo.
_VISIBLE = frozenset(
    {
        Reason.MISSING_PARTS,
        Reason.DAMAGED,
        Reason.DEFECTIVE,
        Reason.NOT_AS_DESCRIBED,
        Reason.WRONG_ITEM,
    }
)
_KIND_WORDS: dict[str, str] = {
    EvidenceKind.CHAT: "chat log",
    EvidenceKind.TRACKING: "tracking page",
    EvidenceKind.LISTING: "the listing",
}


_AGREED = frozenset({State.REFUND_PENDING, State.RETURN_TO_SHIP, State.RETURN_IN_TRANSIT})


def choose(view: DisputeView, to: Recipient | None) -> tuple[DraftKind, Recipient]:
    """Which message fits the dispute now; ``BadInput`` when there is nothing to write."""
    record = view.record
    d = record.dispute
    if to is None and record.via is not None and record.via != "paypal":
        to = Recipient.ISSUER  # a chargeback's case is the issuer's
    if to is Recipient.ISSUER and d.state not in {
        State.REFUNDED,
        State.WITHDRAWN,
        State.CANCELLED,
    }:
        return DraftKind.ISSUER, to
    can_appeal = d.state is State.LOST and any(x.name == "appeal_by" for x in view.deadlines)
    if d.state in {State.REFUNDED, State.WITHDRAWN, State.CANCELLED} or (
        d.state is State.LOST and not can_appeal
    ):
        raise BadInput(f"dispute {record.id} is closed ({d.state}); there is nothing left to ask")
    if to is None:
        # After the platform's decision, it is the platform that sees it carried out.
        platform = d.state in {State.ESCALATED, State.LOST} or (
            d.decided_by_platform and d.state in _AGREED
        )
        to = Recipient.PLATFORM if platform else Recipient.SELLER
    if to is Recipient.PLATFORM:
        return DraftKind.ESCALATION, to
    if d.state in {State.ESCALATED, State.LOST}:
        raise BadInput(
            f"dispute {record.id} is {d.state}: the marketplace decides now; "
            f"'refundctl draft {record.id} --to platform' writes to it"
        )
    match d.state:
        case State.AWAITING_SELLER:
            kind = DraftKind.COUNTER if d.seller_has_moved else DraftKind.REQUEST
        case State.AWAITING_BUYER:
            kind = DraftKind.REPLY if d.offer is not None else DraftKind.REJECTED
        case _:
            kind = DraftKind.FOLLOW_UP
    return kind, to


def draft(
    view: DisputeView,
    now: datetime,
    zone: tzinfo,
    to: Recipient | None = None,
    others: Sequence[DisputeRecord] = (),
) -> Draft:
    """The message that fits; ``others``: the order's other disputes in full, whose timeline
    a letter to the card issuer tells."""
    kind, _ = choose(view, to)
    writer = _Writer(view, now, zone)
    match kind:
        case DraftKind.ISSUER:
            from refundctl.render.issuer_letter import issuer_letter

            return issuer_letter(view, others, now, zone)
        case DraftKind.REQUEST:
            return writer.request()
        case DraftKind.REPLY:
            return writer.reply()
        case DraftKind.COUNTER:
            return writer.counter()
        case DraftKind.REJECTED:
            return writer.rejected()
        case DraftKind.FOLLOW_UP:
            return writer.follow_up()
        case DraftKind.ESCALATION:
            return writer.escalation()
        case _ as unreachable:
            assert_never(unreachable)


class _Writer:
    """The sentences of one dispute's messages."""

    def __init__(self, view: DisputeView, now: datetime, zone: tzinfo) -> None:
        self.view = view
        self.record: DisputeRecord = view.record
        self.now = now
        self.zone = zone
        self.order = self.record.order
        self.d = self.record.dispute
        # Who decides: the marketplace, or the rail the dispute was filed through (PayPal).
        via = self.record.via
        self.market = (
            marketplace_name(self.order.marketplace) if via is None else view.policy.market
        )

    # -- pieces --------------------------------------------------------------------------------

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.order.currency)

    def day(self, moment: datetime) -> str:
        return day(moment, self.zone)

    @property
    def order_ref(self) -> str:
        title = f" ({clean(self.order.title)})" if self.order.title else ""
        return f"order {clean(self.order.order_no)}{title}"

    @property
    def subject_ref(self) -> str:
        return f"Order {clean(self.order.order_no)}"

    def seller_greeting(self) -> str:
        return f"Hello {clean(self.order.seller)}," if self.order.seller else "Hello,"

    def thing(self) -> str:
        """What the dispute is about: the named item, the order, or the item."""
        if self.record.item:
            return f"the {clean(self.record.item)}"
        reason = self.record.reason
        order_level = {Reason.NOT_RECEIVED, Reason.MISSING_PARTS, Reason.LATE_DELIVERY}
        return "the order" if reason in order_level else "the item"

    def problem(self) -> str:
        """What is wrong: the reason in a sentence, then the buyer's description."""
        thing = self.thing()
        said = {
            Reason.NOT_RECEIVED: f"{thing} has not arrived",
            Reason.NOT_AS_DESCRIBED: f"{thing} is not as described in the listing",
            Reason.DAMAGED: f"{thing} arrived damaged",
            Reason.DEFECTIVE: f"{thing} does not work as it should",
            Reason.MISSING_PARTS: (
                f"{thing} is missing from the order"
                if self.record.item
                else f"part of {thing} is missing"
            ),
            Reason.WRONG_ITEM: "I received the wrong item"
            + (f" instead of {thing}" if self.record.item else ""),
            Reason.LATE_DELIVERY: f"{thing} arrived late",
            Reason.CHANGED_MIND: f"I would like to return {thing}",
            Reason.OTHER: f"there is a problem with {thing}",
        }[self.record.reason]
        parts = [sentence(said)]
        parts += self.delivery_facts()
        if self.record.description:
            parts.append(sentence(clean(self.record.description)))
        return " ".join(parts)

    def delivery_facts(self) -> list[str]:
        order, reason = self.order, self.record.reason
        if reason is Reason.NOT_RECEIVED and order.expected_by is not None:
            return [f"It was expected by {self.day(order.expected_by)}."]
        if reason is Reason.NOT_RECEIVED and order.shipped is not None:
            return [f"It was shipped on {self.day(order.shipped)}."]
        if (
            reason is Reason.LATE_DELIVERY
            and order.expected_by is not None
            and order.received is not None
        ):
            return [
                f"It was expected by {self.day(order.expected_by)} "
                f"and arrived on {self.day(order.received)}."
            ]
        return []

    def ask(self, amount: Decimal, lead: str = "I am asking for") -> str:
        """The amount, and why it is fair: its share of what was paid, or of the item's price."""
        reason = self.record.reason
        item = disputed_item(self.record)
        if item is not None and item.value is not None:
            whole, of_what = item.value, f"the price of the {clean(item.name)}"
            full = f"a refund of {self.money(amount)}, the full price of the {clean(item.name)}"
        else:
            whole, of_what = self.order.total, "what I paid"
            full = f"a full refund of the {self.money(amount)} I paid"
        if amount >= whole:
            because = _FULL_BECAUSE.get(reason)
            if reason is Reason.MISSING_PARTS and item is not None:
                because = "since it was not in the parcel"
            text = f"{lead} {full}"
        else:
            because = _PARTIAL_BECAUSE.get(reason)
            text = (
                f"{lead} a partial refund of {self.money(amount)}: {share(amount, whole)} "
                f"of {of_what} ({self.money(whole)})"
            )
        return text + (f", {because}." if because else ".")

    def evidence(self, lead: str) -> str | None:
        """The list of what is attached, or a line offering photos where they would help."""
        lines = []
        for e in self.record.evidence:
            note = f": {clean(e.note)}" if e.note else ""
            if e.sha256 is None:
                word = _KIND_WORDS.get(e.kind, e.kind)
                lines.append(f"- {word}: {clean(e.url or e.name)}{note}")
            else:
                lines.append(f"- {clean(e.name)} ({e.kind}{note})")
        if lines:
            return "\n".join([lead, *lines])
        if self.record.reason in _VISIBLE:
            return "I can send photos if you need them."
        return None

    def agree_by(self) -> tuple[datetime, bool] | None:
        """The day to name in "if we cannot agree by …", and whether the marketplace steps in
        by itself then: the seller's time, or a day before the buyer's own deadline (so the
        buyer still has time to escalate), or the moment the marketplace takes over."""
        if self.d.state is State.AWAITING_SELLER:
            due = [
                (x.due, x.if_missed is IfMissed.PLATFORM_STEPS_IN)
                for x in self.view.deadlines
                if x.name == "seller_response"
            ]
        else:
            due = [
                (x.due - timedelta(days=1), False)
                for x in self.view.deadlines
                if x.binds is Binds.BUYER
            ]
        if not due:
            due = [
                (x.due, True)
                for x in self.view.deadlines
                if x.if_missed is IfMissed.PLATFORM_STEPS_IN
            ]
        future = [entry for entry in due if entry[0] > self.now]
        return min(future) if future else None

    def next_step(self, question: str | None = None) -> str:
        found = self.agree_by()
        if found is None:
            step = f"If we cannot agree, I will ask {self.market} to step in."
        elif found[1]:
            step = f"If we cannot agree by {self.day(found[0])}, {self.market} will step in."
        else:
            step = (
                f"If we cannot agree by {self.day(found[0])}, I will ask {self.market} to step in."
            )
        return f"{question} {step}" if question else step

    def last_seller_offer(self) -> Proposal | None:
        offers = [p for p in self.d.proposals if p.actor is Actor.SELLER]
        return offers[-1] if offers else None

    def offer_words(self, proposal: Proposal) -> str:
        money = self.money(proposal.amount)
        if proposal.kind is OfferKind.REPLACEMENT:
            return f"a replacement (valued at {money})"
        if proposal.kind is OfferKind.REFUND_WITH_RETURN:
            return f"{money} on condition that I return the item"
        return money

    def build(
        self, kind: DraftKind, to: Recipient, subject: str, greeting: str, body: list[str | None]
    ) -> Draft:
        paragraphs = tuple(p for p in body if p)
        return Draft(kind, to, subject, greeting, paragraphs, CLOSING)

    # -- the messages --------------------------------------------------------------------------

    def request(self) -> Draft:
        received = ""
        if self.order.received is not None:
            received = f", which I received on {self.day(self.order.received)}"
        return self.build(
            DraftKind.REQUEST,
            Recipient.SELLER,
            f"{self.subject_ref}: refund request ({str(self.record.reason).replace('-', ' ')})",
            self.seller_greeting(),
            [
                f"I am writing about {self.order_ref}{received}. {self.problem()}",
                self.ask(self.d.requested),
                self.evidence("I have attached:"),
                self.next_step("Could you please confirm the refund?"),
            ],
        )

    def reply(self) -> Draft:
        assert self.d.offer is not None
        offer = self.last_seller_offer()
        words = self.offer_words(offer) if offer else self.money(self.d.offer)
        return self.build(
            DraftKind.REPLY,
            Recipient.SELLER,
            f"{self.subject_ref}: your offer of {self.money(self.d.offer)}",
            self.seller_greeting(),
            [
                f"Thank you for your reply about {self.order_ref} and for your offer of "
                f"{words}. I am sorry, but I cannot accept it.",
                self.problem(),
                self.ask(self.d.requested, lead="I am still asking for"),
                self.evidence("The evidence, again:"),
                self.next_step(),
            ],
        )

    def counter(self) -> Draft:
        offer = self.last_seller_offer()
        thanks = (
            f"Thank you for your offer of {self.offer_words(offer)} for {self.order_ref}. "
            "I cannot accept it as it is, but I would like to settle this with you."
            if offer is not None
            else f"Thank you for your reply about {self.order_ref}."
        )
        return self.build(
            DraftKind.COUNTER,
            Recipient.SELLER,
            f"{self.subject_ref}: my counter-offer of {self.money(self.d.requested)}",
            self.seller_greeting(),
            [
                thanks,
                self.problem(),
                self.ask(self.d.requested, lead="I can accept"),
                self.evidence("The evidence, again:"),
                self.next_step("Could you please confirm?"),
            ],
        )

    def rejected(self) -> Draft:
        return self.build(
            DraftKind.REJECTED,
            Recipient.SELLER,
            f"{self.subject_ref}: my refund request",
            self.seller_greeting(),
            [
                f"Thank you for your reply about {self.order_ref}. I understand that you "
                "have turned down my request, but the problem remains.",
                self.problem(),
                self.ask(self.d.requested, lead="I am still asking for"),
                self.evidence("The evidence, again:"),
                self.next_step("Could you please reconsider?"),
            ],
        )

    def follow_up(self) -> Draft:
        d = self.d
        agreed = self.money(d.agreed) if d.agreed is not None else "the refund"
        since = f" on {self.day(d.agreed_at)}" if d.agreed_at is not None else ""
        # Who settled it: the seller agreed, or the marketplace decided.
        thanks = (
            f"{self.market} decided{since} that {agreed} is to be refunded for {self.order_ref}"
            if d.decided_by_platform
            else f"Thank you for agreeing{since} to refund {agreed} for {self.order_ref}"
        )
        due = {x.name: x.due for x in self.view.deadlines}
        body: list[str | None]
        match d.state:
            case State.RETURN_TO_SHIP:
                ship_by = due.get("return_ship_by")
                body = [
                    f"{thanks} once the item is back with you.",
                    "Could you please send me the return address, or a return label? "
                    + (
                        f"I will ship the item by {self.day(ship_by)}."
                        if ship_by is not None and ship_by > self.now
                        else "I will ship the item as soon as I have it."
                    ),
                ]
                subject = "the return"
            case State.RETURN_IN_TRANSIT:
                shipped = self.day(d.return_shipped_at) if d.return_shipped_at else "recently"
                tracking = f" (tracking {clean(d.tracking)})" if d.tracking else ""
                delivered = (
                    f" It was delivered to you on {self.day(d.return_delivered_at)}."
                    if d.return_delivered_at is not None
                    else ""
                )
                body = [
                    f"I shipped the return for {self.order_ref} on {shipped}{tracking}.{delivered}",
                    f"Could you please send the refund of {agreed} "
                    + (
                        f"{self.market} decided{since}?"
                        if d.decided_by_platform
                        else f"we agreed{since}?"
                    ),
                    self._refund_step(due.get("return_refund_due")),
                ]
                subject = "refund for the returned item"
            case _:
                body = [
                    f"{thanks}.",
                    "The refund has not reached me yet. Could you please check that it has "
                    "been sent, and tell me when it was?",
                    self._refund_step(due.get("refund_expected")),
                ]
                subject = "the agreed refund"
        return self.build(
            DraftKind.FOLLOW_UP,
            Recipient.SELLER,
            f"{self.subject_ref}: {subject}",
            self.seller_greeting(),
            body,
        )

    def _refund_step(self, due: datetime | None) -> str:
        # After its decision, the marketplace is asked to see it carried out, not to step in.
        ask = "to enforce its decision" if self.d.decided_by_platform else "to step in"
        if due is None:
            return f"If it does not arrive soon, I will ask {self.market} {ask}."
        if due <= self.now:
            return f"It was due by {self.day(due)}; I will now ask {self.market} {ask}."
        return f"If it has not arrived by {self.day(due)}, I will ask {self.market} {ask}."

    def escalation_ask(self) -> str:
        """What the marketplace is asked for: the refund asked, or the one agreed and unpaid."""
        d = self.d
        if d.state in _AGREED and d.agreed is not None:
            since = f" on {self.day(d.agreed_at)}" if d.agreed_at is not None else ""
            settled = "decided" if d.decided_by_platform else "agreed"
            return (
                f"A refund of {self.money(d.agreed)} was {settled}{since} and has not reached "
                f"me. I ask {self.market} to make sure it is paid."
            )
        return self.ask(d.requested, lead="I ask for")

    def escalation(self) -> Draft:
        record, d, order = self.record, self.d, self.order
        case = f" (case {clean(record.case_ref)})" if record.case_ref else ""
        seller = f" from {clean(order.seller)}" if order.seller else ""
        if d.state is State.LOST:
            when = f" of {self.day(d.closed_at)}" if d.closed_at else ""
            opening = (
                f"I am appealing the decision{when} on my dispute about {self.order_ref}"
                f"{seller}{case}, and ask {self.market} to review it again."
            )
        elif d.decided_by_platform and d.state in _AGREED:
            when = f" of {self.day(d.agreed_at)}" if d.agreed_at else ""
            opening = (
                f"I am writing about {self.market}'s decision{when} on my dispute about "
                f"{self.order_ref}{seller}{case}, which has not been carried out."
            )
        else:
            opening = (
                f"I am asking {self.market} to review my dispute about {self.order_ref}"
                f"{seller}{case}."
            )
        if d.info_requested_at is not None:
            opening += (
                f" This answers your request for information of {self.day(d.info_requested_at)}."
            )
        paid = f"I paid {self.money(order.total)}"
        if order.ordered is not None:
            paid += f" on {self.day(order.ordered)}"
        if order.received is not None:
            paid += f" and received the order on {self.day(order.received)}"
        history = [f"- {self.day(event.at)}: {text}." for event, text in what_happened(record)]
        if d.state is State.AWAITING_SELLER and any(
            x.name == "seller_response" and x.overdue(self.now) for x in self.view.deadlines
        ):
            history.append("- The seller has not answered since.")
        return self.build(
            DraftKind.ESCALATION,
            Recipient.PLATFORM,
            f"{self.subject_ref}: "
            + (
                f"your decision{case} has not been carried out"
                if d.decided_by_platform and d.state in _AGREED
                else f"please review my dispute{case}"
            ),
            f"Hello {self.market} team," if self.market != order.marketplace else "Hello,",
            [
                opening,
                f"{paid}. {self.problem()}",
                "\n".join(["What happened:", *history]),
                self.escalation_ask(),
                self.evidence("Evidence attached:"),
                "Thank you for looking into this. I can send anything else you need.",
            ],
        )


def draft_json(message: Draft, dispute_id: int) -> dict[str, object]:
    return {
        "dispute": dispute_id,
        "kind": str(message.kind),
        "to": str(message.to),
        "subject": message.subject,
        "greeting": message.greeting,
        "body": list(message.body),
        "closing": message.closing,
        "text": message.text,
    }
