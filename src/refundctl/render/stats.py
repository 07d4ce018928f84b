"""``stats`` shown: its JSON, its CSV rows, and the terminal's numbers beside bars.

Pure: everything here takes ``stats.Stats`` and returns text, rows or a Rich renderable. The
bars are drawn at the width Rich gives them; on a terminal in block characters and colour,
piped in plain characters (``#``, ``x``, ``-``, ``.``) that any reader or file keeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from refundctl.money import format_money, quantum
from refundctl.render.jsonshape import array_lines
from refundctl.stats import OUTCOMES, Figures, GroupBy, Stats
from refundctl.stats import Group as StatsGroup
from refundctl.terms import State
from refundctl.timeparse import iso

# --- JSON and CSV -----------------------------------------------------------------------------


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _amount(value: Decimal, currency: str) -> str:
    """Money as a decimal string with the currency's places: "0.00", never "0"."""
    return str(value.quantize(quantum(currency)))


def figures_json(f: Figures, currency: str) -> dict[str, Any]:
    return {
        "disputes": f.disputes,
        "by_outcome": {state.value: f.by_outcome[state] for state in OUTCOMES},
        "requested": _amount(f.requested, currency),
        "recovered": _amount(f.recovered, currency),
        "refunds": _amount(f.refunds, currency),
        "store_credit": _amount(f.store_credit, currency),
        "recovery_rate": _rate(f.recovery_rate),
        "median_days_to_close": f.median_days_to_close,
        "escalated": f.escalated,
        "escalated_outcomes": {
            **{state.value: f.escalated_outcomes[state] for state in OUTCOMES},
            "active": f.escalated_active,
        },
        "active": f.active,
        "at_stake": _amount(f.at_stake, currency),
    }


def stats_text(
    stats: Stats, now: datetime, since: datetime | None, until: datetime | None
) -> Iterator[str]:
    """``stats --json`` as text: the whole ledger's figures, then each group on a line of its
    own (a ledger may have a hundred thousand sellers)."""
    head = {
        "as_of": iso(now),
        "since": None if since is None else iso(since),
        "until": None if until is None else iso(until),
        "by": None if stats.by is None else stats.by.value,
        "disputes": stats.disputes,
        "currencies": {code: figures_json(f, code) for code, f in stats.currencies.items()},
    }
    text = json.dumps(head, ensure_ascii=False)
    if stats.by is None:
        yield text + "\n"
        return
    yield text[:-1] + ', "groups": ['
    yield from array_lines(
        (
            {
                "key": g.key,
                **({"marketplace": g.marketplace} if stats.by is GroupBy.SELLER else {}),
                "disputes": g.disputes,
                "currencies": {code: figures_json(f, code) for code, f in g.currencies.items()},
            }
            for g in stats.groups
        ),
        "]}\n",
    )


CSV_COLUMNS = (
    "group",
    "marketplace",
    "currency",
    "disputes",
    *(state.value for state in OUTCOMES),
    "active",
    "requested",
    "recovered",
    "refunds",
    "store_credit",
    "recovery_rate",
    "median_days_to_close",
    "escalated",
    "at_stake",
)


def csv_rows(stats: Stats) -> Iterator[dict[str, Any]]:
    """One row per currency of each group (of the whole ledger, ``all``, without ``--by``)."""
    groups = (
        [(g.key, g.marketplace, g.currencies) for g in stats.groups]
        if stats.by is not None
        else [("all", None, stats.currencies)]
    )
    for key, marketplace, currencies in groups:
        for currency, f in currencies.items():
            yield {
                "group": key,
                "marketplace": marketplace or "",
                "currency": currency,
                "disputes": f.disputes,
                **{state.value: f.by_outcome[state] for state in OUTCOMES},
                "active": f.active,
                "requested": _amount(f.requested, currency),
                "recovered": _amount(f.recovered, currency),
                "refunds": _amount(f.refunds, currency),
                "store_credit": _amount(f.store_credit, currency),
                "recovery_rate": "" if f.recovery_rate is None else str(f.recovery_rate),
                "median_days_to_close": (
                    "" if f.median_days_to_close is None else f.median_days_to_close
                ),
                "escalated": f.escalated,
                "at_stake": _amount(f.at_stake, currency),
            }


# --- the terminal -----------------------------------------------------------------------------

_OUTCOME_MARKS = {
    # state: (block on a terminal, its style, the plain character)
    State.REFUNDED: ("█", "green", "#"),
    State.LOST: ("▓", "red", "x"),
    State.WITHDRAWN: ("▒", "yellow", "-"),
    State.CANCELLED: ("░", "dim", "."),
}
_LABEL_MAX = 18
_BAR_MIN, _BAR_MAX = 6, 30


