"""The remedies after a marketplace says no, as data: each payment rail's window (a card
network's chargeback, PayPal's Buyer Protection where PayPal paid on another marketplace), the
reason families it covers and the waits it imposes; what filing one does to a marketplace
case (``EXCLUSIONS``); and each card network's dispute, once filed, as a ``Policy`` of the
usual rule names (``NETWORK_POLICIES``), so that a chargeback moves like any other dispute.

Every number says where it was read. Where no first-party number was found (American
Express), the value is assumed, conservative (short), and labelled as such. Each window is
the network's own: the buyer's card issuer may set a shorter one, which docs/remedies.md
says, and which ``refundctl due`` takes once entered. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from refundctl.payment import Network
from refundctl.policy_types import Anchor, Policy, Rule, RuleName
from refundctl.terms import Reason
from refundctl.timeparse import Duration, Unit

CHECKED = date(2026, 12, 1)


class Family(StrEnum):
    """What a remedy covers, whatever the marketplace called the reason."""

    NOT_RECEIVED = "not received"
    NOT_AS_DESCRIBED = "not as described"


# Each dispute reason's family; a change of mind (or "other") has no remedy beyond the
# marketplace: no network covers a purchase the buyer merely regrets.
REASON_FAMILY: dict[Reason, Family | None] = {
    Reason.NOT_RECEIVED: Family.NOT_RECEIVED,
    Reason.LATE_DELIVERY: Family.NOT_RECEIVED,
    Reason.NOT_AS_DESCRIBED: Family.NOT_AS_DESCRIBED,
    Reason.DAMAGED: Family.NOT_AS_DESCRIBED,
    Reason.DEFECTIVE: Family.NOT_AS_DESCRIBED,
    Reason.MISSING_PARTS: Family.NOT_AS_DESCRIBED,
    Reason.WRONG_ITEM: Family.NOT_AS_DESCRIBED,
    Reason.CHANGED_MIND: None,
    Reason.OTHER: None,
}

# The deadlines a remedy's window makes, by rail.
CHARGEBACK_BY = "chargeback_by"
PAYPAL_CLAIM_BY = "paypal_claim_by"


def _days(count: int) -> Duration:
    return Duration(count, Unit.DAYS)


@dataclass(frozen=True, slots=True)
class Window:
    """How long a remedy stays open for one family: ``duration`` from the later of the
    ``counts_from`` moments the order has (a date it lacks is left out: the earlier reading,
    the safe one), never past ``cap`` from the payment. ``wait``: the issuer takes it only
    once that long has passed since the payment, unless the order has ``wait_unless`` (a
    promised delivery date)."""

    duration: Duration
    counts_from: tuple[Anchor, ...]
    cap: Duration | None = None
    wait: Duration | None = None
    wait_unless: Anchor | None = None
    # A second reading of which the sooner counts ("30 days from delivery or 180 days from
    # payment, whichever is sooner"), where the order has its moment.
    sooner: tuple[Duration, Anchor] | None = None
    # What the rule says, in its words, for `refundctl policies` and docs/remedies.md.
    says: str = ""

    def __str__(self) -> str:
        text = str(self.duration)
        if self.cap is not None:
            text += f" (≤{self.cap})"
        return text


@dataclass(frozen=True, slots=True)
class RemedyRule:
    """One rail's remedy: its windows by family, the deadline they make, and the source."""

    network: Network
    title: str
    deadline: str
    # What to do by the deadline, after "{task} by then".
    task: str
    windows: Mapping[Family, Window]
    source: str | None
    # Where the rule's wording was read, when the source itself could not be.
    read_at: str | None = None
    assumed: bool = False
    note: str | None = None
    checked: date = CHECKED

    @property
    def loss(self) -> str:
        return "that option"


