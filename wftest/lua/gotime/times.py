"""Go ``time.Time`` values: an instant in unix nanoseconds plus a location, with Go's calendar accessors,
arithmetic, ``time.Date`` and ``time.Unix``. There is no clock here: the host supplies "now"."""

from __future__ import annotations

from dataclasses import dataclass

from wftest.lua.gotime.civil import SECONDS_PER_DAY, ZERO_UNIX_SEC, civil_from_days, days_from_civil
from wftest.lua.gotime.durations import MAX_DURATION, MIN_DURATION, SECOND, check_duration
from wftest.lua.gotime.layout import LAYOUTS, format_wall
from wftest.lua.gotime.scan import UINT64
from wftest.lua.gotime.zones import LOCAL, UTC, Location


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
        return GoTime(self.unix_ns + check_duration(d), self.loc)

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
        return ((self.unix_ns + (1 << 63)) & UINT64) - (1 << 63)

    def date(self) -> tuple[int, int, int]:
        return civil_from_days(self._zone()[2] // SECONDS_PER_DAY)

    def clock(self) -> tuple[int, int, int]:
        secs = self._zone()[2] % SECONDS_PER_DAY
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
        return (self._zone()[2] // SECONDS_PER_DAY + 4) % 7

    def year_day(self) -> int:
        """1..366."""
        days = self._zone()[2] // SECONDS_PER_DAY
        return days - days_from_civil(civil_from_days(days)[0], 1, 1) + 1

    def is_zero(self) -> bool:
        """Go's zero Time is January 1, year 1, 00:00:00 UTC."""
        return self.unix_ns == ZERO_UNIX_SEC * SECOND

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
        if check_duration(d) <= 0:
            return self
        return GoTime(self.unix_ns - (self.unix_ns - ZERO_UNIX_SEC * SECOND) % d, self.loc)

    def round(self, d: int) -> GoTime:
        """Go ``Time.Round``: nearest multiple of ``d`` since the zero time, halves rounding up."""
        if check_duration(d) <= 0:
            return self
        r = (self.unix_ns - ZERO_UNIX_SEC * SECOND) % d
        if r + r < d:
            return GoTime(self.unix_ns - r, self.loc)
        return GoTime(self.unix_ns + d - r, self.loc)


ZERO_TIME = GoTime(ZERO_UNIX_SEC * SECOND, UTC)


def date(year: int, month: int, day: int, hour: int, minute: int, second: int, nanosecond: int,
         loc: Location = LOCAL) -> GoTime:
    """Go ``time.Date``: out-of-range fields carry over (month 13 → January next year); in a DST gap or
    overlap the same offset choice as Go is made. Lua's ``time.date`` defaults to Local."""
    carry, month0 = divmod(month - 1, 12)
    days = days_from_civil(year + carry, month0 + 1, day)
    wall_ns = (days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second) * SECOND + nanosecond
    wall_sec = wall_ns // SECOND
    offset = loc.lookup(wall_sec - loc.lookup(wall_sec)[1])[1]
    return GoTime(wall_ns - offset * SECOND, loc)


def unix(sec: int, nsec: int) -> GoTime:
    """Go ``time.Unix``: the result is in Local, as in Go."""
    return GoTime(sec * SECOND + nsec, LOCAL)


def format(t: GoTime, layout: str) -> str:
    """Go ``Time.Format``: every layout element Go recognises, other bytes copied as they are."""
    name, offset, wall = t._zone()
    return format_wall(name, offset, wall, t.nanosecond(), layout)
