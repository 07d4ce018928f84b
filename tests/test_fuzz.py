"""Fuzzing: no input, however strange, gets anything but a value or a one-line refusal.

Each parser takes any text and either returns a value that keeps its promises or raises
``BadInput`` (exit 2 on the command line): WHEN, DURATION, amounts, percentages, currencies and
the config file (random TOML-ish text, and well-formed TOML with random values in the right
places). The command line itself gets random argument lists, built from its own commands,
options and values that are valid, nearly valid and not at all: it may refuse them, never with a
traceback or exit 70. HYPOTHESIS_PROFILE=stress runs thousands of each.
"""

from __future__ import annotations

import os
import string
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer.main
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from refundctl.cli import app
from refundctl.config import Config, load_config
from refundctl.errors import BadInput
from refundctl.money import (
    from_minor,
    parse_amount,
    parse_currency,
    parse_percent,
    quantum,
    to_minor,
)
from refundctl.timeparse import Duration, parse_duration, parse_when
from tests.conftest import Cli

STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"
PARSER = settings(max_examples=3000 if STRESS else 300, deadline=None)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ZONES = [
    UTC,
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("Pacific/Kiritimati"),
    ZoneInfo("Asia/Kathmandu"),
]

# Text that looks like what the parsers take, with the usual slips.
digits = st.integers(0, 99999).map(str)
near_when = st.one_of(
    st.builds(
        "{}-{}-{}{}".format,
        st.integers(0, 12000).map(lambda y: f"{y:04d}"),
        st.integers(0, 19).map(lambda m: f"{m:02d}"),
        st.integers(0, 39).map(lambda d: f"{d:02d}"),
        st.sampled_from(["", "T12:30", "T25:00", "T23:59:60", "T00:00+14:00", "T10:00-25:00",
                         "T10:00Z", " 10:00", "T10", "T10:00:00.123456789", "T1:2"]),
    ),
    st.builds("{}{} ago".format, digits, st.sampled_from(["h", "d", "w", "y", "bd", " d", ""])),
    st.sampled_from(["now", "today", "Yesterday", "TOMORROW", " today ", "3 d ago", "2026",
                     "2026-W48", "2026-330", "20261126", "2026-11-26T", "+2026-11-26", "1e3"]),
)  # fmt: skip
near_duration = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", " ", "-", "+", "0", "00"]),
    digits,
    st.sampled_from(["h", "d", "w", "bd", "BD", " d", "dd", "", "m", "y", "d "]),
)
near_amount = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds("{}.{}".format, digits, digits),
    st.builds("{}{}".format, st.sampled_from(["", "-", "+", "$", " ", "0x", "1,", "١"]), digits),
    st.sampled_from(["", ".", "1.", ".5", "1e3", "1E-2", "NaN", "Infinity", "9" * 40]),
)


@PARSER
@given(text=st.one_of(st.text(), near_when), zone=st.sampled_from(ZONES))
@example(text="9999-12-31T23:59:59-23:59", zone=UTC)
@example(text="0001-01-01T00:00:00+23:59", zone=UTC)
@example(text="99999d ago", zone=UTC)
def test_any_when_is_a_time_or_a_refusal(text: str, zone: Any) -> None:
    try:
        moment = parse_when(text, now=NOW, zone=zone)
    except BadInput:
        return
    assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)
    assert 1989 <= moment.year <= 2101


@PARSER
@given(text=st.one_of(st.text(), near_duration), business_days=st.booleans())
def test_any_duration_is_a_duration_or_a_refusal(text: str, business_days: bool) -> None:
    try:
        duration = parse_duration(text, business_days=business_days)
    except BadInput:
        return
    assert isinstance(duration, Duration) and 0 <= duration.count <= 9999
    assert business_days or duration.unit != "bd"


@PARSER
@given(
    text=st.one_of(st.text(), near_amount),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD", "CLF", "XAU", "BHD"]),
)
def test_any_amount_is_exact_money_or_a_refusal(text: str, currency: str) -> None:
    try:
        amount = parse_amount(text, currency)
    except BadInput:
        return
    assert amount > 0 and amount == amount.quantize(quantum(currency))
    assert from_minor(to_minor(amount, currency), currency) == amount
    assert abs(to_minor(amount, currency)) < 2**63


@PARSER
@given(text=st.one_of(st.text(), near_amount, st.builds("{}%".format, near_amount)))
def test_any_percent_is_in_range_or_a_refusal(text: str) -> None:
    try:
        percent = parse_percent(text)
    except BadInput:
        return
    assert Decimal(0) < percent <= Decimal(100)


@PARSER
@given(text=st.one_of(st.text(max_size=5), st.text(string.ascii_letters, min_size=3, max_size=3)))
def test_any_currency_is_a_code_or_a_refusal(text: str) -> None:
    try:
        code = parse_currency(text)
    except BadInput:
        return
    assert len(code) == 3 and code.isupper()


# -- the config file ------------------------------------------------------------------------------

KEYS = ["timezone", "currency", "evidence_max_mib", "marketplaces", "colour"]
RULES = ["dispute_window", "seller_response", "escalate_by", "appeal_by", "refund_card",
         "timezone", "holidays", "no_such_rule"]  # fmt: skip
