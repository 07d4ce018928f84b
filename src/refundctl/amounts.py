"""Money as shops and their exports write it, read into a ``Decimal`` and an ISO 4217 code.

Every import reads its amounts here: ``read_money`` takes a cell such as ``US $7.80``,
``€23,47``, ``1.052,99 €``, ``12,99zł``, ``-1,042.50`` or ``'-1.00'`` and gives the amount and its
currency, never through a float. A currency sign maps to its ISO code (``SIGNS``); a sign that
several currencies use (``$``, ``¥``, ``kr``) stands for the currency the row or the file gives,
else the one the caller falls back on (``--currency`` or the config's), and is refused where
that currency is not one the sign can stand for. Which of ``.`` and ``,`` marks the decimals
comes from the file's locale where its format tells it (babel's CLDR data: ``de`` writes
``1.234,56``, ``fr`` ``1 234,56``, ``de_CH`` ``1'234.50``); without a locale, from the amount
itself where that is clear (both marks, or two decimals) and from the currency's usual writing
where not (``1,234`` is thousands in USD); what stays ambiguous is refused, never guessed.
``read_amount`` is the reading of refundctl's own files: a positive amount in a known currency.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from refundctl.errors import BadInput
from refundctl.money import MAX_WHOLE_DIGITS, exponent, parse_amount, parse_currency, quantum

__all__ = ["AMBIGUOUS", "SIGNS", "Money", "read_amount", "read_money"]


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal  # signed where the reading allowed a sign
    currency: str


# A sign that names one currency. Longest first where one starts another (US$ before $), so
# that the first sign found in a cell is the whole of it. tests/test_amounts.py checks each
# against the sign CLDR (through babel) gives that currency in a locale that writes it.
SIGNS: dict[str, str] = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "MX$": "MXN",
    "R$": "BRL",
    "BR$": "BRL",
    "NT$": "TWD",
    # French writes the country after the sign.
    "$US": "USD",
    "$CA": "CAD",
    "$AU": "AUD",
    "$NZ": "NZD",
    "$SG": "SGD",
    "$MX": "MXN",
    "£GB": "GBP",
    "CN¥": "CNY",
    "JP¥": "JPY",
    "€": "EUR",
    "£": "GBP",
    "₩": "KRW",
    "₹": "INR",
    "₺": "TRY",
    "₽": "RUB",
    "₴": "UAH",
    "₫": "VND",
    "₱": "PHP",
    "₪": "ILS",
    "฿": "THB",
    "円": "JPY",
    "元": "CNY",
    "zł": "PLN",
    "Kč": "CZK",
    "Ft": "HUF",
    "lei": "RON",
    "RM": "MYR",
    "Rp": "IDR",
}
# A sign that several currencies use, and which: the row's or the file's currency decides.
AMBIGUOUS: dict[str, frozenset[str]] = {
    "$": frozenset("USD CAD AUD NZD MXN SGD HKD TWD ARS CLP COP".split()),
    "¥": frozenset({"JPY", "CNY"}),
    "￥": frozenset({"JPY", "CNY"}),
    "kr.": frozenset({"DKK", "ISK"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
}
# Every sign, longest first; and the letters of a word that is an ISO code.
_SIGN_PATTERN = re.compile(
    "|".join(re.escape(s) for s in sorted([*SIGNS, *AMBIGUOUS], key=len, reverse=True))
    + r"|(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])"
)
# "US $7.80": AliExpress puts a space inside its dollar sign.
_SPACED_PREFIX = re.compile(r"\b(US|CA|AU|NZ|HK|MX|NT)\s+\$")

# An amount written plainly, as most exports write most amounts: nothing to decide, so it goes
# straight to the exact conversion (a property test holds it to the general reading).
_PLAIN_DOT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_PLAIN_COMMA = re.compile(r"-?[0-9]+(?:,[0-9]{1,2})?")
# What is left of a cell once its signs are out: digits and the marks between them.
_NUMBER = re.compile("[0-9][0-9.,'’ \u00a0\u202f\u2009]*|[.,][0-9]+")
# The spaces locales group digits with (a no-break space, a narrow one, a thin one).
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")
_MINUS = ("-", "\u2212")  # a hyphen-minus, and the minus sign some locales write


def read_money(
    text: str,
    *,
    currency: str | None = None,
    default: str | None = None,
    locale: str | None = None,
    signed: bool = False,
) -> Money:
    """An amount and its currency from a cell.

    ``currency`` is the currency the row says the amount is in (a sign that names another is
    refused); without it the cell's sign decides, and ``default`` is the currency of a bare
    number or an ambiguous sign. ``locale`` (a babel locale name such as ``de``) says which
    marks the file writes; ``signed`` allows a negative amount (``-5.00``, ``(5.00)``)."""
    raw = text.strip()
    if not raw:
        raise BadInput("is empty")
    known = currency or default
    plain = known is not None and _plain_pattern(locale).fullmatch(raw)
    if plain and known is not None and (signed or not raw.startswith("-")):
        return Money(_exact(raw.replace(",", "."), raw, known), known)
    code, body = _currency_of(raw, currency, default)
    negative, body = _sign(body, raw)
    if negative and not signed:
        raise BadInput(f"{raw!r} is negative; a total is what you paid")
    if not _NUMBER.fullmatch(body):
        raise BadInput(f"{raw!r} is not an amount")
    digits = _by_locale(body, raw, locale) if locale else _by_currency(body, raw, code)
    amount = _exact(digits, raw, code)
    return Money(-amount if negative else amount, code)


def read_amount(text: str, currency: str) -> Decimal:
    """A positive amount in ``currency``, as refundctl's own files and shops write it:
    ``US $12.50``, ``12,50 €``, ``1.234,56``, ``1,234.56``."""
    raw = text.strip()
    if _PLAIN_DOT.fullmatch(raw) and not raw.startswith("-"):
        return parse_amount(raw, currency)
    return read_written_amount(raw, currency)


def read_written_amount(raw: str, currency: str) -> Decimal:
    """``read_amount`` of a stripped cell, whatever way it is written: the general reading
    that the plain one stands in for."""
    if not raw:
        raise BadInput("is empty")
    code, body = _currency_of(raw, currency, None)
    negative, body = _sign(body.translate(_SPACES).replace("'", ""), raw)
    if negative:
        raise BadInput(f"{raw!r} is negative; a total is what you paid")
    if not re.fullmatch(r"[0-9][0-9.,]*", body):
        raise BadInput(f"{raw!r} is not an amount")
    return parse_amount(_by_currency(body, raw, code), code)


@functools.lru_cache(maxsize=64)
def _plain_pattern(locale: str | None) -> re.Pattern[str]:
    return _PLAIN_COMMA if locale and _marks(locale)[0] == "," else _PLAIN_DOT


def _currency_of(raw: str, currency: str | None, default: str | None) -> tuple[str, str]:
    """The cell's currency, and the cell without its sign or code (and without the spaces
    around them)."""
    found: set[str] = set()
    ambiguous: list[str] = []

    def take(match: re.Match[str]) -> str:
        sign = match.group(0)
        if sign in SIGNS:
            found.add(SIGNS[sign])
        elif sign in AMBIGUOUS:
            ambiguous.append(sign)
        else:  # three letters: an ISO code, or a word that is no amount
            found.add(parse_currency(sign) if sign.isupper() else _code_word(sign, raw))
        return " "

    body = _SIGN_PATTERN.sub(take, _SPACED_PREFIX.sub(r"\1$", raw)).strip()
    if len(found) > 1:
        raise BadInput(f"{raw!r} names two currencies ({', '.join(sorted(found))})")
    named = next(iter(found), None)
    if named is not None:
        if currency is not None and named != currency:
            raise BadInput(f"{raw!r} is in {named}, but the order's currency is {currency}")
        for sign in ambiguous:
            _refuse_sign(sign, named, raw)
        return named, _tidy(body)
    chosen = currency or default
    if chosen is None:
        raise BadInput(f"{raw!r} names no currency; give the file's with --currency")
    for sign in ambiguous:
        _refuse_sign(sign, chosen, raw)
    return chosen, _tidy(body)


def _code_word(word: str, raw: str) -> str:
    """A three-letter word in a cell, read as an ISO code as written in any case (``usd``)."""
    try:
        return parse_currency(word)
    except BadInput:
        raise BadInput(f"{raw!r} is not an amount") from None


def _refuse_sign(sign: str, code: str, raw: str) -> None:
    if code not in AMBIGUOUS[sign]:
        raise BadInput(f"{raw!r}: {sign} cannot be {code}, the currency of this amount")


def _tidy(body: str) -> str:
    """A body with the spaces around its sign gone (``- 5,00`` is ``-5,00``); spaces between
    digits stay, for a locale that groups with them."""
    body = body.strip()
    if body[:1] in _MINUS or body[:1] == "(":
        body = body[0] + body[1:].lstrip()
    return body


def _sign(body: str, raw: str) -> tuple[bool, str]:
    """Whether the amount is negative (``-5``, ``−5``, ``(5)``, ``5-``), and its digits."""
    if body[:1] in _MINUS:
        return True, body[1:].strip()
    if body.startswith("(") and body.endswith(")"):
        return True, body[1:-1].strip()
    if body.endswith(_MINUS) and body[:1].isdigit():
        return True, body[:-1].strip()
    if body.startswith("("):
        raise BadInput(f"{raw!r} is not an amount")
    return False, body


@functools.lru_cache(maxsize=64)
def _marks(locale: str) -> tuple[str, str]:
    """The locale's decimal mark and the mark it groups thousands with, from CLDR."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise BadInput(f"unknown locale {locale!r}") from None
    return get_decimal_symbol(locale), get_group_symbol(locale)


