"""``status``: active disputes and open orders, most urgent first; and ``gather``, which
computes every view afresh for the commands that need them all."""

from __future__ import annotations

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
    emit_json,
    emit_streamed,
    env,
    in_format,
    make_filters,
    output_format,
    seller_record_line,
    show,
)
from refundctl.cli.completion import complete_dispute
from refundctl.due import Filters
from refundctl.views import DisputeView, OrderView, dispute_view, order_view

if TYPE_CHECKING:
    from refundctl.deadlines import Deadline
    from refundctl.records import DisputeRecord

Json = Annotated[bool, JSON_OPTION]
DEFAULT_LIMIT = 20


def gather(
    e: Env, *, include_closed: bool = False, filters: Filters | None = None
) -> tuple[list[DisputeView], list[OrderView]]:
    """Every dispute and open order as views, filtered, most urgent first."""
    policy_for, zone, now = e.settings.policy_for, e.zone, e.now
    with (
        e.ledger(write=False) as ledger,
        ledger.ranked(now, include_closed=include_closed, filters=filters) as (disputes, orders),
    ):
        return (
            [dispute_view(r, policy_for, zone, now, found) for r, found in disputes],
            [order_view(o, policy_for, zone, now, found) for o, found in orders],
        )


@app.command()
def status(
    ctx: typer.Context,
    dispute: Annotated[
        int | None,
        typer.Argument(
            metavar="DISPUTE", help="Show this dispute in full.", autocompletion=complete_dispute
        ),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include closed disputes.")] = False,
    limit: Annotated[
        int,
        typer.Option(
            metavar="N", help="Rows to show, most urgent first; 0 shows all.", min=0, max=10**9
        ),
    ] = DEFAULT_LIMIT,
    marketplace: MarketplaceFilter = None,
    state: StateFilter = None,
    seller: SellerFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    format: FormatOption = None,
    as_json: Json = False,
) -> None:
    """Show active disputes and open order windows, most urgent first."""
    e = env(ctx)
    chosen = output_format(as_json, format)
    if dispute is not None:
        _one(e, dispute, chosen)
        return
    filters = make_filters(
        e, marketplace=marketplace, states=state, seller=seller, since=since, until=until
    )
    include_closed = show_all or bool(state)

    def as_table() -> None:
        if limit > 0:
            _most_urgent(e, limit, include_closed, filters)
            return
        from refundctl.render.tables import status_view

        disputes, orders = gather(e, include_closed=include_closed, filters=filters)
        show(status_view(disputes, 0, orders, 0, e.now, e.zone))

    def as_csv() -> None:
        from refundctl.render.exporting import STATUS_COLUMNS, status_rows

        disputes, orders = gather(e, include_closed=include_closed, filters=filters)
        emit_csv(STATUS_COLUMNS, status_rows(disputes, orders, e.now))

    in_format(
        chosen,
        table=as_table,
        json=lambda: _status_json(e, include_closed, filters),
        csv=as_csv,
    )


def _status_json(e: Env, include_closed: bool, filters: Filters) -> None:
    """Every dispute and open order, most urgent first, streamed as the ledger reads them."""
    from refundctl.render import jsonshape

    policy_for, zone, now = e.settings.policy_for, e.zone, e.now

    def shape(record: DisputeRecord, found: list[Deadline]) -> str:
        return jsonshape.dispute_text(dispute_view(record, policy_for, zone, now, found), now)

    with (
        e.ledger(write=False) as ledger,
        ledger.ranked_json(now, include_closed=include_closed, filters=filters, shape=shape) as (
            disputes,
            orders,
        ),
    ):
        emit_streamed(
            jsonshape.status_text(
                disputes,
                (order_view(o, policy_for, zone, now, found) for o, found in orders),
                now,
            )
        )


def _most_urgent(e: Env, limit: int, include_closed: bool, filters: Filters) -> None:
    """The status table: the ``limit`` most urgent rows of each kind, and how many more."""
    from refundctl.render.tables import status_view

    with e.ledger(write=False) as ledger:
        top = ledger.most_urgent(e.now, limit, include_closed=include_closed, filters=filters)
    policy_for = e.settings.policy_for
    disputes = [
        dispute_view(r, policy_for, e.zone, e.now, top.dispute_deadlines.get(r.id, []))
        for r in top.records
    ]
    order_views = [
        order_view(o, policy_for, e.zone, e.now, top.order_deadlines.get(o.order.id, []))
        for o in top.orders
    ]
    more = top.disputes - len(disputes), top.open_orders - len(order_views)
    show(status_view(disputes, max(more[0], 0), order_views, max(more[1], 0), e.now, e.zone))


def _one(e: Env, dispute: int, chosen: OutputFormat) -> None:
    with e.ledger(write=False) as ledger:
        record = ledger.dispute(dispute)
        record_line = seller_record_line(ledger, record) if chosen is OutputFormat.TABLE else None
    view = dispute_view(record, e.settings.policy_for, e.zone, e.now)

    def as_json() -> None:
        from refundctl.render import jsonshape

        emit_json(jsonshape.dispute(view, e.now, detail=True))

    def as_csv() -> None:
        from refundctl.render.exporting import STATUS_COLUMNS, status_rows

        emit_csv(STATUS_COLUMNS, status_rows([view], [], e.now))

    def as_table() -> None:
        from refundctl.render.detail import dispute_detail

        show(dispute_detail(view, e.zone, e.now, record_line))

    in_format(chosen, table=as_table, json=as_json, csv=as_csv)
