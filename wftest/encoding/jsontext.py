"""JSON text by Wippy's rules for Python values: Go-style scalars and string escapes, strict decoding.

One canonical text is produced for Lua and Python values alike: compact, object keys sorted by their
UTF-8 bytes (Go's ``encoding/json`` order; Wippy's own order is random), strings escaped like Go's
``json.Marshal`` (``<``, ``>``, ``&``, U+2028, U+2029 as ``\\u`` escapes, each invalid UTF-8 byte as
``\\ufffd``), integral floats as integers and other floats as the shortest decimal without exponent,
NaN/±Inf as ``null``. Top-level scalars use the same number and string forms as nested ones (Go's
``json.Marshal`` would write 1e-7 as ``1e-7`` there). The Lua side of the same rules is
`wftest.lua.values`.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any, Final, TypeAlias

from wftest.errors import UserError

JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]

MAX_DEPTH: Final = 128


class EncodeError(UserError):
    """A value cannot be encoded as JSON (Wippy fails the call with kind Internal)."""


class DecodeError(UserError):
    """JSON text cannot be decoded (bad syntax, NaN/Infinity literals, nesting deeper than 128)."""


class _GoNil:
    """Type of GO_NIL: a Go nil result, sent as a binary/null payload rather than JSON null.

    A singleton that stays itself through copy.deepcopy and pickle, so mocks may copy their results."""

    _instance: _GoNil | None = None

    def __new__(cls) -> _GoNil:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "GO_NIL"

    def __reduce__(self) -> str:
        return "GO_NIL"


GO_NIL: Final[object] = _GoNil()


# ---------------------------------------------------------------------------------------------------
# Go-compatible scalar formatting


def format_float(f: float) -> str:
    """Float as Wippy writes it: integral → integer digits, else shortest round-trip decimal, no exponent."""
    if f.is_integer() and -1e15 < f < 1e15:
        return int.__repr__(int(f))
    if f != f or f in (math.inf, -math.inf):
        return "null"
    r = repr(f)
    if "e" in r:
        # Shortest digits, written out positionally (Go's strconv 'f', -1): 1e-07 → 0.0000001.
        return format(Decimal(r), "f")
    return r[:-2] if r.endswith(".0") else r


def format_key_float(f: float) -> str:
    """A float table key stringified like Go's strconv shortest form (infinities as ``+Inf``/``-Inf``)."""
    if f in (math.inf, -math.inf):
        return "+Inf" if f > 0 else "-Inf"
    return format_float(f)


def _escape_table() -> dict[int, str]:
    table: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
    table.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
    table.update({ord('"'): '\\"', ord("\\"): "\\\\"})
    table.update({c: f"\\u{c:04x}" for c in (ord("<"), ord(">"), ord("&"), 0x2028, 0x2029)})
    # surrogateescape turns each invalid UTF-8 byte into U+DC80..U+DCFF; Go writes each as \ufffd.
    table.update({0xDC80 + b: "\\ufffd" for b in range(0x80)})
    return table


_ESCAPES: Final = _escape_table()
# Any byte outside printable ASCII, or one of '"', '\\', '<', '>', '&', needs the escaping path.
_NEEDS_ESCAPE: Final = re.compile(rb'[^\x20-\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]')
# Object keys and enum-like values repeat across payloads; their quoted forms are cached (bounded).
_QUOTED: dict[bytes, str] = {}
_QUOTED_MAX: Final = 4096
_QUOTED_MAX_LEN: Final = 64


def quote_bytes(b: bytes) -> str:
    """A Lua string as a JSON string literal, escaped like Go's ``json.Marshal``."""
    r = _QUOTED.get(b)
    if r is not None:
        return r
    if _NEEDS_ESCAPE.search(b) is None:
        r = '"' + b.decode("ascii") + '"'
    else:
        r = '"' + b.decode("utf-8", "surrogateescape").translate(_ESCAPES) + '"'
    if len(b) <= _QUOTED_MAX_LEN:
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        _QUOTED[b] = r
    return r


def quote_str(s: str) -> str:
    """A Python string as a JSON string literal (lone surrogates become U+FFFD, as Go's decoder has it)."""
    return quote_bytes(_text_to_bytes(s))


def _replace_like_go(e: UnicodeError) -> tuple[str | bytes, int]:
    """Codec error handler: each invalid UTF-8 byte decodes to U+FFFD; each lone surrogate encodes to it."""
    if isinstance(e, UnicodeDecodeError):
        return "\ufffd" * (e.end - e.start), e.end
    if isinstance(e, UnicodeEncodeError):
        return b"\xef\xbf\xbd" * (e.end - e.start), e.end
    raise e


GO_UTF8: Final = "wftest.go_utf8"
codecs.register_error(GO_UTF8, _replace_like_go)


def bytes_to_text(b: bytes) -> str:
    """Lua string → Python str; each invalid UTF-8 byte becomes U+FFFD, as a JSON round trip would."""
    return b.decode("utf-8", GO_UTF8)


def _text_to_bytes(s: str) -> bytes:
    """Python str → Lua string bytes; lone surrogates (e.g. from a JSON ``\\ud800``) become U+FFFD."""
    return s.encode("utf-8", GO_UTF8)


def _json_bool(v: bool) -> str:
    return "true" if v else "false"


def _json_null(_: None) -> str:
    return "null"


# JSON text of each scalar token type (Lua strings arrive as bytes).
SCALAR_JSON: Final[dict[type, Callable[[Any], str]]] = {
    bytes: quote_bytes,
    int: int.__repr__,
    float: format_float,
    bool: _json_bool,
    type(None): _json_null,
}


DEPTH_MESSAGE: Final = f"nesting depth exceeds {MAX_DEPTH}"


def _reject_constant(name: str) -> None:
    raise DecodeError(f"invalid JSON: {name} is not a JSON value")


def _parse_float(text: str) -> float:
    f = float(text)
    if f in (math.inf, -math.inf):
        raise DecodeError(f"invalid JSON: number {text} is out of range")
    return f


_DECODER: Final = json.JSONDecoder(parse_float=_parse_float, parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """Strict JSON text → Python value; invalid UTF-8 bytes in the text become U+FFFD, as in Go."""
    if not isinstance(text, str):
        text = bytes_to_text(bytes(text))
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise DecodeError(f"invalid JSON: {e}") from None
    except RecursionError:
        raise DecodeError(DEPTH_MESSAGE) from None


def _encode_python(v: Any, depth: int) -> str:
    t = type(v)
    if t is str:
        return quote_str(v)
    if t is int:
        return int.__repr__(v)
    if t is float:
        return format_float(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is dict or t is list or t is tuple:
        if depth > MAX_DEPTH:
            raise EncodeError(DEPTH_MESSAGE)
        if t is dict:
            entries: list[tuple[bytes, str]] = []
            for k, x in v.items():
                if type(k) is not str:
                    raise EncodeError(f"JSON object keys must be str, got {type(k).__name__}")
                entries.append((_text_to_bytes(k), _encode_python(x, depth + 1)))
            entries.sort(key=itemgetter(0))
            return "{" + ",".join([quote_bytes(k) + ":" + x for k, x in entries]) + "}"
        return "[" + ",".join([_encode_python(x, depth + 1) for x in v]) + "]"
    if v is GO_NIL:
        raise EncodeError("GO_NIL has no JSON form; python_to_payload sends it as binary/null")
    raise EncodeError(f"cannot encode a Python {t.__name__} as JSON")


def encode_json_python(v: JSONValue) -> str:
    """The canonical JSON text (same rules as ``Values.encode_json``) of a plain Python value."""
    return _encode_python(v, 1)
