"""The dispute lifecycle of DESIGN.md, walked state by state and move by move.

Every dispute here is built the way the ledger builds one: an ``open`` event through
``domain.start``, then real events through ``domain.fold``. The expected table of moves is copied
from DESIGN.md's "Moves" table by hand, not read from ``domain.ALLOWED_FROM``, so that the two can
disagree.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundctl import domain, records
from refundctl.domain import (
    Actor,
    Dispute,
    Event,
    EventKind,
    Move,
    MoveContext,
    MoveRefused,
    OfferKind,
    Outcome,
    State,
)
from refundctl.errors import BadInput
from refundctl.records import Item, Order

OPENED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TOTAL = Decimal("45.90")
ASKED = Decimal("12.50")

A = State.AWAITING_SELLER
B = State.AWAITING_BUYER
ESC = State.ESCALATED
RTS = State.RETURN_TO_SHIP
RIT = State.RETURN_IN_TRANSIT
RP = State.REFUND_PENDING
ACTIVE_STATES = {A, B, ESC, RTS, RIT, RP}

# DESIGN.md, "Moves (command → from → to)", copied by hand. `open` never applies to a dispute that
# exists already; escalating from `lost` is an appeal and has conditions of its own (below).
DESIGN_FROM: dict[Move, set[State]] = {
    Move.OPEN: set(),
    Move.SELLER_AGREES: {A},
    Move.SELLER_OFFERS: {A, B},
    Move.SELLER_REJECTS: {A},
    Move.ACCEPT: {B},
    Move.DECLINE: {B},
    # DESIGN.md has {B}; issue 8 adds A: the buyer may revise the ask while the seller is
    # still to answer (AliExpress lets them, and the seller's clock starts again).
    Move.COUNTER: {A, B},
    Move.RETURN_SHIPPED: {RTS},
    Move.RETURN_DELIVERED: {RIT},
    Move.PLATFORM_REQUESTS_INFO: {ESC},
    Move.PLATFORM_AWARDS: {ESC},
    Move.PLATFORM_REJECTS: {ESC},
    Move.ESCALATE: {A, B, RIT, RP, State.LOST},
    Move.REFUNDED: ACTIVE_STATES,
    Move.LOST: ACTIVE_STATES,
    Move.WITHDRAWN: ACTIVE_STATES,
    Move.CANCEL: {A},
}

# Where each move leads (with --return where the table offers a choice, see `_target`).
DESIGN_TO: dict[Move, State | None] = {
    Move.SELLER_OFFERS: B,
    Move.SELLER_REJECTS: B,
    Move.DECLINE: B,
    Move.COUNTER: A,
    Move.RETURN_SHIPPED: RIT,
    Move.RETURN_DELIVERED: RIT,
    Move.PLATFORM_REQUESTS_INFO: ESC,
    Move.PLATFORM_REJECTS: State.LOST,
    Move.ESCALATE: ESC,
    Move.REFUNDED: State.REFUNDED,
    Move.LOST: State.LOST,
    Move.WITHDRAWN: State.WITHDRAWN,
    Move.CANCEL: State.CANCELLED,
}

NEEDS_AN_AMOUNT = {Move.SELLER_OFFERS, Move.COUNTER, Move.PLATFORM_AWARDS, Move.REFUNDED}
SELLER_MOVES = {
    Move.SELLER_AGREES,
    Move.SELLER_OFFERS,
    Move.SELLER_REJECTS,
    Move.RETURN_DELIVERED,
}
PLATFORM_MOVES = {
    Move.PLATFORM_REQUESTS_INFO,
    Move.PLATFORM_AWARDS,
    Move.PLATFORM_REJECTS,
}


# -- building disputes from events ----------------------------------------------------------------


class Timeline:
    """Appends events one hour apart, numbering them as the ledger would."""

    def __init__(self, asked: Decimal = ASKED) -> None:
        self.events: list[Event] = [
            Event(Move.OPEN, Actor.BUYER, OPENED, OPENED, amount=asked, id=1)
        ]

    @property
    def next_at(self) -> datetime:
        return OPENED + timedelta(hours=len(self.events))

    def move(
        self,
        move: Move,
        amount: str | None = None,
        kind: OfferKind | None = None,
        actor: Actor | None = None,
    ) -> Timeline:
        at = self.next_at
        self.events.append(
            Event(
                move.value,
                actor or _actor(move),
                at,
                at,
                amount=None if amount is None else Decimal(amount),
                offer_kind=kind,
                id=len(self.events) + 1,
            )
        )
        return self

    def message(self, actor: Actor) -> Timeline:
        at = self.next_at
        event = Event(EventKind.MESSAGE, actor, at, at, note="hello", id=len(self.events) + 1)
        self.events.append(event)
        return self

    def undo(self) -> Timeline:
        last = domain.last_move(self.events)
        assert last is not None, "nothing to undo"
        at = self.next_at
        retraction = Event(
            EventKind.RETRACT, Actor.BUYER, at, at, retracts=last.id, id=len(self.events) + 1
        )
        self.events.append(retraction)
        return self

    @property
    def dispute(self) -> Dispute:
        d = domain.start(self.events[0])
        for event in domain.effective_events(self.events)[1:]:
            d = domain.fold(d, event)
        return d


def _actor(move: Move) -> Actor:
    if move in SELLER_MOVES:
        return Actor.SELLER
    if move in PLATFORM_MOVES:
        return Actor.PLATFORM
    return Actor.BUYER


@dataclass(frozen=True)
class Story:
    """A dispute told by its events, and the facts the extra conditions depend on."""

    name: str
    state: State
    build: Callable[[], Timeline]
    offer_on_table: bool = False
    seller_has_moved: bool = False
    lost_to_platform: bool = False
    appealed: bool = False


def _t() -> Timeline:
    return Timeline()


STORIES = [
    Story("just opened", A, _t),
    Story(
        "buyer countered an offer",
        A,
        lambda: _t().move(Move.SELLER_OFFERS, "8.00").move(Move.COUNTER, "10.00"),
        seller_has_moved=True,
    ),
    Story(
        "seller offered",
        B,
        lambda: _t().move(Move.SELLER_OFFERS, "8.00"),
        offer_on_table=True,
        seller_has_moved=True,
    ),
    Story(
        "seller rejected",
        B,
        lambda: _t().move(Move.SELLER_REJECTS),
        seller_has_moved=True,
    ),
    Story(
        "buyer declined the offer",
        B,
        lambda: _t().move(Move.SELLER_OFFERS, "8.00").move(Move.DECLINE),
        seller_has_moved=True,
    ),
    Story("escalated at once", ESC, lambda: _t().move(Move.ESCALATE)),
    Story(
        "return agreed",
        RTS,
        lambda: _t().move(Move.SELLER_AGREES, kind=OfferKind.REFUND_WITH_RETURN),
        seller_has_moved=True,
    ),
    Story(
        "return shipped",
        RIT,
        lambda: (
            _t()
            .move(Move.SELLER_AGREES, kind=OfferKind.REFUND_WITH_RETURN)
            .move(Move.RETURN_SHIPPED)
        ),
        seller_has_moved=True,
    ),
    Story(
        "seller agreed",
        RP,
        lambda: _t().move(Move.SELLER_AGREES),
        seller_has_moved=True,
    ),
    Story(
        "money arrived",
        State.REFUNDED,
        lambda: _t().move(Move.SELLER_AGREES).move(Move.REFUNDED, "12.50"),
        seller_has_moved=True,
    ),
    Story(
        "platform rejected",
        State.LOST,
        lambda: _t().move(Move.ESCALATE).move(Move.PLATFORM_REJECTS),
        lost_to_platform=True,
    ),
    Story(
        "buyer gave up",
        State.LOST,
        lambda: _t().move(Move.SELLER_REJECTS).move(Move.LOST),
        seller_has_moved=True,
    ),
    Story(
        "appeal rejected too",
        State.LOST,
        lambda: (
            _t()
            .move(Move.ESCALATE)
            .move(Move.PLATFORM_REJECTS)
            .move(Move.ESCALATE)
            .move(Move.PLATFORM_REJECTS)
        ),
        lost_to_platform=True,
        appealed=True,
    ),
    Story(
        "withdrawn after an answer",
        State.WITHDRAWN,
        lambda: _t().move(Move.SELLER_REJECTS).move(Move.WITHDRAWN),
        seller_has_moved=True,
    ),
    Story("cancelled at once", State.CANCELLED, lambda: _t().move(Move.CANCEL)),
]


def _design_allows(story: Story, move: Move, has_appeals: bool) -> bool:
    """DESIGN.md's answer: the table, then the extra conditions written beside it."""
    if story.state not in DESIGN_FROM[move]:
        return False
    if move in {Move.ACCEPT, Move.DECLINE}:
        return story.offer_on_table
    if move is Move.CANCEL:
        return not story.seller_has_moved
    if move is Move.WITHDRAWN:
        return story.seller_has_moved
    if move is Move.ESCALATE and story.state is State.LOST:
        return has_appeals and story.lost_to_platform and not story.appealed
    return True


