"""What ``order import`` says it did: per file, what it read, and the money that came back.

Pure text and JSON shapes. The summary names the file's format and counts its orders, what
changed, and the rows it skipped and why ("Amazon order history: 3 orders (3 added, 0 updated,
0 unchanged); 1 row skipped: cancelled"). Each refund or return the file held follows on a line
of its own: recorded on its dispute, or why not, with the command that records it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, assert_never

from refundctl.exports.facts import Back, Matched, MoneyBack, MoneyMatch
from refundctl.money import format_money
from refundctl.timeparse import iso


def summary_line(
    title: str,
    counts: tuple[int, int, int],
    skipped: Counter[str],
    money: Sequence[MoneyMatch] = (),
) -> str:
    """One file's reading: ``PayPal activity: 2 orders (2 added, 0 updated, 0 unchanged);
    1 refund; 2 rows skipped: funding (1), holds (1)``. ``counts`` are the orders added,
    updated and left unchanged."""
    added, updated, unchanged = counts
    orders = added + updated + unchanged
    parts = []
    if orders or not money:
        parts.append(
            f"{orders:,} order{'' if orders == 1 else 's'} "
            f"({added:,} added, {updated:,} updated, {unchanged:,} unchanged)"
        )
    for kind in Back:
        count = sum(1 for match in money if match.back.kind is kind)
        if count:
            parts.append(f"{count:,} {kind}{'' if count == 1 else 's'}")
    line = f"{title}: " + ", ".join(parts)
    count = sum(skipped.values())
    if count:
        reasons = sorted(skipped.items(), key=lambda pair: (-pair[1], pair[0]))
        why = (
            reasons[0][0]
            if len(reasons) == 1
            else ", ".join(f"{reason} ({n:,})" for reason, n in reasons)
        )
        line += f"; {count:,} row{'' if count == 1 else 's'} skipped: {why}"
    return line


def _what(back: MoneyBack) -> str:
    kind = "refund" if back.kind is Back.REFUND else "return"
    when = f" on {back.at.date().isoformat()}" if back.at is not None else ""
    return (
        f"line {back.line}: {kind} of {format_money(back.amount, back.currency)}{when} "
        f"for {back.marketplace} order {back.order_no}"
    )


def money_line(match: MoneyMatch, *, dry_run: bool) -> str:
    """What became of one refund or return, and the command that records it where needed."""
    back, disputes = match.back, match.disputes
    command = record_command(match)
    then = f": {command}" if command else ""
    match match.outcome:
        case Matched.RECORDED:
            verb = "would be recorded" if dry_run else "recorded"
            return f"{_what(back)}: {verb} on dispute {disputes[0]}"
        case Matched.ALREADY:
            return f"{_what(back)}: dispute {disputes[0]} holds it already"
        case Matched.NO_ORDER:
            return f"{_what(back)}: no such order in the ledger; import its order history first"
        case Matched.NO_DISPUTE:
            return f"{_what(back)}: no active dispute on the order records it{then}"
        case Matched.NOT_WAITING:
            return (
                f"{_what(back)}: dispute {disputes[0]} is not waiting for this amount; "
                f"if it is this dispute's money{then}"
            )
        case Matched.SEVERAL:
            listed = ", ".join(str(d) for d in disputes)
            return f"{_what(back)}: the order has active disputes {listed}; on the right one{then}"
        case Matched.REFUSED:
            return f"{_what(back)}: dispute {disputes[0]} refused it ({match.note}){then}"
        case Matched.OPEN:
            return f"{_what(back)}: dispute {disputes[0]} is open on the order"
        case _:
            assert_never(match.outcome)


# Amazon's return reasons, as its files write them, in refundctl's words; any other is "other".
_REASONS = {
    "defective": "defective",
    "damaged": "damaged",
    "damaged_by_carrier": "damaged",
    "not_as_described": "not-as-described",
    "missing_parts": "missing-parts",
    "wrong_item": "wrong-item",
    "not_received": "not-received",
}


def record_command(match: MoneyMatch) -> str | None:
    """The command that records a refund or a return the import did not, or None."""
    back = match.back
    on = f" --on {iso(back.at)}" if back.at is not None else ""
    amount = str(back.amount)
    if match.outcome in (Matched.RECORDED, Matched.ALREADY, Matched.NO_ORDER, Matched.OPEN):
        return None
    if match.outcome is Matched.NO_DISPUTE:
        reason = _REASONS.get((back.reason or "").strip().lower().replace(" ", "_"), "other")
        opening = (
            f"refundctl open {back.order_no} --marketplace {back.marketplace} "
            f"--reason {reason} --amount {amount}{on}"
        )
        if back.kind is Back.RETURN:
            return opening
        return f"{opening}, then refundctl resolve DISPUTE --refunded {amount}{on}"
    dispute = str(match.disputes[0]) if match.outcome is not Matched.SEVERAL else "DISPUTE"
    return f"refundctl resolve {dispute} --refunded {amount}{on}"


def money_json(match: MoneyMatch) -> dict[str, Any]:
    back = match.back
    return {
        "kind": str(back.kind),
        "marketplace": back.marketplace,
        "order": back.order_no,
        "amount": str(back.amount),
        "currency": back.currency,
        "at": None if back.at is None else iso(back.at),
        "line": back.line,
        "outcome": str(match.outcome),
        "disputes": list(match.disputes),
        "command": record_command(match),
    }
