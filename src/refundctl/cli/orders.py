"""``refundctl order ...``: add, update, receive, close, reopen, remove, list and show orders."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from refundctl.cli import app
from refundctl.cli.coercion import PlainGroup, PlainTyper
from refundctl.cli.common import (
    JSON_OPTION,
    FormatOption,
    MarketplaceFilter,
    SellerFilter,
    SinceFilter,
    UntilFilter,
    emit_json,
    emit_streamed,
    env,
    in_format,
    make_filters,
    marketplace_option,
    output_format,
    say,
    show,
    warn,
)
from refundctl.cli.completion import complete_marketplace, complete_order
from refundctl.errors import BadInput
from refundctl.ledger.store import Close, OrderRef, Receive, Reopen, Update
from refundctl.money import parse_amount, parse_currency
from refundctl.policies import KNOWN_MARKETPLACES, normalize_marketplace
from refundctl.records import CloseReason, OpenOrder, Order, OrderEvent, parse_item

if TYPE_CHECKING:
    pass

order_app = PlainTyper(
    cls=PlainGroup,
    help="Add, change and look at orders.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(order_app, name="order")

Marketplace = Annotated[
    str | None,
    typer.Option(
        "--marketplace",
        "-m",
        metavar="MARKETPLACE",
        help="When two marketplaces share the order number.",
        autocompletion=complete_marketplace,
    ),
]
Seller = Annotated[str | None, typer.Option(metavar="NAME", help="The seller or shop name.")]
Title = Annotated[str | None, typer.Option(metavar="TEXT", help="What was bought, in a few words.")]
Items = Annotated[
    list[str] | None,
    typer.Option(
        "--item", metavar="ITEM", help='An item: "NAME [xQTY] [@PRICE]"; repeat for more.'
    ),
]
Currency = Annotated[
    str | None, typer.Option(metavar="CODE", help="ISO 4217 code (default: USD or config).")
]
When = Annotated[str | None, typer.Option(metavar="WHEN")]
Payment = Annotated[
    str | None, typer.Option(metavar="METHOD", help="card, paypal, store-credit, …")
]
OrderNo = Annotated[
    str,
    typer.Argument(
        metavar="ORDER_NO", help="The marketplace's order number.", autocompletion=complete_order
    ),
]
Json = Annotated[bool, JSON_OPTION]


@order_app.command("add")
def add(
    ctx: typer.Context,
    order_no: OrderNo,
    marketplace: Annotated[
        str,
        typer.Option(
            "--marketplace",
            "-m",
            metavar="MARKETPLACE",
            help="Where it was bought: aliexpress, ebay, amazon, temu, etsy, paypal, …",
            autocompletion=complete_marketplace,
        ),
    ],
    total: Annotated[str, typer.Option(metavar="AMOUNT", help="What was paid, e.g. 45.90.")],
    currency: Currency = None,
    seller: Seller = None,
    title: Title = None,
    item: Items = None,
    ordered: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Paid on (default now).")
    ] = None,
    shipped: Annotated[str | None, typer.Option(metavar="WHEN", help="Shipped on.")] = None,
    expected_by: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Latest promised delivery.")
    ] = None,
    received: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Arrived on (or use 'order receive').")
    ] = None,
    protection_ends: Annotated[
        str | None,
        typer.Option(metavar="WHEN", help="The marketplace's own protection countdown."),
    ] = None,
    payment: Payment = None,
    as_json: Json = False,
) -> None:
    """Add an order; its protection window starts counting."""
    e = env(ctx)
    code = parse_currency(currency) if currency is not None else e.config.currency
    number = _order_no(order_no)
    shipped_at = e.maybe_when(shipped, option="--shipped")
    received_at = e.maybe_when(received, option="--received")
    # Without --ordered, the order was paid no later than anything else we were told.
    paid = (
        e.when(ordered, option="--ordered")
        if ordered is not None
        else min(moment for moment in (e.now, shipped_at, received_at) if moment is not None)
    )
    order = Order(
        marketplace=_marketplace(marketplace),
        order_no=number,
        total=parse_amount(total, code, what="--total"),
        currency=code,
        seller=_text(seller),
        title=_text(title),
        items=tuple(parse_item(text, code) for text in item or ()),
        ordered=paid,
        shipped=shipped_at,
        expected_by=e.maybe_when(expected_by, option="--expected-by"),
        received=received_at,
        protection_ends=e.maybe_when(protection_ends, option="--protection-ends"),
        payment=_text(payment),
    )
    _warn_unknown_marketplace(order.marketplace)
    with e.ledger(write=True) as ledger:
        stored = ledger.add_order(order, e.now)
    _print_order(ctx, stored, as_json, f"Added order {number} ({stored.order.marketplace}).")


def _warn_unknown_marketplace(name: str) -> None:
    """A marketplace refundctl does not know is fine, but a typo of one it knows is likely."""
    if name in KNOWN_MARKETPLACES:
        return
    from difflib import get_close_matches

    close = get_close_matches(name, KNOWN_MARKETPLACES, n=1, cutoff=0.75)
    if close:
        warn(f"no marketplace called {name!r}; did you mean {close[0]!r}? (recorded as given)")


@order_app.command("update")
def update(
    ctx: typer.Context,
    order_no: OrderNo,
    marketplace: Marketplace = None,
    total: Annotated[str | None, typer.Option(metavar="AMOUNT", help="What was paid.")] = None,
    currency: Currency = None,
    seller: Seller = None,
    title: Title = None,
    item: Items = None,
    ordered: Annotated[str | None, typer.Option(metavar="WHEN", help="Paid on.")] = None,
    shipped: Annotated[str | None, typer.Option(metavar="WHEN", help="Shipped on.")] = None,
    expected_by: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Latest promised delivery.")
    ] = None,
    received: Annotated[str | None, typer.Option(metavar="WHEN", help="Arrived on.")] = None,
    protection_ends: Annotated[
        str | None,
        typer.Option(metavar="WHEN", help="The marketplace's own protection countdown."),
    ] = None,
    payment: Payment = None,
    as_json: Json = False,
) -> None:
    """Change an order's facts; --item replaces the whole item list."""
    e = env(ctx)
    ref = OrderRef(_order_no(order_no), marketplace_option(marketplace))
    with e.ledger(write=True) as ledger:
        current = ledger.order(ref) if (total or item) and currency is None else None
        code = (
            parse_currency(currency)
            if currency is not None
            else (current.currency if current else "")
        )
        changes: dict[str, Any] = {}
        if currency is not None:
            changes["currency"] = code
        if total is not None:
            changes["total"] = parse_amount(total, code, what="--total")
        if item is not None:
            changes["items"] = tuple(parse_item(text, code) for text in item)
        for name, value in (("seller", seller), ("title", title), ("payment", payment)):
            if value is not None:
                changes[name] = _text(value)
        for name, value in (
            ("ordered", ordered),
            ("shipped", shipped),
            ("expected_by", expected_by),
            ("received", received),
            ("protection_ends", protection_ends),
        ):
            if value is not None:
                changes[name] = e.when(value, option="--" + name.replace("_", "-"))
        if not changes:
            raise BadInput("nothing to change: give at least one option, e.g. --title")
        stored = ledger.change_order(ref, Update(changes), e.now)
    _print_order(
        ctx, stored, as_json, f"Updated order {stored.order.order_no} ({stored.order.marketplace})."
    )


