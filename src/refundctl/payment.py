"""How an order was paid, read from the ``--payment`` text: the payment rail that carries a
remedy of its own (a card network's chargeback, PayPal's Buyer Protection), whether a card was
debit or credit, and its last four digits.

The text stays as the buyer (or the marketplace's export) wrote it; ``recognise`` only reads
it. It knows the forms that exports write: ``Visa - 4242``, ``MasterCard - 2111``, ``American
Express - 0005``, ``Gift Certificate/Card and Visa - 1234`` (a split payment: the card paid
part of it), ``PayPal``, ``Visa Debit ending in 4242``. Text that names no rail, or two cards,
carries no remedy. Pure, no I/O.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import NamedTuple


class Network(StrEnum):
    """The rails that carry a remedy of their own; the values are what ``--via`` takes."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    PAYPAL = "paypal"

    @property
    def card(self) -> bool:
        return self is not Network.PAYPAL

    @property
    def brand(self) -> str:
        """``Visa``, ``American Express``: the name as the card says it."""
        return _TITLES[self]


_TITLES = {
    Network.VISA: "Visa",
    Network.MASTERCARD: "Mastercard",
    Network.AMEX: "American Express",
    Network.DISCOVER: "Discover",
    Network.PAYPAL: "PayPal",
}


class Funding(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class Payment(NamedTuple):
    """What the payment text says, as far as refundctl can tell."""

    network: Network
    funding: Funding | None = None
    last4: str | None = None
    # Another method (a gift card, store credit) paid part of the order.
    shared: bool = False

    def describe(self) -> str:
        """``Visa debit card ending 4242``, ``PayPal``."""
        if not self.network.card:
            return self.network.brand
        text = f"{self.network.brand} {self.funding or ''} card".replace("  ", " ")
        return text + (f" ending {self.last4}" if self.last4 else "")


# Each rail by the words that name it, as whole words in any case. "MC" alone is too short
# to trust; "Amex" and "American Express" both name the one network.
_NAMES: tuple[tuple[Network, re.Pattern[str]], ...] = (
    (Network.VISA, re.compile(r"\bvisa\b", re.IGNORECASE)),
    (Network.MASTERCARD, re.compile(r"\bmaster\s?card\b|\bmastercard\b", re.IGNORECASE)),
    (Network.AMEX, re.compile(r"\bamex\b|\bamerican\s+express\b", re.IGNORECASE)),
    (Network.DISCOVER, re.compile(r"\bdiscover(\s+card)?\b", re.IGNORECASE)),
    (Network.PAYPAL, re.compile(r"\bpay\s?pal\b", re.IGNORECASE)),
)
_DEBIT = re.compile(r"\bdebit\b", re.IGNORECASE)
_CREDIT = re.compile(r"\bcredit(\s+card)?\b", re.IGNORECASE)
# The last four digits: "- 4242", "ending in 4242", "**** 4242", "x4242", "(...4242)".
_LAST4 = re.compile(r"(?:[-*x.•]\s*|\bending(?:\s+in)?\s+|\s)(\d{4})\b\W*$", re.IGNORECASE)
# What pays part of an order beside a card: "Gift Certificate/Card and Visa - 1234".
_SHARED = re.compile(r"\bgift\b|\bstore credit\b|\bpromotional\b|\bpoints\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # a ledger's orders share a few payment texts
def recognise(text: str | None) -> Payment | None:
    """The rail the payment text names, or None when it names none (or two cards).

    PayPal named beside a card ("PayPal (Visa)") is PayPal: PayPal paid the seller, and
    PayPal's Buyer Protection is the remedy; the card only funded PayPal."""
    if not text or not text.strip():
        return None
    named = [network for network, pattern in _NAMES if pattern.search(text)]
    if Network.PAYPAL in named:
        chosen = Network.PAYPAL
    elif len(named) == 1:
        chosen = named[0]
    else:
        return None
    funding = None
    if chosen.card:
        if _DEBIT.search(text):
            funding = Funding.DEBIT
        elif _CREDIT.search(text):
            funding = Funding.CREDIT
    found = _LAST4.search(text.strip()) if chosen.card else None
    return Payment(
        chosen,
        funding,
        None if found is None else found.group(1),
        shared=bool(_SHARED.search(text)),
    )