def _ctx(has_appeals: bool = True, refundable: Decimal = TOTAL) -> MoveContext:
    return MoveContext(refundable=refundable, currency="USD", has_appeals=has_appeals)


def _amount_for(move: Move) -> Decimal | None:
    return Decimal("5.00") if move in NEEDS_AN_AMOUNT else None


def allows(
    d: Dispute,
    move: Move,
    ctx: MoveContext,
    amount: Decimal | None = None,
    kind: OfferKind | None = None,
) -> bool:
    """Whether ``domain.check`` lets the move through; any error but MoveRefused escapes."""
    try:
        domain.check(d, move, ctx, amount, kind)
    except MoveRefused:
        return False
    return True


# -- the exhaustive walk ---------------------------------------------------------------------------


def test_the_stories_reach_every_state() -> None:
    assert {story.state for story in STORIES} == set(State)


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s.name)
def test_each_story_folds_into_the_state_it_claims(story: Story) -> None:
    d = story.build().dispute
    assert d.state is story.state
    assert d.seller_has_moved is story.seller_has_moved
    if story.state is B:
        assert (d.offer is not None) is story.offer_on_table


def test_the_design_table_names_every_move() -> None:
    assert set(DESIGN_FROM) == set(Move)


@pytest.mark.parametrize("has_appeals", [True, False], ids=["appeals", "no-appeals"])
@pytest.mark.parametrize(
    ("story", "move"),
    list(itertools.product(STORIES, Move)),
    ids=[f"{s.name}-{m}" for s, m in itertools.product(STORIES, Move)],
)
def test_check_allows_exactly_the_moves_of_the_lifecycle_table(
    story: Story, move: Move, has_appeals: bool
) -> None:
    d = story.build().dispute
    expected = _design_allows(story, move, has_appeals)
    assert allows(d, move, _ctx(has_appeals), _amount_for(move)) is expected


