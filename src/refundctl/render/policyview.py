"""How the policies in effect are shown: an overview table, one policy in full, and JSON; and
beside them the remedies beyond the marketplace (remedy_rules.py): each rail's windows, what
filing does to each marketplace's case, one rail in full.

Pure: policies in, renderables and dicts out. ``policy_json`` and ``remedies_json`` import no
Rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refundctl.policies import RULE_KINDS, Origin, Policy, RuleName, resolve

if TYPE_CHECKING:
    from rich.console import RenderableType

    from refundctl.payment import Network
    from refundctl.remedy_rules import Window


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
    return Group(*tables, legend, Text(""), remedies_overview())


def remedies_overview() -> RenderableType:
    """Each rail's windows by family, and what filing does to each marketplace's case."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from refundctl.remedy_rules import EXCLUSIONS, REMEDIES, Family

    table = Table(
        title="Remedies beyond the marketplace",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    table.add_column("Rail", no_wrap=True)
    table.add_column("Covers", no_wrap=True)
    table.add_column("Window", no_wrap=True)
    table.add_column("From the later of", overflow="fold")
    table.add_column("Wait", no_wrap=True)
    for rule in REMEDIES.values():
        for family, window in rule.windows.items():
            first = family is Family.NOT_RECEIVED
            sooner = (
                ""
                if window.sooner is None
                else f"; {window.sooner[0]} from {window.sooner[1]} if sooner"
            )
            table.add_row(
                rule.network.value if first else "",
                str(family),
                f"{window}{'*' if rule.assumed else ''}",
                _counts_from(window) + sooner,
                "" if window.wait is None else str(window.wait),
            )
    effects = Table(
        title="Filing a chargeback or PayPal claim",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    effects.add_column("Marketplace", no_wrap=True)
    effects.add_column("What it does to the case", overflow="fold")
    for exclusion in EXCLUSIONS.values():
        effects.add_row(
            exclusion.marketplace, exclusion.effect + (" *" if exclusion.assumed else "")
        )
    legend = Text(
        "≤N: never later than N from the payment; wait: the issuer takes it only that long "
        "after the payment when no delivery date was given; * assumed (no published rule "
        "found). Your card issuer's own deadline may be shorter. 'refundctl policies visa' "
        "shows a rail in full; docs/remedies.md explains them.",
        style="dim",
    )
    return Group(table, Text(""), effects, legend)


def _counts_from(window: Window) -> str:
    return ", ".join(str(anchor) for anchor in window.counts_from)


def remedy_detail(network: Network) -> RenderableType:
    """One rail in full: its windows in its own words, where they were read, and how a
    dispute filed through it moves (a card network's policy)."""
    from rich.console import Group
    from rich.text import Text

    from refundctl.remedy_rules import NETWORK_POLICIES, REMEDIES

    rule = REMEDIES[network]
    parts: list[RenderableType] = [Text(f"{rule.title} ({network.value})", style="bold")]
    for family, window in rule.windows.items():
        parts.append(Text(f"{family}: {window.says} ({_counts_from(window)})"))
    parts.append(Text(f"deadline: {rule.deadline}"))
    if rule.source:
        parts.append(Text(f"source: {rule.source} (checked {rule.checked:%Y-%m-%d})"))
    else:
        parts.append(Text("source: none published: the value is assumed"))
    if rule.read_at:
        parts.append(Text(f"read at: {rule.read_at}", style="dim"))
    if rule.note:
        parts.append(Text(rule.note, style="dim"))
    policy = NETWORK_POLICIES.get(network)
    if policy is not None:
        parts += [Text(""), detail(policy)]
    return Group(*parts)


def remedies_json() -> dict[str, Any]:
    """The rails' windows and what filing does to each marketplace's case, for ``--json``."""
    from refundctl.remedy_rules import EXCLUSIONS, REMEDIES

    return {
        "remedies": [
            {
                "rail": rule.network.value,
                "title": rule.title,
                "deadline": rule.deadline,
                "windows": {
                    str(family): {
                        "duration": str(window.duration),
                        "counts_from": [str(anchor) for anchor in window.counts_from],
                        "cap": None if window.cap is None else str(window.cap),
                        "wait": None if window.wait is None else str(window.wait),
                        "wait_unless": None
                        if window.wait_unless is None
                        else str(window.wait_unless),
                        "sooner": None
                        if window.sooner is None
                        else f"{window.sooner[0]} from {window.sooner[1]}",
                        "says": window.says,
                    }
                    for family, window in rule.windows.items()
                },
                "assumed": rule.assumed,
                "source": rule.source,
                "read_at": rule.read_at,
                "note": rule.note,
                "checked": rule.checked.isoformat(),
            }
            for rule in REMEDIES.values()
        ],
        "exclusions": [
            {
                "marketplace": e.marketplace,
                "effect": e.effect,
                "assumed": e.assumed,
                "source": e.source,
                "says": e.says,
            }
            for e in EXCLUSIONS.values()
        ],
    }


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
