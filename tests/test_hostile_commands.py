"""Hostile input: random sequences of commands, valid and invalid, against a real ledger.

Where ``test_random_moves`` walks one dispute through its lifecycle, this state machine throws
every recording command at a ledger of several orders and disputes: ``order add``, ``order
update``, ``order receive``, ``open`` (by amount, percent or in full, with or without the
marketplace), ``attach --message``, ``attach --url``, ``respond`` with every move, ``escalate``,
``resolve``, ``cancel`` and ``undo``, with arguments drawn from valid values and from the
mistakes people and scripts make (unknown orders and disputes, amounts that are zero, negative,
too precise, too large or not numbers, bad marketplaces, reasons, dates, flags and text). A small
model, written from DESIGN.md (the moves table in ``test_random_moves.FROM``; what is
refundable: the total less what the order's other disputes agreed or recovered), says what each
command must do. After every step:

- the exit code is 0 or 2 (never a traceback, never 70), and 0 exactly when the model allows;
- a refusal printed one line and left the ledger byte for byte as it was (``snapshot``);
- every dispute's state and amounts in the ledger are the model's;
- amounts stay in bounds: positive, and what an order's disputes agreed or recovered is at
  most its total.

HYPOTHESIS_PROFILE=stress runs many more and longer sequences.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.config import Config, load_config
from refundctl.due import Filters
from refundctl.money import percent_of
from refundctl.policies import has_appeals
from refundctl.remedies import dispute_policy
from tests.conftest import NOW, Cli, snapshot
from tests.index_oracle import assert_index_agrees
from tests.test_random_moves import ACTIVE, FROM, RESPOND_MOVES

STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"
MARKETPLACES = ["aliexpress", "ebay", "temu"]
NUMBERS = ["A-1", "B-2", "C-3"]
BAD_NUMBERS = ["", " ", "A 1", "\x1b[31m", "x\x00y", "-A"]
BAD_MARKETPLACES = ["", "two words", "e/bay"]
REASONS = ["not-received", "damaged", "missing-parts", "other"]
CURRENCIES = {"USD": 2, "JPY": 0}
URLS = ["https://example.com/item/1", "https://例え.jp/商品", "http://a.b/c?d=e#f"]
BAD_URLS = ["example.com", "ftp://example.com/x", "https://a b", "javascript:alert(1)"]
TEXTS = st.text(min_size=0, max_size=40)
WHENS = st.one_of(
    st.none(), st.none(), st.sampled_from(["garbage", "2027-06-01", "1900-01-01", "2026-02-30"])
)
TAKES_AN_AMOUNT = {"seller-offers", "counter", "platform-awards"}
TAKES_RETURN = {"seller-agrees", "seller-offers", "platform-awards"}
SELLER_MOVES = {"seller-agrees", "seller-offers", "seller-rejects", "return-delivered"}
POLICIES = Config().policies


def amounts(currency: str) -> st.SearchStrategy[str]:
    """Amount arguments: mostly plain valid numbers, some of every kind of wrong."""
    places = CURRENCIES[currency]
    valid = st.integers(1, 9_999 if places else 99).map(
        lambda n: str(Decimal(n).scaleb(-places)) if places else str(n)
    )
    wrong = st.sampled_from(
        ["0", "0.00", "-1", "abc", "1.234", "1e3", "1,00", "nan", "", "12.", "1.5" * places]
    )
    return st.one_of(valid, valid, valid, wrong, st.sampled_from(["5000", "999999999999"]))


def parse(text: str | None, currency: str) -> Decimal | None:
    """The amount ``text`` means, or None when it is not a valid amount."""
    places = CURRENCIES[currency]
    pattern = r"[0-9]+(\.[0-9]{1,2})?" if places else r"[0-9]+"
    if text is None or not re.fullmatch(pattern, text) or len(text.split(".")[0]) > 12:
        return None
    value = Decimal(text)
    return value if value > 0 else None


@dataclass(frozen=True)
class Order:
    marketplace: str
    number: str
    currency: str
    total: Decimal
    received: bool = False


@dataclass(frozen=True)
class Dispute:
    id: int
    order: tuple[str, str]  # (marketplace, number)
    state: str
    requested: Decimal
    offer: Decimal | None = None
    offer_kind: str | None = None
    agreed: Decimal | None = None
    refunded: Decimal | None = None
    seller_moved: bool = False
    rejected_by_platform: bool = False
    appealed: bool = False
    via: str | None = None  # filed through a payment rail (`open --via`)

    @property
    def takes(self) -> Decimal:
        """What it takes out of the order's refundable total (DESIGN.md: agreed or recovered)."""
        if self.state == "refunded":
            return self.refunded or Decimal(0)
        if self.state in {"refund_pending", "return_to_ship", "return_in_transit"}:
            return self.agreed or Decimal(0)
        if self.state == "escalated" and self.agreed is not None:
            return self.agreed
        return Decimal(0)