@pytest.mark.parametrize(
    ("story", "move"),
    [(s, m) for s, m in itertools.product(STORIES, Move) if _design_allows(s, m, True)],
    ids=lambda x: x.name if isinstance(x, Story) else str(x),
)
def test_an_allowed_move_leads_where_the_lifecycle_table_says(story: Story, move: Move) -> None:
    timeline = story.build()
    before = timeline.dispute
    timeline.move(move, None if move not in NEEDS_AN_AMOUNT else "5.00")
    after = timeline.dispute
    if move in DESIGN_TO:
        assert after.state is DESIGN_TO[move]
    elif move is Move.ACCEPT:
        expected = RTS if before.offer_kind is OfferKind.REFUND_WITH_RETURN else RP
        assert after.state is expected
    else:  # seller-agrees and platform-awards without --return
        assert after.state is RP


@pytest.mark.parametrize("move", [Move.SELLER_AGREES, Move.PLATFORM_AWARDS])
def test_agreeing_with_a_return_sends_the_buyer_to_ship_it(move: Move) -> None:
    timeline = _t() if move is Move.SELLER_AGREES else _t().move(Move.ESCALATE)
    amount = "5.00" if move is Move.PLATFORM_AWARDS else None
    timeline.move(move, amount, kind=OfferKind.REFUND_WITH_RETURN)
    assert timeline.dispute.state is RTS


def test_accepting_an_offer_with_a_return_sends_the_buyer_to_ship_it() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "10.00", kind=OfferKind.REFUND_WITH_RETURN)
    timeline.move(Move.ACCEPT)
    d = timeline.dispute
    assert d.state is RTS
    assert d.agreed == Decimal("10.00")


# -- the extra conditions ------------------------------------------------------------------------


def test_buyer_cannot_accept_when_no_offer_is_on_the_table() -> None:
    d = _t().move(Move.SELLER_REJECTS).dispute
    with pytest.raises(MoveRefused, match="no seller offer on the table"):
        domain.check(d, Move.ACCEPT, _ctx())


def test_buyer_cannot_decline_an_offer_already_declined() -> None:
    d = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.DECLINE).dispute
    assert d.offer is None
    with pytest.raises(MoveRefused, match="no seller offer on the table"):
        domain.check(d, Move.DECLINE, _ctx())


def test_buyer_may_still_counter_after_declining() -> None:
    d = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.DECLINE).dispute
    assert allows(d, Move.COUNTER, _ctx(), Decimal("10.00"))


def test_a_revised_seller_offer_replaces_the_open_one() -> None:
    d = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.SELLER_OFFERS, "9.00").dispute
    assert d.state is B
    assert d.offer == Decimal("9.00")


def test_buyer_can_cancel_before_the_seller_moves() -> None:
    assert allows(_t().dispute, Move.CANCEL, _ctx())


def test_a_seller_message_is_not_a_seller_move_and_cancel_stays_possible() -> None:
    d = _t().message(Actor.SELLER).dispute
    assert not d.seller_has_moved
    assert allows(d, Move.CANCEL, _ctx())


