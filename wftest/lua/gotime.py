"""Go ``time`` package semantics behind Wippy's Lua ``time`` module, in pure Python.

Durations are plain ``int`` nanoseconds (Go's ``time.Duration`` is an int64). A Go ``time.Time`` is a
:class:`GoTime`: an instant in unix nanoseconds plus a :class:`Location`. Layout formatting and parsing,
``ParseDuration`` and ``Duration.String`` follow Go's algorithms step by step so that results and error
messages match Go byte for byte; like Go, strings are handled as UTF-8 bytes.

Determinism: there is no clock here (the host supplies "now"), and Go's ``Local`` zone is pinned to UTC
under the name ``"Local"`` so a run never depends on the machine's timezone. IANA zones come from the
system zoneinfo database (or the ``tzdata`` package), so their offsets follow the installed tz release.
"""

from __future__ import annotations

import os
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import NamedTuple

from wftest.errors import UserError

NANOSECOND = 1
MICROSECOND = 1_000 * NANOSECOND
MILLISECOND = 1_000 * MICROSECOND
SECOND = 1_000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MIN_DURATION = -(1 << 63)
MAX_DURATION = (1 << 63) - 1

LAYOUTS: dict[str, str] = {
    "Layout": "01/02 03:04:05PM '06 -0700",
    "ANSIC": "Mon Jan _2 15:04:05 2006",
    "UnixDate": "Mon Jan _2 15:04:05 MST 2006",
    "RubyDate": "Mon Jan 02 15:04:05 -0700 2006",
    "RFC822": "02 Jan 06 15:04 MST",
    "RFC822Z": "02 Jan 06 15:04 -0700",
    "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
    "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
    "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
    "RFC3339": "2006-01-02T15:04:05Z07:00",
    "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
    "Kitchen": "3:04PM",
    "Stamp": "Jan _2 15:04:05",
    "StampMilli": "Jan _2 15:04:05.000",
    "StampMicro": "Jan _2 15:04:05.000000",
    "StampNano": "Jan _2 15:04:05.000000000",
    "DateTime": "2006-01-02 15:04:05",
    "DateOnly": "2006-01-02",
    "TimeOnly": "15:04:05",
}
"""Go's named layout constants, keyed by their Go identifiers."""

LUA_LAYOUTS: dict[str, str] = {
    "RFC3339": LAYOUTS["RFC3339"],
    "RFC3339NANO": LAYOUTS["RFC3339Nano"],
    "RFC822": LAYOUTS["RFC822"],
    "RFC822Z": LAYOUTS["RFC822Z"],
    "RFC850": LAYOUTS["RFC850"],
    "RFC1123": LAYOUTS["RFC1123"],
    "RFC1123Z": LAYOUTS["RFC1123Z"],
    "DATE_TIME": LAYOUTS["DateTime"],
    "DATE_ONLY": LAYOUTS["DateOnly"],
    "TIME_ONLY": LAYOUTS["TimeOnly"],
    "KITCHEN": LAYOUTS["Kitchen"],
    "STAMP": LAYOUTS["Stamp"],
    "STAMP_MILLI": LAYOUTS["StampMilli"],
    "STAMP_MICRO": LAYOUTS["StampMicro"],
    "STAMP_NANO": LAYOUTS["StampNano"],
}
"""The same layouts under the constant names the Lua ``time`` module exports."""

_LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_SHORT_DAYS = tuple(d[:3] for d in _LONG_DAYS)
_LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
_SHORT_MONTHS = tuple(m[:3] for m in _LONG_MONTHS)
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)
_SECONDS_PER_DAY = 86_400
_ZERO_UNIX_SEC = -62_135_596_800  # 0001-01-01T00:00:00Z, Go's zero Time
_UINT64 = (1 << 64) - 1


class GoTimeError(UserError, ValueError):
    """A failure reported with the message Go's time package would produce."""


# ---------------------------------------------------------------------------------------------------------
# Byte-wise string helpers: Go indexes strings by byte, so work on one char per UTF-8 byte.

def _to_bytes_str(s: str) -> str:
    """Re-encode ``s`` as one latin-1 char per UTF-8 byte so slicing matches Go's byte indexing."""
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = s.encode("utf-8", "surrogatepass")
    return raw.decode("latin-1")


def _from_bytes_str(s: str) -> str:
    """Inverse of :func:`_to_bytes_str`; undecodable bytes survive as surrogate escapes."""
    return s.encode("latin-1").decode("utf-8", "surrogateescape")