@order_app.command("receive")
def receive(
    ctx: typer.Context,
    order_no: OrderNo,
    marketplace: Marketplace = None,
    on: Annotated[str | None, typer.Option(metavar="WHEN", help="When it arrived.")] = None,
    as_json: Json = False,
) -> None:
    """Record that an order arrived: the dispute window starts. Once received, only --on
    changes the date (a correction)."""
    e = env(ctx)
    with e.ledger(write=True) as ledger:
        stored = ledger.change_order(
            OrderRef(_order_no(order_no), marketplace_option(marketplace)),
            Receive(e.when(on), correction=on is not None),
            e.now,
        )
    _print_order(ctx, stored, as_json, f"Order {stored.order.order_no} received.")


class Why(StrEnum):
    ARRIVED = "arrived"
    GAVE_UP = "gave-up"
    MISTAKE = "mistake"


@order_app.command("close")
def close(
    ctx: typer.Context,
    order_no: OrderNo,
    marketplace: Marketplace = None,
    reason: Annotated[
        Why | None,
        typer.Option(
            case_sensitive=False,
            metavar="WHY",
            help="arrived (it came, all is well), gave-up, or mistake.",
        ),
    ] = None,
    on: Annotated[str | None, typer.Option(metavar="WHEN", help="When (default now).")] = None,
    as_json: Json = False,
) -> None:
    """Stop watching an order's windows: status and check leave it out (its disputes stay)."""
    e = env(ctx)
    why = None if reason is None else CloseReason(reason.value)
    with e.ledger(write=True) as ledger:
        stored = ledger.change_order(
            OrderRef(_order_no(order_no), marketplace_option(marketplace)),
            Close(why, e.when(on)),
            e.now,
        )
    _print_order(
        ctx,
        stored,
        as_json,
        f"Closed order {stored.order.order_no}: its windows are no longer watched; "
        f"'refundctl order reopen {_quoted(stored.order.order_no)}' takes it back.",
    )