def test_buyer_cannot_cancel_once_the_seller_has_answered() -> None:
    d = _t().move(Move.SELLER_REJECTS).move(Move.COUNTER, "10.00").dispute
    assert d.state is A
    with pytest.raises(MoveRefused, match="withdrawn"):
        domain.check(d, Move.CANCEL, _ctx())


def test_buyer_cannot_withdraw_before_the_seller_has_answered() -> None:
    with pytest.raises(MoveRefused, match="cancel"):
        domain.check(_t().dispute, Move.WITHDRAWN, _ctx())


def test_buyer_cannot_withdraw_an_escalation_the_seller_never_answered() -> None:
    d = _t().move(Move.ESCALATE).dispute
    with pytest.raises(MoveRefused):
        domain.check(d, Move.WITHDRAWN, _ctx())


def test_undoing_the_sellers_only_move_makes_cancel_possible_again() -> None:
    d = _t().move(Move.SELLER_OFFERS, "8.00").undo().dispute
    assert d.state is A
    assert not d.seller_has_moved
    assert allows(d, Move.CANCEL, _ctx())


def test_a_platform_loss_can_be_appealed_where_the_marketplace_has_appeals() -> None:
    d = _t().move(Move.ESCALATE).move(Move.PLATFORM_REJECTS).dispute
    assert allows(d, Move.ESCALATE, _ctx(has_appeals=True))
    appealed = _t().move(Move.ESCALATE).move(Move.PLATFORM_REJECTS).move(Move.ESCALATE).dispute
    assert appealed.state is ESC
    assert appealed.appealed


def test_no_appeal_where_the_marketplace_has_none() -> None:
    d = _t().move(Move.ESCALATE).move(Move.PLATFORM_REJECTS).dispute
    with pytest.raises(MoveRefused, match="no appeal"):
        domain.check(d, Move.ESCALATE, _ctx(has_appeals=False))


def test_a_case_the_buyer_gave_up_cannot_be_appealed() -> None:
    d = _t().move(Move.ESCALATE).move(Move.LOST).dispute
    with pytest.raises(MoveRefused, match="platform's decision"):
        domain.check(d, Move.ESCALATE, _ctx(has_appeals=True))


def test_a_case_given_up_after_an_appeal_cannot_be_appealed_again() -> None:
    d = (
        _t()
        .move(Move.ESCALATE)
        .move(Move.PLATFORM_REJECTS)
        .move(Move.ESCALATE)
        .move(Move.LOST)
        .dispute
    )
    with pytest.raises(MoveRefused):
        domain.check(d, Move.ESCALATE, _ctx(has_appeals=True))


def test_only_one_appeal_per_case() -> None:
    d = (
        _t()
        .move(Move.ESCALATE)
        .move(Move.PLATFORM_REJECTS)
        .move(Move.ESCALATE)
        .move(Move.PLATFORM_REJECTS)
        .dispute
    )
    with pytest.raises(MoveRefused, match="appealed already"):
        domain.check(d, Move.ESCALATE, _ctx(has_appeals=True))


def test_undoing_an_appeal_makes_it_possible_again() -> None:
    d = _t().move(Move.ESCALATE).move(Move.PLATFORM_REJECTS).move(Move.ESCALATE).undo().dispute
    assert d.state is State.LOST
    assert not d.appealed
    assert allows(d, Move.ESCALATE, _ctx(has_appeals=True))


# -- amounts -------------------------------------------------------------------------------------

AMOUNT_MOVES = [
    (Move.SELLER_OFFERS, "seller rejected"),
    (Move.COUNTER, "seller rejected"),
    (Move.PLATFORM_AWARDS, "escalated at once"),
    (Move.REFUNDED, "seller agreed"),
]


def _story(name: str) -> Story:
    return next(s for s in STORIES if s.name == name)


@pytest.mark.parametrize(("move", "where"), AMOUNT_MOVES)
@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-12.50"])
def test_an_amount_must_be_positive(move: Move, where: str, amount: str) -> None:
    d = _story(where).build().dispute
    with pytest.raises(MoveRefused, match="positive"):
        domain.check(d, move, _ctx(), Decimal(amount))


@pytest.mark.parametrize(("move", "where"), AMOUNT_MOVES)
def test_an_amount_may_not_exceed_what_is_refundable(move: Move, where: str) -> None:
    d = _story(where).build().dispute
    refundable = Decimal("30.00")
    assert allows(d, move, _ctx(refundable=refundable), refundable)
    with pytest.raises(MoveRefused, match=r"\$30\.00 still refundable"):
        domain.check(d, move, _ctx(refundable=refundable), Decimal("30.01"))


