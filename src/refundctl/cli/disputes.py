"""The dispute commands: open, attach, respond, escalate, resolve, cancel, undo.

Each parses its arguments, makes one ledger call (one transaction), prints warnings to stderr
and the dispute after the move: a line for people, the dispute object with ``--json``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    ON_HELP,
    Env,
    emit_json,
    env,
    marketplace_option,
    say,
    seller_record_line,
    warn,
)
from refundctl.cli.completion import complete_dispute, complete_move, complete_order
from refundctl.domain import RESPOND_MOVES, Actor, Move, OfferKind, Reason
from refundctl.errors import BadInput
from refundctl.ledger.store import (
    AmountSpec,
    Attachment,
    Files,
    Link,
    Message,
    OrderRef,
    Result,
)
from refundctl.money import parse_percent
from refundctl.payment import Network
from refundctl.records import DisputeRecord, EvidenceKind

Json = Annotated[bool, JSON_OPTION]
On = Annotated[str | None, typer.Option(metavar="WHEN", help=ON_HELP)]
Note = Annotated[str | None, typer.Option(metavar="TEXT", help="A note kept with the event.")]
DisputeId = Annotated[
    int,
    typer.Argument(
        metavar="DISPUTE",
        help="The dispute's number, as 'open' printed it.",
        autocompletion=complete_dispute,
    ),
]
Evidence = Annotated[
    list[Path] | None,
    typer.Option("--evidence", metavar="FILE", help="A file to attach; repeat for more."),
]
CaseRef = Annotated[str | None, typer.Option(metavar="REF", help="The marketplace's case number.")]


class Sender(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"


class EscalatedBy(StrEnum):
    BUYER = "buyer"
    PLATFORM = "platform"


def _report(e: Env, result: Result, as_json: bool, *, entered: str | None = None) -> None:
    """What a write left: the dispute in JSON, or a line on the change and the next step (from
    the state ``result.before`` had; a new dispute has none); ``entered`` names a deadline
    whose date was entered or cleared, to say where it stands."""
    from refundctl.views import dispute_view

    for line in result.warnings:
        warn(line)
    view = dispute_view(result.record, e.settings.policy_for, e.zone, e.now)
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.dispute(view, e.now, detail=True))
        return
    from refundctl.render import text

    if result.before is None:
        say(text.opened(view, e.now, e.zone))
    elif entered is not None:
        say(text.entered_due(view, entered, e.now, e.zone))
    else:
        say(text.moved(result.before.dispute.state, view, e.now, e.zone))


@app.command("open")
def open_dispute(
    ctx: typer.Context,
    order_no: Annotated[
        str,
        typer.Argument(metavar="ORDER_NO", help="The order number.", autocompletion=complete_order),
    ],
    reason: Annotated[
        Reason,
        typer.Option(
            case_sensitive=False,
            metavar="REASON",
            help="Why: " + ", ".join(r.value for r in Reason) + ".",
        ),
    ],
    amount: Annotated[
        str | None, typer.Option(metavar="AMOUNT", help="Ask for this amount, e.g. 12.50.")
    ] = None,
    percent: Annotated[
        str | None,
        typer.Option(metavar="PERCENT", help="Ask for this percentage of what is refundable."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Ask for all that is refundable.")] = False,
    item: Annotated[
        str | None, typer.Option(metavar="NAME", help="The order item this is about.")
    ] = None,
    marketplace: Annotated[
        str | None,
        typer.Option(
            "--marketplace", "-m", metavar="MARKETPLACE", help="When two orders share a number."
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="What is wrong, in your words.")
    ] = None,
    evidence: Evidence = None,
    case_ref: CaseRef = None,
    via: Annotated[
        Network | None,
        typer.Option(
            case_sensitive=False,
            metavar="RAIL",
            help="File it with the payment rail instead of the marketplace: "
            + ", ".join(n.value for n in Network)
            + " (a chargeback, or a PayPal claim).",
        ),
    ] = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """Open a dispute on an order (or a chargeback or PayPal claim with --via): prints its
    number."""
    e = env(ctx)
    # An empty value is still given (a script's unset variable): refused below, not ignored.
    given = (("--amount", amount), ("--percent", percent))
    chosen = [flag for flag, value in given if value is not None]
    if full:
        chosen.append("--full")
    if len(chosen) != 1:
        raise BadInput("say what you ask for with exactly one of --amount, --percent or --full")
    ask = AmountSpec(
        amount=amount, percent=None if percent is None else parse_percent(percent), full=full
    )
    with e.ledger(write=True) as ledger:
        result = ledger.open_dispute(
            OrderRef(order_no.strip(), marketplace_option(marketplace)),
            reason=reason,
            ask=ask,
            item=item,
            note=note,
            case_ref=case_ref,
            evidence=evidence or (),
            evidence_kind=None,
            at=e.when(on),
            now=e.now,
            via=via,
        )
        record_line = None if as_json else seller_record_line(ledger, result.record)
    _report(e, result, as_json)
    if record_line is not None:
        say(record_line)


@app.command()
def attach(
    ctx: typer.Context,
    dispute: DisputeId,
    files: Annotated[
        list[Path] | None, typer.Argument(metavar="FILE...", help="Files to attach.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(metavar="URL", help="A link: the listing, a tracking page.")
    ] = None,
    message: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A chat message to log.")
    ] = None,
    sender: Annotated[
        Sender | None,
        typer.Option(
            "--from", metavar="WHO", help="Who wrote the --message: buyer, seller, platform."
        ),
    ] = None,
    kind: Annotated[
        EvidenceKind | None,
        typer.Option(
            metavar="KIND",
            help="What the evidence is: " + ", ".join(k.value for k in EvidenceKind) + ".",
        ),
    ] = None,
    note: Note = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """Attach files, a link, or a logged chat message to a dispute."""
    e = env(ctx)
    forms = [
        name for name, given in (("FILE", files), ("--url", url), ("--message", message)) if given
    ]
    if len(forms) != 1:
        raise BadInput(
            "attach takes exactly one of: FILE..., --url URL, or --message TEXT --from WHO"
        )
    if message is not None and sender is None:
        raise BadInput("--message needs --from buyer, seller or platform")
    if message is None and sender is not None:
        raise BadInput("--from goes with --message")
    for option, given in (("--kind", kind), ("--note", note)):
        if message is not None and given is not None:
            raise BadInput(f"{option} goes with FILE or --url; a --message is kept as written")
    if url is not None:
        _check_url(url)
    at = e.when(on)
    with e.ledger(write=True) as ledger:
        what: Attachment
        if files:
            what = Files(files, kind, note)
        elif url is not None:
            what = Link(url.strip(), kind, note)
        else:
            assert message is not None and sender is not None
            if not message.strip():
                raise BadInput("--message is empty")
            what = Message(message, Actor(sender.value))
        result = ledger.attach(dispute, what, at, e.now)
        if as_json:  # shown in full, so with every stored file checked
            result = Result(ledger.dispute(dispute), result.warnings, result.before)
    if as_json:
        _report(e, result, True)
        return
    for line in result.warnings:
        warn(line)
    say(_attached_line(result.record, files, url, len(result.warnings)))


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not host
        or any(ch.isspace() for ch in url.strip())
    ):
        raise BadInput(
            f"not a web address: {url!r}; use a full link such as https://example.com/item/123"
        )


def _attached_line(
    record: DisputeRecord, files: list[Path] | None, url: str | None, already: int
) -> str:
    """What was recorded; ``already`` counts what the dispute had already (not recorded)."""
    count = len(record.evidence)
    pieces = f"{count} piece{'s' if count != 1 else ''} of evidence in all"
    if files:
        added = len(files) - already
        what = f"{added} file{'s' if added != 1 else ''}"
    elif url:
        what = "no link" if already else "a link"
    else:
        return f"Logged the message on dispute {record.id}."
    if what.startswith(("0 ", "no ")):
        return f"Nothing new attached to dispute {record.id} ({pieces})."
    return f"Attached {what} to dispute {record.id} ({pieces})."


@app.command()
def respond(
    ctx: typer.Context,
    dispute: DisputeId,
    move: Annotated[
        str,
        typer.Argument(
            metavar="MOVE",
            autocompletion=complete_move,
            help="seller-agrees, seller-offers, seller-rejects, accept, decline, counter, "
            "return-shipped, return-delivered, platform-requests-info, platform-awards, "
            "platform-rejects.",
        ),
    ],
    amount: Annotated[
        str | None,
        typer.Argument(metavar="AMOUNT", help="For seller-offers, counter, platform-awards."),
    ] = None,
    with_return: Annotated[
        bool, typer.Option("--return", help="The refund is on condition of a return.")
    ] = False,
    replacement: Annotated[
        bool, typer.Option("--replacement", help="The seller offers a replacement.")
    ] = False,
    tracking: Annotated[
        str | None, typer.Option(metavar="NUMBER", help="Return tracking number.")
    ] = None,
    note: Note = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """Record a move: the seller's answer, yours, or the platform's."""
    e = env(ctx)
    chosen = _respond_move(move)
    if with_return and replacement:
        raise BadInput("an offer is either --return or --replacement, not both")
    offer_kind = (
        OfferKind.REFUND_WITH_RETURN
        if with_return
        else OfferKind.REPLACEMENT
        if replacement
        else None
    )
    if tracking is not None and chosen is not Move.RETURN_SHIPPED:
        raise BadInput("--tracking goes with return-shipped")
    _move(
        e,
        dispute,
        chosen,
        as_json,
        amount=amount,
        offer_kind=offer_kind,
        note=note,
        tracking=tracking,
        on=on,
    )


def _respond_move(text: str) -> Move:
    wanted = text.strip().lower()
    for move in RESPOND_MOVES:
        if move.value == wanted:
            return move
    names = ", ".join(m.value for m in RESPOND_MOVES)
    hint = ""
    if wanted in {"escalate", "cancel", "undo"}:
        hint = f" ('{wanted}' is a command of its own: refundctl {wanted} DISPUTE)"
    raise BadInput(f"unknown move {text!r}{hint}; moves: {names}")


def _move(
    e: Env,
    dispute: int,
    move: Move,
    as_json: bool,
    *,
    on: str | None,
    amount: str | None = None,
    offer_kind: OfferKind | None = None,
    note: str | None = None,
    tracking: str | None = None,
    credit: bool = False,
    actor: Actor | None = None,
    case_ref: str | None = None,
    evidence: list[Path] | None = None,
) -> None:
    at = e.when(on)
    with e.ledger(write=True) as ledger:
        result = ledger.move(
            dispute,
            move,
            amount=amount,
            offer_kind=offer_kind,
            note=note,
            tracking=tracking,
            credit=credit,
            actor=actor,
            case_ref=case_ref,
            evidence=evidence or (),
            at=at,
            now=e.now,
        )
    _report(e, result, as_json)


@app.command()
def escalate(
    ctx: typer.Context,
    dispute: DisputeId,
    by: Annotated[
        EscalatedBy,
        typer.Option(
            metavar="WHO", help="buyer (default), or platform when it escalated by itself."
        ),
    ] = EscalatedBy.BUYER,
    case_ref: CaseRef = None,
    note: Note = None,
    evidence: Evidence = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """Ask the marketplace to step in (or appeal a lost case where it allows)."""
    e = env(ctx)
    _move(
        e,
        dispute,
        Move.ESCALATE,
        as_json,
        on=on,
        note=note,
        case_ref=case_ref,
        evidence=evidence,
        actor=Actor(by.value),
    )


@app.command()
def resolve(
    ctx: typer.Context,
    dispute: DisputeId,
    refunded: Annotated[
        str | None, typer.Option(metavar="AMOUNT", help="The money that actually arrived.")
    ] = None,
    credit: Annotated[bool, typer.Option("--credit", help="It came as store credit.")] = False,
    lost: Annotated[bool, typer.Option("--lost", help="Rejected, or you gave up.")] = False,
    withdrawn: Annotated[
        bool, typer.Option("--withdrawn", help="You closed it after the seller answered.")
    ] = False,
    note: Note = None,
    on: On = None,
    as_json: Json = False,
) -> None:
    """Close a dispute: refunded (with the amount received), lost, or withdrawn."""
    e = env(ctx)
    chosen = [
        m
        for m, given in ((Move.REFUNDED, refunded), (Move.LOST, lost), (Move.WITHDRAWN, withdrawn))
        if given is not None and given is not False  # --refunded "" is given, and refused
    ]
    if len(chosen) != 1:
        raise BadInput(
            "say how it ended with exactly one of --refunded AMOUNT, --lost, --withdrawn"
        )
    if credit and refunded is None:
        raise BadInput("--credit goes with --refunded AMOUNT")
    _move(e, dispute, chosen[0], as_json, on=on, amount=refunded, credit=credit, note=note)


@app.command()
def cancel(
    ctx: typer.Context, dispute: DisputeId, note: Note = None, on: On = None, as_json: Json = False
) -> None:
    """Withdraw a dispute before the seller has answered."""
    _move(env(ctx), dispute, Move.CANCEL, as_json, on=on, note=note)


@app.command()
def undo(ctx: typer.Context, dispute: DisputeId, as_json: Json = False) -> None:
    """Take back the last move (recorded as a retraction; nothing is deleted)."""
    e = env(ctx)
    with e.ledger(write=True) as ledger:
        result, retracted = ledger.undo(dispute, e.now)
    if not as_json:
        from refundctl.render.fmt import when

        if retracted.deadline is not None and retracted.due is None:
            say(f"Took back clearing the date entered for {retracted.deadline}.")
        elif retracted.deadline is not None:
            say(
                f"Took back the date entered for {retracted.deadline} "
                f"({when(retracted.due, e.zone, e.now)})."
            )
        else:
            say(f"Took back '{retracted.kind}' of {when(retracted.at, e.zone, e.now)}.")
    _report(e, result, as_json, entered=retracted.deadline)


@app.command()
def due(
    ctx: typer.Context,
    dispute: DisputeId,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The deadline, as 'status DISPUTE' names it: seller_response, claim_by, ...",
        ),
    ],
    when: Annotated[
        str | None,
        typer.Argument(metavar="WHEN", help="The date the marketplace shows for it."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the date entered: back to the rule's.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Enter the marketplace's own date for one deadline of a dispute (it beats the rule)."""
    e = env(ctx)
    if (when is None) is not clear:
        raise BadInput(
            "give the date the marketplace shows (refundctl due DISPUTE NAME WHEN), "
            "or --clear to go back to the rule's"
        )
    deadline = _deadline_name(name)
    at = None if when is None else _entered_due(e, deadline, when)
    with e.ledger(write=True) as ledger:
        result = ledger.enter_due(dispute, deadline, at, e.now)
    _report(e, result, as_json, entered=deadline)


