"""Wippy's Lua ``time`` module, non-yielding half: Time, Duration and Location objects.

The objects live in Lua (``lib/time.lua``) so that method calls, instant arithmetic and comparisons stay
in Lua; calendar fields, layouts, duration parsing/printing and time zones come from
:mod:`wftest.lua.gotime` through the host functions below, which only ever see plain integers and
byte strings. The workflow runtime adds ``sleep``/``after``/``timer``/``ticker`` on top of this table and
uses :func:`duration_ns` and :func:`new_time` to serve them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wftest.lua import engine, gotime
from wftest.lua.gotime import SECOND, GoTime, GoTimeError, Location
from wftest.lua.host_functions import LuaRaise
from wftest.lua.sandbox import Sandbox

_STATE_ATTR = "_wftest_time_module"
_TIME_MARK = b"\x00time"  # set in lib/time.lua's Time method table
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def _text(raw: bytes) -> str:
    """Lua bytes as the str gotime expects; invalid UTF-8 survives the round trip (gotime works on bytes)."""
    return raw.decode("utf-8", "surrogateescape")


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _wrap64(x: int) -> int:
    """Go's int64 wrap-around, for results Go would compute in int64 too."""
    return ((x - _INT64_MIN) & ((1 << 64) - 1)) + _INT64_MIN


def _split(t: GoTime) -> tuple[int, int]:
    """A GoTime as the (seconds, nanoseconds) pair a Lua Time stores."""
    sec, nsec = divmod(t.unix_ns, SECOND)
    return _wrap64(sec), nsec


def _out_of_range(x: float) -> str:
    """Same wording as lib/time.lua for a float with no int64 value."""
    return "time: duration out of range: " + ("NaN" if x != x else f"{x:.17g}")


class _Host:
    """The Python side of one sandbox's time objects, reached from Lua through one function,
    ``py(op, ...)`` (a single Python callable keeps opening the module cheap). Locations cross to Lua as
    small integer ids (1 = UTC, 2 = Local), one per distinct location; no Python object enters Lua."""

    def __init__(self) -> None:
        self._zones: list[Location] = [gotime.UTC, gotime.LOCAL]
        self._ids: dict[Location, int] = {gotime.UTC: 1, gotime.LOCAL: 2}

    def dispatch(self, op: bytes, *args: Any) -> Any:
        return _OPS[op](self, *args)

    def _id(self, loc: Location) -> int:
        found = self._ids.get(loc)
        if found is None:
            self._zones.append(loc)
            found = self._ids[loc] = len(self._zones)
        return found

    def _time(self, sec: int, nsec: int, loc_id: int) -> GoTime:
        return GoTime(sec * SECOND + nsec, self._zones[loc_id - 1])

    # -- the ops; lib/time.lua has checked the argument types ----------------------------------------

    def date(self, sec: int, loc_id: int) -> tuple[int, int, int]:
        return self._time(sec, 0, loc_id).date()

    def clock(self, sec: int, loc_id: int) -> tuple[int, int, int]:
        return self._time(sec, 0, loc_id).clock()

    def weekday(self, sec: int, loc_id: int) -> int:
        return self._time(sec, 0, loc_id).weekday()

    def year_day(self, sec: int, loc_id: int) -> int:
        return self._time(sec, 0, loc_id).year_day()

    def format(self, sec: int, nsec: int, loc_id: int, layout: bytes) -> bytes:
        return _raw(self._time(sec, nsec, loc_id).format(_text(layout)))

    def string(self, sec: int, nsec: int, loc_id: int) -> bytes:
        return _raw(self._time(sec, nsec, loc_id).string())

    def add_date(
        self, sec: int, nsec: int, loc_id: int, years: int, months: int, days: int
    ) -> tuple[int, int]:
        return _split(self._time(sec, nsec, loc_id).add_date(years, months, days))

    def round(self, sec: int, nsec: int, d: int, nearest: bool) -> tuple[int, int]:
        """Go ``Round`` (``nearest``) or ``Truncate``; both measure from the zero time, whatever the zone."""
        t = self._time(sec, nsec, 1)
        return _split(t.round(d) if nearest else t.truncate(d))

    def date_of(
        self, year: int, month: int, day: int, hour: int, minute: int, sec: int, nsec: int, loc_id: int
    ) -> tuple[int, int]:
        return _split(gotime.date(year, month, day, hour, minute, sec, nsec, self._zones[loc_id - 1]))

    def parse(self, layout: bytes, value: bytes, loc_id: int | None) -> tuple[Any, ...]:
        """(sec, nsec, location id, location name), or (None, Go's ParseError text)."""
        loc = None if loc_id is None else self._zones[loc_id - 1]
        try:
            t = gotime.parse(_text(layout), _text(value), loc)
        except GoTimeError as exc:
            return None, _raw(str(exc))
        return (*_split(t), self._id(t.loc), _raw(t.loc.name))

    def parse_duration(self, text: bytes) -> tuple[Any, ...]:
        try:
            return (gotime.parse_duration(_text(text)),)
        except GoTimeError as exc:
            return None, _raw(str(exc))

    def format_duration(self, ns: int) -> bytes:
        return _raw(gotime.format_duration(ns))

    def load_location(self, name: bytes) -> tuple[Any, ...]:
        """(id, name), or (None, error kind, message): empty → Invalid, anything unloadable → NotFound."""
        if not name:
            return None, b"Invalid", b"time: empty location name"
        try:
            loc = gotime.load_location(_text(name))
        except GoTimeError as exc:
            return None, b"NotFound", _raw(str(exc))
        return self._id(loc), _raw(loc.name)

    def fixed_zone(self, name: bytes, offset: int) -> int:
        return self._id(gotime.fixed_zone(_text(name), offset))


