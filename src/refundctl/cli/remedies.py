"""``refundctl remedies ORDER``: what is left to try once the marketplace says no.

Reads the order with all its disputes (one read), hands them to ``remedy_view`` and prints the
result: stacked for people, one object with ``--json`` (docs/json.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import JSON_OPTION, emit_json, env, marketplace_option, show
from refundctl.cli.completion import complete_marketplace, complete_order
from refundctl.errors import BadInput
from refundctl.ledger.store import OrderRef


@app.command()
def remedies(
    ctx: typer.Context,
    order_no: Annotated[
        str,
        typer.Argument(
            metavar="ORDER_NO",
            help="The marketplace's order number.",
            autocompletion=complete_order,
        ),
    ],
    marketplace: Annotated[
        str | None,
        typer.Option(
            "--marketplace",
            "-m",
            metavar="MARKETPLACE",
            help="When two marketplaces share the order number.",
            autocompletion=complete_marketplace,
        ),
    ] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Every remedy still open for an order, in the order to try them: the marketplace,
    PayPal, the card; each with its window and what it excludes."""
    from refundctl.remedy_view import remedies_for

    e = env(ctx)
    number = order_no.strip()
    if not number:
        raise BadInput("give the order number, as 'refundctl order list' shows it")
    with e.ledger(write=False) as ledger:
        detail = ledger.order_detail(OrderRef(number, marketplace_option(marketplace)))
    found = remedies_for(detail.standing, detail.disputes, e.settings.policy_for, e.zone, e.now)
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.remedies(found, e.now))
        return
    from refundctl.render.remedies import remedies_view

    show(remedies_view(found, e.zone, e.now))
