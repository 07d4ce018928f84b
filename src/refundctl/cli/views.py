"""``status`` and ``check``: what is due, for people and for cron."""

from __future__ import annotations

from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    Env,
    MarketplaceFilter,
    emit_json,
    env,
    marketplace_option,
    show,
    within,
)
from refundctl.errors import BadInput
from refundctl.views import (
    DisputeView,
    OrderView,
    by_urgency,
    check_items,
    dispute_view,
    order_view,
    orders_by_urgency,
)

Json = Annotated[bool, JSON_OPTION]
DEFAULT_LIMIT = 20


def gather(
    e: Env, *, include_closed: bool = False, marketplace: str | None = None
) -> tuple[list[DisputeView], list[OrderView]]:
    """Every dispute and open order as views, most urgent first."""
    with e.ledger(write=False) as ledger:
        records = ledger.disputes(include_closed=include_closed)
        open_orders = ledger.open_orders()
    policy_for = e.settings.policy_for
    disputes = [dispute_view(r, policy_for, e.zone) for r in records]
    orders = [
        order_view(o, left, policy_for, e.zone, e.now, disputed=disputed)
        for o, left, disputed in open_orders
    ]
    orders = [v for v in orders if v.deadlines]
    if marketplace is not None:
        disputes = [v for v in disputes if v.record.order.marketplace == marketplace]
        orders = [v for v in orders if v.order.marketplace == marketplace]
    return by_urgency(disputes, e.now), orders_by_urgency(orders, e.now)


@app.command()
def status(
    ctx: typer.Context,
    dispute: Annotated[
        int | None,
        typer.Argument(metavar="DISPUTE", help="Show this dispute in full."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include closed disputes.")] = False,
    limit: Annotated[
        int,
        typer.Option(metavar="N", help="Rows to show, most urgent first; 0 shows all.", min=0),
    ] = DEFAULT_LIMIT,
    marketplace: MarketplaceFilter = None,
    as_json: Json = False,
) -> None:
    """Show active disputes and open order windows, most urgent first."""
    e = env(ctx)
    if dispute is not None:
        _one(e, dispute, as_json)
        return
    disputes, orders = gather(
        e, include_closed=show_all, marketplace=marketplace_option(marketplace)
    )
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.status(disputes, orders, e.now))
        return
    from refundctl.render.tables import status_view

    show(status_view(disputes, orders, e.now, e.zone, limit))


def _one(e: Env, dispute: int, as_json: bool) -> None:
    with e.ledger(write=False) as ledger:
        record = ledger.dispute(dispute)
    view = dispute_view(record, e.settings.policy_for, e.zone)
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.dispute(view, e.now, detail=True))
        return
    from refundctl.render.tables import dispute_detail

    show(dispute_detail(view, e.zone, e.now))


@app.command()
def check(
    ctx: typer.Context,
    within_text: Annotated[
        str,
        typer.Option("--within", metavar="DURATION", help="How far ahead to look: 48h, 3d, 2w."),
    ] = "3d",
    as_json: Json = False,
) -> None:
    """Exit 1 if any deadline is overdue or due within the window (for cron), else 0."""
    e = env(ctx)
    try:
        window = within(within_text)
    except BadInput as error:
        raise BadInput(f"--within: {error.message}") from None
    disputes, orders = gather(e)
    items = check_items(disputes, orders, e.now, window)
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.check(items, e.now, window, within_text.strip()))
    else:
        from refundctl.render.text import check_lines

        for line in check_lines(items, e.now, e.zone):
            typer.echo(line)
    raise typer.Exit(1 if items else 0)
