"""Where the ledger and the config file live, and what the config file says.

The config file is ``REFUNDCTL_CONFIG``, else ``config.toml`` in the platformdirs user config
directory; the ledger is ``--db``, else ``REFUNDCTL_DB``, else ``ledger.db`` in the user data
directory. A bad config file is refused whole, with the file, the line and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from refundctl.errors import BadInput
from refundctl.timeparse import system_zone, zone_named

APP_NAME = "refundctl"
KNOWN_SETTINGS = ("timezone", "currency", "evidence_max_mib")


@dataclass(frozen=True, slots=True)
class Config:
    timezone: str | None = None
    currency: str = "USD"
    evidence_max_mib: int = 100
    path: Path | None = None

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


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a bad one is refused."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as error:
        raise BadInput(f"cannot read config file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"config file {path}: {error}") from None
    unknown = sorted(set(data) - set(KNOWN_SETTINGS))
    if unknown:
        raise BadInput(
            f"config file {path}: unknown setting {unknown[0]!r}; "
            f"known settings: {', '.join(KNOWN_SETTINGS)}"
        )
    timezone = data.get("timezone")
    if timezone is not None:
        if not isinstance(timezone, str):
            raise BadInput(f'config file {path}: timezone must be a string such as "Europe/Berlin"')
        try:
            zone_named(timezone)
        except BadInput as error:
            raise BadInput(f"config file {path}: {error.message}") from None
    currency = data.get("currency", "USD")
    if not isinstance(currency, str):
        raise BadInput(f'config file {path}: currency must be a string such as "EUR"')
    from refundctl.money import parse_currency

    try:
        currency = parse_currency(currency)
    except BadInput as error:
        raise BadInput(f"config file {path}: {error.message}") from None
    max_mib = data.get("evidence_max_mib", 100)
    if not isinstance(max_mib, int) or isinstance(max_mib, bool) or not 1 <= max_mib <= 10240:
        raise BadInput(
            f"config file {path}: evidence_max_mib must be a whole number of MiB from 1 to 10240"
        )
    return Config(timezone=timezone, currency=currency, evidence_max_mib=max_mib, path=path)