def _quote(s: str) -> str:
    """Go time's internal ``quote`` over a byte-string: control and non-ASCII bytes become ``\\xNN``."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if code >= 0x80 or code < 0x20:
            out.append(f"\\x{code:02x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _leading_int(s: str) -> tuple[int, str, bool]:
    """Go ``leadingInt``: consume ``[0-9]*`` as a uint64, failing above 1<<63."""
    x = 0
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        if x > (1 << 63) // 10:
            return 0, s[i:], False
        x = x * 10 + ord(s[i]) - 48
        if x > 1 << 63:
            return 0, s[i:], False
        i += 1
    return x, s[i:], True


def _atoi(s: str) -> tuple[int, bool]:
    """Go time's ``atoi``: optional sign then digits, nothing left over."""
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    q, rem, ok = _leading_int(s)
    if not ok or rem:
        return 0, False
    return (-q if neg else q), True


# ---------------------------------------------------------------------------------------------------------
# Durations

_UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    _to_bytes_str("\u00b5s"): MICROSECOND,  # micro sign
    _to_bytes_str("\u03bcs"): MICROSECOND,  # Greek mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Go ``leadingFraction``: digits after the point; stops gaining precision instead of overflowing."""
    x = 0
    scale = 1.0
    overflow = False
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            if x > MAX_DURATION // 10:
                overflow = True
            else:
                y = x * 10 + ord(s[i]) - 48
                if y > 1 << 63:
                    overflow = True
                else:
                    x = y
                    scale *= 10
        i += 1
    return x, scale, s[i:]