def _percent(rate: Decimal | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _days(value: float | None) -> str:
    if value is None:
        return "no case closed yet"
    return f"median {value:g} day{'s' if value != 1 else ''} to close"


def _label(text: str) -> str:
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def summary_lines(stats: Stats) -> list[Text]:
    """Per currency, what was asked, what came back and how the cases ended."""
    lines: list[Text] = []
    for code, f in stats.currencies.items():
        closed = sum(f.by_outcome.values())
        lines.append(
            Text.assemble((code, "bold"), f"  {f.disputes} dispute{'s' if f.disputes != 1 else ''}")
        )
        if closed:
            lines.append(
                Text(
                    f"     asked {format_money(f.requested, code)} on {closed} closed, "
                    f"recovered {format_money(f.recovered, code)} ({_percent(f.recovery_rate)})"
                )
            )
            if f.store_credit:
                lines.append(
                    Text(
                        f"     of it refunds {format_money(f.refunds, code)}, store credit "
                        f"{format_money(f.store_credit, code)}"
                    )
                )
            outcomes = ", ".join(
                f"{f.by_outcome[s]} {s.value}" for s in OUTCOMES if f.by_outcome[s]
            )
            lines.append(Text(f"     {outcomes}; {_days(f.median_days_to_close)}"))
        if f.escalated:
            ended = ", ".join(
                f"{f.escalated_outcomes[s]} {s.value}" for s in OUTCOMES if f.escalated_outcomes[s]
            )
            still = f"{f.escalated_active} still open" if f.escalated_active else ""
            how = "; ".join(part for part in (ended, still) if part)
            lines.append(Text(f"     escalated {f.escalated}: {how}"))
        if f.active:
            lines.append(Text(f"     active {f.active}, at stake {format_money(f.at_stake, code)}"))
    return lines


# A bar's row: its label, its segments (a value, and its outcome or None for "the rest"),
# and the numbers beside it.
_Row = tuple[str, list[tuple[float, State | None]], str]


class _Bars:
    """Labelled horizontal bars with their numbers beside them, drawn at the width given."""

    def __init__(
        self,
        title: str,
        rows: list[_Row],
        legend: bool = False,
    ) -> None:
        self.title, self.rows, self.legend = title, rows, legend

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plain = not console.is_terminal or console.no_color
        yield Text(self.title, style="bold")
        if self.legend:
            yield Text.assemble(
                "  ",
                *(
                    part
                    for state in OUTCOMES
                    for part in (_mark(state, 1, plain), f" {state.value}  ")
                ),
            )
        label_w = max((len(_label(label)) for label, _, _ in self.rows), default=0)
        numbers_w = max((len(numbers) for _, _, numbers in self.rows), default=0)
        room = options.max_width - 2 - label_w - 2 - 2 - numbers_w
        bar_w = max(_BAR_MIN, min(_BAR_MAX, room))
        scale = max((sum(v for v, _ in segments) for _, segments, _ in self.rows), default=0)
        for label, segments, numbers in self.rows:
            bar = Text()
            used = 0
            for value, state in segments:
                cells = round(value / scale * bar_w) if scale else 0
                cells = min(cells, bar_w - used)
                used += cells
                bar.append(_mark(state, cells, plain))
            bar.append(" " * (bar_w - used))
            yield Text.assemble("  ", _label(label).ljust(label_w), "  ", bar, "  ", numbers)


def _mark(state: State | None, cells: int, plain: bool) -> Text:
    if state is None:
        return Text(("." if plain else "░") * cells, style="" if plain else "dim")
    block, style, character = _OUTCOME_MARKS[state]
    if plain:
        return Text(character * cells)
    return Text(block * cells, style=style)


def _recovered_rows(stats: Stats) -> list[_Row]:
    rows = []
    for key, code, f in _per_marketplace(stats):
        if not f.requested:
            continue
        share = float(min(f.recovered, f.requested) / f.requested)
        rows.append(
            (
                f"{key} {code}",
                [(share, State.REFUNDED), (1 - share, None)],
                f"{format_money(f.recovered, code)} of {format_money(f.requested, code)} "
                f"· {_percent(f.recovery_rate)}",
            )
        )
    return rows


def _outcome_rows(stats: Stats) -> list[_Row]:
    rows: list[_Row] = []
    for key, code, f in _per_marketplace(stats):
        if not sum(f.by_outcome.values()):
            continue
        label = key if len(stats.currencies) == 1 else f"{key} {code}"
        segments: list[tuple[float, State | None]] = [(float(f.by_outcome[s]), s) for s in OUTCOMES]
        rows.append((label, segments, " · ".join(str(f.by_outcome[s]) for s in OUTCOMES)))
    return rows


def _per_marketplace(stats: Stats) -> Iterator[tuple[str, str, Figures]]:
    for group in stats.groups:
        for code, f in group.currencies.items():
            yield group.key, code, f


def overview(by_marketplace: Stats, by_month: Stats) -> RenderableType:
    """The default view: the figures per currency, then bars per marketplace and month."""
    parts: list[RenderableType] = []
    if not by_marketplace.disputes:
        return Text("No disputes in this span: nothing to count yet.")
    parts += [*summary_lines(by_marketplace), Text()]
    recovered = _recovered_rows(by_marketplace)
    if recovered:
        parts += [_Bars("Recovered of asked, closed disputes, by marketplace", recovered), Text()]
    outcomes = _outcome_rows(by_marketplace)
    if outcomes:
        parts += [_Bars("How they ended, by marketplace", outcomes, legend=True), Text()]
    months: list[_Row] = [
        (g.key, [(float(g.disputes), State.REFUNDED)], str(g.disputes)) for g in by_month.groups
    ]
    parts.append(_Bars("Disputes opened, by month", months))
    return Group(*parts)


# Below this width the groups are stacked, a few short lines each, as ``status`` stacks its
# disputes at 60 columns; from it on they are one table row each.
_TABLE_WIDTH = 110


def groups_view(stats: Stats, limit: int = 0) -> RenderableType:
    """``--by``: each group's figures per currency, largest group first; the first ``limit``
    groups only (0: all), and how many more there are. The table's "Ended r·l·w·c" counts
    refunded, lost, withdrawn and cancelled disputes."""
    if not stats.groups:
        return Text("No disputes in this span: nothing to count yet.")
    shown = stats.groups[:limit] if limit else stats.groups
    more = len(stats.groups) - len(shown)
    if not more:
        return _Groups(stats, shown)
    noun = {
        GroupBy.MARKETPLACE: "marketplaces",
        GroupBy.SELLER: "sellers",
        GroupBy.REASON: "reasons",
        GroupBy.MONTH: "months",
    }[stats.by or GroupBy.MARKETPLACE]
    return Group(
        _Groups(stats, shown),
        Text(f"… and {more:,} more {noun}: --limit 0 shows them all", style="dim"),
    )


class _Groups:
    def __init__(self, stats: Stats, shown: list[StatsGroup]) -> None:
        self.stats, self.shown = stats, shown

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= _TABLE_WIDTH:
            yield _groups_table(self.stats.by, self.shown)
            return
        for group in self.shown:
            n = group.disputes
            yield Text.assemble(
                (_group_name(group.key, group.marketplace), "bold"),
                f" · {n} dispute{'s' if n != 1 else ''}",
            )
            for code, f in group.currencies.items():
                ended = ", ".join(
                    f"{f.by_outcome[s]} {s.value}" for s in OUTCOMES if f.by_outcome[s]
                )
                lines = [f"ended: {ended}" if ended else "none closed yet"]
                if f.requested:
                    lines.append(
                        f"recovered {format_money(f.recovered, code)} of "
                        f"{format_money(f.requested, code)} ({_percent(f.recovery_rate)})"
                    )
                    lines.append(_days(f.median_days_to_close))
                if f.active:
                    lines.append(f"active {f.active}, at stake {format_money(f.at_stake, code)}")
                for number, line in enumerate(lines):
                    yield Text(f"  {code if number == 0 else '   '}  {line}")


def _group_name(key: str, marketplace: str | None) -> str:
    return key if marketplace is None else f"{key} ({marketplace})"


def _groups_table(by: GroupBy | None, groups: list[StatsGroup]) -> Table:
    title = {
        GroupBy.MARKETPLACE: "Marketplace",
        GroupBy.SELLER: "Seller",
        GroupBy.REASON: "Reason",
        GroupBy.MONTH: "Month",
    }[by or GroupBy.MARKETPLACE]
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column(title, overflow="fold")
    table.add_column("Disputes", justify="right")
    table.add_column("Ended r·l·w·c")
    table.add_column("Recovered of asked", overflow="fold")
    table.add_column("Rate", justify="right")
    table.add_column("Median days", justify="right")
    table.add_column("Active", overflow="fold")
    for group in groups:
        name = _group_name(group.key, group.marketplace)
        for code, f in group.currencies.items():
            table.add_row(
                name,
                str(f.disputes),
                " · ".join(str(f.by_outcome[s]) for s in OUTCOMES),
                f"{format_money(f.recovered, code)} of {format_money(f.requested, code)}"
                if f.requested
                else "–",
                _percent(f.recovery_rate),
                "–" if f.median_days_to_close is None else f"{f.median_days_to_close:g}",
                f"{f.active}, {format_money(f.at_stake, code)}" if f.active else "–",
            )
            name = ""
    return table
