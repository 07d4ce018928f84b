"""How the policies in effect are shown: an overview table, one policy in full, and JSON.

Pure: policies in, renderables and dicts out. ``policy_json`` imports no Rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refundctl.policies import RULE_KINDS, Origin, Policy, RuleName, resolve

if TYPE_CHECKING:
    from rich.console import RenderableType


def _cell(policy: Policy, name: RuleName) -> str:
    resolved = resolve(policy, name)
    if resolved is None:
        return "—"
    mark = {Origin.ASSUMED: "*", Origin.CONFIG: "†", Origin.BUILT_IN: ""}[resolved.origin]
    return f"{resolved.rule}{mark}"


# Six policies fit 80 terminal columns beside the rule names; more go in further tables.
COLUMNS_PER_TABLE = 6


def overview(policies: Sequence[Policy]) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    tables: list[RenderableType] = []
    for start in range(0, len(policies), COLUMNS_PER_TABLE):
        chunk = policies[start : start + COLUMNS_PER_TABLE]
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
        table.add_column("Rule", no_wrap=True)
        for policy in chunk:
            table.add_column(policy.name, no_wrap=True)
        for name in RuleName:
            table.add_row(name.value, *(_cell(policy, name) for policy in chunk))
        if tables:
            tables.append(Text(""))
        tables.append(table)
    legend = Text(
        "d calendar days, bd business days, h hours, a–b a range (you get the low end, "
        "the other side the high end); * assumed (no published number), † from your config, "
        "— no such step. 'refundctl policies NAME' shows sources and what each counts from.",
        style="dim",
    )
    return Group(*tables, legend)


def detail(policy: Policy) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text(f"{policy.title} ({policy.name})", style="bold")

    def mark(setting: str) -> str:
        return " (from your config)" if setting in policy.from_config else ""

    facts = [
        f"deadlines read in: {policy.timezone or 'your time zone only'}{mark('timezone')}",
        "business days skip: weekends"
        + (f" and {policy.holidays} public holidays" if policy.holidays else "")
        + mark("holidays"),
    ]
    if policy.source:
        checked = f" (checked {policy.checked:%Y-%m-%d})" if policy.checked else ""
        facts.append(f"source: {policy.source}{checked}")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("Rule", no_wrap=True)
    table.add_column("Time", no_wrap=True)
    table.add_column("Counts from", overflow="fold")
    table.add_column("Binds", no_wrap=True)  # or "earliest": the first moment to act
    table.add_column("From", no_wrap=True)
    for name in RuleName:
        resolved = resolve(policy, name)
        if resolved is None:
            table.add_row(name.value, "—", Text("no such step", style="dim"), "", "")
            continue
        kind = RULE_KINDS[name]
        table.add_row(
            name.value,
            str(resolved.rule),
            ", else ".join(str(a) for a in resolved.anchors),
            "earliest" if kind.binds is None else str(kind.binds),
            str(resolved.origin),
        )
    return Group(head, *(Text(f) for f in facts), Text(""), table)


def policy_json(policy: Policy) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for name in RuleName:
        resolved = resolve(policy, name)
        kind = RULE_KINDS[name]
        binds = None if kind.binds is None else str(kind.binds)
        if resolved is None:
            rules.append({"name": name.value, "present": False, "binds": binds})
            continue
        rule = resolved.rule
        rules.append(
            {
                "name": name.value,
                "present": True,
                "duration": str(rule.duration),
                "upto": None if rule.upto is None else str(rule.upto),
                "applied": str(resolved.duration),
                "counts_from": [str(a) for a in resolved.anchors],
                "sooner": None if rule.sooner is None else str(rule.sooner),
                "binds": binds,
                "earliest": kind.binds is None,
                "action": kind.task.replace("{market}", policy.market)
                if kind.binds is None
                else resolved.action,
                "if_missed": None if kind.binds is None else str(resolved.if_missed),
                "origin": str(resolved.origin),
                "assumed": resolved.assumed,
                "source": resolved.source,
                "note": None
                if rule.note is None or rule.note.startswith("https://")
                else rule.note,
            }
        )
    return {
        "name": policy.name,
        "title": policy.title,
        "timezone": policy.timezone,
        "holidays": policy.holidays,
        "source": policy.source,
        "checked": None if policy.checked is None else policy.checked.isoformat(),
        "rules": rules,
    }


def _plain_note(note: str | None) -> str | None:
    """A rule's note, unless it is only the URL of its source (shown as ``source``)."""
    return None if note is None or note.startswith("https://") else note


CSV_COLUMNS = (
    "marketplace",
    "rule",
    "present",
    "duration",
    "upto",
    "applied",
    "counts_from",
    "binds",
    "origin",
    "assumed",
    "source",
)


def policy_rows(policies: Sequence[Policy]) -> list[dict[str, Any]]:
    """One row per marketplace and rule, for ``--format csv``."""
    rows = []
    for policy in policies:
        for rule in policy_json(policy)["rules"]:
            rows.append(
                {
                    "marketplace": policy.name,
                    "rule": rule["name"],
                    "present": rule["present"],
                    "duration": rule.get("duration"),
                    "upto": rule.get("upto"),
                    "applied": rule.get("applied"),
                    "counts_from": ", ".join(rule.get("counts_from", [])),
                    "binds": rule["binds"],
                    "origin": rule.get("origin"),
                    "assumed": rule.get("assumed"),
                    "source": rule.get("source"),
                }
            )
    return rows