def parse_duration(s: str) -> int:
    """Go ``time.ParseDuration``: e.g. ``"1h30m"``, ``"-1.5s"``, ``"300ms"``; returns nanoseconds."""
    orig = _to_bytes_str(s)
    invalid = GoTimeError("time: invalid duration " + _quote(orig))
    rest = orig
    neg = False
    if rest and rest[0] in "+-":
        neg = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == "." or "0" <= rest[0] <= "9"):
            raise invalid
        before = len(rest)
        whole, rest, ok = _leading_int(rest)
        if not ok:
            raise invalid
        pre = before != len(rest)
        frac, scale, post = 0, 1.0, False
        if rest and rest[0] == ".":
            rest = rest[1:]
            before = len(rest)
            frac, scale, rest = _leading_fraction(rest)
            post = before != len(rest)
        if not pre and not post:
            raise invalid
        i = 0
        while i < len(rest) and not (rest[i] == "." or "0" <= rest[i] <= "9"):
            i += 1
        if i == 0:
            raise GoTimeError("time: missing unit in duration " + _quote(orig))
        unit_name, rest = rest[:i], rest[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise GoTimeError("time: unknown unit " + _quote(unit_name) + " in duration " + _quote(orig))
        if whole > (1 << 63) // unit:
            raise invalid
        whole *= unit
        if frac > 0:
            whole += int(float(frac) * (float(unit) / scale))
            if whole > 1 << 63:
                raise invalid
        total = (total + whole) & _UINT64  # Go accumulates in a uint64
        if total > 1 << 63:
            raise invalid
    if neg:
        return -total
    if total > MAX_DURATION:
        raise invalid
    return total


def _check_duration(d: int) -> int:
    """Reject values a Go ``time.Duration`` (int64) cannot hold."""
    if not MIN_DURATION <= d <= MAX_DURATION:
        raise GoTimeError(f"time: duration {d} out of int64 range")
    return d


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Go ``fmtFrac``: the fraction of ``v / 10**prec`` without trailing zeros, and the integer part."""
    digits: list[str] = []
    printing = False
    for _ in range(prec):
        digit = v % 10
        printing = printing or digit != 0
        if printing:
            digits.append(str(digit))
        v //= 10
    if not printing:
        return "", v
    return "." + "".join(reversed(digits)), v


def format_duration(ns: int) -> str:
    """Go ``Duration.String``: ``"1h30m0s"``, ``"1.5s"``, ``"500ms"``, ``"1µs"``, ``"0s"``."""
    u = abs(_check_duration(ns))
    if u == 0:
        return "0s"
    if u < SECOND:
        if u < MICROSECOND:
            prec, unit = 0, "ns"
        elif u < MILLISECOND:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        frac, whole = _fmt_frac(u, prec)
        text = f"{whole}{frac}{unit}"
    else:
        frac, u = _fmt_frac(u, 9)
        text = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            text = f"{u % 60}m{text}"
            u //= 60
            if u > 0:
                text = f"{u}h{text}"
    return "-" + text if ns < 0 else text


def _trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as Go's ``/`` does."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def duration_nanoseconds(d: int) -> int:
    """Go ``Duration.Nanoseconds``."""
    return _check_duration(d)


def duration_microseconds(d: int) -> int:
    """Go ``Duration.Microseconds`` (truncates toward zero)."""
    return _trunc_div(_check_duration(d), MICROSECOND)


def duration_milliseconds(d: int) -> int:
    """Go ``Duration.Milliseconds`` (truncates toward zero)."""
    return _trunc_div(_check_duration(d), MILLISECOND)


def _split_float(d: int, unit: int) -> float:
    """Go's float conversion: whole units plus the remainder, each converted separately."""
    whole = _trunc_div(_check_duration(d), unit)
    return float(whole) + float(d - whole * unit) / float(unit)


def duration_seconds(d: int) -> float:
    """Go ``Duration.Seconds``."""
    return _split_float(d, SECOND)


def duration_minutes(d: int) -> float:
    """Go ``Duration.Minutes``."""
    return _split_float(d, MINUTE)


def duration_hours(d: int) -> float:
    """Go ``Duration.Hours``."""
    return _split_float(d, HOUR)


# ---------------------------------------------------------------------------------------------------------
# Locations

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LOOKUP_MIN_SEC = _ZERO_UNIX_SEC + 2 * _SECONDS_PER_DAY  # datetime cannot go below year 1
_LOOKUP_MAX_SEC = 253_402_300_799 - 2 * _SECONDS_PER_DAY  # ...nor above year 9999
_GREGORIAN_CYCLE_SEC = 146_097 * _SECONDS_PER_DAY  # 400 years: calendar and weekdays repeat


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
    return local.tzname() or "", delta.days * _SECONDS_PER_DAY + delta.seconds


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


def _lookup_name(loc: Location, name: str, unix_sec: int) -> tuple[int, bool]:
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


# ---------------------------------------------------------------------------------------------------------
# Calendar arithmetic (proleptic Gregorian, astronomical year numbering like Go)

def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 for a valid month; ``day`` may be any integer."""
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468 + day - 1


def _civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in(month: int, year: int) -> int:
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1]


# ---------------------------------------------------------------------------------------------------------
# Time values

@dataclass(frozen=True)
class GoTime:
    """A Go ``time.Time`` without a monotonic reading: ``unix_ns`` nanoseconds since 1970 UTC in ``loc``."""

    unix_ns: int
    loc: Location = UTC

    def _zone(self) -> tuple[str, int, int]:
        """(abbreviation, offset, wall-clock seconds since the unix epoch) as Go's ``locabs``."""
        sec = self.unix_ns // SECOND
        name, offset = self.loc.lookup(sec)
        return name, offset, sec + offset

    def add(self, d: int) -> GoTime:
        """Go ``Time.Add``."""
        return GoTime(self.unix_ns + _check_duration(d), self.loc)

    def sub(self, other: GoTime) -> int:
        """Go ``Time.Sub``: saturates at the int64 Duration limits."""
        return max(MIN_DURATION, min(MAX_DURATION, self.unix_ns - other.unix_ns))

    def add_date(self, years: int, months: int, days: int) -> GoTime:
        """Go ``Time.AddDate``: shifts the wall-clock date, then normalises like ``date`` (Jan 31 + 1 month
        becomes March 2 or 3)."""
        year, month, day = self.date()
        hour, minute, second = self.clock()
        return date(year + years, month + months, day + days, hour, minute, second, self.nanosecond(),
                    self.loc)

    def after(self, other: GoTime) -> bool:
        return self.unix_ns > other.unix_ns

    def before(self, other: GoTime) -> bool:
        return self.unix_ns < other.unix_ns

    def equal(self, other: GoTime) -> bool:
        """Same instant, whatever the locations."""
        return self.unix_ns == other.unix_ns

    def format(self, layout: str) -> str:
        """Go ``Time.Format``."""
        return format(self, layout)

    def format_rfc3339(self) -> str:
        return format(self, LAYOUTS["RFC3339"])

    def string(self) -> str:
        """Go ``Time.String`` (no monotonic suffix: these times never carry one)."""
        return format(self, "2006-01-02 15:04:05.999999999 -0700 MST")

    def __str__(self) -> str:
        return self.string()

    def unix(self) -> int:
        return self.unix_ns // SECOND

    def unix_nano(self) -> int:
        """Go ``Time.UnixNano``: wraps like Go's int64 arithmetic outside years 1678-2262."""
        return ((self.unix_ns + (1 << 63)) & _UINT64) - (1 << 63)

    def date(self) -> tuple[int, int, int]:
        return _civil_from_days(self._zone()[2] // _SECONDS_PER_DAY)

    def clock(self) -> tuple[int, int, int]:
        secs = self._zone()[2] % _SECONDS_PER_DAY
        return secs // 3600, secs // 60 % 60, secs % 60

    def year(self) -> int:
        return self.date()[0]

    def month(self) -> int:
        return self.date()[1]

    def day(self) -> int:
        return self.date()[2]

    def hour(self) -> int:
        return self.clock()[0]

    def minute(self) -> int:
        return self.clock()[1]

    def second(self) -> int:
        return self.clock()[2]

    def nanosecond(self) -> int:
        return self.unix_ns % SECOND

    def weekday(self) -> int:
        """0 = Sunday."""
        return (self._zone()[2] // _SECONDS_PER_DAY + 4) % 7

    def year_day(self) -> int:
        """1..366."""
        days = self._zone()[2] // _SECONDS_PER_DAY
        return days - _days_from_civil(_civil_from_days(days)[0], 1, 1) + 1

    def is_zero(self) -> bool:
        """Go's zero Time is January 1, year 1, 00:00:00 UTC."""
        return self.unix_ns == _ZERO_UNIX_SEC * SECOND

    def in_location(self, loc: Location) -> GoTime:
        return GoTime(self.unix_ns, loc)

    def location(self) -> Location:
        return self.loc

    def utc(self) -> GoTime:
        return GoTime(self.unix_ns, UTC)

    def in_local(self) -> GoTime:
        return GoTime(self.unix_ns, LOCAL)

    def truncate(self, d: int) -> GoTime:
        """Go ``Time.Truncate``: round down to a multiple of ``d`` since the zero time (``d <= 0``: no-op)."""
        if _check_duration(d) <= 0:
            return self
        return GoTime(self.unix_ns - (self.unix_ns - _ZERO_UNIX_SEC * SECOND) % d, self.loc)

    def round(self, d: int) -> GoTime:
        """Go ``Time.Round``: nearest multiple of ``d`` since the zero time, halves rounding up."""
        if _check_duration(d) <= 0:
            return self
        r = (self.unix_ns - _ZERO_UNIX_SEC * SECOND) % d
        if r + r < d:
            return GoTime(self.unix_ns - r, self.loc)
        return GoTime(self.unix_ns + d - r, self.loc)


ZERO_TIME = GoTime(_ZERO_UNIX_SEC * SECOND, UTC)


def date(year: int, month: int, day: int, hour: int, minute: int, second: int, nanosecond: int,
         loc: Location = LOCAL) -> GoTime:
    """Go ``time.Date``: out-of-range fields carry over (month 13 → January next year); in a DST gap or
    overlap the same offset choice as Go is made. Lua's ``time.date`` defaults to Local."""
    carry, month0 = divmod(month - 1, 12)
    days = _days_from_civil(year + carry, month0 + 1, day)
    wall_ns = (days * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second) * SECOND + nanosecond
    wall_sec = wall_ns // SECOND
    offset = loc.lookup(wall_sec - loc.lookup(wall_sec)[1])[1]
    return GoTime(wall_ns - offset * SECOND, loc)


def unix(sec: int, nsec: int) -> GoTime:
    """Go ``time.Unix``: the result is in Local, as in Go."""
    return GoTime(sec * SECOND + nsec, LOCAL)


# ---------------------------------------------------------------------------------------------------------
# Layouts: Go's nextStdChunk, Format and Parse

class _Std(NamedTuple):
    """One layout element: its canonical token ("2006", "Jan", "Z07:00", ".0"/".9" for fractions...)."""

    token: str
    digits: int = 0
    sep: str = "."


_ISO_TZ = ("Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07")
_NUM_TZ = ("-070000", "-07:00:00", "-0700", "-07:00", "-07")


def _next_std_chunk(layout: str) -> tuple[str, _Std | None, str]:
    """Go ``nextStdChunk``: split ``layout`` into literal prefix, first layout element, and the rest."""
    n = len(layout)
    for i, c in enumerate(layout):
        if c == "J" and layout.startswith("Jan", i):
            if layout.startswith("January", i):
                return layout[:i], _Std("January"), layout[i + 7:]
            if not ("a" <= layout[i + 3:i + 4] <= "z"):
                return layout[:i], _Std("Jan"), layout[i + 3:]
        elif c == "M" and i + 3 <= n:
            if layout.startswith("Mon", i):
                if layout.startswith("Monday", i):
                    return layout[:i], _Std("Monday"), layout[i + 6:]
                if not ("a" <= layout[i + 3:i + 4] <= "z"):
                    return layout[:i], _Std("Mon"), layout[i + 3:]
            if layout.startswith("MST", i):
                return layout[:i], _Std("MST"), layout[i + 3:]
        elif c == "0":
            if i + 2 <= n and "1" <= layout[i + 1] <= "6":
                return layout[:i], _Std(layout[i:i + 2]), layout[i + 2:]
            if layout.startswith("002", i):
                return layout[:i], _Std("002"), layout[i + 3:]
        elif c == "1":
            if layout.startswith("15", i):
                return layout[:i], _Std("15"), layout[i + 2:]
            return layout[:i], _Std("1"), layout[i + 1:]
        elif c == "2":
            if layout.startswith("2006", i):
                return layout[:i], _Std("2006"), layout[i + 4:]
            return layout[:i], _Std("2"), layout[i + 1:]
        elif c == "_":
            if layout.startswith("_2", i):
                if layout.startswith("_2006", i):  # a literal "_" followed by the long year
                    return layout[:i + 1], _Std("2006"), layout[i + 5:]
                return layout[:i], _Std("_2"), layout[i + 2:]
            if layout.startswith("__2", i):
                return layout[:i], _Std("__2"), layout[i + 3:]
        elif c in "345":
            return layout[:i], _Std(c), layout[i + 1:]
        elif c == "P" and layout.startswith("PM", i):
            return layout[:i], _Std("PM"), layout[i + 2:]
        elif c == "p" and layout.startswith("pm", i):
            return layout[:i], _Std("pm"), layout[i + 2:]
        elif c in "-Z":
            for token in _NUM_TZ if c == "-" else _ISO_TZ:
                if layout.startswith(token, i):
                    return layout[:i], _Std(token), layout[i + len(token):]
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not _is_digit(layout, j):  # only a fraction if the run of digits ends here
                return layout[:i], _Std("." + ch, j - (i + 1), c), layout[j:]
    return layout, None, ""


def _pad(x: int, width: int) -> str:
    """Go time's ``appendInt``: sign, then digits zero-padded to ``width``."""
    return ("-" if x < 0 else "") + str(abs(x)).zfill(width)


def _format_nano(nanosec: int, std: _Std) -> str:
    """Go ``appendNano``: ``.000`` keeps all digits, ``.999`` trims trailing zeros (and a lone point)."""
    trim = std.token == ".9"
    if trim and (std.digits == 0 or nanosec == 0):
        return ""
    text = _pad(nanosec, 9)[:std.digits] if std.digits < 9 else _pad(nanosec, 9)
    if trim:
        text = text.rstrip("0")
        return std.sep + text if text else ""
    return std.sep + text


def _format_offset(token: str, offset: int) -> str:
    """Numeric zone elements; the ``Z`` variants print ``Z`` for UTC."""
    if offset == 0 and token.startswith("Z"):
        return "Z"
    zone = _trunc_div(offset, 60)
    absoffset = offset
    sign = "+"
    if zone < 0:
        sign = "-"
        zone = -zone
        absoffset = -absoffset
    shape = token[1:]
    out = sign + _pad(zone // 60, 2)
    if ":" in shape:
        out += ":"
    if shape != "07":
        out += _pad(zone % 60, 2)
    if shape in ("070000", "07:00:00"):
        if ":" in shape:
            out += ":"
        out += _pad(absoffset - _trunc_div(absoffset, 60) * 60, 2)
    return out


def format(t: GoTime, layout: str) -> str:
    """Go ``Time.Format``: every layout element Go recognises, other bytes copied as they are."""
    name, offset, wall = t._zone()
    name = _to_bytes_str(name)
    days, secs = divmod(wall, _SECONDS_PER_DAY)
    year, month, day = _civil_from_days(days)
    hour, minute, second = secs // 3600, secs // 60 % 60, secs % 60
    out: list[str] = []
    rest = _to_bytes_str(layout)
    while rest:
        prefix, std, rest = _next_std_chunk(rest)
        out.append(prefix)
        if std is None:
            break
        tok = std.token
        if tok == "06":
            out.append(_pad(abs(year) % 100, 2))
        elif tok == "2006":
            out.append(_pad(year, 4))
        elif tok == "Jan":
            out.append(_SHORT_MONTHS[month - 1])
        elif tok == "January":
            out.append(_LONG_MONTHS[month - 1])
        elif tok in ("1", "01"):
            out.append(_pad(month, len(tok)))
        elif tok in ("Mon", "Monday"):
            weekday = (days + 4) % 7
            out.append(_SHORT_DAYS[weekday] if tok == "Mon" else _LONG_DAYS[weekday])
        elif tok in ("2", "02"):
            out.append(_pad(day, len(tok)))
        elif tok == "_2":
            out.append(f"{day:>2}")
        elif tok in ("__2", "002"):
            yday = days - _days_from_civil(year, 1, 1) + 1
            out.append(f"{yday:>3}" if tok == "__2" else _pad(yday, 3))
        elif tok == "15":
            out.append(_pad(hour, 2))
        elif tok in ("3", "03"):
            out.append(_pad(hour % 12 or 12, len(tok)))
        elif tok in ("4", "04"):
            out.append(_pad(minute, len(tok)))
        elif tok in ("5", "05"):
            out.append(_pad(second, len(tok)))
        elif tok in ("PM", "pm"):
            marker = "PM" if hour >= 12 else "AM"
            out.append(marker if tok == "PM" else marker.lower())
        elif tok == "MST":
            if name:
                out.append(name)
            else:
                minutes = _trunc_div(offset, 60)
                out.append(("-" if minutes < 0 else "+") + _pad(abs(minutes) // 60, 2)
                           + _pad(abs(minutes) % 60, 2))
        elif tok in _ISO_TZ or tok in _NUM_TZ:
            out.append(_format_offset(tok, offset))
        else:
            out.append(_format_nano(t.nanosecond(), std))
    return _from_bytes_str("".join(out))


def _parse_error(layout: str, value: str, layout_elem: str, value_elem: str, message: str) -> GoTimeError:
    """Go ``ParseError.Error`` wording."""
    if not message:
        return GoTimeError(f"parsing time {_quote(value)} as {_quote(layout)}: cannot parse "
                           f"{_quote(value_elem)} as {_quote(layout_elem)}")
    return GoTimeError(f"parsing time {_quote(value)}{message}")


def _skip(value: str, prefix: str) -> tuple[str, bool]:
    """Go ``skip``: consume the literal ``prefix``; a run of spaces matches any run of spaces."""
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                return value, False
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            return value, False
        prefix, value = prefix[1:], value[1:]
    return value, True


def _getnum(s: str, fixed: bool) -> tuple[int, str, bool]:
    """Go ``getnum``: one or two digits (exactly two when ``fixed``)."""
    if not _is_digit(s, 0):
        return 0, s, False
    if not _is_digit(s, 1):
        if fixed:
            return 0, s, False
        return ord(s[0]) - 48, s[1:], True
    return (ord(s[0]) - 48) * 10 + ord(s[1]) - 48, s[2:], True


def _getnum3(s: str, fixed: bool) -> tuple[int, str, bool]:
    """Go ``getnum3``: one to three digits (exactly three when ``fixed``)."""
    n = i = 0
    while i < 3 and _is_digit(s, i):
        n = n * 10 + ord(s[i]) - 48
        i += 1
    if i == 0 or (fixed and i != 3):
        return 0, s, False
    return n, s[i:], True


def _match_fold(s1: str, s2: str) -> bool:
    """Go ``match``: ASCII-letter case-insensitive equality of equal-length strings."""
    for c1, c2 in zip(s1, s2, strict=True):
        if c1 != c2:
            o1, o2 = ord(c1) | 0x20, ord(c2) | 0x20
            if o1 != o2 or not 0x61 <= o1 <= 0x7A:
                return False
    return True


def _lookup(table: tuple[str, ...], value: str) -> tuple[int, str, bool]:
    for i, name in enumerate(table):
        if len(value) >= len(name) and _match_fold(value[:len(name)], name):
            return i, value[len(name):], True
    return -1, value, False


def _parse_nanoseconds(value: str, nbytes: int) -> tuple[int, str, bool]:
    """Go ``parseNanoseconds``: (nanoseconds, range error text, ok) for a ``.ddd``/``,ddd`` prefix."""
    if value[0] not in ".,":
        return 0, "", False
    nbytes = min(nbytes, 10)
    ns, ok = _atoi(value[1:nbytes])
    if not ok:
        return 0, "", False
    if ns < 0:
        return ns, "fractional second", True
    return ns * 10 ** (10 - nbytes), "", True


def _parse_signed_offset(value: str) -> int:
    """Go ``parseSignedOffset``: length of a ``+h``/``-hh`` suffix (hours up to 23), 0 if none."""
    if value[0] not in "+-":
        return 0
    x, rem, ok = _leading_int(value[1:])
    if not ok or rem == value[1:] or x > 23:
        return 0
    return len(value) - len(rem)


def _parse_time_zone(value: str) -> tuple[int, bool]:
    """Go ``parseTimeZone``: length of a zone abbreviation such as ``PST``, ``CEST``, ``GMT+3``."""
    if len(value) < 3:
        return 0, False
    if value[:4] in ("ChST", "MeST"):
        return 4, True
    if value[:3] == "GMT":
        return 3 + (_parse_signed_offset(value[3:]) if len(value) > 3 else 0), True
    if value[0] in "+-":
        length = _parse_signed_offset(value)
        return length, length > 0
    upper = 0
    while upper < 6 and upper < len(value) and "A" <= value[upper] <= "Z":
        upper += 1
    if upper == 3:
        return 3, True
    if upper == 4 and (value[3] == "T" or value[:4] == "WITA"):
        return 4, True
    if upper == 5 and value[4] == "T":
        return 5, True
    return 0, False


def _parse_offset(token: str, value: str) -> tuple[int, str, str, bool]:
    """A numeric zone element: (offset seconds, range error text, remaining value, ok)."""
    shape = token[1:]
    widths = {"07:00": 6, "07": 3, "07:00:00": 9, "070000": 7, "0700": 5}
    if len(value) < widths[shape]:
        return 0, "", value, False
    if shape == "07:00":
        if value[3] != ":":
            return 0, "", value, False
        sign, hh, mm, ss, value = value[0], value[1:3], value[4:6], "00", value[6:]
    elif shape == "07":
        sign, hh, mm, ss, value = value[0], value[1:3], "00", "00", value[3:]
    elif shape == "07:00:00":
        if value[3] != ":" or value[6] != ":":
            return 0, "", value, False
        sign, hh, mm, ss, value = value[0], value[1:3], value[4:6], value[7:9], value[9:]
    elif shape == "070000":
        sign, hh, mm, ss, value = value[0], value[1:3], value[3:5], value[5:7], value[7:]
    else:
        sign, hh, mm, ss, value = value[0], value[1:3], value[3:5], "00", value[5:]
    minutes = seconds = 0
    hours, _, ok = _getnum(hh, True)
    if ok:
        minutes, _, ok = _getnum(mm, True)
    if ok:
        seconds, _, ok = _getnum(ss, True)
    range_err = ""
    if hours > 24:
        range_err = "time zone offset hour"
    if minutes > 60:
        range_err = "time zone offset minute"
    if seconds > 60:
        range_err = "time zone offset second"
    offset = (hours * 60 + minutes) * 60 + seconds
    if sign == "-":
        offset = -offset
    elif sign != "+":
        ok = False
    return offset, range_err, value, ok


def parse(layout: str, value: str, loc: Location | None = None) -> GoTime:
    """Go ``time.Parse`` (``loc`` omitted) or ``time.ParseInLocation(layout, value, loc)``."""
    if loc is None:
        return _parse(layout, value, UTC, LOCAL)
    return _parse(layout, value, loc, loc)


def _parse(layout_text: str, value_text: str, default: Location, local: Location) -> GoTime:
    """Go's ``parse``, element by element, including its error messages and zone resolution rules."""
    alayout = layout = _to_bytes_str(layout_text)
    avalue = value = _to_bytes_str(value_text)
    range_err = ""
    am_set = pm_set = False
    year, month, day, yday = 0, -1, -1, -1
    hour = minute = sec = nsec = 0
    z: Location | None = None
    zone_offset = -1
    zone_name = ""
    while True:
        prefix, std, suffix = _next_std_chunk(layout)
        stdstr = layout[len(prefix):len(layout) - len(suffix)]
        value, ok = _skip(value, prefix)
        if not ok:
            raise _parse_error(alayout, avalue, prefix, value, "")
        if std is None:
            if value:
                raise _parse_error(alayout, avalue, "", value, ": extra text: " + _quote(value))
            break
        layout = suffix
        hold = value
        ok = True
        tok = std.token
        if tok == "06":
            if len(value) < 2:
                ok = False
            else:
                year, ok = _atoi(value[:2])
                value = value[2:]
                year += 1900 if year >= 69 else 2000
        elif tok == "2006":
            if len(value) < 4 or not _is_digit(value, 0):
                ok = False
            else:
                year, ok = _atoi(value[:4])
                value = value[4:]
        elif tok in ("Jan", "January"):
            month, value, ok = _lookup(_SHORT_MONTHS if tok == "Jan" else _LONG_MONTHS, value)
            month += 1
        elif tok in ("1", "01"):
            month, value, ok = _getnum(value, tok == "01")
            if ok and not 1 <= month <= 12:
                range_err = "month"
        elif tok in ("Mon", "Monday"):
            _, value, ok = _lookup(_SHORT_DAYS if tok == "Mon" else _LONG_DAYS, value)
        elif tok in ("2", "_2", "02"):
            if tok == "_2" and value[:1] == " ":
                value = value[1:]
            day, value, ok = _getnum(value, tok == "02")
        elif tok in ("__2", "002"):
            for _ in range(2):
                if tok == "__2" and value[:1] == " ":
                    value = value[1:]
            yday, value, ok = _getnum3(value, tok == "002")
        elif tok == "15":
            hour, value, ok = _getnum(value, False)
            if not 0 <= hour < 24:
                range_err = "hour"
        elif tok in ("3", "03"):
            hour, value, ok = _getnum(value, tok == "03")
            if not 0 <= hour <= 12:
                range_err = "hour"
        elif tok in ("4", "04"):
            minute, value, ok = _getnum(value, tok == "04")
            if not 0 <= minute < 60:
                range_err = "minute"
        elif tok in ("5", "05"):
            sec, value, ok = _getnum(value, tok == "05")
            if ok and not 0 <= sec < 60:
                range_err = "second"
            elif ok and len(value) >= 2 and value[0] in ".," and _is_digit(value, 1):
                following = _next_std_chunk(layout)[1]
                if following is None or following.token not in (".0", ".9"):
                    # a fraction in the value that the layout does not mention
                    n = 2
                    while _is_digit(value, n):
                        n += 1
                    nsec, range_err, ok = _parse_nanoseconds(value, n)
                    value = value[n:]
        elif tok in ("PM", "pm"):
            if len(value) < 2:
                ok = False
            else:
                marker, value = value[:2], value[2:]
                if marker == tok:
                    pm_set = True
                elif marker == ("AM" if tok == "PM" else "am"):
                    am_set = True
                else:
                    ok = False
        elif tok in _ISO_TZ and value[:1] == "Z":
            value = value[1:]
            z = UTC
        elif tok in _ISO_TZ or tok in _NUM_TZ:
            zone_offset, range_err, value, ok = _parse_offset(tok, value)
        elif tok == "MST":
            if value[:3] == "UTC":
                z = UTC
                value = value[3:]
            else:
                n, ok = _parse_time_zone(value)
                if ok:
                    zone_name, value = value[:n], value[n:]
        elif tok == ".0":
            ndigit = 1 + std.digits
            if len(value) < ndigit:
                ok = False
            else:
                nsec, range_err, ok = _parse_nanoseconds(value, ndigit)
                value = value[ndigit:]
        elif tok == ".9" and len(value) >= 2 and value[0] in ".," and "0" <= value[1] <= "9":
            i = 0  # optional fraction: take every digit, even more than the layout shows
            while i + 1 < len(value) and "0" <= value[i + 1] <= "9":
                i += 1
            nsec, range_err, ok = _parse_nanoseconds(value, 1 + i)
            value = value[1 + i:]
        if range_err:
            raise _parse_error(alayout, avalue, stdstr, value, ": " + range_err + " out of range")
        if not ok:
            raise _parse_error(alayout, avalue, stdstr, hold, "")

    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0

    if yday >= 0:
        m = d = 0
        if _is_leap(year):
            if yday == 31 + 29:
                m, d = 2, 29
            elif yday > 31 + 29:
                yday -= 1
        if yday < 1 or yday > 365:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year out of range")
        if m == 0:
            m = (yday - 1) // 31 + 1
            if _DAYS_BEFORE[m] < yday:
                m += 1
            d = yday - _DAYS_BEFORE[m - 1]
        if month >= 0 and month != m:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year does not match month")
        month = m
        if day >= 0 and day != d:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year does not match day")
        day = d
    else:
        month = 1 if month < 0 else month
        day = 1 if day < 0 else day

    if day < 1 or day > _days_in(month, year):
        raise _parse_error(alayout, avalue, "", value, ": day out of range")

    if z is not None:
        return date(year, month, day, hour, minute, sec, nsec, z)

    zone_label = _from_bytes_str(zone_name)
    if zone_offset != -1:
        instant = date(year, month, day, hour, minute, sec, nsec, UTC).unix_ns - zone_offset * SECOND
        name, offset = local.lookup(instant // SECOND)
        if offset == zone_offset and (not zone_name or name == zone_label):
            return GoTime(instant, local)
        return GoTime(instant, fixed_zone(zone_label, zone_offset))

    if zone_name:
        t = date(year, month, day, hour, minute, sec, nsec, UTC)
        offset, found = _lookup_name(local, zone_label, t.unix())
        if found:
            return GoTime(t.unix_ns - offset * SECOND, local)
        offset = 0
        if len(zone_name) > 3 and zone_name[:3] == "GMT":
            offset = _atoi(zone_name[3:])[0] * 3600
        # Go keeps the wall clock read as UTC and attaches the made-up zone as is.
        return GoTime(t.unix_ns, fixed_zone(zone_label, offset))

    return date(year, month, day, hour, minute, sec, nsec, default)
