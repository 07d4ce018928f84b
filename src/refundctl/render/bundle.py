"""The case file ``refundctl bundle`` zips: what goes in it and under which names, without I/O.

``case_file`` turns one dispute in full into the members of the zip: ``case.md`` for the person
who reviews the case, ``case.json`` for a program, the evidence files under safe, numbered names
(``evidence/01-box-as-delivered.jpg``), and ``SHA256SUMS`` over every other member, in the
format ``sha256sum -c`` reads. Evidence members carry the hash of the stored file they copy; the
writer copies and checks the bytes. Nothing here reads the clock, and the case is dated by
``settled``: the last moment it changed (its latest entry, or a deadline that has passed since),
not the second the bundle was made. So the same ledger gives the same members, byte for byte,
until something in the case really changes.

Member names are built from the original file name but never trust it: ASCII letters, digits
and dashes only, a number in front so two names can never collide, and an extension taken from
the content's media type.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from refundctl import __version__
from refundctl.domain import Move
from refundctl.money import format_money
from refundctl.records import DisputeRecord, EvidenceRecord
from refundctl.render import jsonshape
from refundctl.render.case import (
    EVENT_WORDS,
    ask_basis,
    marketplace_name,
    stamp,
)
from refundctl.render.fmt import clean, state_words, waiting_words
from refundctl.timeparse import iso
from refundctl.views import DisputeView

STEM_LIMIT = 48

# Extensions a media type may carry; the first is the one given when the original's is not.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/png": ("png",),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic",),
    "image/heif": ("heif", "heic"),
    "image/avif": ("avif",),
    "image/tiff": ("tif", "tiff"),
    "image/bmp": ("bmp",),
    "image/svg+xml": ("svg",),
    "video/mp4": ("mp4", "m4v"),
    "video/quicktime": ("mov", "qt"),
    "video/webm": ("webm",),
    "video/x-matroska": ("mkv",),
    "video/3gpp": ("3gp",),
    "video/3gpp2": ("3g2",),
    "video/x-msvideo": ("avi",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a",),
    "audio/ogg": ("ogg", "oga", "opus"),
    "audio/wav": ("wav",),
    "audio/flac": ("flac",),
    "application/pdf": ("pdf",),
    "application/zip": ("zip",),
    "application/gzip": ("gz",),
    "application/x-7z-compressed": ("7z",),
    "application/vnd.rar": ("rar",),
    "application/vnd.ms-office": ("doc", "xls", "ppt", "msg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "text/plain": ("txt", "text", "log", "csv", "json", "md"),
    "text/html": ("html", "htm"),
    "multipart/related": ("mhtml", "mht"),
    "message/rfc822": ("eml",),
}
# Already compressed: stored as they are, which is faster and no larger.
_COMPRESSED_PREFIXES = ("image/", "video/", "audio/")
_COMPRESSED = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "image/svg+xml",
        "image/bmp",
        "image/tiff",
    }
)


@dataclass(frozen=True, slots=True)
class Member:
    """One file in the zip: generated ``data``, or the stored evidence file ``sha256``."""

    name: str
    data: bytes | None = None
    sha256: str | None = None
    size: int | None = None
    compress: bool = True

    @property
    def digest(self) -> str:
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        assert self.sha256 is not None
        return self.sha256


@dataclass(frozen=True, slots=True)
class CaseFile:
    members: tuple[Member, ...]
    left_out: tuple[str, ...] = ()  # evidence the store could not give intact, one line each

    @property
    def evidence_count(self) -> int:
        return sum(1 for m in self.members if m.sha256 is not None)


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].strip("-")


def member_name(number: int, width: int, name: str, media_type: str | None) -> str:
    """``evidence/01-box-as-delivered.jpg``: safe in any zip tool on any system."""
    base = re.split(r"[/\\]", name)[-1]
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem.strip("."):
        stem, extension = base, ""
    given = re.sub(r"[^a-z0-9]", "", extension.lower())[:8]
    known = EXTENSIONS.get(media_type or "")
    chosen = (given if given in known else known[0]) if known else (given or "bin")
    return f"evidence/{number:0{width}d}-{_slug(stem, STEM_LIMIT) or 'file'}.{chosen}"


def _compressible(media_type: str | None) -> bool:
    kind = media_type or ""
    return not kind.startswith(_COMPRESSED_PREFIXES) and kind not in _COMPRESSED


def evidence_members(
    record: DisputeRecord,
) -> tuple[list[tuple[EvidenceRecord, Member | None]], list[str]]:
    """Each stored file with its member, or ``None`` when it cannot go in, and why not."""
    files = [e for e in record.evidence if e.sha256 is not None]
    width = max(2, len(str(len(files))))
    placed: list[tuple[EvidenceRecord, Member | None]] = []
    left_out = []
    for number, e in enumerate(files, start=1):
        assert e.sha256 is not None
        if e.intact is False:
            what = "missing from" if e.present is False else "altered in"
            left_out.append(
                f"evidence #{e.id} {e.name} is {what} the evidence store, so it is left out "
                "of the bundle; 'refundctl verify' shows every problem"
            )
            placed.append((e, None))
            continue
        member = Member(
            member_name(number, width, e.name, e.media_type),
            sha256=e.sha256,
            size=e.size,
            compress=_compressible(e.media_type),
        )
        placed.append((e, member))
    return placed, left_out


def settled(view: DisputeView, now: datetime) -> datetime:
    """The last moment the case changed by ``now``: its latest entry, or the latest of its
    deadlines to have passed. Every deadline reads the same at that moment as at ``now``."""
    moments = [e.recorded for e in view.record.events] + [e.at for e in view.record.events]
    moments += [d.due for d in view.deadlines if d.due <= now]
    return min(now, max(moments, default=now))


def case_file(view: DisputeView, now: datetime, zone: tzinfo) -> CaseFile:
    """Every member of the bundle, in the order they are written."""
    now = settled(view, now)
    placed, left_out = evidence_members(view.record)
    document = case_json(view, now, placed)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    members = [
        Member("case.md", case_markdown(view, now, zone, placed).encode("utf-8")),
        Member("case.json", text.encode("utf-8")),
        *(member for _, member in placed if member is not None),
    ]
    members.append(Member("SHA256SUMS", sha256sums(members).encode("ascii")))
    return CaseFile(tuple(members), tuple(left_out))


def sha256sums(members: Sequence[Member]) -> str:
    """The manifest, as ``sha256sum`` writes it: hash, two spaces, name; sorted by name."""
    return "".join(f"{m.digest}  {m.name}\n" for m in sorted(members, key=lambda m: m.name))


# -- case.json -----------------------------------------------------------------------------------


def case_json(
    view: DisputeView, now: datetime, placed: Sequence[tuple[EvidenceRecord, Member | None]]
) -> dict[str, Any]:
    return {
        "refundctl": __version__,
        "as_of": iso(now),
        "order": jsonshape.order(view.record.order),
        "dispute": jsonshape.dispute(view, now, detail=True),
        "files": [
            {
                "evidence_id": e.id,
                "name": e.name,
                "member": None if member is None else member.name,
                "sha256": e.sha256,
                "size": e.size,
                "media_type": e.media_type,
                "included": member is not None,
            }
            for e, member in placed
        ],
    }


# -- case.md -------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def md(text: str | None) -> str:
    """User text for Markdown: one line, control characters escaped, markup shown as typed."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text))


