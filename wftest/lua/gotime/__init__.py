"""Go's ``time`` package behind Wippy's Lua ``time`` module, in pure Python, matching Go's results and
error messages byte for byte. Durations are ``int`` nanoseconds; there is no clock; ``Local`` is UTC."""

from wftest.lua.gotime.durations import (
    HOUR,
    MAX_DURATION,
    MICROSECOND,
    MILLISECOND,
    MIN_DURATION,
    MINUTE,
    NANOSECOND,
    SECOND,
    duration_hours,
    duration_microseconds,
    duration_milliseconds,
    duration_minutes,
    duration_nanoseconds,
    duration_seconds,
    format_duration,
    parse_duration,
)
from wftest.lua.gotime.layout import LAYOUTS, LUA_LAYOUTS
from wftest.lua.gotime.parse import parse
from wftest.lua.gotime.scan import GoTimeError
from wftest.lua.gotime.times import ZERO_TIME, GoTime, date, format, unix
from wftest.lua.gotime.zones import LOCAL, UTC, Location, fixed_zone, load_location

__all__ = [
    "HOUR", "LAYOUTS", "LOCAL", "LUA_LAYOUTS", "MAX_DURATION", "MICROSECOND", "MILLISECOND", "MIN_DURATION",
    "MINUTE", "NANOSECOND", "SECOND", "UTC", "ZERO_TIME", "GoTime", "GoTimeError", "Location", "date",
    "duration_hours", "duration_microseconds", "duration_milliseconds", "duration_minutes",
    "duration_nanoseconds", "duration_seconds", "fixed_zone", "format", "format_duration", "load_location",
    "parse", "parse_duration", "unix",
]
