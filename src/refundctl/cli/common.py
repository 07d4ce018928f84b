"""What every command shares: the environment (ledger path, clock, zone) and the output.

``Env`` is built once per invocation by the root callback: it reads the config file and fixes
"now" (``--as-of``, ``REFUNDCTL_NOW``, or the clock), so every computation in the command sees
the same instant. Output goes through ``emit_json``, ``show`` (Rich, imported only when a table
is drawn), ``say`` and ``warn``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, assert_never

import typer

from refundctl.config import Config, default_ledger_path, load_config
from refundctl.due import Filters
from refundctl.errors import BadInput
from refundctl.ledger.connection import LedgerFile, Settings
from refundctl.timeparse import parse_when

if TYPE_CHECKING:
    from rich.console import RenderableType

    from refundctl.ledger.store import Ledger
    from refundctl.policies import Policies, Policy
    from refundctl.records import DisputeRecord

JSON_OPTION = typer.Option("--json", help="Print JSON instead of a table (see docs/json.md).")
MarketplaceFilter = Annotated[
    str | None,
    typer.Option(
        "--marketplace",
        "-m",
        metavar="MARKETPLACE",
        help="Only this marketplace.",
        autocompletion=lambda ctx, incomplete: _complete_marketplace(ctx, incomplete),
    ),
]
ON_HELP = "When it happened: a date, a date-time, today, yesterday or '3d ago' (default: now)."


class Env(NamedTuple):  # not a dataclass: quicker to define (see due.Filters)
    db: Path
    explicit_db: bool
    now: datetime
    zone: tzinfo
    config: Config
    # Neither --db nor REFUNDCTL_DB: the user data directory's ledger, whose folder a first
    # write may create (a folder the user named must exist: a typo makes no new tree).
    default_db: bool = False

    @classmethod
    def create(
        cls,
        *,
        db: Path | None,
        as_of: str | None,
        explicit_db: bool,
        as_of_name: str = "--as-of",
    ) -> Env:
        config = load_config()
        zone = config.zone()
        clock = datetime.now(UTC).replace(microsecond=0)
        now = clock if as_of is None else _as_of(as_of, clock, zone, as_of_name)
        return cls(
            db=(db or default_ledger_path()).expanduser(),
            explicit_db=explicit_db,
            now=now,
            zone=zone,
            config=config,
            default_db=db is None,
        )

    @property
    def policies(self) -> Policies:
        return self.config.policies

    def policy_for(self, marketplace: str) -> Policy:
        # Through the config, so that the policy table is loaded only once a deadline is
        # computed or checked: `check` on an empty ledger never needs it.
        return self.config.policies.for_marketplace(marketplace)

    @property
    def settings(self) -> Settings:
        return Settings(
            zone=self.zone,
            policy_for=self.policy_for,
            evidence_max_bytes=self.config.evidence_max_bytes,
        )

    def when(self, text: str | None, *, option: str = "--on") -> datetime:
        """A WHEN option's value; ``None`` means now."""
        if text is None:
            return self.now
        try:
            return parse_when(text, now=self.now, zone=self.zone)
        except BadInput as error:
            raise BadInput(f"{option}: {error.message}") from None

    def maybe_when(self, text: str | None, *, option: str) -> datetime | None:
        return None if text is None else self.when(text, option=option)

    @contextmanager
    def ledger(
        self, *, write: bool, path: Path | None = None, missing_ok: bool = False
    ) -> Iterator[Ledger]:
        from refundctl.ledger.store import Ledger

        with Ledger.open(
            path or self.db,
            self.settings,
            write=write,
            make_folder=path is not None or self.default_db,
            missing_ok=missing_ok,
        ) as ledger:
            yield ledger

    @contextmanager
    def ledger_file(self) -> Iterator[LedgerFile]:
        """The ledger opened for reading its stored deadlines only: what ``check`` needs,
        without the domain model that the ``Ledger`` loads."""
        with LedgerFile.open(self.db, self.settings, write=False) as ledger:
            yield ledger


def _as_of(text: str, clock: datetime, zone: tzinfo, name: str) -> datetime:
    try:
        return parse_when(text, now=clock, zone=zone)
    except BadInput as error:
        raise BadInput(f"{name}: {error.message}") from None


def env(ctx: typer.Context) -> Env:
    obj = ctx.find_root().obj
    assert isinstance(obj, Env)
    return obj


