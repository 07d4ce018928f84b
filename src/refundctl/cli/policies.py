"""``refundctl policies``: the deadline rules in effect, where each comes from."""

from __future__ import annotations

from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    FormatOption,
    OutputFormat,
    emit_csv,
    emit_json,
    env,
    in_format,
    output_format,
    show,
)
from refundctl.errors import BadInput
from refundctl.payment import Network
from refundctl.policies import normalize_marketplace


@app.command()
def policies(
    ctx: typer.Context,
    marketplace: Annotated[
        str | None,
        typer.Argument(metavar="MARKETPLACE", help="Show this marketplace's rules in full."),
    ] = None,
    format: FormatOption = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show the deadline rules in effect (built-in, from your config, or assumed), and the
    remedies beyond the marketplace: each card network's and PayPal's window."""
    from refundctl.render import policyview

    e = env(ctx)
    names = e.policies.names()
    rails = [n.value for n in Network]
    if marketplace is not None:
        wanted = normalize_marketplace(marketplace)
        if wanted in rails and wanted not in names:
            _rail(Network(wanted), output_format(as_json, format))
            return
        if wanted not in names:
            raise BadInput(
                f"no policy for {marketplace!r}; known: {', '.join(names)}, and the rails "
                f"{', '.join(r for r in rails if r not in names)} "
                "(any other marketplace uses generic; add one under [marketplaces.NAME] "
                "in the config file)"
            )
        names = [wanted]
    chosen = [e.policies.for_marketplace(name) for name in names]
    in_format(
        output_format(as_json, format),
        table=lambda: show(
            policyview.overview(chosen) if marketplace is None else policyview.detail(chosen[0])
        ),
        json=lambda: emit_json(
            {
                "policies": [policyview.policy_json(p) for p in chosen],
                **(policyview.remedies_json() if marketplace is None else {}),
            }
        ),
        csv=lambda: emit_csv(policyview.CSV_COLUMNS, policyview.policy_rows(chosen)),
    )


def _rail(network: Network, chosen: OutputFormat) -> None:
    """``policies visa``: one rail's remedy in full."""
    from refundctl.render import policyview

    def as_json() -> None:
        found = policyview.remedies_json()
        emit_json({"remedies": [r for r in found["remedies"] if r["rail"] == network.value]})

    def as_csv() -> None:
        raise BadInput("a rail's remedy has no CSV form; use --json")

    in_format(
        chosen, table=lambda: show(policyview.remedy_detail(network)), json=as_json, csv=as_csv
    )
