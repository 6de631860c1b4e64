"""What Go's time parsers share: strings as UTF-8 bytes (one char per byte, as Go indexes them), Go's
quoting and integer scanning, and the error carrying Go's message."""

from __future__ import annotations

from wftest.errors import UserError

UINT64 = (1 << 64) - 1


class GoTimeError(UserError, ValueError):
    """A failure reported with the message Go's time package would produce."""


def to_bytes_str(s: str) -> str:
    """Re-encode ``s`` as one latin-1 char per UTF-8 byte so slicing matches Go's byte indexing."""
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = s.encode("utf-8", "surrogatepass")
    return raw.decode("latin-1")


def from_bytes_str(s: str) -> str:
    """Inverse of :func:`to_bytes_str`; undecodable bytes survive as surrogate escapes."""
    return s.encode("latin-1").decode("utf-8", "surrogateescape")


def quote(s: str) -> str:
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


def is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def leading_int(s: str) -> tuple[int, str, bool]:
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


def atoi(s: str) -> tuple[int, bool]:
    """Go time's ``atoi``: optional sign then digits, nothing left over."""
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    q, rem, ok = leading_int(s)
    if not ok or rem:
        return 0, False
    return (-q if neg else q), True
