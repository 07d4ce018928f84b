"""``verify``, ``bundle`` and ``draft``: evidence you can prove, one case file, one message.

``verify`` only reads: it opens the ledger read-only, runs SQLite's own checks and re-hashes
every stored file. ``bundle`` and ``draft`` read one dispute in full (its files checked) and
hand it to the pure builders in ``render.bundle`` and ``render.draft``; ``cli.archive`` writes
the zip.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import JSON_OPTION, emit_json, env, say, warn
from refundctl.cli.completion import complete_dispute

Json = Annotated[bool, JSON_OPTION]
DisputeId = Annotated[
    int,
    typer.Argument(
        metavar="DISPUTE",
        help="The dispute's number, as 'open' printed it.",
        autocompletion=complete_dispute,
    ),
]


class To(StrEnum):
    SELLER = "seller"
    PLATFORM = "platform"
    ISSUER = "issuer"


@app.command()
def verify(ctx: typer.Context, as_json: Json = False) -> None:
    """Check the ledger and re-hash every evidence file: exit 1 if any is missing or altered."""
    from refundctl.render.verify import verify_json, verify_lines

    e = env(ctx)
    with e.ledger(write=False) as ledger:
        report = ledger.verify()
    if as_json:
        emit_json(verify_json(report))
    else:
        for line in verify_lines(report):
            say(line)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def bundle(
    ctx: typer.Context,
    dispute: DisputeId,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the zip (default: refundctl-dispute-DISPUTE.zip here).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: Json = False,
) -> None:
    """Write one zip: case.md, case.json, the evidence files and a SHA256SUMS manifest."""
    from refundctl.cli.archive import refuse_target, write_zip
    from refundctl.ledger.files import refuse_ledger_part
    from refundctl.render.bundle import case_file
    from refundctl.views import dispute_view

    e = env(ctx)
    target = output if output is not None else Path(f"refundctl-dispute-{dispute}.zip")
    with e.ledger(write=False) as ledger:
        record = ledger.dispute(dispute)
        refuse_target(target, force=force)
        refuse_ledger_part(target, e.db, "case file")
        store = ledger.evidence_store
    case = case_file(dispute_view(record, e.settings.policy_for, e.zone, e.now), e.now, e.zone)
    for line in case.left_out:
        warn(line)
    write_zip(target, case.members, store, force=force)
    if as_json:
        members = [{"name": m.name, "sha256": m.digest} for m in case.members]
        emit_json({"dispute": dispute, "file": str(target), "members": members})
        return
    count = case.evidence_count
    files = f"{count} evidence file{'' if count == 1 else 's'}"
    say(f"Wrote {target}:\n  case.md, case.json, {files} and SHA256SUMS.")


@app.command()
def draft(
    ctx: typer.Context,
    dispute: DisputeId,
    to: Annotated[
        To | None,
        typer.Option(
            "--to",
            case_sensitive=False,
            metavar="WHO",
            help="seller, platform or issuer (the card issuer: a chargeback letter); default: "
            "the seller, the marketplace once escalated, the issuer for a chargeback.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Write a message to paste: the request, the answer to an offer, the escalation, or the
    letter to your card issuer."""
    from refundctl.ledger.store import OrderRef
    from refundctl.render.draft import Recipient, draft_json
    from refundctl.render.draft import draft as write_draft
    from refundctl.views import dispute_view

    e = env(ctx)
    with e.ledger(write=False) as ledger:
        record = ledger.dispute(dispute)
        # A letter to the card issuer tells what was tried with the marketplace first.
        issuer = to is To.ISSUER or (to is None and record.via not in {None, "paypal"})
        ref = OrderRef(record.order.order_no, record.order.marketplace)
        others = ledger.order_detail(ref, dispute_history=True).disputes if issuer else []
    view = dispute_view(record, e.settings.policy_for, e.zone, e.now)
    chosen = None if to is None else Recipient(to.value)
    message = write_draft(view, e.now, e.zone, chosen, [r for r in others if r.id != dispute])
    if as_json:
        emit_json(draft_json(message, record.id))
        return
    say(f"Subject: {message.subject}\n\n{message.text}".rstrip("\n"))
