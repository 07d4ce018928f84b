"""``check``: what is due within a window, for cron and scripts.

It answers from the deadlines the ledger stores, opened as a ``LedgerFile``, so that a run
that prints JSON or plain lines loads neither the domain model nor Rich; only when those
stored deadlines were computed with other policies does it compute them afresh, as ``status``
does.
"""

# No `from __future__ import annotations` here: Typer reads these signatures on every run,
# and string annotations would cost it an eval each.
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    Env,
    FormatOption,
    MarketplaceFilter,
    OutputFormat,
    SellerFilter,
    SinceFilter,
    StateFilter,
    UntilFilter,
    emit_csv,
    env,
    in_format,
    make_filters,
    output_format,
    within,
)
from refundctl.errors import BadInput

if TYPE_CHECKING:
    from refundctl.due import CheckItem, Filters
    from refundctl.ledger.connection import LedgerFile


@app.command()
def check(
    ctx: typer.Context,
    within_text: Annotated[
        str,
        typer.Option("--within", metavar="DURATION", help="How far ahead to look: 48h, 3d, 2w."),
    ] = "3d",
    marketplace: MarketplaceFilter = None,
    state: StateFilter = None,
    seller: SellerFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all", help="Also list the other side's deadlines still running in the window."
        ),
    ] = False,
    format: FormatOption = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Exit 1 if something needs you (for cron): a deadline of yours overdue or due within the
    window, or the other side's time up; else 0."""
    e = env(ctx)
    chosen = output_format(as_json, format)
    try:
        window = within(within_text)
    except BadInput as error:
        raise BadInput(f"--within: {error.message}") from None
    filters = make_filters(
        e, marketplace=marketplace, states=state, seller=seller, since=since, until=until
    )
    shown = _Needs(e.now.timestamp())
    found = _from_stored(e, e.ledger_file(), chosen, filters, window, within_text, everything)
    if found is None:
        # Stale stored deadlines, or none yet in a ledger just upgraded: the full ledger
        # stores those of an unfinished upgrade as it opens, and is then answered the same.
        found = _from_stored(
            e, e.ledger(write=False), chosen, filters, window, within_text, everything
        )
    if found is None:  # computed with other policies: compute afresh, with the domain model
        from refundctl.cli.views import gather
        from refundctl.views import check_items

        disputes, orders = gather(e, filters=filters)
        items = check_items(disputes, orders, e.now, window, everything=everything)
        _print_check(e, chosen, shown.watch(items), within_text)
        found = shown.any
    raise typer.Exit(1 if found else 0)


class _Needs:
    """Whether any item that went by needs the buyer: one of theirs, or the other side's
    time up (what ``--all`` adds does not)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.any = False

    def watch(self, items: Iterable["CheckItem"]) -> Iterator["CheckItem"]:
        from refundctl.due import NOTHING_TO_DO_WHEN_PASSED

        for item in items:
            if not self.any and (
                item.binds == "buyer"
                or (item.due_at <= self.now and item.name not in NOTHING_TO_DO_WHEN_PASSED)
            ):
                self.any = True
            yield item


def _from_stored(
    e: Env,
    opened: "AbstractContextManager[LedgerFile]",
    chosen: OutputFormat,
    filters: "Filters",
    window: timedelta,
    label: str,
    everything: bool,
) -> bool | None:
    """Print what is due from the stored deadlines and say whether any of it needs the
    buyer; None, having printed nothing, when they were computed with other policies than
    those in effect."""
    with opened as ledger, ledger.snapshot():
        if not ledger.index_current:
            return None
        needs = _Needs(e.now.timestamp())
        _print_check(
            e, chosen, needs.watch(ledger.due(e.now, e.now + window, filters, everything)), label
        )
        return needs.any


def _print_check(e: Env, chosen: OutputFormat, items: Iterable["CheckItem"], label: str) -> None:
    def as_json() -> None:
        from refundctl.render import jsonshape

        sys.stdout.writelines(jsonshape.check(items, e.now, label.strip()))

    def as_csv() -> None:
        from refundctl.render.exporting import CHECK_COLUMNS, check_rows

        emit_csv(CHECK_COLUMNS, check_rows(items, e.now))

    def as_lines() -> None:
        from refundctl.render.text import check_lines

        sys.stdout.writelines(line + "\n" for line in check_lines(items, e.now, e.zone))

    in_format(chosen, table=as_lines, json=as_json, csv=as_csv)
