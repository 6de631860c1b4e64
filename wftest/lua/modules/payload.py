"""Wippy's `payload` module and global (runtime/lua/modules/payload, engine/payload): values tagged with a
format, and a transcoder between the formats Wippy registers.

The payload objects live in `lib/payload.lua` (a table tagged `__wippy = "payload"`, as every Wippy object
here). This side converts between encodings, with the Lua format as the hub as in Wippy's transcoder:
JSON by the same rules as the `json` module (`wftest.lua.values`), YAML through PyYAML, text and bytes by
the Go formatting rules of `engine/payload/string.go` and `bytes.go`; the Go-value format keeps the Lua
value. MessagePack is not provided by wftest: transcoding to or from it returns an error naming it.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml

from wftest.encoding.jsontext import DecodeError, EncodeError, bytes_to_text
from wftest.errors import UserError
from wftest.lua.modules.base import lua_type
from wftest.lua.modules.yaml_codec import from_yaml

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox

JSON = "json/plain"
YAML = "yaml/plain"
STRING = "text/plain"
GOLANG = "golang/any"
LUA = "lua/any"
BYTES = "application/octet-stream"
MSGPACK = "application/msgpack"
ERROR = "golang/error"

_ATTR = "_wftest_payload"


class TranscodeError(UserError):
    """A value cannot be converted between two formats; the message is the reason Lua sees."""


def _api(sb: Sandbox) -> Any:
    """The Lua half of the module for `sb`, made once per sandbox."""
    api = getattr(sb, _ATTR, None)
    if api is None:
        api = sb.library_api("payload.lua", sb.callback(lambda *a: _transcode_call(sb, *a)))
        setattr(sb, _ATTR, api)
    return api


def open_payload(sb: Sandbox) -> Any:
    """The `payload` module table of `sb` (also its global `payload`)."""
    return _api(sb).module


def new_payload(sb: Sandbox, value: Any, fmt: str = LUA) -> Any:
    """A payload object holding `value` (a Lua value, or encoded text for the text formats) in `fmt`."""
    return _api(sb).wrap(value, fmt.encode())


def _transcode_call(sb: Sandbox, data: Any, source: Any, target: Any) -> tuple[bool, Any]:
    try:
        return True, transcode(sb, data, bytes_to_text(source), bytes_to_text(target))
    except TranscodeError as exc:
        return False, str(exc).encode()


def transcode(sb: Sandbox, data: Any, source: str, target: str) -> Any:
    """`data` in format `source` as format `target`, through the Lua format when neither is Lua."""
    if source == target:
        return data
    if source != LUA:
        data = _to_lua(sb, data, source)
        if target == LUA:
            return data
    return _from_lua(sb, data, target)


def _unknown(source: str, target: str) -> TranscodeError:
    if MSGPACK in (source, target):
        reason = "MessagePack is not provided by wftest"
        return TranscodeError(f"no transcoder from {source} to {target}: {reason}")
    return TranscodeError(f"no transcoder from {source} to {target}")


def _text(data: Any, name: str, source: str) -> bytes:
    if isinstance(data, bytes):
        return data
    raise TranscodeError(f"{name}=>Lua can only handle string or []byte, got {_go_type(data)} ({source})")


def _to_lua(sb: Sandbox, data: Any, source: str) -> Any:
    if source in (GOLANG, ERROR):
        return data
    if source == JSON:
        try:
            return sb.values.decode_json(_text(data, "JSON", source))
        except (DecodeError, ValueError) as exc:
            raise TranscodeError(f"failed to decode JSON: {exc}") from None
    if source in (STRING, BYTES):
        return _text(data, "String" if source == STRING else "Bytes", source)
    if source == YAML:
        try:
            return sb.values.to_lua(from_yaml(yaml.safe_load(_text(data, "YAML", source)), text_keys=True))
        except (yaml.YAMLError, EncodeError) as exc:
            raise TranscodeError(f"failed to decode YAML: {exc}") from None
    raise _unknown(source, LUA)


def _from_lua(sb: Sandbox, value: Any, target: str) -> Any:
    if target == GOLANG:
        return value
    if target == JSON:
        try:
            return sb.values.encode_json(value).encode()
        except EncodeError as exc:
            raise TranscodeError(f"failed to encode to JSON: {exc}") from None
    if target in (STRING, BYTES):
        return _go_text(sb, value).encode()
    if target == YAML:
        try:
            plain = sb.values.to_python(value)
        except EncodeError as exc:
            raise TranscodeError(f"failed to encode to YAML: {exc}") from None
        text = yaml.safe_dump(plain, sort_keys=True, allow_unicode=True, default_flow_style=False)
        return text.removesuffix("...\n").encode()
    raise _unknown(LUA, target)


# ---------------------------------------------------------------------------------------------------
# Text of a Lua value as Go's fmt writes it (engine/payload/string.go: %v of floats, %d of integers,
# %t of booleans, %v of the Go form of a table; nil is empty)


def _go_text(sb: Sandbox, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return bytes_to_text(value)
    if isinstance(value, (bool, int, float)):
        return _go_scalar(value)
    if lua_type(value) == "table":
        try:
            return _go_value(sb.values.to_python(value))
        except EncodeError:
            return "map[]"
    return lua_type(value)


def _go_scalar(v: bool | int | float) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return go_float(v)


def _go_value(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(_go_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v[k])}" for k in sorted(v)) + "]"
    return _go_scalar(v)


def go_float(f: float) -> str:
    """`%v` of a Go float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e6 up."""
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len(digit_tuple) + exponent  # position of the decimal point after the first digit group
    x = point - 1
    prefix = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _go_type(v: Any) -> str:
    if isinstance(v, bytes):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    return "lua.LValue"