values = st.one_of(
    st.sampled_from([
        '"UTC"', '"Europe/Berlin"', '"America"', '"Etc"', '"Mars/Base"', '""', '"EUR"', '"eur"',
        '"XYZ"', "100", "0", "-1", "10241", "1.5", "true", "false", '"10d"', '"3bd"', '"48h"',
        '"5-7d"', '"7-5d"', '"0d"', '"99999d"', '"9999w"', '"1-9999w"', '"x-3d"', '"²-3d"',
        '"US"', '"us"', '"XX"', '"USA"', "[]", '["10d"]', "{}", '{a = 1}', "2026-11-26",
        "12:00:00", "inf", "nan", '"""multi\nline"""', "'literal'",
    ]),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.integers(-(2**70), 2**70).map(str),
)  # fmt: skip
marketplace_names = st.sampled_from(["ebay", "EBAY", "shopee", "a b", "", "x.y", "ü", "'q'"])


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    lines = [
        f"{draw(st.sampled_from(KEYS[:3]))} = {draw(values)}"
        for _ in range(draw(st.integers(0, 3)))
    ]
    for _ in range(draw(st.integers(0, 3))):
        name = draw(marketplace_names)
        lines.append(
            f'[marketplaces."{name}"]' if draw(st.booleans()) else f"[marketplaces.{name}]"
        )
        for _ in range(draw(st.integers(0, 4))):
            lines.append(f"{draw(st.sampled_from(RULES))} = {draw(values)}")
    if draw(st.booleans()):
        lines.insert(0, f"{draw(st.sampled_from(KEYS))} = {draw(values)}")
    return "\n".join(lines) + "\n"


config_texts = st.one_of(
    toml_documents(),
    toml_documents().map(lambda t: t[: len(t) // 2]),  # cut short
    st.text(alphabet=st.sampled_from("[]=\"'.#=\n abc12dbhUTC\\{},"), max_size=60),
    st.text(max_size=60),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def _use(config: Config) -> None:
    """What a command does with the config: the zone, the limit, every marketplace's policy."""
    config.zone()
    assert config.evidence_max_bytes > 0
    for name in ["ebay", "aliexpress", "shopee", *config.overrides]:
        config.policies.for_marketplace(name)


@settings(PARSER, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=config_texts)
@example(text='timezone = "America"\n')
@example(text='[marketplaces.ebay]\ntimezone = "Etc"\n')
@example(text='[marketplaces.shopee]\ndispute_window = "9999w"\n')
def test_any_config_file_is_a_config_or_a_refusal(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        config = load_config(path)
        _use(config)
    except BadInput as error:
        assert str(path) in error.message


@settings(
    max_examples=400 if STRESS else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=toml_documents())
@example(text='timezone = "America"\n')
@example(text='[marketplaces.shopee]\ndispute_window = "9999w"\nseller_response = "1-9999w"\n')
def test_any_config_file_through_the_commands_is_used_or_refused(
    story: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "fuzzed.toml"
    path.write_text(text)
    monkeypatch.setenv("REFUNDCTL_CONFIG", str(path))
    for args in (["status"], ["check", "--json"], ["policies", "--json"], ["status", "1"]):
        run = story(*args)
        assert run.exit_code in {0, 1, 2}, (args, run.exit_code, run.stderr)
        if run.exit_code == 2:
            assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1


# -- the command line -----------------------------------------------------------------------------


def _tree() -> dict[str, list[str]]:
    """Every command path and the options it takes, read from the app itself."""
    root = typer.main.get_command(app)
    found: dict[str, list[str]] = {}

    def walk(command: Any, path: list[str]) -> None:
        options = [o for p in command.params for o in p.opts if o.startswith("-")]
        if path:
            found[" ".join(path)] = options
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return found


COMMANDS = _tree()
# restore --force and demo would rebuild the very ledger the fuzzing works on: fine, but slow.
VALUES = st.one_of(
    st.sampled_from(["1", "2", "0", "-1", "99999999999999999999", "8101234567890123", "X-1",
                     "12.50", "0.001", "50", "100", "abc", "", " ", "--", "-", "--json",
                     "today", "yesterday", "2026-11-20", "2027-01-01", "3d", "0h", "48h", "2bd",
                     "aliexpress", "ebay", "damaged", "missing-parts", "seller-offers", "accept",
                     "counter", "platform-awards", "buyer", "seller", "platform", "photo",
                     "box.jpg", "nope.jpg", "out.zip", "https://example.com/x", "ics", "csv",
                     "\x1b[31m", "\u202e", "日本", "a\nb", "%s", "{}", "$(id)", "../x"]),
    st.text(max_size=8),
)  # fmt: skip


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    args = command.split()
    options = COMMANDS[command]
    for _ in range(draw(st.integers(0, 6))):
        if options and draw(st.integers(0, 2)) == 0:
            args.append(draw(st.sampled_from(options)))
        else:
            args.append(draw(VALUES))
    if draw(st.integers(0, 5)) == 0:
        args = [draw(st.sampled_from(["--as-of", "--db", "--version", "-h"])), draw(VALUES), *args]
    return args


@settings(
    max_examples=2000 if STRESS else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=argvs())
def test_no_command_line_gets_a_traceback_or_exit_70(
    story: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "box.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    if "--db" in argv and argv.index("--db") + 1 < len(argv):
        db = argv[argv.index("--db") + 1]
        if db.startswith("/") or db.startswith("-"):  # keep every ledger inside the folder
            return
    run = story(*argv)  # raises what the command let out, instead of exiting
    assert run.exit_code in {0, 1, 2, 3}, (argv, run.exit_code, run.stderr)
    assert "Traceback" not in run.stdout + run.stderr, argv
    if run.exit_code in {2, 3}:
        assert run.stderr.startswith("error: ") or run.stderr.startswith("Usage:"), run.stderr