@pytest.mark.parametrize(("move", "where"), AMOUNT_MOVES)
def test_a_move_that_needs_an_amount_is_refused_without_one(move: Move, where: str) -> None:
    d = _story(where).build().dispute
    with pytest.raises(MoveRefused, match="needs an AMOUNT"):
        domain.check(d, move, _ctx())


@pytest.mark.parametrize(
    ("move", "where"),
    [
        (Move.SELLER_AGREES, "just opened"),
        (Move.ACCEPT, "seller offered"),
        (Move.ESCALATE, "just opened"),
        (Move.CANCEL, "just opened"),
        (Move.LOST, "just opened"),
    ],
)
def test_a_move_without_an_amount_refuses_one(move: Move, where: str) -> None:
    d = _story(where).build().dispute
    with pytest.raises(MoveRefused, match="takes no amount"):
        domain.check(d, move, _ctx(), Decimal("5.00"))


def test_only_a_seller_offer_can_be_a_replacement() -> None:
    assert allows(_t().dispute, Move.SELLER_OFFERS, _ctx(), Decimal("5.00"), OfferKind.REPLACEMENT)
    with pytest.raises(MoveRefused, match="replacement"):
        domain.check(_t().dispute, Move.SELLER_AGREES, _ctx(), None, OfferKind.REPLACEMENT)


def test_a_buyer_move_takes_no_return_flag() -> None:
    d = _t().move(Move.SELLER_OFFERS, "8.00").dispute
    with pytest.raises(MoveRefused, match="--return"):
        domain.check(d, Move.ACCEPT, _ctx(), None, OfferKind.REFUND_WITH_RETURN)


# -- refusal messages ----------------------------------------------------------------------------

REFUSALS = [
    (s, m, has)
    for s, m, has in itertools.product(STORIES, Move, [True, False])
    if not _design_allows(s, m, has)
]


def _refusal(story: Story, move: Move, has_appeals: bool) -> str:
    with pytest.raises(MoveRefused) as refused:
        domain.check(story.build().dispute, move, _ctx(has_appeals), _amount_for(move))
    return refused.value.message


# How a refusal names each state: in words, never the key.
STATE_SAYS = {
    State.AWAITING_SELLER: "waiting for the seller's answer",
    State.AWAITING_BUYER: "waiting for your",
    State.ESCALATED: "with the marketplace",
    State.RETURN_TO_SHIP: "waiting for you to ship the return",
    State.RETURN_IN_TRANSIT: "waiting for the",
    State.REFUND_PENDING: "waiting for the refund",
    State.REFUNDED: "closed as refunded",
    State.LOST: "closed as lost",
    State.WITHDRAWN: "closed as withdrawn",
    State.CANCELLED: "closed as cancelled",
}


@pytest.mark.parametrize(
    ("story", "move", "has_appeals"),
    [(s, m, h) for s, m, h in REFUSALS if m is not Move.OPEN],
    ids=lambda x: x.name if isinstance(x, Story) else str(x),
)
def test_every_refusal_names_the_state_and_lists_what_is_possible(
    story: Story, move: Move, has_appeals: bool
) -> None:
    message = _refusal(story, move, has_appeals)
    assert f"the dispute is {STATE_SAYS[story.state]}" in message
    assert "_" not in message
    possible = _possible(story, has_appeals)
    if possible:
        listed = message.split("; possible now: ", 1)[1].split(", ")
        assert sorted(listed) == sorted(possible)
    else:
        assert message.endswith("; no move is possible now")


def _possible(story: Story, has_appeals: bool) -> list[str]:
    """The commands DESIGN.md would accept now, as the buyer types them."""
    labels = []
    for move in Move:
        if _design_allows(story, move, has_appeals):
            label = {
                Move.ESCALATE: "escalate",
                Move.REFUNDED: "resolve --refunded AMOUNT",
                Move.LOST: "resolve --lost",
                Move.WITHDRAWN: "resolve --withdrawn",
                Move.CANCEL: "cancel",
            }.get(move, f"respond {move}" + (" AMOUNT" if move in NEEDS_AN_AMOUNT else ""))
            labels.append(label)
    return labels


def test_the_refusal_lists_exactly_the_moves_that_are_possible() -> None:
    story = _story("seller offered")
    message = _refusal(story, Move.SELLER_AGREES, True)
    listed = message.split("possible now: ", 1)[1].split(", ")
    assert sorted(listed) == sorted(_possible(story, True))


def test_a_closed_dispute_says_no_move_is_possible() -> None:
    message = _refusal(_story("money arrived"), Move.ESCALATE, True)
    assert "refunded" in message
    assert "no move is possible now" in message


def test_accepting_with_no_offer_names_the_state() -> None:
    message = _refusal(_story("seller rejected"), Move.ACCEPT, True)
    assert "no seller offer on the table" in message
    assert "(the dispute is waiting for your move)" in message


