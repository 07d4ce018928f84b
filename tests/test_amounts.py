"""One money reader for every import (issue 19): signs, codes and each locale's marks.

Property tests write amounts the way CLDR says each locale writes them (through babel, the
library the reader takes its marks from) and read them back exactly; examples pin the cells of
the sample exports; the plain fast path is held to the general reading.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal, get_currency_symbol
from hypothesis import given, settings
from hypothesis import strategies as st

from refundctl.amounts import AMBIGUOUS, SIGNS, Money, read_money
from refundctl.errors import BadInput

EXAMPLES = settings(max_examples=300, deadline=None)
LOCALES = ["en", "en_US", "en_GB", "de", "de_CH", "fr", "es", "it", "nl", "pl", "pt_BR", "sv"]
CURRENCIES = ["USD", "EUR", "GBP", "PLN", "JPY", "KWD", "CHF", "BRL", "SEK"]
cents = st.integers(min_value=0, max_value=10**12 - 1)  # twelve whole digits at most, in JPY too


def amount_of(minor: int, currency: str) -> Decimal:
    places = {"JPY": 0, "KWD": 3}.get(currency, 2)
    return Decimal(minor).scaleb(-places)


@EXAMPLES
@given(minor=cents, locale=st.sampled_from(LOCALES), currency=st.sampled_from(CURRENCIES))
def test_a_locales_number_reads_back_exactly(minor: int, locale: str, currency: str) -> None:
    amount = amount_of(minor, currency)
    places = -amount.as_tuple().exponent  # type: ignore[operator]
    pattern = "#,##0" + ("." + "0" * places if places else "")
    text = format_decimal(amount, format=pattern, locale=locale)
    found = read_money(text, currency=currency, locale=locale)
    assert found == Money(amount, currency)
    assert isinstance(found.amount, Decimal)
    assert found.amount.as_tuple().exponent == -places


@EXAMPLES
@given(
    minor=cents,
    locale=st.sampled_from(LOCALES),
    currency=st.sampled_from(CURRENCIES),
    negative=st.booleans(),
)
def test_a_locales_price_reads_back_with_its_currency(
    minor: int, locale: str, currency: str, negative: bool
) -> None:
    amount = amount_of(minor, currency) * (-1 if negative and minor else 1)
    text = format_currency(amount, currency, locale=locale)
    # The file's currency is known (a column, --currency or the config's): an ambiguous sign
    # such as $ or kr stands for it.
    found = read_money(text, default=currency, locale=locale, signed=True)
    assert found == Money(amount, currency), text


@EXAMPLES
@given(minor=st.integers(0, 10**9), currency=st.sampled_from(["USD", "EUR", "GBP", "PLN"]))
def test_the_plain_reading_is_the_general_one(minor: int, currency: str) -> None:
    """A plain cell takes a shortcut; written with its code it takes the general road."""
    for text in (str(Decimal(minor).scaleb(-2)), str(minor), f"-{Decimal(minor).scaleb(-2)}"):
        assert read_money(text, currency=currency, signed=True) == read_money(
            f"{text} {currency}", currency=currency, signed=True
        )
        comma = text.replace(".", ",")
        assert read_money(comma, currency=currency, locale="de", signed=True) == read_money(
            f"{comma} {currency}", currency=currency, locale="de", signed=True
        )


@EXAMPLES
@given(minor=st.integers(100_000, 10**11), locale=st.sampled_from(["en", "de"]))
def test_both_marks_need_no_locale(minor: int, locale: str) -> None:
    amount = Decimal(minor).scaleb(-2)
    text = format_decimal(amount, format="#,##0.00", locale=locale)
    assert read_money(text, currency="EUR") == Money(amount, "EUR")


@given(text=st.text(max_size=14))
def test_any_cell_reads_or_is_refused_with_a_message(text: str) -> None:
    try:
        found = read_money(text, default="USD", locale="de", signed=True)
    except BadInput as error:
        assert error.message
    else:
        assert isinstance(found.amount, Decimal)


SAMPLES = [
    # cell, how it is read, what it is
    ("US $7.80", {}, ("7.80", "USD")),
    ("€23,47", {}, ("23.47", "EUR")),
    ("1.052,99 €", {}, ("1052.99", "EUR")),
    ("70,48 zł", {}, ("70.48", "PLN")),
    ("12,99zł", {}, ("12.99", "PLN")),
    ("$8.97", {"default": "USD"}, ("8.97", "USD")),
    ("$8.97", {"default": "CAD"}, ("8.97", "CAD")),
    ("-1,042.50", {"currency": "USD", "locale": "en", "signed": True}, ("-1042.50", "USD")),
    ("1,042.50", {"currency": "USD", "locale": "en"}, ("1042.50", "USD")),
    ("-1.234,56", {"currency": "EUR", "locale": "de", "signed": True}, ("-1234.56", "EUR")),
    ("1.234", {"currency": "EUR", "locale": "de"}, ("1234.00", "EUR")),
    ("1,249.00", {"currency": "USD"}, ("1249.00", "USD")),
    ("1\u202f234,56\u00a0€", {"locale": "fr"}, ("1234.56", "EUR")),
    ("1'234.50 CHF", {"locale": "de_CH"}, ("1234.50", "CHF")),
    ("(5.00)", {"currency": "USD", "signed": True}, ("-5.00", "USD")),
    ("- 5,00 €", {"signed": True}, ("-5.00", "EUR")),
    ("1500", {"currency": "JPY"}, ("1500", "JPY")),
    ("¥1,500", {"default": "JPY"}, ("1500", "JPY")),
    ("0", {"currency": "USD"}, ("0.00", "USD")),
    ("5 EUR €", {"currency": "EUR"}, ("5.00", "EUR")),
    ("PLN12,99", {}, ("12.99", "PLN")),
    ("129 kr", {"default": "SEK"}, ("129.00", "SEK")),
]


@pytest.mark.parametrize(("text", "how", "expected"), SAMPLES)
def test_cells_of_the_sample_exports(text: str, how: dict[str, object], expected: tuple) -> None:
    amount, currency = expected
    assert read_money(text, **how) == Money(Decimal(amount), currency)  # type: ignore[arg-type]


REFUSED = [
    ("$8.97", {"default": "EUR"}, "$ cannot be EUR"),
    ("€5", {"currency": "USD"}, "is in EUR, but the order's currency is USD"),
    ("€5 £5", {}, "names two currencies"),
    ("8.97", {}, "names no currency"),
    ("-5.00", {"currency": "USD"}, "is negative"),
    ("12.50", {"currency": "EUR", "locale": "de"}, "as this file writes them (1.234,56)"),
    ("1,234", {"currency": "EUR", "locale": "de"}, "too many decimals"),
    ("1.234", {"currency": "EUR"}, "ambiguous"),
    ("12.345", {"currency": "USD", "locale": "en"}, "too many decimals"),
    ("1" * 14, {"currency": "USD"}, "too large"),
    ("twelve", {"currency": "USD"}, "is not an amount"),
    ("", {"currency": "USD"}, "is empty"),
    ("5 XYZ", {}, "unknown currency"),
]


@pytest.mark.parametrize(("text", "how", "says"), REFUSED)
def test_what_cannot_be_told_is_refused(text: str, how: dict[str, object], says: str) -> None:
    with pytest.raises(BadInput) as refused:
        read_money(text, **how)  # type: ignore[arg-type]
    assert says is None or says in refused.value.message


# Where each sign is the one CLDR writes for its currency: (sign, a locale that writes it).
SIGN_LOCALES = {
    "US$": "es",
    "CA$": "en",
    "C$": "nl",
    "AU$": "nl",
    "A$": "en",
    "NZ$": "en",
    "HK$": "en",
    "S$": None,
    "MX$": "en",
    "R$": "pt_BR",
    "BR$": "sv",
    "$US": "fr",
    "$CA": "fr",
    "$AU": "fr",
    "$NZ": "fr",
    "$SG": "fr",
    "$MX": "fr",
    "£GB": "fr",
    "NT$": "en",
    "CN¥": "en",
    "JP¥": "nl",
    "€": "de",
    "£": "en_GB",
    "₩": "ko",
    "₹": "hi",
    "₺": "tr",
    "₽": "ru",
    "₴": "uk",
    "₫": "vi",
    "₱": "fil",
    "₪": "he",
    "฿": "th",
    "円": None,
    "元": None,
    "zł": "pl",
    "Kč": "cs",
    "Ft": "hu",
    "lei": None,
    "RM": "ms",
    "Rp": "id",
}


def test_each_sign_is_the_one_cldr_writes_for_its_currency() -> None:
    """The sign table is checked against CLDR, not trusted: a sign with no locale here is one
    shops write that CLDR does not (AliExpress's AU$, a Japanese shop's 円, Romania's lei)."""
    assert set(SIGN_LOCALES) == set(SIGNS)
    for sign, locale in SIGN_LOCALES.items():
        if locale is not None:
            assert get_currency_symbol(SIGNS[sign], locale) == sign, sign
    homes = {"CAD": "en_CA", "AUD": "en_AU", "MXN": "es_MX", "SEK": "sv", "NOK": "nb"}
    homes |= {"USD": "en_US", "DKK": "da", "CNY": "zh", "JPY": "ja", "ISK": "is"}
    for code, home in homes.items():
        sign = get_currency_symbol(code, home)
        assert code in AMBIGUOUS[sign], (code, sign)