@order_app.command("reopen")
def reopen(
    ctx: typer.Context, order_no: OrderNo, marketplace: Marketplace = None, as_json: Json = False
) -> None:
    """Watch a closed or removed order's windows again."""
    e = env(ctx)
    with e.ledger(write=True) as ledger:
        stored = ledger.change_order(
            OrderRef(_order_no(order_no), marketplace_option(marketplace)), Reopen(), e.now
        )
    _print_order(ctx, stored, as_json, f"Reopened order {stored.order.order_no}.")


@order_app.command("remove")
def remove(
    ctx: typer.Context, order_no: OrderNo, marketplace: Marketplace = None, as_json: Json = False
) -> None:
    """Remove an order added by mistake (only one without disputes): it leaves every list but
    stays in the ledger's history; 'order reopen' brings it back."""
    e = env(ctx)
    with e.ledger(write=True) as ledger:
        stored = ledger.change_order(
            OrderRef(_order_no(order_no), marketplace_option(marketplace)),
            Close(CloseReason.REMOVED, e.now),
            e.now,
        )
    _print_order(
        ctx,
        stored,
        as_json,
        f"Removed order {stored.order.order_no}; "
        f"'refundctl order reopen {_quoted(stored.order.order_no)}' brings it back.",
    )


def _quoted(order_no: str) -> str:
    """An order number as a shell takes it in a command to copy."""
    import shlex

    from refundctl.render.fmt import clean

    return shlex.quote(clean(order_no))


@order_app.command("list")
def list_orders(
    ctx: typer.Context,
    marketplace: MarketplaceFilter = None,
    seller: SellerFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include the orders removed with 'order remove'.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, max=10**9, help="Rows in the table (JSON and CSV list them all)."
        ),
    ] = 50,
    format: FormatOption = None,
    as_json: Json = False,
) -> None:
    """List every order in the ledger (filtered as asked)."""
    e = env(ctx)
    chosen = output_format(as_json, format)
    filters = make_filters(e, marketplace=marketplace, seller=seller, since=since, until=until)
    # Streamed as the ledger gives them: a listing of any size in flat memory. The stream is
    # closed before the ledger is (the table reads only the first rows of it).
    with (
        e.ledger(write=False) as ledger,
        contextlib.closing(ledger.orders(filters, removed=show_all)) as orders,
    ):

        def json_lines() -> None:
            from refundctl.render import jsonshape

            lines = ledger.order_lines(filters, removed=show_all)
            with contextlib.closing(lines):
                emit_streamed(jsonshape.orders_text(lines))

        def as_csv() -> None:
            from refundctl.render.exporting import ORDER_COLUMNS, csv_lines, order_row

            emit_streamed(csv_lines(ORDER_COLUMNS, (order_row(o) for o in orders)))

        def as_table() -> None:
            from refundctl.render.tables import order_list

            shown = list(itertools.islice(orders, limit))
            more = max(0, ledger.order_count(filters, removed=show_all) - len(shown))
            show(order_list(shown, e.zone, e.now, more, filtered=filters != make_filters(e)))

        in_format(chosen, table=as_table, json=json_lines, csv=as_csv)


@order_app.command("show")
def show_order(
    ctx: typer.Context,
    order_no: OrderNo,
    marketplace: Marketplace = None,
    as_json: Json = False,
) -> None:
    """Show one order with its open windows and its history."""
    e = env(ctx)
    with e.ledger(write=False) as ledger:
        ref = OrderRef(_order_no(order_no), marketplace_option(marketplace))
        detail = ledger.order_detail(ref, disputes=False)
    _print_order(ctx, detail.standing, as_json, None, detail.history)


