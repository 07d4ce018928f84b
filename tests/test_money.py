"""Exact money: what an amount may look like, how it is stored, how it is shown.

Properties run over currencies of every minor-unit exponent: JPY (0), USD (2) and KWD (3). Any
refusal must be ``BadInput`` (exit 2), never another exception (which would exit 70).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from refundctl.errors import BadInput
from refundctl.money import (
    exponent,
    format_money,
    from_minor,
    parse_amount,
    parse_currency,
    parse_percent,
    percent_of,
    quantum,
    to_json,
    to_minor,
)

EXPONENTS = {"JPY": 0, "USD": 2, "KWD": 3}
currencies = st.sampled_from(sorted(EXPONENTS))
# Up to a trillion minor units: twelve digits at most, the most refundctl takes in a whole part.
minor_units = st.integers(min_value=1, max_value=10**12 - 1)


def _plain(minor: int, currency: str) -> str:
    """How a person types ``minor`` minor units: digits, a point, exactly the minor digits."""
    places = EXPONENTS[currency]
    if places == 0:
        return str(minor)
    whole, fraction = divmod(minor, 10**places)
    return f"{whole}.{fraction:0{places}d}"


def _refused(text: str, currency: str) -> BadInput:
    with pytest.raises(BadInput) as refused:
        parse_amount(text, currency)
    return refused.value


@pytest.mark.parametrize(("currency", "places"), sorted(EXPONENTS.items()))
def test_each_currency_has_its_iso_4217_minor_unit(currency: str, places: int) -> None:
    assert exponent(currency) == places


@given(minor_units, currencies)
def test_an_amount_round_trips_through_minor_units(minor: int, currency: str) -> None:
    amount = parse_amount(_plain(minor, currency), currency)
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == amount
    assert to_json(from_minor(minor, currency)) == _plain(minor, currency)
    # Scaled, not quantized: the same value with the same places as quantizing gives.
    quantized = Decimal(minor).scaleb(-exponent(currency)).quantize(quantum(currency))
    assert str(from_minor(minor, currency)) == str(quantized)


@given(minor_units, currencies)
def test_stored_money_reads_back_as_the_text_typed(minor: int, currency: str) -> None:
    text = _plain(minor, currency)
    assert str(parse_amount(text, currency)) == text


@given(st.integers(min_value=1, max_value=10**12 - 1), currencies)
def test_whole_amounts_need_no_decimals(whole: int, currency: str) -> None:
    amount = parse_amount(str(whole), currency)
    assert amount == whole
    assert to_minor(amount, currency) == whole * 10 ** EXPONENTS[currency]


@given(st.integers(min_value=1, max_value=10**12 - 1), currencies)
def test_surrounding_spaces_are_ignored(minor: int, currency: str) -> None:
    text = _plain(minor, currency)
    assert parse_amount(f"  {text}\t", currency) == parse_amount(text, currency)


@given(minor_units, currencies)
def test_a_negative_amount_is_refused(minor: int, currency: str) -> None:
    assert "positive" in _refused("-" + _plain(minor, currency), currency).message


@pytest.mark.parametrize("currency", sorted(EXPONENTS))
@pytest.mark.parametrize("text", ["0", "0.0", "00", "0.000", "-0"])
def test_zero_is_refused(text: str, currency: str) -> None:
    _refused(text, currency)


@given(minor_units, st.integers(min_value=1, max_value=9), currencies)
def test_more_decimals_than_the_currency_has_are_refused(
    minor: int, extra_digit: int, currency: str
) -> None:
    text = _plain(minor, currency)
    if EXPONENTS[currency] == 0:
        text += "."
    text += str(extra_digit)
    message = _refused(text, currency).message
    assert "too many decimals" in message
    assert currency in message


@pytest.mark.parametrize(
    ("text", "currency"), [("1500.5", "JPY"), ("12.345", "USD"), ("1.2345", "KWD")]
)
def test_a_fraction_of_the_minor_unit_is_refused(text: str, currency: str) -> None:
    assert "too many decimals" in _refused(text, currency).message


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E3",
        "1e-2",
        "1.5e2",
        "nan",
        "NaN",
        "sNaN",
        "inf",
        "Infinity",
        "-inf",
        "+12.50",
        "12.",
        ".50",
        "0x10",
        "1_000",
        "twelve",
        "",
        "   ",
        "$12.50",
        "12.50 USD",
        "12,50",
    ],
)
@pytest.mark.parametrize("currency", sorted(EXPONENTS))
def test_anything_but_a_plain_number_is_refused(text: str, currency: str) -> None:
    _refused(text, currency)


@given(st.integers(min_value=1000, max_value=10**12), currencies)
def test_thousands_separators_are_refused(whole: int, currency: str) -> None:
    _refused(f"{whole:,}", currency)
    _refused(f"{whole:,}".replace(",", " "), currency)
    _refused(f"{whole:,}".replace(",", "'"), currency)


@given(st.floats(allow_nan=True, allow_infinity=True), currencies)
def test_floats_written_by_python_parse_only_as_plain_numbers(value: float, currency: str) -> None:
    text = repr(value)
    try:
        amount = parse_amount(text, currency)
    except BadInput:
        return
    assert "e" not in text.lower()
    assert amount == Decimal(text)


@given(st.text(), currencies)
@example("1e3", "USD")
@example("nan", "USD")
@example("١٢", "USD")
@example("1" * 30, "USD")
def test_any_text_is_an_amount_or_bad_input(text: str, currency: str) -> None:
    try:
        amount = parse_amount(text, currency)
    except BadInput:
        return
    assert amount > 0
    assert amount == amount.quantize(Decimal(1).scaleb(-EXPONENTS[currency]))


@given(st.from_regex(r"[0-9]{1,45}(\.[0-9]{1,45})?", fullmatch=True), currencies)
def test_any_string_of_digits_is_an_amount_or_bad_input(text: str, currency: str) -> None:
    try:
        amount = parse_amount(text, currency)
    except BadInput:
        return
    assert to_minor(amount, currency) == int(amount.scaleb(EXPONENTS[currency]))


@pytest.mark.parametrize("text", ["1" * 30, "9" * 27 + ".5", "1" * 40 + ".00", "9" * 13])
def test_an_absurdly_long_amount_is_bad_input(text: str) -> None:
    # Found raising decimal.InvalidOperation (exit 70) in an earlier revision of parse_amount.
    assert "too large" in _refused(text, "USD").message


def test_the_largest_amount_still_fits_in_minor_units() -> None:
    amount = parse_amount("9" * 12 + ".999", "KWD")
    assert from_minor(to_minor(amount, "KWD"), "KWD") == amount
    assert to_minor(amount, "KWD") < 2**63


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("12.500", "USD", "12.50"), ("1500.0", "JPY", "1500"), ("1.50", "KWD", "1.500")],
)
def test_trailing_zeros_are_the_same_amount(text: str, currency: str, expected: str) -> None:
    # Not "more decimals than the currency has" in value: 12.500 is exactly 12.50.
    assert str(parse_amount(text, currency)) == expected


def test_the_refusal_names_what_was_wrong() -> None:
    with pytest.raises(BadInput) as refused:
        parse_amount("12.345", "USD", what="item price")
    assert refused.value.message == (
        "item price '12.345' has too many decimals: USD has 2 decimal places"
    )
    with pytest.raises(BadInput) as refused:
        parse_amount("1.5", "JPY")
    assert refused.value.message == "amount '1.5' has too many decimals: JPY has no decimal places"


def test_to_minor_refuses_a_fraction_of_a_minor_unit() -> None:
    with pytest.raises(ValueError, match="minor units"):
        to_minor(Decimal("12.345"), "USD")


# -- percentages ---------------------------------------------------------------------------------

percents = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(100), places=4, allow_nan=False
)


@given(minor_units, percents, currencies)
def test_a_percentage_never_exceeds_the_amount(minor: int, percent: Decimal, currency: str) -> None:
    amount = from_minor(minor, currency)
    assert percent_of(amount, percent, currency) <= amount


@given(minor_units, percents, currencies)
@example(300, Decimal("33.3333"), "USD")
def test_a_percentage_rounds_down_to_the_minor_unit(
    minor: int, percent: Decimal, currency: str
) -> None:
    amount = from_minor(minor, currency)
    share = percent_of(amount, percent, currency)
    with decimal.localcontext(prec=100):
        exact = amount * percent / 100
        unit = Decimal(1).scaleb(-EXPONENTS[currency])
        assert share <= exact
        assert exact - share < unit
    assert to_minor(share, currency) >= 0


def test_a_long_percentage_still_rounds_down() -> None:
    # Found rounding UP to $1.00 in an earlier revision of percent_of (28-digit context).
    percent = parse_percent("33." + "3" * 29)
    assert percent_of(Decimal("3.00"), percent, "USD") == Decimal("0.99")


@given(
    minor_units,
    st.from_regex(r"[0-9]{1,2}\.[0-9]{1,40}", fullmatch=True).filter(lambda t: Decimal(t) > 0),
    currencies,
)
def test_a_percentage_of_any_length_rounds_down(minor: int, text: str, currency: str) -> None:
    amount = from_minor(minor, currency)
    percent = parse_percent(text)
    share = percent_of(amount, percent, currency)
    with decimal.localcontext(prec=200):
        exact = amount * percent / 100
        assert share <= exact
        assert exact - share < Decimal(1).scaleb(-EXPONENTS[currency])


def test_all_of_it_is_the_whole_amount() -> None:
    assert percent_of(Decimal("45.90"), Decimal(100), "USD") == Decimal("45.90")


def test_a_third_of_a_yen_amount_drops_the_fraction() -> None:
    assert percent_of(Decimal(100), Decimal("33.3333"), "JPY") == Decimal(33)


@pytest.mark.parametrize(("text", "value"), [("30", "30"), ("12.5%", "12.5"), (" 100 ", "100")])
def test_parse_percent_reads_a_percentage(text: str, value: str) -> None:
    assert parse_percent(text) == Decimal(value)


@pytest.mark.parametrize("text", ["0", "-5", "100.01", "101", "nan", "inf", "sNaN", "abc", ""])
def test_parse_percent_refuses_what_is_not_above_0_and_at_most_100(text: str) -> None:
    with pytest.raises(BadInput):
        parse_percent(text)


@given(st.text(max_size=24))
def test_any_text_is_a_percentage_or_bad_input(text: str) -> None:
    try:
        value = parse_percent(text)
    except BadInput:
        return
    assert 0 < value <= 100


# -- formatting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12.50", "USD", "$12.50"),
        ("8", "EUR", "€8.00"),
        ("0.5", "GBP", "£0.50"),
        ("1500", "JPY", "¥1,500"),
        ("1234567.89", "USD", "$1,234,567.89"),
        ("1234.5", "CAD", "1,234.50 CAD"),
        ("1.5", "KWD", "1.500 KWD"),
        ("1500", "KRW", "1,500 KRW"),
    ],
)
def test_format_money_for_people(amount: str, currency: str, shown: str) -> None:
    assert format_money(Decimal(amount), currency) == shown


@given(minor_units, currencies)
def test_formatted_money_keeps_every_minor_digit(minor: int, currency: str) -> None:
    shown = format_money(from_minor(minor, currency), currency)
    digits = "".join(ch for ch in shown if ch.isdigit())
    assert int(digits) == minor


def test_money_in_json_is_a_decimal_string_or_null() -> None:
    assert to_json(Decimal("12.50")) == "12.50"
    assert to_json(None) is None


# -- currencies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"), [("USD", "USD"), ("usd", "USD"), (" eur ", "EUR"), ("Kwd", "KWD")]
)
def test_parse_currency_reads_an_iso_code(text: str, code: str) -> None:
    assert parse_currency(text) == code


@pytest.mark.parametrize(
    "text", ["", "US", "USDD", "XXX", "ABC", "dollar", "$", "U$D", "usd1", "EU"]
)
def test_parse_currency_refuses_what_is_not_an_iso_code(text: str) -> None:
    with pytest.raises(BadInput, match="ISO 4217"):
        parse_currency(text)


@given(st.text(max_size=8))
def test_any_text_is_a_currency_or_bad_input(text: str) -> None:
    try:
        code = parse_currency(text)
    except BadInput:
        return
    assert len(code) == 3
    assert code.isascii()
    assert code.isupper()
    assert exponent(code) in {0, 2, 3}


@pytest.mark.parametrize("text", ["١٢", "１２", "12.５0", "٣.50"])
def test_digits_from_other_scripts_are_refused_not_read(text: str) -> None:
    with pytest.raises(BadInput, match="plain number"):
        parse_amount(text, "USD")
