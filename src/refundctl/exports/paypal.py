"""PayPal's Activity download (CSV), with its columns named in English or in German.

Pure. One purchase is several rows: the payment (a negative gross, a merchant under ``Name``),
the rows that funded it from a bank or card, holds and their reversals, currency conversions.
Only a payment to a merchant becomes an order: its number is the payment's transaction id (what
PayPal's resolution centre shows), its seller the merchant, its title the item title, its time
the row's date, time and zone. A refund is a later positive row whose reference is a payment's
transaction id: it goes to the ledger to match (refundctl.exports.facts), against the payment of
this file or of an earlier one. Every other row is counted as skipped, by kind. Money is read
in the locale of the header's language (``1,042.50`` in English, ``1.234,56`` in German); the
order of day and month in ``03/04/2025`` from the file's dates and zones (refundctl.exports.
dates). E-mail addresses, postal addresses and phone numbers are never read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from refundctl.amounts import read_money
from refundctl.errors import BadInput
from refundctl.exports.dates import DayOrder, at_time, numeric_date, zone_of
from refundctl.exports.facts import Back, MoneyBack
from refundctl.exports.table import (
    Built,
    Column,
    Context,
    Layout,
    Reading,
    Skip,
    Source,
    Table,
    imported,
    line_problem,
)
from refundctl.importing import RowProblem
from refundctl.money import parse_currency
from refundctl.records import Order

MARKETPLACE = "paypal"

# What a row's type says it is, by the words of each language, tried in this order: a
# "Payment Refund" is a refund, a "Bank Deposit to PP Account" funding, an "Express Checkout
# Payment" a payment.
_KINDS = (
    ("holds", ("hold", "authori", "void", "einbehalt", "autorisierung", "reservierung")),
    ("currency conversions", ("conversion", "umrechnung")),
    ("refunds", ("refund", "rückzahlung", "erstattung")),
    (
        "funding",
        (
            "deposit",
            "funding",
            "transfer",
            "withdrawal",
            "bank",
            "card",
            "gutschrift",
            "abbuchung",
            "überweisung",
            "einzahlung",
            "lastschrift",
            "karte",
        ),
    ),
    ("payments", ("payment", "zahlung", "checkout", "purchase", "kauf")),
)
# Statuses of a row that did not happen.
_NOT_DONE = frozenset(
    "denied reversed canceled cancelled failed voided abgelehnt storniert fehlgeschlagen "
    "annulliert".split()
)


def kind_of(row_type: str) -> str:
    """What a row's type makes it: payments, refunds, funding, holds, currency conversions,
    or other."""
    words = row_type.casefold()
    return next((kind for kind, marks in _KINDS if any(m in words for m in marks)), "other")


@dataclass(frozen=True, slots=True)
class _Language:
    locale: str  # how its amounts are written
    day_order: DayOrder | None  # None: told by the file


def _read(language: _Language, title: str) -> Callable[[Table, Context], Reading]:
    def read(table: Table, context: Context) -> Reading:
        return _Activity(table, context, language, title).reading()

    return read


class _Activity:
    """One pass over the rows: which are payments, which refunds, which neither; then each
    payment read as an order when its batch comes."""

    def __init__(self, table: Table, context: Context, language: _Language, title: str) -> None:
        self.table, self.context, self.language, self.title = table, context, language, title
        self.problems: list[RowProblem] = []
        at = table.at
        order = language.day_order or DayOrder.of(
            (row[at["date"]] for row in table.rows), (row[at["zone"]] for row in table.rows)
        )
        if order is None and table.rows:
            raise BadInput(
                "the file's dates could be month/day or day/month and its time zones do not "
                "tell which; download it with the dates of your account's country"
            )
        self.order = order or DayOrder.MONTH_FIRST

    def get(self, row: Sequence[str], key: str) -> str:
        at = self.table.at.get(key)
        return "" if at is None else row[at].strip()

    def fail(self, line: int, key: str, error: BadInput) -> None:
        self.problems.append(line_problem(line, self.table.name(key), error.message))

    def reading(self) -> Reading:
        table = self.table
        skipped: Counter[str] = Counter()
        payments: list[list[int]] = []
        money: list[MoneyBack] = []
        for index, row in enumerate(table.rows):
            line = table.lines[index]
            kind = kind_of(self.get(row, "type"))
            if self.get(row, "status").casefold() in _NOT_DONE:
                skipped["not completed"] += 1
                continue
            if kind not in ("payments", "refunds"):
                skipped[kind] += 1
                continue
            gross = self.gross(row, line)
            if gross is None:
                continue
            if kind == "payments" and gross[0] < 0 and self.get(row, "name"):
                payments.append([index])
            elif kind == "refunds" and gross[0] > 0 and self.get(row, "reference"):
                money.append(
                    MoneyBack(
                        Back.REFUND,
                        MARKETPLACE,
                        self.get(row, "reference"),
                        gross[0],
                        gross[1],
                        self.when(row, line),
                        line,
                        reference=self.get(row, "txn") or None,
                    )
                )
            else:
                skipped["other" if kind == "payments" else "refunds that name no payment"] += 1
        reading = Reading(self.title, len(table), payments, self.build, skipped=skipped)
        reading.problems += self.problems
        reading.money += money
        return reading

    def gross(self, row: Sequence[str], line: int) -> tuple[Decimal, str] | None:
        try:
            currency = parse_currency(self.get(row, "currency"))
        except BadInput as error:
            self.fail(line, "currency", error)
            return None
        try:
            found = read_money(
                self.get(row, "gross"), currency=currency, locale=self.language.locale, signed=True
            )
        except BadInput as error:
            self.fail(line, "gross", error)
            return None
        return found.amount, found.currency

    def when(self, row: Sequence[str], line: int) -> datetime | None:
        try:
            day = numeric_date(self.get(row, "date"), self.order)
        except BadInput as error:
            self.fail(line, "date", error)
            return None
        try:
            zone = zone_of(self.get(row, "zone")) if self.get(row, "zone") else self.context.zone
            return at_time(day, self.get(row, "time"), zone)
        except BadInput as error:
            self.fail(line, "zone" if "zone" in error.message else "time", error)
            return None

    def build(self, group: Sequence[int]) -> Built:
        index = group[0]
        row, line = self.table.rows[index], self.table.lines[index]
        self.problems = []  # this order's: the first pass's went to the reading
        gross = self.gross(row, line)
        paid = self.when(row, line)
        number = self.get(row, "txn")
        if not number:
            self.fail(line, "txn", BadInput("is empty"))
        if gross is None or self.problems:
            return self.problems
        if gross[0] == 0:
            return Skip("other")
        order = Order(
            marketplace=MARKETPLACE,
            order_no=number,
            total=-gross[0],
            currency=gross[1],
            seller=self.get(row, "name"),
            title=self.get(row, "title") or None,
            ordered=paid,
            payment="PayPal",
        )
        return imported(line, order, self.context, self.problems)


def _columns(names: dict[str, str], required: set[str]) -> tuple[Column, ...]:
    return tuple(Column(key, (name,), key in required) for key, name in names.items())


_REQUIRED = {"date", "time", "zone", "name", "type", "status", "currency", "gross", "txn"}
ENGLISH = Layout(
    Source.PAYPAL,
    "PayPal activity",
    _columns(
        {
            "date": "Date",
            "time": "Time",
            "zone": "TimeZone",
            "name": "Name",
            "type": "Type",
            "status": "Status",
            "currency": "Currency",
            "gross": "Gross",
            "txn": "Transaction ID",
            "reference": "Reference Txn ID",
            "title": "Item Title",
        },
        _REQUIRED,
    ),
    _read(_Language("en", None), "PayPal activity"),
)
GERMAN = Layout(
    Source.PAYPAL,
    "PayPal activity (German)",
    _columns(
        {
            "date": "Datum",
            "time": "Uhrzeit",
            "zone": "Zeitzone",
            "name": "Name",
            "type": "Typ",
            "status": "Status",
            "currency": "Währung",
            "gross": "Brutto",
            "txn": "Transaktionscode",
            "reference": "Zugehöriger Transaktionscode",
            "title": "Artikelbezeichnung",
        },
        _REQUIRED,
    ),
    _read(_Language("de", DayOrder.DAY_FIRST), "PayPal activity (German)"),
)
LAYOUTS = (ENGLISH, GERMAN)
