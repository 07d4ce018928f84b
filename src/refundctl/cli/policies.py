"""``refundctl policies``: the deadline rules in effect, where each comes from."""

from __future__ import annotations

from typing import Annotated

import typer

from refundctl.cli import app
from refundctl.cli.common import (
    JSON_OPTION,
    FormatOption,
    emit_csv,
    emit_json,
    env,
    in_format,
    output_format,
    show,
)
from refundctl.errors import BadInput
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
    """Show the deadline rules in effect: built-in, from your config, or assumed."""
    from refundctl.render import policyview

    e = env(ctx)
    names = e.policies.names()
    if marketplace is not None:
        wanted = normalize_marketplace(marketplace)
        if wanted not in names:
            raise BadInput(
                f"no policy for {marketplace!r}; known: {', '.join(names)} "
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
        json=lambda: emit_json({"policies": [policyview.policy_json(p) for p in chosen]}),
        csv=lambda: emit_csv(policyview.CSV_COLUMNS, policyview.policy_rows(chosen)),
    )
