"""``check``: what is due within a window, for cron and scripts.

It asks the ledger, opened as a ``LedgerFile``, so that a run that prints JSON or plain lines
loads neither the domain model nor Rich: the ledger answers from the deadlines it stores, and
computes them afresh (loading the domain model) only when they were stored with other
policies. For ``--json`` it hands out each item's text as well, joined from what the stored
deadline keeps, so that a long list goes to the output without being shaped here.
"""

# No `from __future__ import annotations` here: Typer reads these signatures on every run,
# and string annotations would cost it an eval each.
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

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
    emit_streamed,
    env,
    in_format,
    make_filters,
    output_format,
    within,
)
from refundctl.errors import BadInput

if TYPE_CHECKING:
    from refundctl.due import CheckItem, CheckLine, Filters
    from refundctl.ledger.connection import LedgerFile

# An item as the lines and CSV take it, or as --json does: its text joined by the ledger.
_Item = TypeVar("_Item", "CheckItem", "CheckLine")


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
    with e.ledger_file() as ledger:
        _print_check(e, chosen, shown, ledger, e.now + window, filters, everything, within_text)
    raise typer.Exit(1 if shown.any else 0)


class _Needs:
    """Whether any item that went by needs the buyer: one of theirs, or the other side's
    time up (what ``--all`` adds does not)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.any = False

    def watch(self, items: Iterable[_Item]) -> Iterator[_Item]:
        from refundctl.due import NOTHING_TO_DO_WHEN_PASSED

        for item in items:
            if not self.any and (
                item.binds == "buyer"
                or (item.due_at <= self.now and item.name not in NOTHING_TO_DO_WHEN_PASSED)
            ):
                self.any = True
            yield item


def _print_check(
    e: Env,
    chosen: OutputFormat,
    shown: _Needs,
    ledger: "LedgerFile",
    horizon: datetime,
    filters: "Filters",
    everything: bool,
    label: str,
) -> None:
    def items() -> Iterator["CheckItem"]:
        return shown.watch(ledger.due(e.now, horizon, filters, everything))

    def as_json() -> None:
        from refundctl.render import jsonshape

        at = e.now.timestamp()
        lines = ledger.due_json(
            e.now, horizon, filters, everything, lambda item: jsonshape.check_item(item, at)
        )
        texts = (line.json for line in shown.watch(lines))
        emit_streamed(jsonshape.check_text(texts, e.now, label.strip()))

    def as_csv() -> None:
        from refundctl.render.exporting import CHECK_COLUMNS, check_rows

        emit_csv(CHECK_COLUMNS, check_rows(items(), e.now))

    def as_lines() -> None:
        from refundctl.render.text import check_lines

        emit_streamed(line + "\n" for line in check_lines(items(), e.now, e.zone))

    in_format(chosen, table=as_lines, json=as_json, csv=as_csv)