def marketplace_option(value: str | None) -> str | None:
    if value is None:
        return None
    from refundctl.policies import normalize_marketplace

    return normalize_marketplace(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# What a streamed listing writes at once.
STREAM_CHUNK = 64 * 1024


def emit_streamed(pieces: Iterable[str]) -> None:
    """Text that comes a line at a time (a listing as the ledger reads it), written as it
    comes in pieces of about ``STREAM_CHUNK`` characters: where stdout is unbuffered
    (``PYTHONUNBUFFERED``, set in many containers) a long listing is then a system call per
    chunk, not per line, and memory stays flat."""
    chunk: list[str] = []
    size = 0
    for piece in pieces:
        chunk.append(piece)
        size += len(piece)
        if size >= STREAM_CHUNK:
            sys.stdout.write("".join(chunk))
            chunk.clear()
            size = 0
    sys.stdout.write("".join(chunk))


# Piped, a table is read by a program or a file, not a terminal: no colour, and wide enough
# that nothing wraps. COLUMNS, when set, still wins.
PIPED_WIDTH = 200


def show(renderable: RenderableType) -> None:
    import os

    from rich.console import Console

    if sys.stdout.isatty():
        Console(highlight=False).print(renderable)
        return
    # Piped: plain text without the spaces a table pads its cells with to the right edge.
    width = None if os.environ.get("COLUMNS") else PIPED_WIDTH
    console = Console(highlight=False, width=width)
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(_fitted("warning: ", text, " " * 9) + "\n")


def error_line(text: str) -> None:
    """One line on stderr, whatever the message held."""
    sys.stderr.write(_fitted("error: ", text, " " * 7) + "\n")


def problem_line(text: str) -> str | None:
    """One more line under an error that lists several problems (an import)."""
    sys.stderr.write(_fitted("  ", text, "    ") + "\n")
    return None


def _fitted(first: str, text: str, rest: str) -> str:
    """``first`` and the message on one line, for scripts and logs. On a terminal too narrow
    for it, folded between words with ``rest`` leading each later line, rather than cut
    wherever the terminal's edge falls."""
    body = _one_line(text)
    line = first + body
    if not sys.stderr.isatty():
        return line
    import shutil

    width = shutil.get_terminal_size().columns
    if len(line) <= width:
        return line
    import textwrap

    return textwrap.fill(
        body,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _one_line(text: str) -> str:
    """Whitespace folded and control characters escaped: user input may hold anything."""
    from refundctl.render.fmt import clean

    return clean(" ".join(text.split()))


def within(text: str) -> timedelta:
    """A check window; business days make no sense here, so they are refused."""
    from refundctl.timeparse import Unit, parse_duration

    duration = parse_duration(text)
    hours = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 24 * 7}[duration.unit]
    return timedelta(hours=duration.count * hours)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def in_format(
    chosen: OutputFormat,
    *,
    table: Callable[[], None],
    json: Callable[[], None],
    csv: Callable[[], None],
) -> None:
    """Print in the format chosen: one of the three, each a function that prints it (and
    imports only what it needs). A fourth format fails type checking here until every command
    gives it."""
    match chosen:
        case OutputFormat.TABLE:
            table()
        case OutputFormat.JSON:
            json()
        case OutputFormat.CSV:
            csv()
        case _:
            assert_never(chosen)


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="table (the default), json or csv; --json is short for --format json.",
    ),
]
StateFilter = Annotated[
    list[str] | None,
    typer.Option("--state", metavar="STATE", help="Only disputes in this state; repeat for more."),
]
SellerFilter = Annotated[
    str | None, typer.Option("--seller", metavar="TEXT", help="Only sellers whose name has TEXT.")
]
SinceFilter = Annotated[
    str | None,
    typer.Option(metavar="WHEN", help="Only disputes opened (orders placed) at or after WHEN."),
]
UntilFilter = Annotated[
    str | None,
    typer.Option(metavar="WHEN", help="Only disputes opened (orders placed) at or before WHEN."),
]


def output_format(as_json: bool, chosen: OutputFormat | None) -> OutputFormat:
    if as_json and chosen not in (None, OutputFormat.JSON):
        raise BadInput(f"--json and --format {chosen} disagree; give one of them")
    if as_json:
        return OutputFormat.JSON
    return chosen or OutputFormat.TABLE


def make_filters(
    e: Env,
    *,
    marketplace: str | None = None,
    states: list[str] | None = None,
    seller: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Filters:
    if states:
        from refundctl.domain import State

        known = {s.value for s in State}
        for state in states:
            if state not in known:
                raise BadInput(f"--state: no state {state!r}; states: {', '.join(sorted(known))}")
    return Filters(
        marketplace=marketplace_option(marketplace),
        states=frozenset(states or ()),
        seller=seller.strip() if seller and seller.strip() else None,
        since=e.maybe_when(since, option="--since"),
        until=e.maybe_when(until, option="--until"),
    )


def seller_record_line(ledger: Ledger, record: DisputeRecord) -> str | None:
    """The seller's earlier disputes on this marketplace, in one line; None for a first
    dispute with them, or an order with no seller."""
    from refundctl.stats import seller_record

    seller = " ".join((record.order.seller or "").split())
    if not seller:
        return None
    earlier = ledger.cases(seller=(record.order.marketplace, seller), exclude=record.id)
    return seller_record(seller, earlier)


def emit_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    from refundctl.render.exporting import to_csv

    sys.stdout.write(to_csv(columns, rows))


def _complete_marketplace(ctx: typer.Context, incomplete: str) -> list[str]:
    from refundctl.cli.completion import complete_marketplace

    return complete_marketplace(ctx, incomplete)