class HostileCommands(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="refundctl-hostile-"))
        (self.folder / "config.toml").write_text('timezone = "UTC"\n')
        self.ledger = self.folder / "ledger.db"
        self.env = {
            "REFUNDCTL_DB": str(self.ledger),
            "REFUNDCTL_CONFIG": str(self.folder / "config.toml"),
            "REFUNDCTL_NOW": NOW,
        }
        self.runner = CliRunner()
        self.orders: dict[tuple[str, str], Order] = {}
        self.disputes: dict[int, Dispute] = {}
        self.undo: dict[int, list[Dispute]] = {}
        self.oracle_saw: bytes | None = None  # the files the deadline oracle last agreed with

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- running and checking ------------------------------------------------------------------

    def attempt(self, args: list[str], allowed: bool) -> None:
        before = snapshot(self.ledger)
        result = self.runner.invoke(app, args, env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in {0, 2}, (args, result.exit_code, result.stderr)
        if allowed:
            assert result.exit_code == 0, (args, "should be allowed", result.stderr)
            event(f"recorded {args[0]}")
        else:
            assert result.exit_code == 2, (args, "should be refused", result.stdout)
            assert result.stderr.startswith("error: "), result.stderr
            assert result.stderr.count("\n") == 1, result.stderr
            after = snapshot(self.ledger)
            if before == "absent" and after != before:
                # A refused write on a new machine may leave an empty ledger, nothing more.
                assert holds_nothing(self.ledger), args
            else:
                assert after == before, (args, "a refusal changed the ledger")
            event(f"refused {args[0]}")

    def find(self, number: str, marketplace: str | None) -> Order | None:
        """The order the user named, if it names exactly one."""
        found = [
            o
            for o in self.orders.values()
            if o.number == number and (marketplace is None or o.marketplace == marketplace)
        ]
        return found[0] if len(found) == 1 else None

    def of_order(self, key: tuple[str, str], but: int = 0) -> list[Dispute]:
        return [d for d in self.disputes.values() if d.order == key and d.id != but]

    def busy(self, key: tuple[str, str], via: str | None, but: int = 0) -> bool:
        """An active dispute on the order in the same lane: with the marketplace, or
        through a rail (one of each may run at once)."""
        return any(
            d.state in ACTIVE and (d.via is None) == (via is None) for d in self.of_order(key, but)
        )

    def refundable(self, key: tuple[str, str], but: int = 0) -> Decimal:
        return self.orders[key].total - sum((d.takes for d in self.of_order(key, but)), Decimal(0))

    def dispute_arg(self, data: st.DataObject) -> tuple[str, Dispute | None]:
        known = st.sampled_from([str(i) for i in sorted(self.disputes)] or ["1"])
        wrong = st.sampled_from(["0", "99", "-1", "x", "1.5", "99999999999999999999"])
        text = data.draw(st.one_of(known, known, known, wrong), label="dispute")
        return text, self.disputes.get(int(text)) if text.isdigit() else None

    # -- a ledger to start from, and moves that keep it going --------------------------------

    @initialize()
    def three_orders_and_a_dispute(self) -> None:
        # Paid by card, by PayPal (no remedy of its own on eBay) and by card: remedy windows
        # beside the protection, on lost disputes, and on chargebacks (`a_chargeback`).
        for number, marketplace, currency, total, payment in (
            ("A-1", "aliexpress", "USD", "45.90", "Visa - 4242"),
            ("B-2", "ebay", "USD", "30", "PayPal"),
            ("C-3", "temu", "JPY", "5000", "MasterCard - 2111"),
        ):
            args = ["order", "add", number, "-m", marketplace, "--total", total]
            args += ["--payment", payment]
            self.attempt([*args, "--currency", currency, "--ordered", "2026-11-01"], True)
            value = Decimal(total)
            self.orders[(marketplace, number)] = Order(marketplace, number, currency, value)
        self.attempt(["open", "A-1", "--reason", "missing-parts", "--amount", "12.50"], True)
        self.disputes[1] = Dispute(1, ("aliexpress", "A-1"), "awaiting_seller", Decimal("12.50"))
        self.undo[1] = []

    def allowed_moves(self, d: Dispute) -> list[str]:
        """What DESIGN.md allows on ``d`` now, as the model knows it."""
        moves = [m for m in [*RESPOND_MOVES, "escalate", "refunded", "lost", "withdrawn",
                             "cancel"] if d.state in FROM[m]]  # fmt: skip
        if d.offer is None:
            moves = [m for m in moves if m not in {"accept", "decline"}]
        moves = [m for m in moves if m != ("cancel" if d.seller_moved else "withdrawn")]
        left = self.refundable(d.order, d.id)
        if d.requested > left:
            moves = [m for m in moves if m != "seller-agrees"]
        if d.offer is not None and d.offer > left:
            moves = [m for m in moves if m != "accept"]
        if left <= 0:
            moves = [m for m in moves if m not in {*TAKES_AN_AMOUNT, "refunded"}]
        return moves

    @precondition(lambda self: any(self.allowed_moves(d) for d in self.disputes.values()))
    @rule(data=st.data())
    def a_valid_move(self, data: st.DataObject) -> None:
        """Deeper states: a move the lifecycle allows, with valid arguments."""
        d = data.draw(
            st.sampled_from([d for d in self.disputes.values() if self.allowed_moves(d)]),
            label="dispute",
        )
        move = data.draw(st.sampled_from(self.allowed_moves(d)), label="move")
        currency = self.orders[d.order].currency
        places = CURRENCIES[currency]
        cents = int(self.refundable(d.order, d.id).scaleb(places))
        amount = data.draw(st.integers(1, max(cents, 1)), label="amount")
        text = str(Decimal(amount).scaleb(-places))
        if move in RESPOND_MOVES:
            flags: list[str | None] = [None]
            flags += ["--return"] if move in TAKES_RETURN else []
            flags += ["--replacement"] if move == "seller-offers" else []
            flag = data.draw(st.sampled_from(flags), label="flag")
            given = text if move in TAKES_AN_AMOUNT else None
            args = [
                "respond",
                str(d.id),
                move,
                *([given] if given else []),
                *([flag] if flag else []),
            ]
            self.moved(d, args, self.after_respond(d, move, given, flag))
        elif move == "escalate":
            self.do_escalate(str(d.id), d, None, None)
        elif move == "cancel":
            self.do_cancel(str(d.id), d, None)
        else:
            self.do_resolve(str(d.id), d, f"--{move}", text, False, None)

    # One chargeback a run: each dispute more makes every later step's index check dearer.
    @precondition(
        lambda self: (
            not any(d.via for d in self.disputes.values())
            and any(self.refundable(key) > 0 and not self.busy(key, "visa") for key in self.orders)
        )
    )
    @rule(data=st.data(), via=st.sampled_from(["visa", "mastercard", "paypal"]))
    def a_chargeback(self, data: st.DataObject, via: str) -> None:
        """A dispute through a payment rail, beside the marketplace's (running or not)."""
        free = [
            key
            for key in sorted(self.orders)
            if self.refundable(key) > 0 and not self.busy(key, via)
        ]
        marketplace, number = data.draw(st.sampled_from(free), label="order")
        args = ["open", number, "-m", marketplace, "--via", via, "--reason", "damaged", "--full"]
        self.attempt(args, True)
        new = Dispute(
            len(self.disputes) + 1,
            (marketplace, number),
            "awaiting_seller" if via == "paypal" else "escalated",
            self.refundable((marketplace, number)),
            via=via,
        )
        self.disputes[new.id] = new
        self.undo[new.id] = []

    @precondition(
        lambda self: any(
            self.refundable(key) > 0 and not self.busy(key, None) for key in self.orders
        )
    )
    @rule(data=st.data())
    def a_valid_open(self, data: st.DataObject) -> None:
        free = [
            key
            for key in sorted(self.orders)
            if self.refundable(key) > 0 and not self.busy(key, None)
        ]
        marketplace, number = data.draw(st.sampled_from(free), label="order")
        args = ["open", number, "-m", marketplace, "--reason", "damaged", "--full"]
        self.attempt(args, True)
        new = Dispute(
            len(self.disputes) + 1,
            (marketplace, number),
            "awaiting_seller",
            self.refundable((marketplace, number)),
        )
        self.disputes[new.id] = new
        self.undo[new.id] = []

    # -- orders ---------------------------------------------------------------------------------

    @rule(
        number=st.one_of(
            st.sampled_from(NUMBERS), st.sampled_from(NUMBERS), st.sampled_from(BAD_NUMBERS)
        ),
        marketplace=st.one_of(st.sampled_from(MARKETPLACES), st.sampled_from(BAD_MARKETPLACES)),
        currency=st.sampled_from(sorted(CURRENCIES)),
        data=st.data(),
    )
    def order_add(self, number: str, marketplace: str, currency: str, data: st.DataObject) -> None:
        total = data.draw(amounts(currency), label="total")
        args = ["order", "add", number, "-m", marketplace, "--total", total]
        args += ["--currency", currency, "--ordered", "2026-11-01"]
        value = parse(total, currency)
        key = (marketplace, number)
        allowed = (
            number in NUMBERS
            and marketplace in MARKETPLACES
            and key not in self.orders
            and value is not None
        )
        self.attempt(args, allowed)
        if allowed:
            assert value is not None
            self.orders[key] = Order(marketplace, number, currency, value)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), with_marketplace=st.booleans())
    def order_update_total(self, data: st.DataObject, with_marketplace: bool) -> None:
        order = data.draw(st.sampled_from(sorted(self.orders.values(), key=str)), label="order")
        total = data.draw(amounts(order.currency), label="total")
        place = order.marketplace if with_marketplace else None
        args = ["order", "update", order.number, *(["-m", place] if place else [])]
        args += ["--total", total]
        value = parse(total, order.currency)
        key = (order.marketplace, order.number)
        taken = sum((d.takes for d in self.of_order(key)), Decimal(0))
        allowed = (
            self.find(order.number, place) is not None
            and value is not None
            and (not self.of_order(key) or value >= taken)
        )
        self.attempt(args, allowed)
        if allowed:
            assert value is not None
            self.orders[key] = replace(order, total=value)

    @rule(number=st.sampled_from([*NUMBERS, "NOPE"]), on=WHENS)
    def order_receive(self, number: str, on: str | None) -> None:
        args = ["order", "receive", number, *(["--on", on] if on else [])]
        order = self.find(number, None)
        # A second receipt moves the window: only --on, a correction, may.
        allowed = order is not None and on is None and not order.received
        self.attempt(args, allowed)
        if allowed:
            assert order is not None
            self.orders[(order.marketplace, order.number)] = replace(order, received=True)

    # -- disputes ------------------------------------------------------------------------------

    @rule(
        number=st.sampled_from([*NUMBERS, "NOPE"]),
        marketplace=st.sampled_from([None, *MARKETPLACES]),
        reason=st.sampled_from([*REASONS, "broken"]),
        ask=st.sampled_from(["amount", "amount", "percent", "full", "none", "both"]),
        percent=st.sampled_from(["50", "100", "0.01", "0", "101", "x"]),
        on=WHENS,
        data=st.data(),
    )
    def open(
        self,
        number: str,
        marketplace: str | None,
        reason: str,
        ask: str,
        percent: str,
        on: str | None,
        data: st.DataObject,
    ) -> None:
        order = self.find(number, marketplace)
        currency = order.currency if order else "USD"
        amount = data.draw(amounts(currency), label="amount")
        asked = {
            "amount": ["--amount", amount],
            "percent": ["--percent", percent],
            "full": ["--full"],
            "none": [],
            "both": ["--amount", amount, "--full"],
        }[ask]
        args = ["open", number, *(["-m", marketplace] if marketplace else [])]
        args += ["--reason", reason, *asked, *(["--on", on] if on else [])]
        value: Decimal | None = None
        if order is not None:
            key = (order.marketplace, order.number)
            left = self.refundable(key)
            if ask == "amount":
                value = parse(amount, currency)
                value = value if value is not None and value <= left else None
            elif ask == "full":
                value = left
            elif ask == "percent" and percent in {"50", "100", "0.01"}:
                value = percent_of(left, Decimal(percent), currency)
            busy = self.busy(key, None)
            ok = reason in REASONS and on is None and not busy and left > 0
            value = value if ok and value is not None and value > 0 else None
        self.attempt(args, value is not None)
        if value is not None:
            assert order is not None
            new = Dispute(
                len(self.disputes) + 1, (order.marketplace, order.number), "awaiting_seller", value
            )
            self.disputes[new.id] = new
            self.undo[new.id] = []

    @rule(
        data=st.data(),
        move=st.sampled_from([*RESPOND_MOVES, "refund-me"]),
        flag=st.sampled_from([None, None, "--return", "--replacement"]),
        with_amount=st.booleans(),
        on=WHENS,
    )
    def respond(
        self, data: st.DataObject, move: str, flag: str | None, with_amount: bool, on: str | None
    ) -> None:
        text, d = self.dispute_arg(data)
        currency = self.orders[d.order].currency if d else "USD"
        amount = data.draw(amounts(currency), label="amount") if with_amount else None
        args = ["respond", text, move, *([amount] if amount is not None else [])]
        args += [*([flag] if flag else []), *(["--on", on] if on else [])]
        after = None
        if d is not None and on is None and move in RESPOND_MOVES:
            after = self.after_respond(d, move, amount, flag)
        self.moved(d, args, after)

    def after_respond(
        self, d: Dispute, move: str, amount: str | None, flag: str | None
    ) -> Dispute | None:
        if d.state not in FROM[move] or (move in TAKES_AN_AMOUNT) != (amount is not None):
            return None
        value = parse(amount, self.orders[d.order].currency)
        if amount is not None and (value is None or value > self.refundable(d.order, d.id)):
            return None
        if (flag == "--return" and move not in TAKES_RETURN) or (
            flag == "--replacement" and move != "seller-offers"
        ):
            return None
        if move in {"accept", "decline"} and d.offer is None:
            return None
        if move == "counter" and d.state == "awaiting_seller" and value == d.requested:
            return None  # a revised ask names another amount
        # What is agreed is at most what is refundable (the total may have been lowered since).
        agreeing = {"seller-agrees": d.requested, "accept": d.offer}.get(move)
        if agreeing is not None and agreeing > self.refundable(d.order, d.id):
            return None
        if move in SELLER_MOVES:
            d = replace(d, seller_moved=True)
        agreed = "return_to_ship" if flag == "--return" else "refund_pending"
        match move:
            case "seller-agrees":
                return replace(d, state=agreed, agreed=d.requested)
            case "seller-offers":
                kind = {None: "refund", "--return": "return", "--replacement": "replacement"}[flag]
                return replace(d, state="awaiting_buyer", offer=value, offer_kind=kind)
            case "seller-rejects":
                return replace(d, state="awaiting_buyer", offer=None, offer_kind=None)
            case "accept":
                state = "return_to_ship" if d.offer_kind == "return" else "refund_pending"
                return replace(d, state=state, agreed=d.offer, offer=None, offer_kind=None)
            case "decline":
                return replace(d, offer=None, offer_kind=None)
            case "counter":
                return replace(
                    d, state="awaiting_seller", requested=value, offer=None, offer_kind=None
                )
            case "return-shipped":
                return replace(d, state="return_in_transit")
            case "return-delivered" | "platform-requests-info":
                return d
            case "platform-awards":
                return replace(d, state=agreed, agreed=value, offer=None, offer_kind=None)
            case "platform-rejects":
                return replace(
                    d, state="lost", rejected_by_platform=True, offer=None, offer_kind=None
                )
        raise AssertionError(move)

    @rule(data=st.data(), by=st.sampled_from([None, "platform", "someone"]), on=WHENS)
    def escalate(self, data: st.DataObject, by: str | None, on: str | None) -> None:
        text, d = self.dispute_arg(data)
        self.do_escalate(text, d, by, on)

    def do_escalate(self, text: str, d: Dispute | None, by: str | None, on: str | None) -> None:
        args = ["escalate", text, *(["--by", by] if by else []), *(["--on", on] if on else [])]
        after = None
        if d is not None and on is None and by != "someone":
            policy = dispute_policy(d.via, d.order[0], POLICIES.for_marketplace)
            appeal = (
                d.state == "lost"
                and has_appeals(policy)
                and d.rejected_by_platform
                and not d.appealed
                and not self.busy(d.order, d.via, d.id)
            )
            if d.state in FROM["escalate"] or appeal:
                after = replace(
                    d,
                    state="escalated",
                    offer=None,
                    offer_kind=None,
                    appealed=d.appealed or appeal,
                    rejected_by_platform=False,
                )
        self.moved(d, args, after)

    @rule(
        data=st.data(),
        how=st.sampled_from(["--refunded", "--lost", "--withdrawn", "none", "two"]),
        credit=st.booleans(),
        on=WHENS,
    )
    def resolve(self, data: st.DataObject, how: str, credit: bool, on: str | None) -> None:
        text, d = self.dispute_arg(data)
        currency = self.orders[d.order].currency if d else "USD"
        amount = data.draw(amounts(currency), label="amount")
        self.do_resolve(text, d, how, amount, credit, on)

    def do_resolve(
        self, text: str, d: Dispute | None, how: str, amount: str, credit: bool, on: str | None
    ) -> None:
        currency = self.orders[d.order].currency if d else "USD"
        closing = {
            "--refunded": ["--refunded", amount, *(["--credit"] if credit else [])],
            "--lost": ["--lost"],
            "--withdrawn": ["--withdrawn"],
            "none": [],
            "two": ["--lost", "--withdrawn"],
        }[how]
        args = ["resolve", text, *closing, *(["--on", on] if on else [])]
        after = None
        if d is not None and on is None and d.state in ACTIVE:
            if how == "--refunded":
                value = parse(amount, currency)
                if value is not None and value <= self.refundable(d.order, d.id):
                    after = replace(
                        d, state="refunded", refunded=value, offer=None, offer_kind=None
                    )
            elif how == "--lost" or (how == "--withdrawn" and d.seller_moved):
                state = "lost" if how == "--lost" else "withdrawn"
                after = replace(d, state=state, offer=None, offer_kind=None)
        self.moved(d, args, after)

    @rule(data=st.data(), on=WHENS)
    def cancel(self, data: st.DataObject, on: str | None) -> None:
        text, d = self.dispute_arg(data)
        self.do_cancel(text, d, on)

    def do_cancel(self, text: str, d: Dispute | None, on: str | None) -> None:
        after = None
        if d is not None and on is None and d.state == "awaiting_seller" and not d.seller_moved:
            after = replace(d, state="cancelled", offer=None, offer_kind=None)
        self.moved(d, ["cancel", text, *(["--on", on] if on else [])], after)

    def moved(self, d: Dispute | None, args: list[str], after: Dispute | None) -> None:
        self.attempt(args, after is not None)
        if d is not None and after is not None:
            self.undo[d.id].append(d)
            self.disputes[d.id] = after

    @rule(data=st.data())
    def undo_last_move(self, data: st.DataObject) -> None:
        text, d = self.dispute_arg(data)
        allowed = False
        if d is not None and self.undo[d.id]:
            previous = self.undo[d.id][-1]
            reopens = previous.state in ACTIVE and d.state not in ACTIVE
            busy = self.busy(d.order, d.via, d.id)
            allowed = not (reopens and busy) and previous.takes <= self.refundable(d.order, d.id)
        self.attempt(["undo", text], allowed)
        if allowed:
            assert d is not None
            self.disputes[d.id] = self.undo[d.id].pop()

    @rule(
        data=st.data(), text=TEXTS, sender=st.sampled_from(["buyer", "seller", "platform", "bot"])
    )
    def attach_message(self, data: st.DataObject, text: str, sender: str) -> None:
        number, d = self.dispute_arg(data)
        args = ["attach", number, "--message", text, "--from", sender]
        valid_text = bool(text.strip()) and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        self.attempt(args, d is not None and valid_text and sender != "bot")

    @rule(data=st.data(), url=st.sampled_from(URLS + BAD_URLS), note=st.none() | TEXTS)
    def attach_url(self, data: st.DataObject, url: str, note: str | None) -> None:
        number, d = self.dispute_arg(data)
        args = ["attach", number, "--url", url, *(["--note", note] if note is not None else [])]
        surrogate = note is not None and any(0xD800 <= ord(c) <= 0xDFFF for c in note)
        self.attempt(args, d is not None and url in URLS and not surrogate)

    @rule()
    def verify(self) -> None:
        if not self.ledger.exists():
            return
        result = self.runner.invoke(app, ["verify"], env=self.env)
        assert result.exit_code == 0, result.stdout

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def the_deadline_index_agrees_with_the_plain_computation(self) -> None:
        # Most hostile steps are refused and leave every file as it was; the oracle, which
        # computes every deadline afresh, was then four fifths of this machine's time. The
        # same bytes (ledger, its log, the config) give the same answer, so ask again only
        # when one of them changed.
        seen = hashlib.sha256()
        for path in (self.ledger, Path(f"{self.ledger}-wal"), self.folder / "config.toml"):
            seen.update(path.read_bytes() if path.exists() else b"-")
        if seen.digest() == self.oracle_saw:
            return
        now = datetime.fromisoformat(NOW)
        assert_index_agrees(
            self.ledger,
            load_config(self.folder / "config.toml"),
            now,
            [
                Filters(),
                Filters(states=frozenset({"awaiting_seller", "escalated", "lost"}), seller="a"),
                Filters(
                    marketplace="ebay",
                    since=now - timedelta(days=3),
                    until=now + timedelta(seconds=1),
                ),
            ],
        )
        self.oracle_saw = seen.digest()

    @invariant()
    def the_ledger_holds_what_the_model_says(self) -> None:
        if not self.ledger.exists():
            assert not self.orders
            return
        conn = sqlite3.connect(self.ledger)
        try:
            totals = {
                (row[0], row[1]): (row[2], row[3])
                for row in conn.execute("SELECT marketplace, order_no, total, currency FROM orders")
            }
            rows = conn.execute(
                "SELECT d.id, o.marketplace, o.order_no, d.state, d.requested, d.offer, d.agreed, "
                "d.refunded FROM disputes d JOIN orders o ON o.id = d.order_id ORDER BY d.id"
            ).fetchall()
        finally:
            conn.close()
        assert set(totals) == set(self.orders)
        for key, order in self.orders.items():
            assert totals[key] == (minor(order.total, order.currency), order.currency)
        assert [row[0] for row in rows] == sorted(self.disputes)
        for row in rows:
            d = self.disputes[row[0]]
            currency = self.orders[d.order].currency
            expected = (
                d.order[0],
                d.order[1],
                d.state,
                minor(d.requested, currency),
                minor(d.offer, currency),
                minor(d.agreed, currency),
                minor(d.refunded, currency),
            )
            assert tuple(row[1:]) == expected, (row, d)
            for amount in row[4:]:
                assert amount is None or amount > 0, row
        for key, order in self.orders.items():
            taken = sum((d.takes for d in self.of_order(key)), Decimal(0))
            assert taken <= order.total, (key, taken, order.total)


