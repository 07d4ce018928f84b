"""Shell completion from the ledger: dispute numbers, order numbers, marketplaces, moves.

Typer calls these while the user presses Tab, before any command runs, so each opens the ledger
read-only on its own (``--db`` if typed, else ``REFUNDCTL_DB``, else the default) and returns
nothing rather than fail: a completion must never print an error into the user's prompt.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def _ledger_path(ctx: typer.Context) -> Path:
    root = ctx.find_root()
    given = root.params.get("db") if root.params else None
    if given:
        return Path(given).expanduser()
    if os.environ.get("REFUNDCTL_DB"):
        return Path(os.environ["REFUNDCTL_DB"]).expanduser()
    from refundctl.config import default_ledger_path

    return default_ledger_path()


def _from_ledger(read: Callable[[Any], list[tuple[str, str]]]) -> Callable[..., list[Any]]:
    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        try:
            from datetime import UTC

            from refundctl.ledger.connection import Settings
            from refundctl.ledger.store import Ledger
            from refundctl.policies import policy_for

            path = _ledger_path(ctx)
            if not path.exists():
                return []
            settings = Settings(zone=UTC, policy_for=policy_for)
            with Ledger.open(path, settings, write=False, missing_ok=True) as ledger:
                found = read(ledger)
        except Exception:  # a completion must never fail in the user's prompt
            return []
        return [(value, help_text) for value, help_text in found if value.startswith(incomplete)]

    return complete


def _dispute_help(marketplace: str, order_no: str, state: str) -> str:
    from refundctl.render.fmt import state_words

    return f"{marketplace} order {order_no}, {state_words(state)}"


complete_dispute = _from_ledger(
    lambda ledger: [
        (number, _dispute_help(marketplace, order_no, state))
        for number, marketplace, order_no, state in ledger.completion("disputes")
    ]
)
complete_order = _from_ledger(
    lambda ledger: [
        (number, f"{marketplace} {title}".strip())
        for number, marketplace, title in ledger.completion("orders")
    ]
)


def complete_marketplace(ctx: typer.Context, incomplete: str) -> list[str]:
    from refundctl.policies import KNOWN_MARKETPLACES

    known = set(KNOWN_MARKETPLACES)
    # Completion runs before any command: read the config and the ledger here, quietly.
    with contextlib.suppress(Exception):
        from refundctl.config import load_config

        known |= set(load_config().policies.names()) - {"generic"}
    known |= {name for name, _ in _ledger_marketplaces(ctx, "")}
    return sorted(name for name in known if name.startswith(incomplete.lower()))


_ledger_marketplaces = _from_ledger(
    lambda ledger: [(name, "") for (name,) in ledger.completion("marketplaces")]
)


def complete_move(ctx: typer.Context, incomplete: str) -> list[str]:
    """The moves the dispute already typed allows from its state; all of them without one."""
    from refundctl.domain import ALLOWED_FROM, RESPOND_MOVES, State

    moves = list(RESPOND_MOVES)
    dispute = ctx.params.get("dispute") if ctx.params else None
    if dispute is not None:
        number = str(dispute)
        found = [state for value, state in _dispute_states(ctx, number) if value == number]
        if found and found[0] in {state.value for state in State}:
            moves = [move for move in moves if State(found[0]) in ALLOWED_FROM[move]]
    return [move.value for move in moves if move.value.startswith(incomplete)]


_dispute_states = _from_ledger(
    lambda ledger: [(number, state) for number, _, _, state in ledger.completion("disputes")]
)