VISA_RULES = "https://usa.visa.com/dam/VCOM/download/about-visa/visa-rules-public.pdf"
MASTERCARD_RULES = "https://www.mastercard.us/en-us/business/overview/support/rules.html"
DISCOVER_DISPUTES = "https://www.discover.com/credit-cards/help-center/faqs/disputes.html"
# A card issuer's own statement of the Fair Credit Billing Act: the letter must reach the
# issuer within 60 days after the bill that first showed the charge was mailed; the issuer
# must resolve it within two billing cycles, never more than 90 days.
FAIR_CREDIT_BILLING = "https://www.citicards.com/cards/wv/html/cm/be-protected/legal-rights/fair-credit-billing-act.html"
PAYPAL_TIMEFRAME = (
    "https://www.paypal.com/sr/smarthelp/article/"
    "do-i-have-to-file-a-paypal-buyer-protection-claim-within-a-certain-timeframe-faq1417"
)
PAYPAL_TIMEFRAMES = (
    "https://history.paypal.com/us/cshelp/article/dispute-filing-timeframes-help1173"
)
PAYPAL_AGREEMENT = "https://www.paypal.com/us/legalhub/paypal/useragreement-full"
PAYPAL_ON_EBAY = "https://www.paypal.com/us/webapps/mpp/security/buyer-protection"

REMEDIES: dict[Network, RemedyRule] = {
    Network.VISA: RemedyRule(
        Network.VISA,
        "Visa chargeback",
        CHARGEBACK_BY,
        "file a chargeback with your card issuer",
        {
            # Dispute condition 13.1: 120 days from the processing date or the last date the
            # cardholder expected the merchandise, never past 540 days from processing; with
            # no delivery date given, 15 days' wait from the transaction date.
            Family.NOT_RECEIVED: Window(
                _days(120),
                (Anchor.PAYMENT, Anchor.EXPECTED_DELIVERY),
                cap=_days(540),
                wait=_days(15),
                wait_unless=Anchor.EXPECTED_DELIVERY,
                says="120 days from the processing date or the last expected delivery date, "
                "whichever is later, at most 540 days from processing; with no delivery "
                "date given, only after 15 days",
            ),
            # Dispute condition 13.3: 120 days from the processing date or the date the
            # cardholder received the merchandise, never past 540 days from processing.
            Family.NOT_AS_DESCRIBED: Window(
                _days(120),
                (Anchor.PAYMENT, Anchor.RECEIPT),
                cap=_days(540),
                says="120 days from the processing date or the date you received it, "
                "whichever is later, at most 540 days from processing",
            ),
        },
        VISA_RULES,
        read_at="https://quavo-inc.atlassian.net/wiki/pages/viewpage.action?pageId=341080959",
        note="Visa Core Rules, dispute conditions 13.1 and 13.3; the processing date is on or "
        "after the order date, so counting from the order is the earlier, safe reading",
    ),
    Network.MASTERCARD: RemedyRule(
        Network.MASTERCARD,
        "Mastercard chargeback",
        CHARGEBACK_BY,
        "file a chargeback with your card issuer",
        {
            # Goods or services not provided: 120 days from the latest anticipated delivery
            # date the merchant gave; with none given, wait 30 days from the transaction,
            # and no later than 120 days from settlement.
            Family.NOT_RECEIVED: Window(
                _days(120),
                (Anchor.PAYMENT, Anchor.EXPECTED_DELIVERY),
                cap=_days(540),
                wait=_days(30),
                wait_unless=Anchor.EXPECTED_DELIVERY,
                says="120 days from the latest promised delivery date; with none given, "
                "only after 30 days and within 120 days of settlement",
            ),
            # Not as described or defective: 120 days from processing or delivery, never
            # past 540 days.
            Family.NOT_AS_DESCRIBED: Window(
                _days(120),
                (Anchor.PAYMENT, Anchor.RECEIPT),
                cap=_days(540),
                says="120 days from the processing date or the delivery date, whichever is "
                "later, at most 540 days from processing",
            ),
        },
        MASTERCARD_RULES,
        read_at="https://quavo-inc.atlassian.net/wiki/spaces/QEK/pages/341032876/"
        "Goods+or+Services+Not+Provided",
        note="Mastercard Chargeback Guide, cardholder dispute (4853); the not-as-described "
        "limits as summarised at http://resources.midigator.com/53-cardholder-dispute/",
    ),
    Network.DISCOVER: RemedyRule(
        Network.DISCOVER,
        "Discover dispute",
        CHARGEBACK_BY,
        "dispute the charge with Discover",
        {
            Family.NOT_RECEIVED: Window(
                _days(120), (Anchor.PAYMENT,), says="120 days from the transaction date"
            ),
            Family.NOT_AS_DESCRIBED: Window(
                _days(120), (Anchor.PAYMENT,), says="120 days from the transaction date"
            ),
        },
        DISCOVER_DISPUTES,
        read_at="https://justt.ai/blog/discover-merchant-chargeback",
        note="Discover issues its own cards; its help centre gives how long a dispute takes, "
        "the 120 days are Discover's network rule as merchants' guides state it",
    ),
    Network.AMEX: RemedyRule(
        Network.AMEX,
        "American Express dispute",
        CHARGEBACK_BY,
        "dispute the charge with American Express",
        {
            Family.NOT_RECEIVED: Window(
                _days(60),
                (Anchor.PAYMENT,),
                says="assumed: 60 days from the payment (no published number found)",
            ),
            Family.NOT_AS_DESCRIBED: Window(
                _days(60),
                (Anchor.PAYMENT,),
                says="assumed: 60 days from the payment (no published number found)",
            ),
        },
        None,
        read_at=FAIR_CREDIT_BILLING,
        assumed=True,
        note="American Express publishes no dispute window for card members; 60 days from "
        "the payment is before the Fair Credit Billing Act's 60 days after the statement "
        "that shows the charge, so it is the safe side",
    ),
    Network.PAYPAL: RemedyRule(
        Network.PAYPAL,
        "PayPal Buyer Protection",
        PAYPAL_CLAIM_BY,
        "open a PayPal dispute",
        {
            Family.NOT_RECEIVED: Window(
                _days(180), (Anchor.PAYMENT,), says="180 days from the payment"
            ),
            # "Significantly Not as Described: within 30 days of the date of delivery or
            # fulfillment of an order or within 180 days of the date you sent the payment to
            # the seller, whichever is sooner."
            Family.NOT_AS_DESCRIBED: Window(
                _days(180),
                (Anchor.PAYMENT,),
                sooner=(_days(30), Anchor.RECEIPT),
                says="180 days from the payment, or 30 days from the delivery if sooner",
            ),
        },
        PAYPAL_TIMEFRAME,
        read_at=PAYPAL_TIMEFRAMES,
        note="open a dispute within 180 days of the payment (30 days of the delivery for an "
        "item not as described, if sooner), then escalate it to a claim within 20 days of "
        "opening it (the paypal policy's rules, once opened with --via)",
    ),
}

