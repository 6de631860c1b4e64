"""Go's ``time.Parse`` and ``ParseInLocation``, element by element, with Go's error messages and zone
resolution rules."""

from __future__ import annotations

from wftest.lua.gotime.civil import DAYS_BEFORE, days_in, is_leap
from wftest.lua.gotime.durations import SECOND
from wftest.lua.gotime.layout import (
    ISO_TZ,
    LONG_DAYS,
    LONG_MONTHS,
    NUM_TZ,
    SHORT_DAYS,
    SHORT_MONTHS,
    next_std_chunk,
)
from wftest.lua.gotime.scan import (
    GoTimeError,
    atoi,
    from_bytes_str,
    is_digit,
    leading_int,
    quote,
    to_bytes_str,
)
from wftest.lua.gotime.times import GoTime, date
from wftest.lua.gotime.zones import LOCAL, UTC, Location, fixed_zone, lookup_name


def _parse_error(layout: str, value: str, layout_elem: str, value_elem: str, message: str) -> GoTimeError:
    """Go ``ParseError.Error`` wording."""
    if not message:
        return GoTimeError(f"parsing time {quote(value)} as {quote(layout)}: cannot parse "
                           f"{quote(value_elem)} as {quote(layout_elem)}")
    return GoTimeError(f"parsing time {quote(value)}{message}")


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
    if not is_digit(s, 0):
        return 0, s, False
    if not is_digit(s, 1):
        if fixed:
            return 0, s, False
        return ord(s[0]) - 48, s[1:], True
    return (ord(s[0]) - 48) * 10 + ord(s[1]) - 48, s[2:], True


def _getnum3(s: str, fixed: bool) -> tuple[int, str, bool]:
    """Go ``getnum3``: one to three digits (exactly three when ``fixed``)."""
    n = i = 0
    while i < 3 and is_digit(s, i):
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
    ns, ok = atoi(value[1:nbytes])
    if not ok:
        return 0, "", False
    if ns < 0:
        return ns, "fractional second", True
    return ns * 10 ** (10 - nbytes), "", True


def _parse_signed_offset(value: str) -> int:
    """Go ``parseSignedOffset``: length of a ``+h``/``-hh`` suffix (hours up to 23), 0 if none."""
    if value[0] not in "+-":
        return 0
    x, rem, ok = leading_int(value[1:])
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
    alayout = layout = to_bytes_str(layout_text)
    avalue = value = to_bytes_str(value_text)
    range_err = ""
    am_set = pm_set = False
    year, month, day, yday = 0, -1, -1, -1
    hour = minute = sec = nsec = 0
    z: Location | None = None
    zone_offset = -1
    zone_name = ""
    while True:
        prefix, std, suffix = next_std_chunk(layout)
        stdstr = layout[len(prefix):len(layout) - len(suffix)]
        value, ok = _skip(value, prefix)
        if not ok:
            raise _parse_error(alayout, avalue, prefix, value, "")
        if std is None:
            if value:
                raise _parse_error(alayout, avalue, "", value, ": extra text: " + quote(value))
            break
        layout = suffix
        hold = value
        ok = True
        tok = std.token
        if tok == "06":
            if len(value) < 2:
                ok = False
            else:
                year, ok = atoi(value[:2])
                value = value[2:]
                year += 1900 if year >= 69 else 2000
        elif tok == "2006":
            if len(value) < 4 or not is_digit(value, 0):
                ok = False
            else:
                year, ok = atoi(value[:4])
                value = value[4:]
        elif tok in ("Jan", "January"):
            month, value, ok = _lookup(SHORT_MONTHS if tok == "Jan" else LONG_MONTHS, value)
            month += 1
        elif tok in ("1", "01"):
            month, value, ok = _getnum(value, tok == "01")
            if ok and not 1 <= month <= 12:
                range_err = "month"
        elif tok in ("Mon", "Monday"):
            _, value, ok = _lookup(SHORT_DAYS if tok == "Mon" else LONG_DAYS, value)
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
            elif ok and len(value) >= 2 and value[0] in ".," and is_digit(value, 1):
                following = next_std_chunk(layout)[1]
                if following is None or following.token not in (".0", ".9"):
                    # a fraction in the value that the layout does not mention
                    n = 2
                    while is_digit(value, n):
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
        elif tok in ISO_TZ and value[:1] == "Z":
            value = value[1:]
            z = UTC
        elif tok in ISO_TZ or tok in NUM_TZ:
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
        if is_leap(year):
            if yday == 31 + 29:
                m, d = 2, 29
            elif yday > 31 + 29:
                yday -= 1
        if yday < 1 or yday > 365:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year out of range")
        if m == 0:
            m = (yday - 1) // 31 + 1
            if DAYS_BEFORE[m] < yday:
                m += 1
            d = yday - DAYS_BEFORE[m - 1]
        if month >= 0 and month != m:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year does not match month")
        month = m
        if day >= 0 and day != d:
            raise _parse_error(alayout, avalue, "", value, ": day-of-year does not match day")
        day = d
    else:
        month = 1 if month < 0 else month
        day = 1 if day < 0 else day

    if day < 1 or day > days_in(month, year):
        raise _parse_error(alayout, avalue, "", value, ": day out of range")

    if z is not None:
        return date(year, month, day, hour, minute, sec, nsec, z)

    zone_label = from_bytes_str(zone_name)
    if zone_offset != -1:
        instant = date(year, month, day, hour, minute, sec, nsec, UTC).unix_ns - zone_offset * SECOND
        name, offset = local.lookup(instant // SECOND)
        if offset == zone_offset and (not zone_name or name == zone_label):
            return GoTime(instant, local)
        return GoTime(instant, fixed_zone(zone_label, zone_offset))

    if zone_name:
        t = date(year, month, day, hour, minute, sec, nsec, UTC)
        offset, found = lookup_name(local, zone_label, t.unix())
        if found:
            return GoTime(t.unix_ns - offset * SECOND, local)
        offset = 0
        if len(zone_name) > 3 and zone_name[:3] == "GMT":
            offset = atoi(zone_name[3:])[0] * 3600
        # Go keeps the wall clock read as UTC and attaches the made-up zone as is.
        return GoTime(t.unix_ns, fixed_zone(zone_label, offset))

    return date(year, month, day, hour, minute, sec, nsec, default)
