"""Go's layout strings: the named layouts, Go's ``nextStdChunk`` split of a layout into elements, and
``Time.Format`` of wall-clock fields."""

from __future__ import annotations

from typing import NamedTuple

from wftest.lua.gotime.civil import SECONDS_PER_DAY, civil_from_days, days_from_civil
from wftest.lua.gotime.durations import trunc_div
from wftest.lua.gotime.scan import from_bytes_str, is_digit, to_bytes_str

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

LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
SHORT_DAYS = tuple(d[:3] for d in LONG_DAYS)
LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
SHORT_MONTHS = tuple(m[:3] for m in LONG_MONTHS)


class Std(NamedTuple):
    """One layout element: its canonical token ("2006", "Jan", "Z07:00", ".0"/".9" for fractions...)."""

    token: str
    digits: int = 0
    sep: str = "."


ISO_TZ = ("Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07")
NUM_TZ = ("-070000", "-07:00:00", "-0700", "-07:00", "-07")


def next_std_chunk(layout: str) -> tuple[str, Std | None, str]:
    """Go ``nextStdChunk``: split ``layout`` into literal prefix, first layout element, and the rest."""
    n = len(layout)
    for i, c in enumerate(layout):
        if c == "J" and layout.startswith("Jan", i):
            if layout.startswith("January", i):
                return layout[:i], Std("January"), layout[i + 7:]
            if not ("a" <= layout[i + 3:i + 4] <= "z"):
                return layout[:i], Std("Jan"), layout[i + 3:]
        elif c == "M" and i + 3 <= n:
            if layout.startswith("Mon", i):
                if layout.startswith("Monday", i):
                    return layout[:i], Std("Monday"), layout[i + 6:]
                if not ("a" <= layout[i + 3:i + 4] <= "z"):
                    return layout[:i], Std("Mon"), layout[i + 3:]
            if layout.startswith("MST", i):
                return layout[:i], Std("MST"), layout[i + 3:]
        elif c == "0":
            if i + 2 <= n and "1" <= layout[i + 1] <= "6":
                return layout[:i], Std(layout[i:i + 2]), layout[i + 2:]
            if layout.startswith("002", i):
                return layout[:i], Std("002"), layout[i + 3:]
        elif c == "1":
            if layout.startswith("15", i):
                return layout[:i], Std("15"), layout[i + 2:]
            return layout[:i], Std("1"), layout[i + 1:]
        elif c == "2":
            if layout.startswith("2006", i):
                return layout[:i], Std("2006"), layout[i + 4:]
            return layout[:i], Std("2"), layout[i + 1:]
        elif c == "_":
            if layout.startswith("_2", i):
                if layout.startswith("_2006", i):  # a literal "_" followed by the long year
                    return layout[:i + 1], Std("2006"), layout[i + 5:]
                return layout[:i], Std("_2"), layout[i + 2:]
            if layout.startswith("__2", i):
                return layout[:i], Std("__2"), layout[i + 3:]
        elif c in "345":
            return layout[:i], Std(c), layout[i + 1:]
        elif c == "P" and layout.startswith("PM", i):
            return layout[:i], Std("PM"), layout[i + 2:]
        elif c == "p" and layout.startswith("pm", i):
            return layout[:i], Std("pm"), layout[i + 2:]
        elif c in "-Z":
            for token in NUM_TZ if c == "-" else ISO_TZ:
                if layout.startswith(token, i):
                    return layout[:i], Std(token), layout[i + len(token):]
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not is_digit(layout, j):  # only a fraction if the run of digits ends here
                return layout[:i], Std("." + ch, j - (i + 1), c), layout[j:]
    return layout, None, ""


def _pad(x: int, width: int) -> str:
    """Go time's ``appendInt``: sign, then digits zero-padded to ``width``."""
    return ("-" if x < 0 else "") + str(abs(x)).zfill(width)


def _format_nano(nanosec: int, std: Std) -> str:
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
    zone = trunc_div(offset, 60)
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
        out += _pad(absoffset - trunc_div(absoffset, 60) * 60, 2)
    return out


def format_wall(name: str, offset: int, wall: int, nanosecond: int, layout: str) -> str:
    """Go ``Time.Format`` of a time whose zone is `name` at `offset` seconds east of UTC, `wall` its
    wall-clock seconds since the unix epoch: every layout element Go recognises, other bytes copied as
    they are."""
    name = to_bytes_str(name)
    days, secs = divmod(wall, SECONDS_PER_DAY)
    year, month, day = civil_from_days(days)
    hour, minute, second = secs // 3600, secs // 60 % 60, secs % 60
    out: list[str] = []
    rest = to_bytes_str(layout)
    while rest:
        prefix, std, rest = next_std_chunk(rest)
        out.append(prefix)
        if std is None:
            break
        tok = std.token
        if tok == "06":
            out.append(_pad(abs(year) % 100, 2))
        elif tok == "2006":
            out.append(_pad(year, 4))
        elif tok == "Jan":
            out.append(SHORT_MONTHS[month - 1])
        elif tok == "January":
            out.append(LONG_MONTHS[month - 1])
        elif tok in ("1", "01"):
            out.append(_pad(month, len(tok)))
        elif tok in ("Mon", "Monday"):
            weekday = (days + 4) % 7
            out.append(SHORT_DAYS[weekday] if tok == "Mon" else LONG_DAYS[weekday])
        elif tok in ("2", "02"):
            out.append(_pad(day, len(tok)))
        elif tok == "_2":
            out.append(f"{day:>2}")
        elif tok in ("__2", "002"):
            yday = days - days_from_civil(year, 1, 1) + 1
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
                minutes = trunc_div(offset, 60)
                out.append(("-" if minutes < 0 else "+") + _pad(abs(minutes) // 60, 2)
                           + _pad(abs(minutes) % 60, 2))
        elif tok in ISO_TZ or tok in NUM_TZ:
            out.append(_format_offset(tok, offset))
        else:
            out.append(_format_nano(nanosecond, std))
    return from_bytes_str("".join(out))
