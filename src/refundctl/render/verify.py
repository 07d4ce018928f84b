"""What ``refundctl verify`` prints: a short report for people, the whole report as JSON.

Pure: a ``VerifyReport`` in, lines or a JSON dict out. Every problem is one line that names the
file (its evidence number, dispute and original name, shown escaped) and what is wrong with it.
"""

from __future__ import annotations

from typing import Any

from refundctl.integrity import FileStatus, StoredFileReport, VerifyReport
from refundctl.render.fmt import clean

SHOWN_UNREFERENCED = 5


def _store_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def _names(report: StoredFileReport) -> str:
    return "; ".join(
        f"dispute {r.dispute_id} evidence #{r.evidence_id} {clean(r.name)}"
        for r in report.references
    )


def problem_lines(report: VerifyReport) -> list[str]:
    """One line per problem, in the order verify found them."""
    lines = [f"ledger: {clean(problem)}" for problem in report.database_problems]
    for item in report.bad_files:
        check = item.check
        why = f"{check.why or check.status}: expected {check.sha256[:12]}"
        if check.status is FileStatus.ALTERED and check.found_sha256 is not None:
            why += f", found {check.found_sha256[:12]} ({check.found_size} bytes)"
        lines.append(f"{check.status} {_names(item)}: {clean(why)}")
    return lines


def _file_lines(item: StoredFileReport) -> list[str]:
    """Two lines or more for a file: what names it, then what is wrong; each short."""
    check = item.check
    label = f"{check.status.upper():<7}"
    lines = [
        f"  {label}  dispute {r.dispute_id} evidence #{r.evidence_id}: {clean(r.name)}"
        for r in item.references
    ]
    why = f"{check.why or check.status}: expected {check.sha256[:12]}"
    if check.status is FileStatus.ALTERED and check.found_sha256 is not None:
        why += f", found {check.found_sha256[:12]} ({check.found_size} bytes)"
    lines.append(f"  {'':<7}  {clean(why)}")
    return lines


def verify_lines(report: VerifyReport) -> list[str]:
    """The report for a terminal or a cron mail; plain text, each path on a line of its own."""
    lines = [f"Ledger: {clean(report.ledger)}"]
    if report.database_problems:
        lines += [f"  {clean(problem)}" for problem in report.database_problems]
    else:
        plural = "dispute" if report.disputes == 1 else "disputes"
        lines.append(f"  intact: SQLite's checks pass, {report.disputes} {plural} replayed.")
    lines.append(f"Evidence: {clean(report.evidence_dir)}")
    count = len(report.files)
    files = f"{count} stored file{'' if count == 1 else 's'}"
    bad = report.bad_files
    if not report.evidence_dir_exists and count:
        lines.append(f"  the folder is missing, and the ledger names {files}:")
    elif not bad:
        lines.append(f"  {files}, all present and intact.")
    else:
        missing = sum(1 for f in bad if f.check.status is FileStatus.MISSING)
        altered = len(bad) - missing
        parts = [f"{n} {word}" for n, word in ((missing, "missing"), (altered, "altered")) if n]
        lines.append(f"  {files}; {', '.join(parts)}:")
    for item in bad:
        lines += _file_lines(item)
    if bad:
        lines.append("To restore a file, attach the original to its dispute again:")
        lines.append("  refundctl attach DISPUTE FILE (it must hash the same).")
    if report.unreferenced:
        shown = ", ".join(clean(n) for n in report.unreferenced[:SHOWN_UNREFERENCED])
        more = len(report.unreferenced) - SHOWN_UNREFERENCED
        lines.append("In the folder but named by no evidence (harmless):")
        lines.append(f"  {shown}" + (f" and {more} more" if more > 0 else ""))
    total = len(problem_lines(report))
    lines.append(
        "All intact." if report.ok else f"{total} problem{'' if total == 1 else 's'} found."
    )
    return lines


def verify_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "ledger": report.ledger,
        "database": {
            "ok": not report.database_problems,
            "problems": list(report.database_problems),
        },
        "disputes": report.disputes,
        "evidence_dir": report.evidence_dir,
        "evidence_dir_exists": report.evidence_dir_exists,
        "files": [
            {
                "sha256": item.check.sha256,
                "path": _store_path(item.check.sha256),
                "size": item.check.size,
                "status": str(item.check.status),
                "why": item.check.why,
                "found_sha256": item.check.found_sha256,
                "found_size": item.check.found_size,
                "evidence": [
                    {"id": r.evidence_id, "dispute": r.dispute_id, "name": r.name}
                    for r in item.references
                ],
            }
            for item in report.files
        ],
        "unreferenced": list(report.unreferenced),
        "problems": problem_lines(report),
    }
