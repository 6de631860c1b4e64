"""Go durations: plain ``int`` nanoseconds (Go's ``time.Duration`` is an int64), ``ParseDuration``,
``Duration.String`` and the unit conversions, with Go's results and error messages."""

from __future__ import annotations

from wftest.lua.gotime.scan import UINT64, GoTimeError, leading_int, quote, to_bytes_str

NANOSECOND = 1
MICROSECOND = 1_000 * NANOSECOND
MILLISECOND = 1_000 * MICROSECOND
SECOND = 1_000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MIN_DURATION = -(1 << 63)
MAX_DURATION = (1 << 63) - 1


_UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    to_bytes_str("\u00b5s"): MICROSECOND,  # micro sign
    to_bytes_str("\u03bcs"): MICROSECOND,  # Greek mu
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
    orig = to_bytes_str(s)
    invalid = GoTimeError("time: invalid duration " + quote(orig))
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
        whole, rest, ok = leading_int(rest)
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
            raise GoTimeError("time: missing unit in duration " + quote(orig))
        unit_name, rest = rest[:i], rest[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise GoTimeError("time: unknown unit " + quote(unit_name) + " in duration " + quote(orig))
        if whole > (1 << 63) // unit:
            raise invalid
        whole *= unit
        if frac > 0:
            whole += int(float(frac) * (float(unit) / scale))
            if whole > 1 << 63:
                raise invalid
        total = (total + whole) & UINT64  # Go accumulates in a uint64
        if total > 1 << 63:
            raise invalid
    if neg:
        return -total
    if total > MAX_DURATION:
        raise invalid
    return total


def check_duration(d: int) -> int:
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
    u = abs(check_duration(ns))
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


def trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as Go's ``/`` does."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def duration_nanoseconds(d: int) -> int:
    """Go ``Duration.Nanoseconds``."""
    return check_duration(d)


def duration_microseconds(d: int) -> int:
    """Go ``Duration.Microseconds`` (truncates toward zero)."""
    return trunc_div(check_duration(d), MICROSECOND)


def duration_milliseconds(d: int) -> int:
    """Go ``Duration.Milliseconds`` (truncates toward zero)."""
    return trunc_div(check_duration(d), MILLISECOND)


def _split_float(d: int, unit: int) -> float:
    """Go's float conversion: whole units plus the remainder, each converted separately."""
    whole = trunc_div(check_duration(d), unit)
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