@pytest.mark.parametrize(
    ("story", "move", "why"),
    [
        ("buyer countered an offer", Move.CANCEL, "the seller has answered"),
        ("just opened", Move.WITHDRAWN, "the seller has not answered yet"),
        ("buyer gave up", Move.ESCALATE, "only a platform's decision can be appealed"),
        ("appeal rejected too", Move.ESCALATE, "appealed already"),
    ],
)
def test_a_refusal_by_an_extra_condition_says_why_and_names_the_state(
    story: str, move: Move, why: str
) -> None:
    # Found refused without the state in an earlier revision of domain._refusal.
    chosen = _story(story)
    message = _refusal(chosen, move, True)
    assert why in message
    assert f"the dispute is {STATE_SAYS[chosen.state]}" in message


def test_opening_an_existing_dispute_is_refused() -> None:
    with pytest.raises(MoveRefused, match="already open"):
        domain.check(_t().dispute, Move.OPEN, _ctx(), ASKED)


def test_folding_a_move_from_the_wrong_state_is_a_damaged_ledger() -> None:
    timeline = _t().move(Move.CANCEL).move(Move.SELLER_AGREES)
    with pytest.raises(ValueError, match="cannot follow"):
        _ = timeline.dispute


# -- replay and undo -----------------------------------------------------------------------------


def test_effective_events_drop_the_retracted_move_and_the_retraction() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").message(Actor.SELLER).undo()
    kept = domain.effective_events(timeline.events)
    assert [e.kind for e in kept] == ["open", "message"]


def test_last_move_is_none_when_only_the_opening_counts() -> None:
    assert domain.last_move(_t().events) is None
    assert domain.last_move(_t().move(Move.SELLER_REJECTS).undo().events) is None


def test_last_move_skips_messages_and_evidence() -> None:
    timeline = _t().move(Move.SELLER_REJECTS).message(Actor.BUYER)
    last = domain.last_move(timeline.events)
    assert last is not None
    assert last.kind == Move.SELLER_REJECTS


def test_last_move_after_an_undo_is_the_move_before() -> None:
    timeline = _t().move(Move.SELLER_REJECTS).move(Move.COUNTER, "10.00").undo()
    last = domain.last_move(timeline.events)
    assert last is not None
    assert last.kind == Move.SELLER_REJECTS


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s.name)
def test_last_move_never_returns_the_opening(story: Story) -> None:
    timeline = story.build()
    while (last := domain.last_move(timeline.events)) is not None:
        assert last.move is not Move.OPEN
        timeline.undo()
    assert timeline.dispute.state is A


@pytest.mark.parametrize(
    "story", [s for s in STORIES if s.name != "just opened"], ids=lambda s: s.name
)
def test_replay_after_undo_is_the_dispute_before_the_last_move(story: Story) -> None:
    timeline = story.build()
    before_last = domain.replay(timeline.events[:-1])
    timeline.undo()
    assert domain.replay(timeline.events) == before_last


def test_two_undos_take_back_two_moves() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.COUNTER, "10.00")
    timeline.undo().undo()
    d = domain.replay(timeline.events)
    assert d.state is A
    assert d.requested == ASKED
    assert [p.outcome for p in d.proposals] == [Outcome.OPEN]


def test_replay_refuses_events_that_do_not_start_with_open() -> None:
    events = _t().move(Move.SELLER_REJECTS).events[1:]
    with pytest.raises(ValueError, match="open"):
        domain.replay(events)


def test_a_buyer_message_answers_the_platforms_request() -> None:
    timeline = _t().move(Move.ESCALATE).move(Move.PLATFORM_REQUESTS_INFO)
    assert timeline.dispute.info_requested_at is not None
    assert timeline.message(Actor.BUYER).dispute.info_requested_at is None


@st.composite
def walks(draw: st.DrawFn) -> Timeline:
    """A random walk through moves the domain allows, with undos among them."""
    timeline = Timeline()
    ctx = _ctx(has_appeals=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 12))):
        d = timeline.dispute
        options = [m for m in Move if m is not Move.OPEN and _allowed(d, m, ctx)]
        if domain.last_move(timeline.events) is not None:
            options.append("undo")  # type: ignore[arg-type]
        if not options:
            break
        choice = draw(st.sampled_from(options))
        if choice == "undo":
            timeline.undo()
            continue
        amount = (
            str(Decimal(draw(st.integers(1, 4590))).scaleb(-2))
            if choice in NEEDS_AN_AMOUNT
            else None
        )
        kind = None
        if choice in {Move.SELLER_AGREES, Move.SELLER_OFFERS, Move.PLATFORM_AWARDS}:
            kind = draw(st.sampled_from([None, OfferKind.REFUND_WITH_RETURN]))
        timeline.move(choice, amount, kind=kind)
    return timeline