def holds_nothing(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return all(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
            for table in ("orders", "order_events", "disputes", "events", "evidence")
        )
    finally:
        conn.close()


def minor(amount: Decimal | None, currency: str) -> int | None:
    return None if amount is None else int(amount.scaleb(CURRENCIES[currency]))


# 15 runs of 40 steps keep the suite inside its 5 minutes on 2 cores (under a minute with
# coverage, on one of them); HYPOTHESIS_PROFILE=stress digs far deeper.
HostileCommands.TestCase.settings = settings(
    max_examples=1000 if STRESS else 15,
    stateful_step_count=80 if STRESS else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestHostileCommands = HostileCommands.TestCase


def test_an_agreement_never_exceeds_what_is_refundable(story: Cli, ledger_path: Path) -> None:
    """Found by the machine above: lower the total below the ask, and the seller's agreement
    (or accepting an older, larger offer) took more than the order was worth."""
    order = "8101234567890123"
    assert story("order", "update", order, "--total", "10").exit_code == 0  # ask: 12.50
    before = snapshot(ledger_path)
    refused = story("respond", "1", "seller-agrees")
    assert refused.exit_code == 2 and "$12.50 is more than the $10.00" in refused.stderr
    assert "seller-offers" in refused.stderr and snapshot(ledger_path) == before
    assert story("respond", "1", "seller-offers", "10").exit_code == 0
    assert story("order", "update", order, "--total", "9.50").exit_code == 0
    assert story("respond", "1", "accept").exit_code == 2
    assert story("respond", "1", "seller-offers", "9.50").exit_code == 0
    assert story("respond", "1", "accept").exit_code == 0
    # Undoing a refund that came in smaller than agreed cannot bring back more than the total.
    assert story("resolve", "1", "--refunded", "5").exit_code == 0
    assert story("order", "update", order, "--total", "6").exit_code == 0
    undo = story("undo", "1")
    assert undo.exit_code == 2 and "more than the order's total" in undo.stderr
    shown = story("order", "show", order, "--json").json()
    assert shown["refundable"] == "1.00"


def test_an_empty_value_is_refused_not_ignored(story: Cli, ledger_path: Path) -> None:
    """Found by the machine above: a script's empty variable (--amount "$AMT") was taken as no
    option at all, so '--amount "" --full' asked for everything, '--refunded "" --lost' lost."""
    story("order", "add", "E-1", "-m", "ebay", "--total", "40", "--ordered", "2026-11-01")
    before = snapshot(ledger_path)
    for args in (
        ["open", "E-1", "--reason", "damaged", "--amount", "", "--full"],
        ["open", "E-1", "--reason", "damaged", "--percent", "", "--full"],
        ["open", "E-1", "--reason", "damaged", "--amount", ""],
        ["resolve", "1", "--refunded", "", "--lost"],
        ["resolve", "1", "--refunded", ""],
    ):
        run = story(*args)
        assert run.exit_code == 2 and run.stderr.startswith("error: "), (args, run.stderr)
        assert snapshot(ledger_path) == before, args