def _by_locale(body: str, raw: str, locale: str) -> str:
    """Digits with one decimal point, the marks read as ``locale`` writes them (babel's
    strict reading: groups of three, the decimal mark once)."""
    from babel.numbers import NumberFormatError, parse_decimal

    decimal_mark, group = _marks(locale)
    if group.translate(_SPACES) == "":
        body = re.sub(r"[ \u00a0\u202f\u2009]", group, body)
    elif group in "'’":
        body = body.replace("’", group).replace("'", group)
    try:
        value = parse_decimal(body, locale, strict=True)
    except NumberFormatError:
        example = f"1{group}234{decimal_mark}56"
        raise BadInput(f"{raw!r} is not an amount as this file writes them ({example})") from None
    if not value.is_finite():
        raise BadInput(f"{raw!r} is not an amount")
    return str(value)


def _by_currency(body: str, raw: str, currency: str) -> str:
    """Digits with one decimal point, deciding what ``.`` and ``,`` mean from the amount
    itself, and where that cannot tell, from how the currency is usually written."""
    body = body.translate(_SPACES).replace("'", "")
    places = exponent(currency)
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        whole, _, fraction = body.rpartition(decimal)
        if body.count(decimal) != 1 or not _grouped(whole, thousands):
            raise BadInput(f"{raw!r} mixes separators in a way that is not an amount")
        return whole.replace(thousands, "") + "." + fraction
    separator = "." if dots else "," if commas else ""
    if not separator:
        return body
    count = body.count(separator)
    whole, _, fraction = body.rpartition(separator)
    if count > 1:
        if not _grouped(body, separator):
            raise BadInput(f"{raw!r} is not an amount")
        return body.replace(separator, "")
    if separator == "." and len(fraction) == places == 3:
        # How refundctl itself writes a three-decimal currency (KWD 12.500).
        return whole + "." + fraction
    if len(fraction) == 3:
        # 1.234 or 1,234: thousands when the currency's usual writing says so, else ambiguous.
        grouping = (
            places == 0
            or (separator == "," and currency in _DOT_DECIMAL)
            or (separator == "." and currency in _COMMA_DECIMAL)
        )
        if not grouping:
            raise BadInput(
                f"{raw!r} is ambiguous in {currency}: it could be thousands or decimals; "
                "write it with both separators (1.234,00) or none (1234)"
            )
        return whole + fraction
    return (whole or "0") + "." + fraction


# Currencies whose amounts are written with a decimal point (1,234.56) or a decimal comma
# (1.234,56) wherever they are used; EUR and others are written both ways.
_DOT_DECIMAL = frozenset(
    "USD GBP CAD AUD NZD CNY HKD SGD INR MXN PHP THB MYR KRW ILS JPY TWD".split()
)
_COMMA_DECIMAL = frozenset("BRL ARS CLP COP IDR TRY VND DKK NOK SEK RUB UAH".split())


def _grouped(number: str, separator: str) -> bool:
    groups = number.split(separator)
    return bool(groups[0]) and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _exact(digits: str, raw: str, currency: str) -> Decimal:
    """``digits`` (``1234.5``, unsigned) as an exact amount in ``currency``: no more decimals
    than it has, no more whole digits than any order holds; zero allowed."""
    whole, _, fraction = digits.lstrip("-").partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise BadInput(f"{raw!r} is too large: at most {MAX_WHOLE_DIGITS} digits")
    places = exponent(currency)
    if len(fraction.rstrip("0")) > places:
        unit = f"{places} decimal places" if places else "no decimal places"
        raise BadInput(f"{raw!r} has too many decimals: {currency} has {unit}")
    return Decimal(digits).quantize(quantum(currency))
