"""Go locations: fixed offsets and IANA zones read through zoneinfo (or the ``tzdata`` package), so their
offsets follow the installed tz release; Go's ``Local`` is pinned to UTC so a run never depends on the
machine's timezone."""

from __future__ import annotations

import os
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources

from wftest.lua.gotime.civil import SECONDS_PER_DAY, ZERO_UNIX_SEC
from wftest.lua.gotime.scan import GoTimeError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LOOKUP_MIN_SEC = ZERO_UNIX_SEC + 2 * SECONDS_PER_DAY  # datetime cannot go below year 1
_LOOKUP_MAX_SEC = 253_402_300_799 - 2 * SECONDS_PER_DAY  # ...nor above year 9999
_GREGORIAN_CYCLE_SEC = 146_097 * SECONDS_PER_DAY  # 400 years: calendar and weekdays repeat


@dataclass(frozen=True)
class Location:
    """A Go ``*time.Location``: a fixed offset, or an IANA zone (``zone_key``) resolved through zoneinfo."""

    name: str
    offset: int = 0
    abbreviation: str = ""
    zone_key: str | None = None

    def string(self) -> str:
        """Go ``Location.String``: the name the location was created with."""
        return self.name

    def lookup(self, unix_sec: int) -> tuple[str, int]:
        """Zone abbreviation and offset (seconds east of UTC) in effect at ``unix_sec``."""
        if self.zone_key is None:
            return self.abbreviation, self.offset
        return _zone_lookup(self.zone_key, unix_sec)

    def zone_table(self) -> tuple[tuple[str, int], ...]:
        """The (abbreviation, offset) pairs the zone defines, in Go's order (used to parse "MST")."""
        if self.zone_key is None:
            return ((self.abbreviation, self.offset),)
        return _tzif_zones(self.zone_key)


UTC = Location("UTC", 0, "UTC")
LOCAL = Location("Local", 0, "UTC")
"""Go's ``time.Local``; the simulator pins the host's local zone to UTC for determinism."""


def fixed_zone(name: str, offset_seconds: int) -> Location:
    """Go ``time.FixedZone``: ``name`` is both the location name and the printed abbreviation."""
    return Location(name, offset_seconds, name)


@cache
def _zoneinfo(key: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(key)


def _zone_lookup(key: str, unix_sec: int) -> tuple[str, int]:
    if unix_sec < _LOOKUP_MIN_SEC:
        unix_sec = _LOOKUP_MIN_SEC  # before the first transition the offset is constant
    elif unix_sec > _LOOKUP_MAX_SEC:
        cycles = -(-(unix_sec - _LOOKUP_MAX_SEC) // _GREGORIAN_CYCLE_SEC)
        unix_sec -= cycles * _GREGORIAN_CYCLE_SEC  # far future follows the yearly rule, 400-year periodic
    local = (_EPOCH + timedelta(seconds=unix_sec)).astimezone(_zoneinfo(key))
    delta = local.utcoffset() or timedelta(0)
    return local.tzname() or "", delta.days * SECONDS_PER_DAY + delta.seconds


def _read_tzif(key: str) -> bytes | None:
    """The TZif file zoneinfo would use for ``key``: TZPATH first, then the ``tzdata`` package."""
    for base in zoneinfo.TZPATH:
        path = os.path.join(base, key)
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                return fh.read()
    try:
        resource = resources.files("tzdata").joinpath("zoneinfo", *key.split("/"))
        return resource.read_bytes() if resource.is_file() else None
    except (ModuleNotFoundError, OSError):
        return None


@cache
def _tzif_zones(key: str) -> tuple[tuple[str, int], ...]:
    """The ttinfo table of a TZif file, as Go's ``LoadLocationFromTZData`` reads it into ``l.zone``."""
    data = _read_tzif(key)
    if data is None or data[:4] != b"TZif":
        return ()
    try:
        counts = struct.unpack(">6l", data[20:44])
        pos, time_size = 44, 4
        if data[4] >= ord("2"):  # skip the 32-bit block, read the 64-bit one
            isut, isstd, leap, timecnt, typecnt, charcnt = counts
            pos += timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut
            counts = struct.unpack(">6l", data[pos + 20:pos + 44])
            pos, time_size = pos + 44, 8
        _, _, _, timecnt, typecnt, charcnt = counts
        pos += timecnt * (time_size + 1)
        chars = data[pos + typecnt * 6:pos + typecnt * 6 + charcnt]
        zones = []
        for i in range(typecnt):
            utoff, _isdst, idx = struct.unpack(">lBB", data[pos + i * 6:pos + i * 6 + 6])
            end = chars.find(b"\0", idx)
            zones.append((chars[idx:end if end >= 0 else len(chars)].decode("latin-1"), utoff))
        return tuple(zones)
    except (struct.error, UnicodeDecodeError):
        return ()


def load_location(name: str) -> Location:
    """Go ``time.LoadLocation``: ``""``/``"UTC"`` → UTC, ``"Local"`` → LOCAL, else an IANA zone name."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return LOCAL
    if ".." in name or name[0] in "/\\":
        raise GoTimeError("time: invalid location name")
    try:
        _zoneinfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        raise GoTimeError("unknown time zone " + name) from None
    return Location(name, zone_key=name)


def lookup_name(loc: Location, name: str, unix_sec: int) -> tuple[int, bool]:
    """Go ``Location.lookupName``: prefer a zone with that abbreviation actually in effect then."""
    zones = loc.zone_table()
    for zone_name, zone_offset in zones:
        if zone_name == name:
            in_effect, offset = loc.lookup(unix_sec - zone_offset)
            if in_effect == zone_name:
                return offset, True
    for zone_name, zone_offset in zones:
        if zone_name == name:
            return zone_offset, True
    return 0, False