_OPS: dict[bytes, Callable[..., Any]] = {
    name.encode(): getattr(_Host, name)
    for name in (
        "date", "clock", "weekday", "year_day", "format", "string", "add_date", "round", "date_of", "parse",
        "parse_duration", "format_duration", "load_location", "fixed_zone",
    )
}
_LAYOUT_ARGS = tuple(text.encode() for item in gotime.LUA_LAYOUTS.items() for text in item)


@dataclass(frozen=True)
class _State:
    """What one sandbox's time module is made of, built once."""

    module: Any
    utc: Any  # the UTC Location object
    new_time: Any  # Lua (sec, nsec, location) -> Time
    new_duration: Any  # Lua (ns) -> Duration
    duration_of: Any  # Lua (value) -> (ns, nil) | (nil, type name)


def _state(sb: Sandbox) -> _State:
    """The sandbox's time objects, created on first use (by the opener or by the runtime's helpers)."""
    state: _State | None = getattr(sb, _STATE_ATTR, None)
    if state is not None:
        return state
    lua_host = sb.lua.table_from(
        {b"new_error": sb.api.new_error, b"now_ns": sb.callback(sb.options.clock_ns), b"py": _Host().dispatch}
    )
    state = _State(*sb.run_library("time.lua", lua_host, *_LAYOUT_ARGS))
    setattr(sb, _STATE_ATTR, state)
    return state


def open_time(sb: Sandbox) -> Any:
    """The ``time`` module table of ``sb``; the same table on every call for one sandbox."""
    return _state(sb).module


_PARSED: dict[bytes, int] = {}  # Go duration strings already parsed


def duration_ns(sb: Sandbox, value: Any) -> int:
    """Nanoseconds of a Lua duration argument: a number (floats truncated toward zero), a Go
    duration string (``b"1h30m"``; ``str`` is accepted too) or a Duration object.

    A bad value raises ``ValueError`` with Go's message (the caller returns it as an Invalid error); a
    value of the wrong type raises ``LuaRaise`` (a Lua error at the caller, as Wippy's type checks do)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"time: duration out of range: {value}")
        return value
    if isinstance(value, float):
        if value != value or not -(2.0**63) <= value < 2.0**63:
            raise ValueError(_out_of_range(value))
        return int(value)
    if isinstance(value, bytes):
        found = _PARSED.get(value)
        if found is None:
            found = gotime.parse_duration(_text(value))
            if len(_PARSED) < 1024:
                _PARSED[value] = found  # "10m" and its kind repeat in every call's options
        return found
    if isinstance(value, str):
        return gotime.parse_duration(value)
    ns, type_name = _state(sb).duration_of(value)
    if ns is None:
        raise LuaRaise(f"duration expected (number, string or Duration), got {type_name.decode()}")
    return int(ns)


def time_to_ns(value: Any) -> int | None:
    """Unix nanoseconds of a Lua Time object (any sandbox), or None for any other value."""
    if engine.lua_type(value) != "table":
        return None
    try:
        if value[_TIME_MARK] is not True:
            return None
        return int(value[b"_sec"]) * SECOND + int(value[b"_nsec"])
    except engine.LuaError:
        return None


def new_time(sb: Sandbox, ns: int) -> Any:
    """A Lua Time in UTC at Unix nanoseconds ``ns`` (what timer channels deliver)."""
    state = _state(sb)
    sec, nsec = divmod(ns, SECOND)
    return state.new_time(sec, nsec, state.utc)


def new_duration(sb: Sandbox, ns: int) -> Any:
    """A Lua Duration of ``ns`` nanoseconds; ``ValueError`` outside Go's int64 range."""
    if not _INT64_MIN <= ns <= _INT64_MAX:
        raise ValueError(f"time: duration out of range: {ns}")
    return _state(sb).new_duration(ns)