def _print_order(
    ctx: typer.Context,
    standing: OpenOrder,
    as_json: bool,
    line: str | None,
    history: list[OrderEvent] | None = None,
) -> None:
    """An order as a write left it (``line`` says what happened), or as ``order show``
    gives it (with its ``history``)."""
    from refundctl.views import order_view

    e = env(ctx)
    order = standing.order
    view = order_view(standing, e.settings.policy_for, e.zone, e.now)
    if standing.undisputed <= 0 or order.closed_at is not None:
        # A dispute covers all of it, or the buyer closed it: no window is watched.
        view = replace(view, deadlines=(), next=None)
    if as_json:
        from refundctl.render import jsonshape

        emit_json(jsonshape.order_with_deadlines(view, e.now))
        return
    if line is not None:
        from refundctl.render.text import next_step

        say(
            line
            + " "
            + next_step(view.next, e.now, e.zone, None, order.marketplace, order.order_no)
        )
        return
    from refundctl.render.detail import order_detail

    show(order_detail(view, history or [], e.zone, e.now))


def _order_no(text: str) -> str:
    cleaned = text.strip()
    if not cleaned or any(ch.isspace() for ch in cleaned) or not cleaned.isprintable():
        raise BadInput(f"not an order number: {text!r}; use the number the marketplace shows")
    return cleaned


def _marketplace(text: str) -> str:
    name = normalize_marketplace(text)
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise BadInput(f"not a marketplace name: {text!r}; use a word such as aliexpress or ebay")
    return name


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


class ImportSource(StrEnum):
    """``order import --from``: the service whose file it is (refundctl.exports.Source)."""

    AMAZON = "amazon"
    PAYPAL = "paypal"
    ALIEXPRESS = "aliexpress"
    TEMU = "temu"
    REFUNDCTL = "refundctl"


@order_app.command("import")
def import_orders(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="An Amazon, PayPal, AliExpress-tool or Temu export, or refundctl's own CSV, "
            "JSON or JSON Lines; - reads stdin.",
        ),
    ],
    source: Annotated[
        ImportSource | None,
        typer.Option(
            "--from",
            metavar="SERVICE",
            help="Whose file it is (amazon, paypal, aliexpress, temu, refundctl); "
            "default: told by its header.",
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help='Read FIELD from another column, e.g. order_no="Order ID"; repeat.',
        ),
    ] = None,
    marketplace: Annotated[
        str | None,
        typer.Option(
            "--marketplace", "-m", metavar="MARKETPLACE", help="For rows without a marketplace."
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            metavar="CODE",
            help="For amounts that name no currency, or only $ (default: USD or config).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, write nothing.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Import orders from a file: new ones are added, changed ones updated, all or nothing."""
    from refundctl.exports import OWN_TITLE, Source, shown_json
    from refundctl.importing import Reader, parse_mapping
    from refundctl.render.imported import money_json, money_line, summary_line

    e = env(ctx)
    reader = Reader(
        mapping=parse_mapping(mapping or []),
        marketplace=_marketplace(marketplace) if marketplace else None,
        default_currency=parse_currency(currency) if currency is not None else e.config.currency,
        now=e.now,
        zone=e.zone,
    )
    # Paused for the whole import, and running again only once its rows are gone: a collection
    # in between would walk every one of them.
    from refundctl.cli.import_run import collector_paused, import_file

    chosen = None if source is None else Source(source.value)
    with collector_paused():
        summary, reading = import_file(e, file, reader, dry_run=dry_run, source=chosen)
    if as_json:
        emit_json(
            {
                "file": file,
                "added": summary.added,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "dry_run": summary.dry_run,
                **shown_json(reading),
                "money": [money_json(match) for match in summary.money],
            }
        )
        return
    verb = "Checked" if dry_run else "Imported"
    counts = (summary.added, summary.updated, summary.unchanged)
    if reading.title == OWN_TITLE and not summary.money:
        line = (
            f"{verb} {file}: {counts[0]:,} added, {counts[1]:,} updated, {counts[2]:,} unchanged."
        )
    else:
        line = (
            f"{verb} {file}: {summary_line(reading.title, counts, reading.skipped, summary.money)}."
        )
    if dry_run:
        line += " Nothing was written (--dry-run)."
    say(line)
    for match in summary.money:
        say("  " + money_line(match, dry_run=dry_run))
