"""Each marketplace's built-in policy as data: the numbers it publishes, what a rule counts
from or leads to where it differs from the rule's usual, and where each number is written. A
rule a marketplace publishes no number for is left out and falls back to ``generic``'s assumed
value, labelled as assumed; a rule set to ``None`` is a step the marketplace does not have (no
appeal on AliExpress). ``generic`` has a value for every core rule; the steps only some
marketplaces have (an outer claim limit, AliExpress's own step-in, the earliest moments) are
``None`` there, so no marketplace gets one it does not publish.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from refundctl.policy_types import Anchor, CoverLimit, IfMissed, Policy, Rule, RuleName
from refundctl.timeparse import Duration, Unit


def _d(count: int, unit: Unit = Unit.DAYS, **extra: object) -> Rule:
    return Rule(Duration(count, unit), **extra)  # type: ignore[arg-type]


def _range(low: int, high: int, unit: Unit = Unit.DAYS, **extra: object) -> Rule:
    return Rule(Duration(low, unit), Duration(high, unit), **extra)  # type: ignore[arg-type]


CHECKED = date(2026, 12, 1)
BD = Unit.BUSINESS_DAYS
HOURS = Unit.HOURS

# Assumed, conservative values for a marketplace with no published number: buyer deadlines
# short (the warning comes early), other-side deadlines long (no escalation before it is due).
GENERIC = Policy(
    name="generic",
    title="Generic (assumed values)",
    timezone=None,
    rules={
        RuleName.DISPUTE_WINDOW: _d(15),
        RuleName.PROTECTION_ENDS: _d(30),
        # A not-received dispute can be opened at any time where no wait is published.
        RuleName.OPEN_AFTER: None,
        # A revised ask gives the seller its time again: the later date, the safe side for a
        # deadline of the other side's.
        RuleName.SELLER_RESPONSE: _d(7, restarts_on_revision=True),
        # Without a published wait, the buyer may escalate once the seller's time is up.
        RuleName.ESCALATE_AFTER: None,
        RuleName.CLAIM_AFTER: None,
        RuleName.ESCALATE_BY: _d(20),
        # No outer claim limit, step-in or claim stage is assumed where none is published.
        RuleName.CLAIM_BY: None,
        RuleName.NEGOTIATION_ENDS: None,
        RuleName.BUYER_RESPONSE: _d(3),
        RuleName.PLATFORM_DECISION: _d(30),
        # No claim stage with a seller deadline of its own is assumed.
        RuleName.CLAIM_RESPONSE: None,
        RuleName.INFO_DUE: _d(3),
        RuleName.RETURN_SHIP_BY: _d(7),
        # An international parcel takes weeks; the carrier is chased only after a month.
        RuleName.RETURN_DELIVERY: _d(30),
        RuleName.RETURN_REFUND_DUE: _d(15),
        RuleName.REFUND_EXPECTED: _d(20, BD),
        RuleName.APPEAL_BY: _d(7),
    },
)

ALIEXPRESS_STEPS = "https://www.aliexpress.com/buyerprotection/how_to_resolove_the_disputes.html"

ALIEXPRESS = Policy(
    name="aliexpress",
    title="AliExpress Buyer Protection",
    market="AliExpress",
    timezone="America/Los_Angeles",
    holidays="CN",
    source="https://www.aliexpress.com/p/buyerprotection/index.html",
    checked=CHECKED,
    rules={
        # 15 days after confirming receipt, or after the delivery countdown (PST) runs out.
        RuleName.DISPUTE_WINDOW: _d(15),
        RuleName.PROTECTION_ENDS: _d(15, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        # The seller accepts or rejects within 5–7 days of each ask; if not, AliExpress steps in.
        RuleName.SELLER_RESPONSE: _range(
            5, 7, if_missed=IfMissed.PLATFORM_STEPS_IN, restarts_on_revision=True
        ),
        # A claim to AliExpress from 3 days after the dispute was opened.
        RuleName.ESCALATE_AFTER: _d(3, note=ALIEXPRESS_STEPS),
        # An unresolved dispute goes to AliExpress by itself 15 days after it was opened,
        # whatever the revisions.
        RuleName.NEGOTIATION_ENDS: _d(15, note=ALIEXPRESS_STEPS),
        # So the buyer cannot lose by waiting: there is no escalate_by and no buyer_response.
        RuleName.ESCALATE_BY: None,
        RuleName.BUYER_RESPONSE: None,
        RuleName.RETURN_SHIP_BY: _d(10),
        RuleName.REFUND_EXPECTED: _range(3, 20, BD, note="card refunds: 3–20 business days"),
        # AliExpress's decision on an escalated dispute is final.
        RuleName.APPEAL_BY: None,
    },
)

EBAY_NOT_RECEIVED = (
    "https://www.ebay.com/help/buying/returns-refunds/get-help-item-hasnt-arrived?id=4042"
)
EBAY_STEP_IN = "https://www.ebay.com/help/buying/returns-refunds/ask-ebay-step-help-buyers?id=4701"

EBAY = Policy(
    name="ebay",
    title="eBay Money Back Guarantee",
    market="eBay",
    timezone="America/Los_Angeles",
    holidays="US",
    source=(
        "https://www.ebay.com/help/policies/ebay-money-back-guarantee-policy/"
        "ebay-money-back-guarantee-policy?id=4210"
    ),
    checked=CHECKED,
    rules={
        # 30 days after the actual, else the latest estimated, delivery date.
        RuleName.DISPUTE_WINDOW: _d(30, note=EBAY_NOT_RECEIVED),
        RuleName.PROTECTION_ENDS: _d(
            30, counts_from=(Anchor.EXPECTED_DELIVERY,), note=EBAY_NOT_RECEIVED
        ),
        # A missing item is reported once the estimated delivery date has passed: the day after
        # it (an estimate is a date, entered as its first moment).
        RuleName.OPEN_AFTER: _d(1, note=EBAY_NOT_RECEIVED),
        RuleName.SELLER_RESPONSE: _d(3, BD, note=EBAY_NOT_RECEIVED),
        # "We think it's fair to give sellers 3 business days... After that, you can ask us".
        RuleName.ESCALATE_AFTER: _d(3, BD, note=EBAY_STEP_IN),
        # A request is closed after 21 business days with nobody asking eBay to step in.
        RuleName.ESCALATE_BY: _d(21, BD, note=EBAY_NOT_RECEIVED),
        # The seller's answer starts no clock of the buyer's: those 21 days are the limit.
        RuleName.BUYER_RESPONSE: None,
        RuleName.PLATFORM_DECISION: _d(48, HOURS, note=EBAY_STEP_IN),
        # "Send the item back to the seller within 5 business days of starting your request":
        # counted from opening the request, not from the seller's agreement.
        RuleName.RETURN_SHIP_BY: _d(
            5,
            BD,
            counts_from=(Anchor.OPENING,),
            note="https://pages.ebay.com/help/buy/contextual/shipping-returns.html",
        ),
        # Ask eBay in once tracking shows the return delivered more than 2 business days ago.
        RuleName.RETURN_REFUND_DUE: _d(2, BD, note=EBAY_STEP_IN),
        RuleName.REFUND_EXPECTED: _range(3, 5, BD, note=EBAY_NOT_RECEIVED),
        # Appeal with new information within 30 calendar days of the case closing.
        RuleName.APPEAL_BY: _d(30, note=EBAY_NOT_RECEIVED),
    },
)

AMAZON_CLAIMS = "https://www.amazon.com/gp/help/customer/display.html?nodeId=200783670"

AMAZON = Policy(
    name="amazon",
    title="Amazon A-to-z Guarantee",
    market="Amazon",
    timezone="America/Los_Angeles",
    holidays="US",
    source=AMAZON_CLAIMS,
    checked=CHECKED,
    rules={
        # 90 days after the latest estimated delivery date; receipt stands in when unknown.
        RuleName.DISPUTE_WINDOW: _d(90, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        RuleName.PROTECTION_ENDS: _d(90, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        # Contact the seller and wait 48 hours for a response before a claim.
        RuleName.SELLER_RESPONSE: _d(48, HOURS),
        RuleName.ESCALATE_AFTER: _d(48, HOURS, waived_by_answer=True),
        # A missing package: from three days after the latest estimated delivery date.
        RuleName.CLAIM_AFTER: _d(3, not_received_only=True),
        # The A-to-z claim itself is the limit: 90 days after the latest estimated delivery,
        # however long the talk with the seller took.
        RuleName.CLAIM_BY: _d(90, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        # So there is no other escalate_by, and the seller's answer starts no clock of the
        # buyer's (no buyer_response).
        RuleName.ESCALATE_BY: None,
        RuleName.BUYER_RESPONSE: None,
        # Amazon's 30-day appeal window is the seller's (Seller Central); a buyer's appeal
        # has no published number, so generic's assumed one applies.
    },
)

PAYPAL_ESCALATE = (
    "https://www.paypal.com/us/smarthelp/article/how-do-i-escalate-a-dispute-to-a-claim-faq822"
)

PAYPAL = Policy(
    name="paypal",
    title="PayPal Buyer Protection",
    market="PayPal",
    timezone="America/Los_Angeles",
    holidays="US",
    source="https://www.paypal.com/us/legalhub/paypal/useragreement-full",
    checked=CHECKED,
    rules={
        # Not as described: 30 days from delivery or 180 from payment, whichever is sooner.
        RuleName.DISPUTE_WINDOW: _d(
            30,
            counts_from=(Anchor.RECEIPT,),
            sooner=_d(180, counts_from=(Anchor.PAYMENT,)),
            note="https://www.paypal.com/us/cshelp/article/dispute-filing-timeframes-help1173",
        ),
        # Not received: 180 days from the payment.
        RuleName.PROTECTION_ENDS: _d(180, counts_from=(Anchor.PAYMENT,)),
        # In the dispute stage the seller has no deadline of their own: the buyer's 20 days run.
        RuleName.SELLER_RESPONSE: None,
        # "We often require that at least 7 days have passed since the payment date."
        RuleName.ESCALATE_AFTER: _d(7, counts_from=(Anchor.PAYMENT,), note=PAYPAL_ESCALATE),
        RuleName.ESCALATE_BY: _d(20, note=PAYPAL_ESCALATE),
        RuleName.CLAIM_BY: _d(180, counts_from=(Anchor.PAYMENT,)),
        # An offer left unanswered 10 days closes the dispute (PayPal's help centre; another
        # page says only the offer expires: the buyer's safe reading is taken).
        RuleName.BUYER_RESPONSE: _d(
            10,
            offer_only=True,
            note="https://www.paypal.com/helpcenter/main.jsp?cmd=_help&solutionId=1204660",
        ),
        # Once escalated, the seller has 10 days to answer the claim; PayPal then decides,
        # "usually within 14 days, but some cases can take 30 days or longer".
        RuleName.CLAIM_RESPONSE: _d(
            10,
            note="https://www.paypal.com/us/smarthelp/article/"
            "how-do-i-respond-to-a-paypal-dispute-filed-by-my-buyer-faq2266",
        ),
        RuleName.PLATFORM_DECISION: _range(14, 30, note=PAYPAL_ESCALATE),
        RuleName.APPEAL_BY: _d(
            10,
            note="https://www.paypal.com/us/smarthelp/article/"
            "how-can-i-appeal-paypal%E2%80%99s-decision-on-my-case-faq2050",
        ),
    },
)

ETSY = Policy(
    name="etsy",
    title="Etsy Purchase Protection",
    market="Etsy",
    timezone="America/New_York",
    holidays="US",
    source="https://www.etsy.com/uk/etsy-purchase-protection",
    checked=CHECKED,
    # $250 is what Etsy's pages state; DESIGN.md's $500 for holiday orders is on none of them,
    # so it is not assumed (a warning too few would cost more than one too many).
    cover_limit=CoverLimit(
        "USD", Decimal(250), source="https://www.etsy.com/uk/etsy-purchase-protection"
    ),
    rules={
        # A case can be opened up to 100 days after the estimated delivery date.
        RuleName.DISPUTE_WINDOW: _d(100, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        RuleName.PROTECTION_ENDS: _d(100, counts_from=(Anchor.EXPECTED_DELIVERY,)),
        # Message the seller first ("help request"); a case can be opened 48 hours after it,
        # once the estimated delivery date has passed.
        RuleName.SELLER_RESPONSE: _d(48, HOURS),
        RuleName.ESCALATE_AFTER: _d(48, HOURS),
        # ...and once the estimated delivery date has passed: the day after it.
        RuleName.CLAIM_AFTER: _d(1),
        # The case itself is the limit, 100 days after the estimated delivery.
        RuleName.CLAIM_BY: _d(100, counts_from=(Anchor.EXPECTED_DELIVERY, Anchor.RECEIPT)),
        # So there is no other escalate_by, and the seller's answer starts no clock of the
        # buyer's (no buyer_response).
        RuleName.ESCALATE_BY: None,
        RuleName.BUYER_RESPONSE: None,
    },
)

TEMU = Policy(
    name="temu",
    title="Temu Return and Refund Policy",
    market="Temu",
    timezone=None,
    holidays="US",
    source="https://www.temu.com/return-and-refund-policy.html",
    checked=CHECKED,
    rules={
        # 90 days from the date of purchase.
        RuleName.DISPUTE_WINDOW: _d(90, counts_from=(Anchor.PAYMENT,)),
        RuleName.PROTECTION_ENDS: _d(90, counts_from=(Anchor.PAYMENT,)),
        # Temu decides returns itself: there is no case to escalate by a date.
        RuleName.ESCALATE_BY: None,
        # The return package must be postmarked within 14 days of the return request.
        RuleName.RETURN_SHIP_BY: _d(14),
        # "5-14 business days (up to 30 days)" to reach the original payment method.
        RuleName.REFUND_EXPECTED: Rule(
            Duration(5, BD),
            Duration(30, Unit.DAYS),
            note="https://www.temu.com/support/c3/will-you-let-me-know-when-i-get-my-refund-"
            "f-51-s-132.html",
        ),
    },
)

BUILT_IN: dict[str, Policy] = {
    p.name: p for p in (GENERIC, ALIEXPRESS, AMAZON, EBAY, ETSY, PAYPAL, TEMU)
}

# Marketplaces refundctl knows by name: the built-in policies.
KNOWN_MARKETPLACES = tuple(name for name in BUILT_IN if name != "generic")