def _entered_due(e: Env, name: str, when: str) -> datetime:
    """The moment an entered date stands for. A bare day is its first moment for a deadline
    of yours (the safe side), and its end for the other side's: a seller "by 10 December" has
    all of that day, so no escalation is suggested before it is over."""
    from refundctl.deadline_types import REMEDY_DEADLINES
    from refundctl.policies import RULE_KINDS, Binds, RuleName
    from refundctl.timeparse import names_a_day, start_of_day

    at = e.when(when, option="WHEN")
    # A remedy's window (the card issuer's own date for chargeback_by) is the buyer's.
    mine = name in REMEDY_DEADLINES or RULE_KINDS[RuleName(name)].binds is Binds.BUYER
    if mine or not names_a_day(when):
        return at
    day = at.astimezone(e.zone).date() + timedelta(days=1)
    return start_of_day(day, e.zone).astimezone(UTC)


def _deadline_name(text: str) -> str:
    """A deadline's name as people may type it: ``seller-response`` is ``seller_response``."""
    from refundctl.deadline_types import REMEDY_DEADLINES
    from refundctl.policies import EARLIEST_RULES, RuleName

    wanted = text.strip().lower().replace("-", "_").replace(" ", "_")
    # An order's own windows are entered on the order ('order update --protection-ends').
    windows = {RuleName.DISPUTE_WINDOW, RuleName.PROTECTION_ENDS}
    names = [n.value for n in RuleName if n not in EARLIEST_RULES and n not in windows]
    names += sorted(REMEDY_DEADLINES)  # the issuer's own date for a remedy's window
    if wanted in windows:
        raise BadInput(
            f"{wanted} is the order's window, not a deadline of the dispute; enter the "
            "marketplace's date with 'refundctl order update ORDER_NO --protection-ends WHEN'"
        )
    if wanted not in names:
        raise BadInput(f"unknown deadline {text!r}; deadlines: {', '.join(names)}")
    return wanted