def _allowed(d: Dispute, move: Move, ctx: MoveContext) -> bool:
    return allows(d, move, ctx, _amount_for(move))


@settings(max_examples=60, deadline=None)
@given(walks())
def test_undo_always_returns_to_the_dispute_before_the_last_move(timeline: Timeline) -> None:
    last = domain.last_move(timeline.events)
    if last is None:
        assert timeline.dispute.state is A
        return
    kept = domain.effective_events(timeline.events)
    without_last = [e for e in kept if e.id != last.id]
    expected = domain.replay(without_last)
    assert domain.replay(timeline.undo().events) == expected


@settings(max_examples=60, deadline=None)
@given(walks())
def test_at_most_one_proposal_per_side_is_open_and_only_while_active(timeline: Timeline) -> None:
    d = timeline.dispute
    open_ones = [p for p in d.proposals if p.outcome is Outcome.OPEN]
    assert len({p.actor for p in open_ones}) == len(open_ones)
    if not d.active:
        assert open_ones == []
    if d.state is B and d.offer is not None:
        assert [p.amount for p in open_ones if p.actor is Actor.SELLER] == [d.offer]


# -- offer history -------------------------------------------------------------------------------


def _outcomes(timeline: Timeline) -> list[tuple[Actor, Decimal, Outcome]]:
    return [(p.actor, p.amount, p.outcome) for p in timeline.dispute.proposals]


S, BU = Actor.SELLER, Actor.BUYER


def test_the_opening_ask_is_an_open_proposal() -> None:
    assert _outcomes(_t()) == [(BU, ASKED, Outcome.OPEN)]


def test_counter_then_seller_agrees() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.COUNTER, "10.00")
    timeline.move(Move.SELLER_AGREES)
    assert _outcomes(timeline) == [
        (BU, ASKED, Outcome.DECLINED),
        (S, Decimal("8.00"), Outcome.DECLINED),
        (BU, Decimal("10.00"), Outcome.ACCEPTED),
    ]
    assert timeline.dispute.agreed == Decimal("10.00")


def test_a_revised_offer_supersedes_the_first_and_is_accepted() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.SELLER_OFFERS, "9.00")
    timeline.move(Move.ACCEPT)
    assert _outcomes(timeline) == [
        (BU, ASKED, Outcome.DECLINED),
        (S, Decimal("8.00"), Outcome.SUPERSEDED),
        (S, Decimal("9.00"), Outcome.ACCEPTED),
    ]
    d = timeline.dispute
    assert d.state is RP
    assert d.agreed == Decimal("9.00")
    assert d.offer is None


def test_declining_leaves_nothing_on_the_table() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.DECLINE)
    assert _outcomes(timeline) == [
        (BU, ASKED, Outcome.DECLINED),
        (S, Decimal("8.00"), Outcome.DECLINED),
    ]


def test_a_platform_award_supersedes_every_open_proposal() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00").move(Move.ESCALATE)
    timeline.move(Move.PLATFORM_AWARDS, "12.50")
    assert _outcomes(timeline) == [
        (BU, ASKED, Outcome.DECLINED),
        (S, Decimal("8.00"), Outcome.SUPERSEDED),
    ]
    assert timeline.dispute.agreed == ASKED


def test_cancelling_supersedes_the_ask() -> None:
    assert _outcomes(_t().move(Move.CANCEL)) == [(BU, ASKED, Outcome.SUPERSEDED)]


def test_the_history_keeps_the_offer_kind() -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "20.00", kind=OfferKind.REPLACEMENT)
    assert timeline.dispute.proposals[-1].kind is OfferKind.REPLACEMENT


@pytest.mark.parametrize(
    "ending",
    [
        [(Move.LOST, None)],
        [(Move.WITHDRAWN, None)],
        [(Move.ESCALATE, None)],
        [(Move.REFUNDED, "8.00")],
        [(Move.ESCALATE, None), (Move.PLATFORM_AWARDS, "10.00")],
        [(Move.ESCALATE, None), (Move.PLATFORM_REJECTS, None)],
    ],
    ids=["lost", "withdrawn", "escalate", "refunded", "platform-awards", "platform-rejects"],
)
def test_no_seller_offer_stays_on_the_table_once_the_dispute_is_settled(
    ending: list[tuple[Move, str | None]],
) -> None:
    timeline = _t().move(Move.SELLER_OFFERS, "8.00")
    for move, amount in ending:
        timeline.move(move, amount)
    d = timeline.dispute
    assert all(p.outcome is not Outcome.OPEN for p in d.proposals)
    assert d.offer is None


# -- what an order takes out of the refundable total ---------------------------------------------


