"""Exact money: parsing, minor units and formatting.

Amounts are ``Decimal`` everywhere in the program and integer minor units (cents) in the
database; a float never holds money. The ISO 4217 table below tells how many decimal places a
currency has, so that ``12.345 USD`` can be refused and ``1500 JPY`` stored as 1500.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation

from refundctl.errors import BadInput, shown

# Active ISO 4217 codes. Minor units are 2 unless listed in _EXPONENTS.
_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# Plain decimal amounts only: "12", "12.5", "12.50". Thousands separators and currency signs
# are an import concern; on the command line they are more likely a typo than a format.
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
# A trillion is more than any order; the limit also keeps minor units inside SQLite's 64 bits.
MAX_WHOLE_DIGITS = 12
_EXACT = Context(prec=60, rounding=ROUND_DOWN)


def parse_currency(text: str) -> str:
    """An ISO 4217 code, upper-cased; anything else is refused."""
    code = text.strip().upper()
    if code not in _CODES:
        raise BadInput(
            f"unknown currency {shown(text)}: use an ISO 4217 code such as USD, EUR or GBP"
        )
    return code


def exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has."""
    return _EXPONENTS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount: 0.01 for USD, 1 for JPY."""
    return _QUANTA[exponent(currency)]


# ``quantum`` of each number of decimal places, made once: an import parses many amounts.
_QUANTA = {places: Decimal(1).scaleb(-places) for places in {2, *_EXPONENTS.values()}}


def parse_amount(text: str, currency: str, *, what: str = "amount") -> Decimal:
    """A positive amount with no more decimals than the currency has, e.g. ``12.50``."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise BadInput(f"{what} must be positive, got {shown(text)}")
    if not _AMOUNT.fullmatch(cleaned):
        raise BadInput(f"{what} must be a plain number such as 12.50, got {shown(text)}")
    whole, _, fraction = cleaned.partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise BadInput(f"{what} {shown(text)} is too large: at most {MAX_WHOLE_DIGITS} digits")
    value = Decimal(cleaned)
    if value <= 0:
        raise BadInput(f"{what} must be positive, got {shown(text)}")
    places = exponent(currency)
    if len(fraction.rstrip("0")) > places:
        unit = f"{places} decimal places" if places else "no decimal places"
        raise BadInput(f"{what} {shown(text)} has too many decimals: {currency} has {unit}")
    return value.quantize(_QUANTA[places], context=_EXACT)


def parse_percent(text: str) -> Decimal:
    """A percentage in (0, 100], e.g. ``30`` or ``12.5``."""
    cleaned = text.strip().rstrip("%")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BadInput(f"percent must be a number from 0 to 100, got {shown(text)}") from None
    if not value.is_finite() or not Decimal(0) < value <= Decimal(100):
        raise BadInput(f"percent must be above 0 and at most 100, got {shown(text)}")
    return value


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``percent`` of ``amount``, rounded down to the minor unit: never more than asked."""
    # Every step rounds down, so the share never exceeds the exact one however long
    # the percentage is.
    exact = _EXACT.divide(_EXACT.multiply(amount, percent), Decimal(100))
    return exact.quantize(quantum(currency), context=_EXACT)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units for the database; exact, because amounts are quantized on entry."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of {currency} minor units")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    # An integer scaled by -e has exactly e decimal places already: no quantize needed
    # (tests/test_money.py holds it to the quantized value).
    return Decimal(minor).scaleb(-exponent(currency))


def to_json(amount: Decimal | None) -> str | None:
    """Money in JSON is a decimal string, never a float."""
    return None if amount is None else str(amount)


def format_money(amount: Decimal, currency: str) -> str:
    """For people: ``$12.50``, ``€8.00``, ``1,500 JPY``-style for the rest (``12.50 CAD``)."""
    text = f"{amount:,.{exponent(currency)}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