def code(text: str | None) -> str:
    """User text as a code span: shown literally, whatever backticks it holds."""
    shown = clean(text)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _facts(rows: Sequence[tuple[str, str | None]]) -> list[str]:
    return [f"- **{label}:** {value}" for label, value in rows if value]


def case_markdown(
    view: DisputeView,
    now: datetime,
    zone: tzinfo,
    placed: Sequence[tuple[EvidenceRecord, Member | None]],
) -> str:
    record = view.record
    order, d, currency = record.order, record.dispute, record.order.currency

    def money(value: Any) -> str | None:
        return None if value is None else format_money(value, currency)

    def at(moment: datetime | None) -> str | None:
        return None if moment is None else stamp(moment, zone)

    items = "; ".join(
        f"{md(i.name)} x{i.quantity}" + (f" at {money(i.price)}" if i.price is not None else "")
        for i in order.items
    )
    place = marketplace_name(order.marketplace)
    lines = [
        f"# Dispute {record.id}: order {md(order.order_no)} on {md(place)}",
        "",
        f"Case file as of {stamp(now, zone)}, its latest change.",
        "Every time below is in the same zone.",
        "",
        "## Order",
        "",
        *_facts(
            [
                ("Marketplace", md(place)),
                ("Order number", md(order.order_no)),
                ("Seller", md(order.seller)),
                ("Title", md(order.title)),
                ("Items", items),
                ("Total paid", money(order.total)),
                ("Payment", _payment(order.payment)),
                ("Ordered", at(order.ordered)),
                ("Shipped", at(order.shipped)),
                ("Expected by", at(order.expected_by)),
                ("Received", at(order.received) or "not yet"),
            ]
        ),
        "",
        "## Dispute",
        "",
        *_facts(
            [
                ("Reason", str(record.reason)),
                ("Item", md(record.item)),
                ("What is wrong", md(record.description)),
                ("Marketplace case", md(record.case_ref)),
                ("Filed with", None if record.via is None else md(view.policy.title)),
                ("Opened", at(d.opened_at)),
                (
                    "State",
                    state_words(d.state)
                    + (
                        f" (waiting on {waiting_words(d.state.waiting_on)})"
                        if d.active and d.state.waiting_on
                        else ""
                    ),
                ),
                ("Asked", f"{money(d.requested)}, {md(ask_basis(record, d.requested))}"),
                ("Seller's open offer", money(d.offer)),
                ("Agreed", money(d.agreed)),
                ("Refunded", money(d.refunded)),
                ("Return tracking", md(d.tracking)),
            ]
        ),
        "",
        *_remedies(view, zone),
        *_offers(record, zone),
        *_timeline(record, zone),
        *_evidence(record, zone, placed),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _payment(text: str | None) -> str | None:
    from refundctl.payment import recognise

    found = recognise(text)
    return md(text) if found is None else f"{md(text)} ({md(found.describe())})"


def _remedies(view: DisputeView, zone: tzinfo) -> list[str]:
    """The next remedy's window, where the case has one open: the card issuer (or PayPal)
    needs the same evidence, and this file holds it."""
    from refundctl.deadline_types import REMEDY_DEADLINES
    from refundctl.payment import Network
    from refundctl.remedy_rules import REMEDIES

    found = [x for x in view.deadlines if x.name in REMEDY_DEADLINES]
    if not found:
        return []
    lines = ["## Beyond the marketplace", ""]
    for deadline in found:
        rule = REMEDIES[Network(deadline.rule.policy)]
        lines.append(
            f"- **{md(rule.title)}:** {md(rule.task)} by {stamp(deadline.due, zone)} "
            f"({md(deadline.rule.described)}). It needs the same evidence as the marketplace: "
            "this file holds it."
        )
    return [*lines, ""]


def _offers(record: DisputeRecord, zone: tzinfo) -> list[str]:
    currency = record.order.currency
    lines = ["## Offer history", ""]
    if not record.dispute.proposals:
        return [*lines, "No offers.", ""]
    lines += ["| When | Who | Kind | Amount | Outcome |", "|---|---|---|---:|---|"]
    for p in record.dispute.proposals:
        kind = str(p.kind).replace("_", " ")
        amount = format_money(p.amount, currency)
        lines.append(f"| {stamp(p.at, zone)} | {p.actor} | {kind} | {amount} | {p.outcome} |")
    return [*lines, ""]


def _timeline(record: DisputeRecord, zone: tzinfo) -> list[str]:
    currency = record.order.currency
    retracted = {e.retracts for e in record.events if e.retracts is not None}
    evidence = {e.id: e for e in record.evidence}
    when = {e.id: e.at for e in record.events}
    lines = [
        "## Timeline",
        "",
        "Every entry in the buyer's ledger, in the order it happened; an entry taken back",
        "stays, marked.",
        "",
        "| When | Who | What | Amount | Note |",
        "|---|---|---|---:|---|",
    ]
    for e in sorted(record.events, key=lambda e: (e.at, e.id)):
        what = EVENT_WORDS.get(e.kind, e.kind)
        notes = []
        if e.evidence_id is not None and e.evidence_id in evidence:
            notes.append(f"#{e.evidence_id} {md(evidence[e.evidence_id].name)}")
        if e.retracts is not None and e.retracts in when:
            notes.append(f"took back the entry of {stamp(when[e.retracts], zone)}")
        if e.note:
            notes.append(md(e.note))
        if e.tracking:
            notes.append(f"tracking {md(e.tracking)}")
        if e.deadline is not None:
            given = "back to the rule's" if e.due is None else stamp(e.due, zone)
            notes.append(f"{md(e.deadline)}: {given}")
        if e.move is Move.REFUNDED and e.credit:
            notes.append("as store credit")
        if e.id in retracted:
            what += " (taken back)"
        amount = "" if e.amount is None else format_money(e.amount, currency)
        lines.append(
            f"| {stamp(e.at, zone)} | {e.actor} | {what} | {amount} | {'; '.join(notes)} |"
        )
    return [*lines, ""]


def _evidence(
    record: DisputeRecord,
    zone: tzinfo,
    placed: Sequence[tuple[EvidenceRecord, Member | None]],
) -> list[str]:
    lines = ["## Evidence", ""]
    links = [e for e in record.evidence if e.sha256 is None]
    if not placed and not links:
        return [*lines, "No evidence attached."]
    if placed:
        lines += [
            "Files, in the `evidence` folder of this bundle. `SHA256SUMS` lists the hash of",
            "every file, and `sha256sum -c SHA256SUMS` checks them all.",
            "",
        ]
    for e, member in placed:
        where = code(member.name) if member is not None else "**not included**"
        size = f"{e.size} bytes" if e.size is not None else "size unknown"
        lines.append(f"- {where}: {e.kind}, {e.media_type or 'unknown type'}, {size}")
        lines.append(f"  - original name: {code(e.name)}")
        lines.append(f"  - added: {stamp(e.added, zone)}")
        lines.append(f"  - SHA-256: `{e.sha256}`")
        if e.note:
            lines.append(f"  - note: {md(e.note)}")
        if member is None:
            state = "missing from" if e.present is False else "altered in"
            lines.append(f"  - {state} the buyer's evidence store when this bundle was made")
    if links:
        lines += ["", "Links:", ""]
        for e in links:
            note = f" ({md(e.note)})" if e.note else ""
            lines.append(f"- {e.kind}: {code(e.url or e.name)}, added {stamp(e.added, zone)}{note}")
    return lines
