"""Random walks through the real command line, checked against the lifecycle table of DESIGN.md.

A hypothesis state machine opens one dispute on a fresh ledger per example and then throws
respond / escalate / resolve / cancel / undo / attach --message at it, with valid and invalid
amounts and --on times. A small model, written from DESIGN.md's "Moves" table, says what each
command should do. After every step:

- the exit code is 0 or 2, and it is 0 exactly when the model allows the command;
- a refused command left the ledger as it was (``snapshot``);
- ``status D --json`` shows one of the ten states, the one the model expects;
- requested, offer, agreed and refunded lie between 0 and the order total.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from typer.testing import CliRunner

from refundctl.cli import app
from refundctl.errors import BadInput
from refundctl.timeparse import iso, parse_when
from tests.conftest import snapshot

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OPENED = datetime(2026, 11, 12, 0, 0, tzinfo=UTC)
TOTAL = Decimal("45.90")
ORDER_NO = "8101234567890123"

STATES = {
    "awaiting_seller",
    "awaiting_buyer",
    "escalated",
    "return_to_ship",
    "return_in_transit",
    "refund_pending",
    "refunded",
    "lost",
    "withdrawn",
    "cancelled",
}
ACTIVE = {
    "awaiting_seller",
    "awaiting_buyer",
    "escalated",
    "return_to_ship",
    "return_in_transit",
    "refund_pending",
}

# DESIGN.md's "Moves" table, written out again for the model: the states each move starts from.
FROM = {
    "seller-agrees": {"awaiting_seller"},
    "seller-offers": {"awaiting_seller", "awaiting_buyer"},
    "seller-rejects": {"awaiting_seller"},
    "accept": {"awaiting_buyer"},
    "decline": {"awaiting_buyer"},
    # DESIGN.md: awaiting_buyer; issue 8 adds a revised ask while the seller is to answer.
    "counter": {"awaiting_seller", "awaiting_buyer"},
    "return-shipped": {"return_to_ship"},
    "return-delivered": {"return_in_transit"},
    "platform-requests-info": {"escalated"},
    "platform-awards": {"escalated"},
    "platform-rejects": {"escalated"},
    "escalate": {"awaiting_seller", "awaiting_buyer", "return_in_transit", "refund_pending"},
    "refunded": ACTIVE,
    "lost": ACTIVE,
    "withdrawn": ACTIVE,
    "cancel": {"awaiting_seller"},
}
RESPOND_MOVES = [
    "seller-agrees",
    "seller-offers",
    "seller-rejects",
    "accept",
    "decline",
    "counter",
    "return-shipped",
    "return-delivered",
    "platform-requests-info",
    "platform-awards",
    "platform-rejects",
]
TAKES_AN_AMOUNT = {"seller-offers", "counter", "platform-awards", "refunded"}
SELLER_MOVES = {"seller-agrees", "seller-offers", "seller-rejects", "return-delivered"}
TAKES_RETURN = {"seller-agrees", "seller-offers", "platform-awards"}
PLATFORM_MOVES = {"platform-requests-info", "platform-awards", "platform-rejects"}
BUYER_MOVES = set(FROM) - SELLER_MOVES - PLATFORM_MOVES
CLOSING = {"refunded", "lost", "withdrawn", "cancel", "platform-rejects"}


@dataclass(frozen=True)
class Model:
    """What DESIGN.md says the dispute is, as far as the next move's fate depends on it."""

    state: str
    last_move_at: datetime
    offer_kind: str | None = None  # the seller's offer on the table: refund, return, replacement
    seller_has_moved: bool = False
    lost_to_platform: bool = False
    appealed: bool = False
    requested: Decimal = Decimal(0)  # the buyer's ask: a revised ask must change it
    return_delivered: bool = False  # the return on its way has been delivered once already


# Amounts: valid ones (1 cent to the whole total), none, and a few kinds of wrong.
valid_amounts = st.integers(min_value=1, max_value=4590).map(
    lambda cents: str(Decimal(cents).scaleb(-2))
)
amounts = st.one_of(
    st.none(),
    valid_amounts,
    valid_amounts,
    st.sampled_from(["0", "0.00", "12.345", "abc", "1e3", "45.91", "1,000", "99999", "nan"]),
)
# --on: mostly a step after the last move (sometimes before it, or past "now"), else a word.
ons = st.one_of(
    st.integers(min_value=-180, max_value=3 * 24 * 60).map(lambda minutes: ("step", minutes)),
    st.integers(min_value=-180, max_value=3 * 24 * 60).map(lambda minutes: ("step", minutes)),
    st.sampled_from([None, "now", "today", "2d ago", "garbage", "2026-11-31", "2026-12-25"]),
)
ENVIRONMENT = ("REFUNDCTL_DB", "REFUNDCTL_CONFIG", "REFUNDCTL_NOW")


