"""Without a configured zone, the buyer's zone is the system's, with its DST rules."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from refundctl.timeparse import system_zone, zone_identity, zone_named


@pytest.mark.parametrize("value", ["Europe/Berlin", ":Europe/Berlin"])
def test_an_iana_tz_gives_that_zone(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TZ", value)
    assert system_zone() == ZoneInfo("Europe/Berlin")


def test_a_posix_tz_string_still_keeps_dst(monkeypatch: pytest.MonkeyPatch) -> None:
    # A process reads TZ when it starts; in-process, the C library must be told again.
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    zone = system_zone()
    summer = datetime(2026, 7, 1, 12).replace(tzinfo=zone)
    winter = datetime(2026, 1, 1, 12).replace(tzinfo=zone)
    try:
        assert summer.utcoffset() != winter.utcoffset()
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_tz_naming_a_folder_of_zones_is_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America")
    assert system_zone() is not None


@pytest.mark.parametrize("value", ["UTC", "Etc/UTC", ":UTC", "Zulu", "Etc/Universal"])
def test_utc_by_any_name_is_utc_itself(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # The zone database is not needed for UTC: `check` on a server starts faster without it.
    monkeypatch.setenv("TZ", value)
    zone = system_zone()
    assert zone is UTC
    assert zone_identity(zone) == zone_identity(ZoneInfo("Etc/UTC"))  # the same stored basis
    assert zone_named(value.lstrip(":")) is UTC  # and so for `timezone = "UTC"` in the config