# Where PayPal's Buyer Protection is no remedy of its own: on PayPal, it is the marketplace;
# on eBay, PayPal sends the buyer to eBay's Money Back Guarantee ("if you made the purchase
# on eBay, start here instead").
PAYPAL_NOT_ON: dict[str, str] = {
    "paypal": "the order is on PayPal: PayPal's protection is the marketplace's own",
    "ebay": "PayPal sends eBay purchases to eBay's Money Back Guarantee",
}
PAYPAL_NOT_ON_SOURCE = PAYPAL_ON_EBAY
# "Not have received a recovery or agreed to an alternative resolution related to your
# purchase from another source" (PayPal's user agreement, Buyer Protection eligibility).
PAYPAL_REFUSES_REFUNDED = (
    "PayPal refuses a claim for a purchase already refunded from another source"
)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """What filing a remedy does to a case on one marketplace."""

    marketplace: str
    effect: str  # "ends the A-to-z claim"
    source: str | None
    assumed: bool = False
    says: str = ""  # the marketplace's words, where they were read


EXCLUSIONS: dict[str, Exclusion] = {
    exclusion.marketplace: exclusion
    for exclusion in (
        Exclusion(
            "amazon",
            "ends the A-to-z claim",
            "https://pay.amazon.com/us/help/201751470",
            says="the A-to-z Guarantee does not cover a purchase paid by card once the "
            "issuing bank has initiated a chargeback",
        ),
        Exclusion(
            "etsy",
            "closes the Etsy case",
            "https://help.etsy.com/hc/en-gb/articles/115015729027-What-to-Do-If-There-s-a-"
            "Chargeback-in-Your-Shop",
            says="a buyer can only use one method of dispute resolution: a case opened "
            "after a chargeback is closed by Etsy's case team",
        ),
        Exclusion(
            "ebay",
            "overrides the eBay case: eBay closes it",
            "https://www.ebay.ie/help/policies/selling-policies/payment-dispute-seller-"
            "protections?id=5293",
            says="buyers can't use more than one resolution method; a payment dispute "
            "closes any open eBay Money Back Guarantee case for the same transaction",
        ),
        Exclusion(
            "temu",
            "means Temu cannot refund the order itself",
            "https://www.temu.com/support/c3/what-are-chargebacks-f-56-s-753.html",
            says="if a chargeback has been filed with a card company or PayPal, Temu cannot "
            "issue a refund for the transaction",
        ),
        Exclusion(
            "aliexpress",
            "may end the AliExpress dispute",
            None,
            assumed=True,
            says="no published rule found; no marketplace refunds twice, so AliExpress is "
            "assumed to close its dispute once the issuer is involved",
        ),
    )
}


