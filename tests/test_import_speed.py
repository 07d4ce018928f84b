"""The fast paths of ``order import`` read every cell exactly as the general code does.

Issue 7: an import of 100,000 rows spent most of its time reading cells. The common cases now
take shortcuts: ISO dates through ``datetime.fromisoformat`` before dateutil's ``isoparse``,
plain amounts (``12.50``) straight to ``parse_amount``, item cells split with str methods, CSV
rows built without ``csv.DictReader``, the header matched once per file. Each shortcut is
compared here, on generated text, with the code it stands in for (kept below as the oracle):
the same value, or the same refusal word for word. Nothing here is timed.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import tz
from dateutil.parser import isoparse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from refundctl import amounts, deadlines, importfile, importing, timeparse
from refundctl.errors import BadInput
from refundctl.importing import FIELDS, read_amount, unneutralise
from refundctl.records import Item, parse_item
from refundctl.timeparse import WHEN_HELP, Duration, Unit, localize, parse_when
from tests.conftest import Cli

EXAMPLES = settings(max_examples=400, deadline=None)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ZONES = [
    UTC,
    ZoneInfo("America/New_York"),  # 2026-03-08T02:30 does not exist there
    ZoneInfo("Asia/Kathmandu"),
    tz.gettz("Europe/Berlin"),  # a dateutil zone: localize's other branch
]


def outcome(read: Any, *args: Any) -> tuple[str, Any]:
    """What a reader gives: a value, or the words of its refusal."""
    try:
        return ("value", read(*args))
    except BadInput as error:
        return ("refused", error.message)


# -- dates and times -------------------------------------------------------------------------


def reference_iso(text: str, zone: tzinfo) -> datetime:
    """The date reading before the fast path: dateutil for every ISO text."""
    if not text or not text[:4].isdigit():
        raise BadInput(f"not a date or time: {text!r}; {WHEN_HELP}")
    try:
        parsed = isoparse(text)
    except (ValueError, OverflowError) as error:
        reason = timeparse.why_not_iso(error)
        raise BadInput(f"not a date or time: {text!r} ({reason}); {WHEN_HELP}") from None
    if not timeparse.EARLIEST_YEAR <= parsed.year <= timeparse.LATEST_YEAR:
        raise BadInput(
            f"date out of range: {text!r}; refundctl takes years "
            f"{timeparse.EARLIEST_YEAR}–{timeparse.LATEST_YEAR}"
        )
    if parsed.tzinfo is None:
        if parsed.time() != time() or not timeparse.names_a_day(text):
            timeparse._refuse_skipped(parsed, zone)  # a wall time the clocks skipped (own test)
        parsed = localize(parsed, zone)
    return parsed.astimezone(UTC)


def two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


# The forms the fast path takes, and their near misses: impossible days and hours, 24:00, odd
# separators, long fractions, offsets out of range or without a colon, lower-case z.
iso_texts = st.builds(
    "{}{}-{}-{}{}".format,
    st.sampled_from(["", " ", "\t"]),
    st.integers(1985, 2105).map(str),
    two(0, 13),
    two(0, 32),
    st.one_of(
        st.just(""),
        st.builds(
            "{}{}:{}{}{}".format,
            st.sampled_from(["T", " ", "t", "_"]),
            two(0, 25),
            two(0, 61),
            st.one_of(
                st.just(""),
                st.builds(
                    "{}{}".format,
                    two(0, 61).map(":".__add__),
                    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=8)).map(
                        lambda f: f and "." + f
                    ),
                ),
            ),
            st.one_of(
                st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+0530", "+05"]),
                st.builds("{}{}:{}".format, st.sampled_from("+-"), two(0, 25), two(0, 61)),
            ),
        ),
    ),
)


@EXAMPLES
@given(text=st.one_of(iso_texts, st.text(max_size=30)), zone=st.sampled_from(ZONES))
@example(text="2026-03-08T02:30", zone=ZONES[1])  # in New York's gap: refused by both
@example(text="2026-11-01T01:30", zone=ZONES[1])  # twice on New York's fall-back night
@example(text="2026-02-29", zone=UTC)
@example(text="2100-12-31T23:59:59-23:59", zone=UTC)  # past 2100 in UTC, not where written
@example(text="1989-12-31T23:00:00-02:00", zone=UTC)
@example(text="2026-01-02T24:00", zone=UTC)
@example(text="2026-01-02T10:00:00.1234567", zone=UTC)
@example(text="2026-01-02 10:00+05:30", zone=UTC)
@example(text="2026-01-02T10:00+05:60", zone=UTC)  # Python reads +06:00; dateutil refuses
def test_a_date_reads_as_dateutil_reads_it(text: str, zone: tzinfo) -> None:
    fast = outcome(lambda: parse_when(text, now=NOW, zone=zone))
    slow = outcome(reference_iso, text.strip(), zone)
    if text.strip().lower() in {"now", "today", "yesterday", "tomorrow"} or "ago" in text:
        return  # keywords: not ISO text, and not what the fast path is about
    assert fast == slow
    if fast[0] == "value":
        assert fast[1].tzinfo is UTC
        assert fast[1].isoformat() == slow[1].isoformat()


@EXAMPLES
@given(text=iso_texts)
def test_the_fast_reading_is_dateutils_reading(text: str) -> None:
    """Before any zone or range check: the same wall time, the same offset (or none)."""
    fast = timeparse._read_common_iso(text.strip())
    if fast is None:
        return
    slow = isoparse(text.strip())
    assert fast.replace(tzinfo=None) == slow.replace(tzinfo=None)
    assert fast.utcoffset() == slow.utcoffset()
    assert fast.fold == slow.fold == 0


COMMON = [
    "2026-09-19",
    "2026-09-19T00:13:43+00:00",
    "2026-09-19 00:13Z",
    "2026-09-19T00:13:43.25-05:00",
]
UNCOMMON = ["20260919", "2026-W38", "2026-09-19T24:00", "2026-09-19T00:13+0530"]


def test_the_forms_exports_write_take_the_fast_path() -> None:
    for text in COMMON:
        assert timeparse._read_common_iso(text) is not None, text
    for text in UNCOMMON:
        assert timeparse._read_common_iso(text) is None, text  # dateutil's to read


def test_keywords_still_read_against_the_clock() -> None:
    zone = ZoneInfo("Pacific/Kiritimati")  # already tomorrow there
    assert parse_when(" Today ", now=NOW, zone=zone) == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert parse_when("now", now=NOW, zone=zone) == NOW
    assert parse_when("2d ago", now=NOW, zone=zone) == datetime(2026, 11, 24, 12, tzinfo=UTC)


# -- amounts ---------------------------------------------------------------------------------

plain_amounts = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["", " ", "\u00a0"]),
    st.text("0123456789", min_size=1, max_size=15),
    st.one_of(st.just(""), st.text("0123456789", max_size=5).map(".".__add__)),
    st.sampled_from(["", " ", "\n"]),
)
CURRENCIES = ["USD", "EUR", "JPY", "KWD", "BHD", "BRL", "CHF", "XAU"]


@EXAMPLES
@given(
    text=st.one_of(plain_amounts, st.text("0123456789.,' $€", max_size=12)),
    currency=st.sampled_from(CURRENCIES),
)
@example(text="0.00", currency="USD")
@example(text="1.234", currency="USD")  # not plain: thousands in USD
@example(text="12.5", currency="JPY")
@example(text="1234567890123", currency="USD")
def test_a_plain_amount_reads_as_the_general_reader_reads_it(text: str, currency: str) -> None:
    general = outcome(amounts.read_written_amount, text.strip(), currency)
    assert outcome(read_amount, text, currency) == general
    if general[0] == "value":
        assert str(read_amount(text, currency)) == str(general[1])  # the same exponent too


# -- item cells ------------------------------------------------------------------------------


def reference_items(cell: str, currency: str) -> tuple[Item, ...]:
    parts = [p for p in re.split(r"\s*[;|]\s*", cell.strip()) if p]
    return tuple(parse_item(p, currency) for p in parts)


@EXAMPLES
@given(
    cell=st.text(
        st.sampled_from([*"ab x2@.5;|", " ", "\t", "\u00a0", "\u2028", "\u3000", "\n"]),
        min_size=1,
        max_size=25,
    )
)
@example(cell="Cable x2 @3.50; Case")
@example(cell=" ;a | b\u00a0;\u2028c ; ")
def test_an_item_cell_splits_as_the_regular_expression_split_it(cell: str) -> None:
    if cell.lstrip().startswith("["):
        return  # a JSON list: another path
    assert outcome(importing._items, cell, "USD") == outcome(reference_items, cell, "USD")


# -- names and order numbers -----------------------------------------------------------------


def test_a_marketplace_name_is_checked_as_before_for_every_character() -> None:
    for code in range(0x110000):
        char = chr(code)
        expected = char.isalnum() or char in "-_."
        assert importing._is_name(char) is expected, hex(code)
        assert importing._is_name(f"a{char}-") is expected, hex(code)


@EXAMPLES
@given(text=st.text(min_size=1))
def test_whitespace_in_an_order_number_is_found_by_split(text: str) -> None:
    assert (text.split() != [text]) == any(ch.isspace() for ch in text)


def test_whitespace_is_found_by_split_for_every_character() -> None:
    for code in range(0x110000):
        text = f"A{chr(code)}1"
        assert (text.split() != [text]) == chr(code).isspace(), hex(code)


# -- CSV rows and headers --------------------------------------------------------------------


def reference_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """CSV records as read before: ``csv.DictReader``, then each cell unneutralised."""
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=importfile._delimiter(text), quotechar='"'
    )
    try:
        if not reader.fieldnames:
            raise BadInput("the file is empty: a CSV import needs a header row")
        for number, row in enumerate(reader, start=1):
            extra = row.pop(None, None)  # type: ignore[call-overload]
            cleaned = {k: unneutralise(v) if isinstance(v, str) else v for k, v in row.items()}
            if extra:
                cleaned["__extra__"] = extra
            yield number, cleaned
    except csv.Error as error:
        raise BadInput(f"not a readable CSV file: {error}") from None


def read_all(reader: Any, text: str) -> list[tuple[int, list[tuple[str, Any]]]]:
    # Key order matters: of two headers that match one field, the later one wins.
    return [(number, list(row.items())) for number, row in reader(text)]


cells = st.one_of(
    st.text(st.sampled_from(list("ab'=,;\"\t\n\r "))),
    st.sampled_from(["__extra__", "total", "Total "]),
)
csv_texts = st.lists(st.lists(cells, max_size=5), max_size=6).map(
    lambda rows: "".join(
        ",".join(row) + line_end for row, line_end in zip(rows, ["\n", "\r\n"] * 3, strict=False)
    )
)


@EXAMPLES
@given(text=st.one_of(csv_texts, st.text(st.sampled_from(list("ab',;\"\n\r\t")), max_size=40)))
@example(text="a,b,a\n1,2\n")  # a short row under a repeated header
@example(text="a,b\n1,2,3\n\n'=x,'y\n")
@example(text="\na,b\n1,2\n")
@example(text="__extra__,a\n1,2,3\n")
@example(text='a,b\n"1\n')
def test_csv_rows_are_the_rows_dictreader_gave(text: str) -> None:
    fast = outcome(read_all, lambda text: importfile._parse_csv(text).numbered(), text)
    assert fast == outcome(read_all, reference_csv, text)


def reference_columns(record: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    by_header = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    found: dict[str, Any] = {}
    for name in FIELDS:
        header = mapping.get(name, name).strip().lower()
        if header in by_header:
            found[name] = by_header[header]
    return found


headers = st.one_of(
    st.sampled_from(FIELDS).map(lambda f: f.upper() if len(f) % 2 else f" {f} "),
    st.sampled_from(["Order ID", "order id ", "Amount", "misc"]),
)


@EXAMPLES
@given(
    keys=st.lists(headers, max_size=8),
    mapping=st.dictionaries(
        st.sampled_from(FIELDS), st.sampled_from(["Order ID", "amount", "TOTAL"]), max_size=2
    ),
)
def test_a_header_plan_picks_the_cells_the_header_match_picked(
    keys: list[str], mapping: dict[str, str]
) -> None:
    record = {key: f"cell {n}" for n, key in enumerate(keys)}
    plan = importfile._columns(tuple(record), mapping)
    assert {name: record[key] for name, key in plan} == reference_columns(record, mapping)


@EXAMPLES
@given(
    text=st.one_of(
        csv_texts,
        st.lists(st.lists(headers, max_size=5), min_size=1, max_size=4).map(
            lambda rows: "\n".join(",".join(row) for row in rows) + "\n"
        ),
    ),
    mapping=st.dictionaries(
        st.sampled_from(FIELDS), st.sampled_from(["Order ID", "amount", "TOTAL"]), max_size=2
    ),
)
@example(text="total,TOTAL,a\n1,2\n3,4,5,6\n", mapping={})  # two headers for one field
@example(text="__extra__,total\n1,2\n", mapping={})
def test_a_csv_row_goes_to_the_fields_as_its_dict_went(text: str, mapping: dict[str, str]) -> None:
    """The CSV shortcut (cells straight to fields) and the way every other record goes."""
    try:
        found = importfile.parse_records(text)
    except BadInput:
        return
    for start, stop in ((0, None), (1, 3)):
        fast = list(found.columns(start, stop, mapping))
        general = list(importfile._columns_of(found.numbered(start, stop), mapping))
        assert fast == general


# -- the import as a whole -------------------------------------------------------------------


def test_a_file_of_many_rows_reads_the_same_through_every_path(tmp_path: Path) -> None:
    """The same orders from CSV (fast paths) and JSON Lines (JSON values, other shapes)."""
    rows = []
    for n in range(300):
        rows.append(
            {
                "marketplace": ["ebay", "Temu", "ali-express"][n % 3],
                "order_no": f"N-{n}",
                "total": ["12.50", "US $1,234.56", "7", "0.5"][n % 4],
                "currency": "usd",
                "ordered": ["2026-01-02", "2026/1/2", "2026-01-02T03:04:05+05:30"][n % 3],
                "received": ["", "2026-03-08T03:30", "2026-03-08 12:00:00.25Z"][n % 3],
                "items": ["", "Cable x2 @3.50; Case | Lid x1", "Mug @2"][n % 3],
                "seller": ["", " Shop "][n % 2],
            }
        )
    header = list(rows[0])
    text = ",".join(header) + "\n"
    text += "".join(",".join(f'"{row[h]}"' for h in header) + "\n" for row in rows)
    zone = ZoneInfo("America/New_York")

    def read(text: str) -> importing.ImportResult:
        return importing.read_orders(
            text, mapping={}, marketplace=None, default_currency="EUR", now=NOW, zone=zone
        )

    from_csv = read(text)
    from_jsonl = read("".join(json.dumps(row) + "\n" for row in rows))
    assert not from_csv.problems and from_csv.orders == from_jsonl.orders
    assert from_csv.orders[1].order.received == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # Empty cells say nothing: no seller, received or items for the first order.
    assert from_csv.orders[0].given == {"marketplace", "order_no", "total", "currency", "ordered"}


def test_an_import_leaves_the_garbage_collector_as_it_found_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("marketplace,order_no,total\nebay,1-2,10.00\n", encoding="utf-8")
    assert gc.isenabled()
    assert cli("order", "import", str(path)).exit_code == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert cli("order", "import", str(path)).exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reading_reports_progress_now_and_then_and_at_the_end() -> None:
    text = "marketplace,order_no,total\n" + "".join(f"ebay,N{n},1.00\n" for n in range(1234))
    seen: list[int] = []
    result = importing.read_orders(
        text,
        mapping={},
        marketplace=None,
        default_currency="USD",
        now=NOW,
        zone=UTC,
        progress=seen.append,
    )
    assert len(result.orders) == 1234
    assert seen == [500, 1000, 1234]


# -- deadlines: counting days, explaining and storing them -----------------------------------
# An import computes a window for every order: these shortcuts stand in for the general code.

DEADLINE_ZONES = [
    UTC,
    timezone(timedelta(hours=5, minutes=45)),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # a half-hour DST shift
    ZoneInfo("Europe/London"),
    tz.gettz("Europe/Berlin"),  # a dateutil zone: the general way
]
# Times around the clock changes of 2026 (and across the years refundctl takes).
moments = st.one_of(
    st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime(2026, 3, 7, 7, 30, tzinfo=UTC),  # a day before New York's gap, 02:30
            datetime(2026, 10, 31, 5, 30, tzinfo=UTC),  # a day before its repeated 01:30
            datetime(2026, 10, 31, 6, 30, tzinfo=UTC),
            datetime(2026, 4, 4, 14, 45, tzinfo=UTC),  # Lord Howe's repeated half hour
        ]
    ),
)


def reference_add(start: datetime, duration: Duration, zone: tzinfo) -> datetime:
    """Days and weeks counted on the wall clock, as ``add`` counted them before its shortcut."""
    local = start.astimezone(zone).replace(tzinfo=None)
    local += timedelta(days=duration.count * (7 if duration.unit is Unit.WEEKS else 1))
    return localize(local, zone).astimezone(UTC)


@EXAMPLES
@given(
    start=moments,
    duration=st.builds(Duration, st.integers(0, 400), st.sampled_from([Unit.DAYS, Unit.WEEKS])),
    zone=st.sampled_from(DEADLINE_ZONES),
)
@example(datetime(2026, 3, 7, 7, 30, tzinfo=UTC), Duration(1, Unit.DAYS), DEADLINE_ZONES[2])
@example(datetime(2026, 10, 31, 6, 30, tzinfo=UTC), Duration(1, Unit.DAYS), DEADLINE_ZONES[2])
@example(datetime(2026, 4, 3, 14, 45, tzinfo=UTC), Duration(1, Unit.DAYS), DEADLINE_ZONES[3])
@example(datetime(2026, 10, 3, 15, 15, tzinfo=UTC), Duration(1, Unit.DAYS), DEADLINE_ZONES[3])
@example(datetime(2026, 3, 28, 1, 30, tzinfo=UTC), Duration(1, Unit.DAYS), DEADLINE_ZONES[4])
@example(datetime(2026, 10, 24, 0, 30, tzinfo=UTC), Duration(1, Unit.WEEKS), DEADLINE_ZONES[4])
def test_days_count_on_the_wall_clock_as_before(
    start: datetime, duration: Duration, zone: tzinfo
) -> None:
    assert timeparse.add(start, duration, zone) == reference_add(start, duration, zone)


class Nameless(tzinfo):
    """A zone without a name: strftime's %Z writes nothing for it."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=-3)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> None:
        return None


