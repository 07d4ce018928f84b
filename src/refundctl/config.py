"""Where the ledger and the config file live, and what the config file says.

The config file is ``REFUNDCTL_CONFIG``, else ``config.toml`` in the platformdirs user config
directory; the ledger is ``--db``, else ``REFUNDCTL_DB``, else ``ledger.db`` in the user data
directory. A bad config file is refused whole, with the file, the line and what is wrong.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refundctl.errors import BadInput
from refundctl.timeparse import system_zone, zone_named
from refundctl.userfiles import MiB, read_bounded

if TYPE_CHECKING:
    from refundctl.policies import Policies

APP_NAME = "refundctl"
KNOWN_SETTINGS = ("timezone", "currency", "evidence_max_mib", "marketplaces")


@dataclass(frozen=True)
class Config:
    timezone: str | None = None
    currency: str = "USD"
    evidence_max_mib: int = 100
    path: Path | None = None
    # Per marketplace: rule name -> Rule or None, "timezone"/"holidays" -> str or None.
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @functools.cached_property
    def policies(self) -> Policies:
        from refundctl.policies import DEFAULT_POLICIES, with_overrides

        return with_overrides(self.overrides) if self.overrides else DEFAULT_POLICIES

    @property
    def evidence_max_bytes(self) -> int:
        return self.evidence_max_mib * 1024 * 1024

    def zone(self) -> tzinfo:
        """The buyer's zone: the config's ``timezone``, else the system's."""
        if self.timezone is None:
            return system_zone()
        return zone_named(self.timezone)


def config_path() -> Path:
    explicit = os.environ.get("REFUNDCTL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def default_ledger_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME) / "ledger.db"


def demo_ledger_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME) / "demo.db"