def _valid_amount(text: str | None) -> bool:
    """A plain amount of whole cents, above zero and at most what is refundable (the total)."""
    if text is None or not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        return False
    return Decimal(0) < Decimal(text) <= TOTAL


class RandomMoves(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="refundctl-moves-"))
        self.saved = {name: os.environ.get(name) for name in ENVIRONMENT}
        config = self.folder / "config.toml"
        config.write_text('timezone = "UTC"\n')
        self.ledger = self.folder / "ledger.db"
        os.environ["REFUNDCTL_DB"] = str(self.ledger)
        os.environ["REFUNDCTL_CONFIG"] = str(config)
        os.environ["REFUNDCTL_NOW"] = iso(NOW)
        self.runner = CliRunner()
        self.model: Model | None = None
        self.before_each_move: list[Model] = []  # what undo goes back to
        self.has_appeals = False

    def teardown(self) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- running commands -------------------------------------------------------------------------

    def run(self, *args: str) -> Any:
        result = self.runner.invoke(app, list(args))
        assert result.exit_code in {0, 2}, (args, result.exit_code, result.stderr)
        return result

    def status(self) -> dict[str, Any]:
        shown = self.run("status", "1", "--json")
        assert shown.exit_code == 0, shown.stderr
        return json.loads(shown.stdout)  # type: ignore[no-any-return]

    def attempt(self, args: list[str], expected: Model | None) -> None:
        """Run a command the model allows (``expected`` is the model after it) or refuses."""
        before = snapshot(self.ledger)
        result = self.run(*args)
        if expected is None:
            assert result.exit_code == 2, (args, "should be refused", self.model, result.stdout)
            assert snapshot(self.ledger) == before, (args, "a refusal changed the ledger")
            assert result.stderr.startswith("error: "), result.stderr
            assert result.stderr.count("\n") == 1, result.stderr
        else:
            assert result.exit_code == 0, (args, "should be allowed", self.model, result.stderr)
            event(f"recorded {args[0]} {args[2] if args[0] == 'respond' else ''}".strip())
            self.model = expected

    def when(self, on: Any) -> tuple[list[str], datetime | None]:
        """The --on arguments for a drawn time, and the moment they mean (None: not a time)."""
        assert self.model is not None
        if on is None:
            return [], NOW
        if isinstance(on, tuple):
            moment = self.model.last_move_at + timedelta(minutes=on[1])
            return ["--on", iso(moment)], moment
        try:
            return ["--on", on], parse_when(on, now=NOW, zone=UTC)
        except BadInput:
            return ["--on", on], None

    def in_order(self, moment: datetime | None) -> bool:
        """A move happens after the last one and not after now."""
        assert self.model is not None
        return moment is not None and self.model.last_move_at <= moment <= NOW

    def moved(self, state: str, moment: datetime | None, **changes: Any) -> Model:
        assert self.model is not None and moment is not None
        self.before_each_move.append(self.model)
        return replace(self.model, state=state, last_move_at=moment, **changes)

    # -- the dispute -----------------------------------------------------------------------------

    @initialize(
        marketplace=st.sampled_from(["aliexpress", "ebay"]),
        asked=valid_amounts,
    )
    def open_a_dispute(self, marketplace: str, asked: str) -> None:
        added = self.run(
            "order", "add", ORDER_NO, "--marketplace", marketplace, "--total", str(TOTAL),
            "--ordered", "2026-11-01", "--received", "2026-11-10",
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
        opened = self.run(
            "open", ORDER_NO, "--reason", "missing-parts", "--amount", asked,
            "--on", iso(OPENED),
        )  # fmt: skip
        assert opened.exit_code == 0, opened.stderr
        self.model = Model(state="awaiting_seller", last_move_at=OPENED, requested=Decimal(asked))
        self.has_appeals = marketplace != "aliexpress"  # generic has appeals, AliExpress none

    @rule(
        move=st.sampled_from([*RESPOND_MOVES, "refund-me", "escalate", "undo"]),
        amount=st.one_of(amounts, valid_amounts),
        flag=st.sampled_from([None, "--return", "--replacement"]),
        on=ons,
    )
    def respond_anyhow(self, move: str, amount: str | None, flag: str | None, on: Any) -> None:
        self._respond(move, amount, flag, on)

    def _respond(self, move: str, amount: str | None, flag: str | None, on: Any) -> None:
        when_args, moment = self.when(on)
        args = ["respond", "1", move, *([amount] if amount is not None else [])]
        args += [*([flag] if flag else []), *when_args]
        self.attempt(args, self._after_respond(move, amount, flag, moment))

    def _after_respond(
        self, move: str, amount: str | None, flag: str | None, moment: datetime | None
    ) -> Model | None:
        m = self.model
        assert m is not None
        if move not in RESPOND_MOVES or m.state not in FROM[move] or not self.in_order(moment):
            return None
        if (move in TAKES_AN_AMOUNT) != (amount is not None):
            return None
        if amount is not None and not _valid_amount(amount):
            return None
        if flag == "--return" and move not in TAKES_RETURN:
            return None
        if flag == "--replacement" and move != "seller-offers":
            return None
        if move in {"accept", "decline"} and m.offer_kind is None:
            return None
        if move == "return-delivered" and m.return_delivered:
            return None  # delivered once: a second delivery would restart the seller's clock
        if (
            move == "counter"
            and m.state == "awaiting_seller"
            and Decimal(amount or 0) == m.requested
        ):
            return None  # a revised ask names another amount
        seller = {"seller_has_moved": True} if move in SELLER_MOVES else {}
        agreed = "return_to_ship" if flag == "--return" else "refund_pending"
        match move:
            case "seller-agrees" | "platform-awards":
                return self.moved(agreed, moment, **seller)
            case "seller-offers":
                kind = {None: "refund", "--return": "return", "--replacement": "replacement"}
                return self.moved("awaiting_buyer", moment, offer_kind=kind[flag], **seller)
            case "seller-rejects":
                return self.moved("awaiting_buyer", moment, offer_kind=None, **seller)
            case "accept":
                state = "return_to_ship" if m.offer_kind == "return" else "refund_pending"
                return self.moved(state, moment, offer_kind=None)
            case "decline":
                return self.moved("awaiting_buyer", moment, offer_kind=None)
            case "counter":
                assert amount is not None
                return self.moved(
                    "awaiting_seller", moment, offer_kind=None, requested=Decimal(amount)
                )
            case "return-shipped":
                return self.moved("return_in_transit", moment, return_delivered=False)
            case "return-delivered":
                return self.moved("return_in_transit", moment, return_delivered=True, **seller)
            case "platform-requests-info":
                return self.moved("escalated", moment)
            case "platform-rejects":
                return self.moved("lost", moment, lost_to_platform=True)
        raise AssertionError(move)

    @rule(on=ons, by=st.sampled_from([None, "platform"]))
    def escalate(self, on: Any, by: str | None) -> None:
        self._escalate(on, by)

    def _escalate(self, on: Any, by: str | None) -> None:
        m = self.model
        assert m is not None
        when_args, moment = self.when(on)
        args = ["escalate", "1", *(["--by", by] if by else []), *when_args]
        appeal = m.state == "lost" and self.has_appeals and m.lost_to_platform and not m.appealed
        expected = None
        if (m.state in FROM["escalate"] or appeal) and self.in_order(moment):
            expected = self.moved(
                "escalated",
                moment,
                offer_kind=None,
                lost_to_platform=False,
                appealed=m.appealed or appeal,
            )
        self.attempt(args, expected)

    @rule(how=st.sampled_from(["refunded", "lost", "withdrawn"]), amount=amounts, on=ons)
    def resolve(self, how: str, amount: str | None, on: Any) -> None:
        self._resolve(how, amount, on)

    def _resolve(self, how: str, amount: str | None, on: Any) -> None:
        m = self.model
        assert m is not None
        when_args, moment = self.when(on)
        if how == "refunded":
            closing = ["--refunded", amount] if amount is not None else []
        else:
            closing = [f"--{how}"]
        expected = None
        allowed = m.state in FROM[how] and self.in_order(moment) and bool(closing)
        if how == "refunded":
            allowed = allowed and _valid_amount(amount)
        if how == "withdrawn":
            allowed = allowed and m.seller_has_moved
        if allowed:
            expected = self.moved(how, moment, lost_to_platform=False)
        self.attempt(["resolve", "1", *closing, *when_args], expected)

    @rule(on=ons)
    def cancel(self, on: Any) -> None:
        self._cancel(on)

    def _cancel(self, on: Any) -> None:
        m = self.model
        assert m is not None
        when_args, moment = self.when(on)
        expected = None
        if m.state in FROM["cancel"] and not m.seller_has_moved and self.in_order(moment):
            expected = self.moved("cancelled", moment)
        self.attempt(["cancel", "1", *when_args], expected)

    def allowed_now(self) -> list[str]:
        """The moves DESIGN.md allows on the dispute as the model knows it."""
        m = self.model
        if m is None:
            return []
        allowed = [move for move, states in FROM.items() if m.state in states]
        if m.offer_kind is None:
            allowed = [move for move in allowed if move not in {"accept", "decline"}]
        if m.seller_has_moved:
            allowed = [move for move in allowed if move != "cancel"]
        else:
            allowed = [move for move in allowed if move != "withdrawn"]
        if m.state == "lost" and self.has_appeals and m.lost_to_platform and not m.appealed:
            allowed.append("escalate")
        return allowed

    def can(self, actor_moves: set[str]) -> bool:
        return bool(actor_moves & set(self.allowed_now()))

    @precondition(lambda self: self.can(SELLER_MOVES))
    @rule(data=st.data())
    def the_seller_answers(self, data: st.DataObject) -> None:
        self.make_an_allowed_move(data, SELLER_MOVES)

    @precondition(lambda self: self.can(BUYER_MOVES))
    @rule(data=st.data())
    def the_buyer_moves(self, data: st.DataObject) -> None:
        self.make_an_allowed_move(data, BUYER_MOVES)

    @precondition(lambda self: self.can(PLATFORM_MOVES))
    @rule(data=st.data())
    def the_platform_decides(self, data: st.DataObject) -> None:
        self.make_an_allowed_move(data, PLATFORM_MOVES)

    @precondition(lambda self: bool(self.allowed_now()))
    @rule(data=st.data(), count=st.integers(min_value=2, max_value=5))
    def a_few_moves_in_a_row(self, data: st.DataObject, count: int) -> None:
        for _ in range(count):
            if not self.allowed_now():
                return
            self.make_an_allowed_move(data, set(FROM))
            self.the_ledger_shows_the_state_the_lifecycle_table_leads_to()

    def make_an_allowed_move(self, data: st.DataObject, actor_moves: set[str]) -> None:
        """Keep the walk going: a move DESIGN.md allows now, with valid arguments."""
        m = self.model
        assert m is not None
        allowed = sorted(actor_moves & set(self.allowed_now()))
        # Closing moves end the walk (but for undo): let the others come first more often.
        weighted = [move for move in allowed for _ in range(1 if move in CLOSING else 6)]
        move = data.draw(st.sampled_from(weighted), label="move")
        room = int((NOW - m.last_move_at).total_seconds() // 60)
        steps = st.integers(0, min(room, 24 * 60)).map(lambda n: ("step", n))
        on = data.draw(st.one_of(st.none(), steps, steps), label="on")
        amount = data.draw(valid_amounts, label="amount") if move in TAKES_AN_AMOUNT else None
        if move in RESPOND_MOVES:
            flags = [None]
            if move in TAKES_RETURN:
                flags.append("--return")
            if move == "seller-offers":
                flags.append("--replacement")
            self._respond(move, amount, data.draw(st.sampled_from(flags), label="flag"), on)
        elif move == "escalate":
            self._escalate(on, data.draw(st.sampled_from([None, "platform"]), label="by"))
        elif move == "cancel":
            self._cancel(on)
        else:
            self._resolve(move, amount, on)

    @rule()
    def undo(self) -> None:
        expected = self.before_each_move.pop() if self.before_each_move else None
        self.attempt(["undo", "1"], expected)

    @rule(sender=st.sampled_from(["buyer", "seller", "platform"]), on=ons)
    def log_a_message(self, sender: str, on: Any) -> None:
        m = self.model
        assert m is not None
        when_args, moment = self.when(on)
        # A message is not a move: any time up to now will do, and it changes no state.
        expected = m if moment is not None and moment <= NOW else None
        args = ["attach", "1", "--message", "Where is my refund?", "--from", sender, *when_args]
        self.attempt(args, expected)

    @rule()
    def open_again_while_active(self) -> None:
        m = self.model
        assert m is not None
        if m.state in ACTIVE:
            refused = ["open", ORDER_NO, "--reason", "damaged", "--amount", "1.00"]
            self.attempt(refused, None)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def the_ledger_shows_the_state_the_lifecycle_table_leads_to(self) -> None:
        if self.model is None:
            return
        shown = self.status()
        assert shown["state"] in STATES
        event(f"reached {shown['state']}")
        assert shown["state"] == self.model.state, (shown["state"], self.model)
        assert shown["waiting_on"] is None or shown["state"] in ACTIVE
        for field in ("requested", "offer", "agreed", "refunded"):
            value = shown[field]
            if value is not None:
                assert Decimal(0) <= Decimal(value) <= TOTAL, (field, value)
        assert Decimal(shown["requested"]) > 0
        assert (shown["offer"] is not None) == (
            shown["state"] == "awaiting_buyer" and self.model.offer_kind is not None
        ), (shown["offer"], self.model)


RandomMoves.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRandomMoves = RandomMoves.TestCase