@EXAMPLES
@given(moment=moments, zone=st.sampled_from([*DEADLINE_ZONES, Nameless()]))
def test_a_deadline_is_explained_as_strftime_wrote_it(moment: datetime, zone: tzinfo) -> None:
    assert deadlines._when(moment, zone) == f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}".strip()


@EXAMPLES
@given(
    moment=st.one_of(
        moments,
        st.datetimes(timezones=st.sampled_from(DEADLINE_ZONES[:4])).filter(
            lambda m: 1990 <= m.astimezone(UTC).year <= 2090
        ),
    )
)
def test_a_time_is_written_as_before(moment: datetime) -> None:
    assert timeparse.iso(moment) == moment.astimezone(UTC).isoformat(timespec="seconds")


maybe_text = st.one_of(st.none(), st.text(max_size=12))


@EXAMPLES
@given(
    rule=st.builds(
        deadlines.RuleRef,
        policy=st.text(max_size=12),
        duration=maybe_text,
        counts_from=st.text(max_size=12),
        start=st.one_of(st.none(), moments),
        assumed=st.booleans(),
        source=maybe_text,
        described=st.text(max_size=40),  # quotes, backslashes, control and non-ASCII characters
        origin=st.text(max_size=12),
    )
)
def test_a_rule_is_stored_as_the_json_encoder_wrote_it(rule: deadlines.RuleRef) -> None:
    assert rule.json_text() == json.JSONEncoder(ensure_ascii=False).encode(rule.as_json())
