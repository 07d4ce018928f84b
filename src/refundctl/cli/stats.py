"""``stats``: what disputes were worth, per currency, and per marketplace, seller, reason or
month; in numbers and bars on a terminal, as JSON or CSV for scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    FormatOption,
    OutputFormat,
    emit_csv,
    emit_streamed,
    env,
    in_format,
    output_format,
    show,
)
from refundctl.errors import BadInput
from refundctl.stats import GroupBy


@app.command()
def stats(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Only disputes opened at or after WHEN.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Only disputes opened at or before WHEN.")
    ] = None,
    by: Annotated[
        GroupBy | None,
        typer.Option(
            case_sensitive=False,
            metavar="GROUP",
            help="marketplace, seller, reason or month: the same figures per group.",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            metavar="N", help="With --by, the groups to show, largest first; 0 shows all.", min=0
        ),
    ] = 20,
    format: FormatOption = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """What your disputes were worth: asked, recovered, how they ended and how long they
    took, per currency (never summed across currencies)."""
    from refundctl.render import stats as view

    e = env(ctx)
    chosen = output_format(as_json, format)
    start = e.maybe_when(since, option="--since")
    end = e.maybe_when(until, option="--until")
    if start is not None and end is not None and start > end:
        raise BadInput("--since is after --until; give the earlier moment to --since")
    groupings = [by] if by is not None or chosen is not OutputFormat.TABLE else []
    if by is None and chosen is OutputFormat.TABLE:
        groupings = [GroupBy.MARKETPLACE, GroupBy.MONTH]  # the pictures' groups
    with e.ledger(write=False) as ledger:
        counted = ledger.stats(groupings, since=start, until=end, zone=e.zone)

    def table() -> None:
        if by is not None:
            show(view.groups_view(counted[0], limit))
        else:
            show(view.overview(counted[0], counted[1]))

    in_format(
        chosen,
        table=table,
        json=lambda: emit_streamed(view.stats_text(counted[0], e.now, start, end)),
        csv=lambda: emit_csv(view.CSV_COLUMNS, list(view.csv_rows(counted[0]))),
    )