@pytest.mark.parametrize(
    ("story", "taken"),
    [
        ("just opened", "0"),
        ("seller agreed", "12.50"),
        ("return shipped", "12.50"),
        ("money arrived", "12.50"),
        ("buyer gave up", "0"),
        ("cancelled at once", "0"),
    ],
)
def test_what_a_dispute_takes_from_the_order(story: str, taken: str) -> None:
    assert domain.counts_toward_order(_story(story).build().dispute) == Decimal(taken)


# -- orders and items ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "marketplace": "aliexpress",
        "order_no": "8101234567890123",
        "total": TOTAL,
        "currency": "USD",
        "ordered": datetime(2026, 11, 1, tzinfo=UTC),
        "shipped": datetime(2026, 11, 3, tzinfo=UTC),
        "expected_by": datetime(2026, 11, 25, tzinfo=UTC),
        "received": datetime(2026, 11, 20, tzinfo=UTC),
        "items": (Item("USB-C hub", 1, TOTAL),),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def test_a_plausible_order_has_no_problems() -> None:
    assert records.order_problems(_order(), NOW) == []


@pytest.mark.parametrize("total", ["0", "-1.00"])
def test_an_order_total_must_be_positive(total: str) -> None:
    assert records.order_problems(_order(total=Decimal(total)), NOW) == [
        f"total must be positive, got {total}"
    ]


@pytest.mark.parametrize("field", ["ordered", "shipped", "received"])
def test_an_order_fact_cannot_be_in_the_future(field: str) -> None:
    later = {
        "ordered": None,
        "shipped": None,
        "received": None,
        "expected_by": None,
        field: NOW + timedelta(minutes=1),
    }
    problems = records.order_problems(_order(**later), NOW)
    assert problems == [f"--{field} 2026-11-26 12:01 UTC is in the future"]


def test_an_order_is_received_after_it_was_shipped() -> None:
    problems = records.order_problems(_order(received=datetime(2026, 11, 2, tzinfo=UTC)), NOW)
    assert problems == ["--received is before --shipped"]


def test_an_order_is_shipped_after_it_was_ordered() -> None:
    order = _order(shipped=datetime(2026, 10, 30, tzinfo=UTC), received=None)
    assert records.order_problems(order, NOW) == ["--shipped is before --ordered"]


def test_order_sequence_skips_unknown_steps() -> None:
    order = _order(shipped=None, received=datetime(2026, 10, 30, tzinfo=UTC))
    assert records.order_problems(order, NOW) == ["--received is before --ordered"]


def test_expected_delivery_cannot_precede_the_order() -> None:
    order = _order(expected_by=datetime(2026, 10, 1, tzinfo=UTC))
    assert records.order_problems(order, NOW) == ["--expected-by is before --ordered"]


def test_item_names_must_differ_ignoring_case() -> None:
    order = _order(items=(Item("Cable"), Item("cable")))
    assert records.order_problems(order, NOW) == [
        "two items have the same name; give each a distinct name"
    ]


def test_an_order_finds_its_item_ignoring_case_and_spaces() -> None:
    order = _order(items=(Item("USB Cable", 2, Decimal("3.50")),))
    found = order.item("  usb cable ")
    assert found is not None
    assert found.value == Decimal("7.00")
    assert order.item("charger") is None


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("USB cable x2 @3.50", Item("USB cable", 2, Decimal("3.50"))),
        ("USB cable", Item("USB cable", 1, None)),
        ("  Hub x3  ", Item("Hub", 3, None)),
        ("Hub @ 45.9", Item("Hub", 1, Decimal("45.90"))),
        ("Box x2", Item("Box", 2, None)),
        ("x2", Item("x2", 1, None)),
    ],
)
def test_parse_item_reads_name_quantity_and_price(text: str, item: Item) -> None:
    assert records.parse_item(text, "USD") == item


def test_an_item_price_keeps_the_currency_minor_units() -> None:
    assert records.parse_item("Tea @1500", "JPY").price == Decimal("1500")
    with pytest.raises(BadInput, match="too many decimals"):
        records.parse_item("Tea @15.5", "JPY")


@pytest.mark.parametrize(
    "text", ["", "   ", "Cable x0", "Cable @abc", "Cable @-3", "Cable @3.505", "Cable @0"]
)
def test_parse_item_refuses_what_is_not_an_item(text: str) -> None:
    with pytest.raises(BadInput):
        records.parse_item(text, "USD")


@settings(max_examples=200)
@given(st.text(max_size=20))
def test_parse_item_gives_an_item_or_bad_input(text: str) -> None:
    try:
        item = records.parse_item(text, "USD")
    except BadInput:
        return
    assert item.name.strip() == item.name
    assert item.name
    assert item.quantity >= 1
    assert item.price is None or item.price > 0