def exclusion_for(marketplace: str) -> Exclusion:
    """What filing a remedy does to this marketplace's case; assumed where none is known."""
    return EXCLUSIONS.get(marketplace) or Exclusion(
        marketplace,
        "may end the marketplace's case",
        None,
        assumed=True,
        says="no published rule known; a marketplace does not refund a charge the issuer "
        "has already reversed",
    )


def _d(count: int, **extra: object) -> Rule:
    return Rule(Duration(count, Unit.DAYS), **extra)  # type: ignore[arg-type]


def _network_policy(network: Network, source: str | None, **rules: Rule | None) -> Policy:
    """A card network's dispute, once filed, as a policy: the issuer holds the case from the
    start, so there is no seller stage, no escalation to make and no appeal of its own."""
    fixed: dict[RuleName, Rule | None] = {
        # Its window to file is the remedy's (REMEDIES), not an order's.
        RuleName.DISPUTE_WINDOW: None,
        RuleName.PROTECTION_ENDS: None,
        RuleName.OPEN_AFTER: None,
        RuleName.SELLER_RESPONSE: None,
        RuleName.ESCALATE_AFTER: None,
        RuleName.CLAIM_AFTER: None,
        RuleName.ESCALATE_BY: None,
        RuleName.CLAIM_BY: None,
        RuleName.NEGOTIATION_ENDS: None,
        RuleName.BUYER_RESPONSE: None,
        RuleName.APPEAL_BY: None,
    }
    fixed.update({RuleName(name): rule for name, rule in rules.items()})
    return Policy(
        name=network.value,
        title=f"{REMEDIES[network].title} (with your card issuer)",
        timezone=None,
        rules=fixed,
        source=source,
        checked=CHECKED,
        market="your card issuer",
    )


# The issuer's decision: the Fair Credit Billing Act gives it two billing cycles, never more
# than 90 days, from the buyer's letter (a credit card; a debit card's rules differ).
_DECISION = Rule(_days(30), _days(90), note=FAIR_CREDIT_BILLING)

NETWORK_POLICIES: dict[Network, Policy] = {
    Network.VISA: _network_policy(
        Network.VISA,
        VISA_RULES,
        # The merchant (through its bank) has 30 days to answer a dispute.
        claim_response=_d(30),
        platform_decision=_DECISION,
    ),
    Network.MASTERCARD: _network_policy(
        Network.MASTERCARD,
        MASTERCARD_RULES,
        # The merchant has 45 days to answer ("we can reply in 45 days according to
        # Mastercard rules", an issuer's help page).
        claim_response=_d(
            45,
            note="https://help.bilderlings.com/en/articles/"
            "9042125-i-didn-t-get-the-goods-or-services-i-paid-for",
        ),
        platform_decision=_DECISION,
    ),
    Network.DISCOVER: _network_policy(
        Network.DISCOVER,
        DISCOVER_DISPUTES,
        # "Depending on the nature of your dispute, the process usually takes between 30-60
        # days."
        platform_decision=Rule(_days(30), _days(60)),
    ),
    Network.AMEX: _network_policy(Network.AMEX, None, platform_decision=_DECISION),
}