CONFIG_LIMIT = 1 * MiB


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a bad one is refused whole. No default file is an empty config,
    but a file ``REFUNDCTL_CONFIG`` names must be there: a mistyped name silently ignored
    would have every deadline counted with rules the buyer thinks they changed."""
    named = path is None and bool(os.environ.get("REFUNDCTL_CONFIG"))
    path = path or config_path()
    if str(path) == os.devnull:  # the usual way to say "no config" in scripts and CI
        return Config()
    try:
        # A config is a few lines; a device, a pipe or a huge file named by mistake would hang
        # or exhaust every command.
        raw = read_bounded(path, "config file", CONFIG_LIMIT)
    except FileNotFoundError:
        if named:
            raise BadInput(
                f"REFUNDCTL_CONFIG names {path}, which does not exist; "
                "create it, or unset REFUNDCTL_CONFIG to use the default config file"
            ) from None
        return Config()
    except OSError as error:
        raise BadInput(f"cannot read config file {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"config file {path} is not UTF-8 text") from None
    if not text.strip():
        return Config(path=path)  # an empty file says nothing: no TOML reader needed
    import tomllib  # only once there is a file to read

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"config file {path}: {error}") from None
    except RecursionError:  # tomllib recurses per nested array or table
        raise BadInput(
            f"config file {path} nests arrays or tables too deeply to be a refundctl config"
        ) from None
    return _ConfigReader(path, text).read(data)


class _ConfigReader:
    """Checks a parsed config and says where a bad value is: file, line, what is wrong."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, message: str, key: str, table: str | None = None) -> BadInput:
        line = self._line_of(key, table)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return BadInput(f"config file {where}: {message}")

    def _line_of(self, key: str, table: str | None) -> int | None:
        """The line that sets ``key`` (inside ``[table]`` when given), found by reading.

        TOML can say the same thing as a table, a dotted key or an inline table; the first
        pass reads tables, the second takes any line naming the key (or the table).
        """

        def bare(text: str) -> str:
            return re.sub(r"[\"'\s]", "", text).lower()

        wanted = bare(table) if table is not None else None
        inside = table is None
        header = re.compile(r"\s*\[\s*(.+?)\s*\]\s*(#.*)?$")
        assignment = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines, start=1):
            match = header.match(line)
            if match:
                inside = wanted is not None and bare(match.group(1)) == wanted
                if inside and key == "":
                    return number
                continue
            if inside and key and assignment.match(line):
                return number
        last = (table or "").rsplit(".", 1)[-1]
        for needle in (key, last):
            if not needle:
                continue
            pattern = re.compile(rf"(^|[\s.{{,\"'])[\"']?{re.escape(needle)}[\"']?\s*[=.]", re.I)
            for number, line in enumerate(self.lines, start=1):
                if pattern.search(line.split("#", 1)[0]):
                    return number
        return None

    def read(self, data: dict[str, Any]) -> Config:
        for key in data:
            if key not in KNOWN_SETTINGS:
                raise self.fail(
                    f"unknown setting {key!r}; known settings: {', '.join(KNOWN_SETTINGS)}", key
                )
        timezone = data.get("timezone")
        if timezone is not None:
            timezone = self._zone(timezone, "timezone", None)
        currency = data.get("currency", "USD")
        if not isinstance(currency, str):
            raise self.fail('currency must be a string such as "EUR"', "currency")
        from refundctl.money import parse_currency

        try:
            currency = parse_currency(currency)
        except BadInput as error:
            raise self.fail(error.message, "currency") from None
        max_mib = data.get("evidence_max_mib", 100)
        if not isinstance(max_mib, int) or isinstance(max_mib, bool) or not 1 <= max_mib <= 10240:
            raise self.fail(
                "evidence_max_mib must be a whole number of MiB from 1 to 10240",
                "evidence_max_mib",
            )
        marketplaces = data.get("marketplaces", {})
        if not isinstance(marketplaces, dict):
            raise self.fail(
                "marketplaces must be tables such as [marketplaces.ebay]", "marketplaces"
            )
        overrides: dict[str, dict[str, object]] = {}
        for name, table in marketplaces.items():
            normal = self._marketplace_name(name)
            if normal in overrides:
                raise self.fail(
                    f"[marketplaces.{name}] repeats another table for {normal!r}: "
                    "marketplace names are case-insensitive, merge the two",
                    "",
                    f"marketplaces.{name}",
                )
            overrides[normal] = self._overrides(name, table)
        return Config(
            timezone=timezone,
            currency=currency,
            evidence_max_mib=max_mib,
            path=self.path,
            overrides=overrides,
        )

    def _zone(self, value: object, key: str, table: str | None) -> str:
        if not isinstance(value, str):
            raise self.fail(f'{key} must be a string such as "Europe/Berlin"', key, table)
        try:
            zone_named(value)
        except BadInput as error:
            raise self.fail(error.message, key, table) from None
        return value

    def _marketplace_name(self, name: str) -> str:
        normal = name.strip().lower()
        if not normal or not all(ch.isalnum() or ch in "-_." for ch in normal):
            raise self.fail(
                f"not a marketplace name: {name!r}; use a word such as shopee",
                "",
                f"marketplaces.{name}",
            )
        return normal

    def _overrides(self, name: str, table: object) -> dict[str, object]:
        from refundctl.policies import RuleName

        where = f"marketplaces.{name}"
        if not isinstance(table, dict):
            raise self.fail(f"marketplaces.{name} must be a table of rules", name, "marketplaces")
        rules = {rule.value for rule in RuleName}
        result: dict[str, object] = {}
        for key, value in table.items():
            if key == "timezone":
                result[key] = self._zone(value, key, where)
            elif key == "holidays":
                result[key] = self._country(value, where)
            elif key in rules:
                result[key] = self._rule(value, key, where)
            else:
                known = ", ".join(sorted(rules)) + ", timezone, holidays"
                raise self.fail(f"[{where}] has no setting {key!r}; known: {known}", key, where)
        return result

    def _country(self, value: object, where: str) -> str | None:
        if value is False:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
            raise self.fail(
                'holidays must be a two-letter country code such as "US", or false',
                "holidays",
                where,
            )
        from refundctl.timeparse import holiday_checker

        try:
            holiday_checker(value.upper())
        except BadInput as error:
            raise self.fail(error.message, "holidays", where) from None
        return value.upper()

    def _rule(self, value: object, key: str, where: str) -> object:
        """``"10d"``, ``"3bd"``, ``"48h"``, a range ``"5-7d"``, or false (no such step)."""
        from refundctl.policies import Rule
        from refundctl.timeparse import Duration, Unit, parse_duration

        if value is False:
            return None
        hint = 'use a duration such as "10d", "3bd" (business days), "48h" or "5-7d", or false'
        if not isinstance(value, str):
            raise self.fail(f"{key} must be a string: {hint}", key, where)
        text = value.strip().lower()
        low_text, dash, high_text = text.partition("-")
        try:
            if dash:
                high = parse_duration(high_text, business_days=True)
                low = Duration(int(low_text), high.unit) if low_text.isdigit() else None
                if low is None:
                    raise BadInput("bad range")
                if low.count > high.count:
                    reversed_range = (low, high)
                else:
                    return Rule(low, high)
            else:
                reversed_range = None
                duration = parse_duration(text, business_days=True)
        except (BadInput, ValueError):
            raise self.fail(f"{key} = {value!r} is not a duration; {hint}", key, where) from None
        if reversed_range is not None:
            low, high = reversed_range
            raise self.fail(
                f"{key} = {value!r}: the low end is above the high end; "
                f"write it as {high.count}-{low.count}{high.unit}",
                key,
                where,
            )
        from refundctl.policies import EARLIEST_RULES

        # A wait of nothing is a real rule ("once the estimated delivery has passed").
        zero_allowed = duration.unit is Unit.HOURS or key in EARLIEST_RULES
        if duration.count == 0 and not zero_allowed:
            raise self.fail(f"{key} = {value!r} is zero; {hint}", key, where)
        return Rule(duration)
