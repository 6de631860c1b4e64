"""Wippy's data modules: `json`, `base64`, `hash`, `yaml`, `ctx` (deterministic), `logger` (activities only).

All follow Wippy's `value, err` convention: bad input returns `nil, err` with the kind Wippy's
Go code gives, while a wrong argument type raises a Lua error at the caller's line where Wippy's
argument checks would. The helpers for that (`check_string`, `check_integer`, `fail`, ...) are shared
with `ids.py`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from fractions import Fraction
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

import yaml

from wftest.lua import engine
from wftest.lua.sandbox import LuaRaise
from wftest.lua.values import MAX_DEPTH, DecodeError, EncodeError, bytes_to_text, encode_json_python
from wftest.yamlcheck import YamlLimitError, check_yaml

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox

INVALID = "Invalid"
INTERNAL = "Internal"
NOT_FOUND = "NotFound"

# ---------------------------------------------------------------------------------------------------
# Argument checks and the `nil, err` convention (shared with ids.py)


def lua_type(v: Any) -> str:
    """The Lua type name of a value as a host function receives it."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return str(engine.lua_type(v) or "userdata")


def bad_argument(n: int, fname: str, expected: str, got: Any) -> LuaRaise:
    """The error Lua's own argument checks raise, so messages read like any builtin's."""
    return LuaRaise(f"bad argument #{n} to '{fname}' ({expected} expected, got {lua_type(got)})")


def check_string(v: Any, n: int, fname: str) -> bytes:
    """A required string argument; anything else raises like Lua's `luaL_checkstring` would."""
    if not isinstance(v, bytes):
        raise bad_argument(n, fname, "string", v)
    return v


def optional_string(v: Any, n: int, fname: str) -> bytes | None:
    """An optional string argument: nil gives None, another non-string raises."""
    return None if v is None else check_string(v, n, fname)


def check_integer(v: Any, n: int, fname: str) -> int:
    """A required integer argument (an integral float is accepted, as Lua does)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise bad_argument(n, fname, "number", v)
    if isinstance(v, float):
        if not v.is_integer():
            raise LuaRaise(f"bad argument #{n} to '{fname}' (number has no integer representation)")
        return int(v)
    return v


def check_table(v: Any, n: int, fname: str) -> Any:
    """A required table argument (Wippy objects are tables here too)."""
    if lua_type(v) != "table":
        raise bad_argument(n, fname, "table", v)
    return v


def fail(sb: Sandbox, kind: str, message: str) -> tuple[None, Any]:
    """`nil, err` with a Wippy error of this kind."""
    return None, sb.error(kind, message, retryable=False)


def lua_arguments(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` called the way Lua calls functions: extra arguments are ignored (e.g. the `nil` error that
    follows a value in `json.encode(json.decode(s))`)."""
    code = fn.__code__
    if code.co_flags & inspect.CO_VARARGS:
        return fn
    n = code.co_argcount

    def call(*args: Any) -> Any:
        return fn(*args[:n])

    return call


def module(sb: Sandbox, functions: Mapping[str, Any]) -> Any:
    """A Lua module table from Python callables (wrapped as host functions) and ready Lua values."""
    return sb.lua.table_from(
        {
            name.encode(): f if engine.lua_type(f) is not None else sb.host_function(lua_arguments(f))
            for name, f in functions.items()
        }
    )


# ---------------------------------------------------------------------------------------------------
# json


def open_json(sb: Sandbox) -> Any:
    """json.encode/decode by the JSON rules of `sb.values`; validate/validate_string on a schema subset.

    Error kinds and wording follow runtime/lua/modules/json (module.go, json.go): bad input is Invalid
    with Wippy's words, encoder/decoder failures are Internal "encode failed: ..." / "decode failed:
    ...", and validation answers `false, err(Invalid)`."""
    values = sb.values

    def encode(value: Any = None) -> tuple[Any, Any]:
        try:
            return values.encode_json(value), None
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"encode failed: {exc}")

    def decode(text: Any = None) -> tuple[Any, Any]:
        if not isinstance(text, bytes):
            return fail(sb, INVALID, "string expected")
        if not text:
            return fail(sb, INVALID, "empty string is not valid JSON")
        try:
            return values.decode_json(text, sb.state.spare_memory()), None
        except DecodeError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")

    def refused(message: str) -> tuple[bool, Any]:
        return False, sb.error(INVALID, message, retryable=False)

    def checked(schema: Any, data: Callable[[], Any]) -> tuple[Any, Any]:
        try:
            compiled = _lua_schema(sb, schema)
        except SchemaError as exc:
            return refused(str(exc))
        try:
            return _validate(compiled, data())
        except ValidationError as exc:
            return refused(f"validation failed: {exc}")

    def validate(schema: Any = None, data: Any = None) -> tuple[Any, Any]:
        if schema is None:
            return refused("schema is required")
        if data is None:
            return refused("data is required")
        return checked(schema, lambda: _from_lua(sb, data, "data"))

    def validate_string(schema: Any = None, text: Any = None) -> tuple[Any, Any]:
        if schema is None:
            return refused("schema is required")
        if not isinstance(text, bytes):
            return refused("data must be a JSON string")
        return checked(schema, lambda: parse_json(text, ValidationError))

    return module(
        sb, {"encode": encode, "decode": decode, "validate": validate, "validate_string": validate_string}
    )


def _validate(schema: Callable[[Any, str, list[str]], None], data: Any) -> tuple[bool, None]:
    problems: list[str] = []
    schema(data, "#", problems)
    if problems:
        raise ValidationError("; ".join(problems))
    return True, None


def parse_json(text: bytes, error: type[Exception]) -> Any:
    """Strict JSON text → Python value; any problem raises `error` (the caller's error type)."""

    def reject(name: str) -> None:
        raise error(f"invalid JSON: {name} is not a JSON value")

    try:
        return json.loads(bytes_to_text(text), parse_constant=reject)
    except json.JSONDecodeError as exc:
        raise error(f"invalid JSON: {exc}") from None


def _from_lua(sb: Sandbox, v: Any, what: str) -> Any:
    try:
        return _mark_empty(sb.values.to_python(v))
    except EncodeError as exc:
        if what == "schema":
            raise SchemaError(f"schema error: {exc}") from None
        raise ValidationError(f"the {what} cannot be exported: {exc}") from None


def _lua_schema(sb: Sandbox, schema: Any) -> Callable[[Any, str, list[str]], None]:
    """The schema compiled; SchemaError with Wippy's prefix ("schema error" for a schema that cannot be
    read, "compile schema" for one that is not a usable JSON Schema)."""
    if isinstance(schema, bytes):
        try:
            document = parse_json(schema, SchemaError)
        except SchemaError as exc:
            raise SchemaError(f"compile schema: {exc}") from None
    elif lua_type(schema) == "table":
        document = _from_lua(sb, schema, "schema")
    else:
        raise SchemaError("schema error: schema must be a string or table")
    try:
        return compile_schema(document)
    except SchemaError as exc:
        raise SchemaError(f"compile schema: {exc}") from None


# -- a JSON Schema subset --------------------------------------------------------------------------
#
# An empty Lua table is both {} and [], so values that came from Lua carry
# EMPTY in its place, and it satisfies "object" and "array" alike.

Validator = Callable[[Any, str, list[str]], None]


class SchemaError(Exception):
    """The schema itself is unusable (Wippy: "schema compilation failed", kind Invalid)."""


class ValidationError(Exception):
    """The data does not satisfy the schema (kind Invalid)."""


class _Empty:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()
JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
SUPPORTED_KEYWORDS = (
    "type enum const properties required additionalProperties minProperties maxProperties items minItems"
    " maxItems uniqueItems minimum maximum exclusiveMinimum exclusiveMaximum multipleOf minLength maxLength"
    " pattern allOf anyOf oneOf not"
).split()
# Keywords that would change the outcome if ignored; everything else (title, format, $schema, ...) is an
# annotation here.
_UNSUPPORTED = frozenset(
    "$ref $dynamicRef $recursiveRef patternProperties dependencies dependentRequired dependentSchemas if then"
    " else prefixItems additionalItems contains minContains maxContains propertyNames unevaluatedProperties"
    " unevaluatedItems".split()
)


def _mark_empty(v: Any) -> Any:
    if isinstance(v, list):
        return [_mark_empty(x) for x in v] if v else EMPTY
    if isinstance(v, dict):
        return {k: _mark_empty(x) for k, x in v.items()}
    return v


def _unmark(v: Any) -> Any:
    if v is EMPTY:
        return {}
    if isinstance(v, list):
        return [_unmark(x) for x in v]
    if isinstance(v, dict):
        return {k: _unmark(x) for k, x in v.items()}
    return v


def _show(v: Any) -> str:
    shown = encode_json_python(_unmark(v))
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _as_dict(v: Any) -> dict[str, Any] | None:
    return {} if v is EMPTY else v if isinstance(v, dict) else None


def _as_list(v: Any) -> list[Any] | None:
    return [] if v is EMPTY else v if isinstance(v, list) else None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_type(v: Any, name: str) -> bool:
    if name == "null":
        return v is None
    if name == "boolean":
        return isinstance(v, bool)
    if name == "number":
        return _is_number(v)
    if name == "integer":
        return _is_number(v) and (isinstance(v, int) or float(v).is_integer())
    if name == "string":
        return isinstance(v, str)
    if name == "array":
        return isinstance(v, list) or v is EMPTY
    return isinstance(v, dict) or v is EMPTY


def _type_of(v: Any) -> str:
    if v is EMPTY:
        return "object"
    return next(n for n in JSON_TYPES if _is_type(v, n))


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, true != 1, an empty Lua table equals [] and {}."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if a is EMPTY or b is EMPTY:
        return _as_list(a) == [] or _as_dict(a) == {} if b is EMPTY else _equal(b, a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def compile_schema(schema: Any, path: str = "#") -> Validator:
    """A validator for `schema` (JSON-Schema subset: SUPPORTED_KEYWORDS); raises SchemaError."""
    if isinstance(schema, bool):
        return _accept if schema else _reject
    keywords = _as_dict(schema)
    if keywords is None:
        raise SchemaError(f"{path}: a schema must be an object or a boolean, got {_type_of(schema)}")
    checks: list[Validator] = []
    for key in sorted(keywords):
        build = _KEYWORDS.get(key)
        if build is not None:
            checks.append(build(keywords[key], keywords, f"{path}/{key}"))
        elif key in _UNSUPPORTED:
            supported = ", ".join(SUPPORTED_KEYWORDS)
            raise SchemaError(f"{path}: keyword '{key}' is not supported (wftest implements: {supported})")

    def check(v: Any, at: str, problems: list[str]) -> None:
        for c in checks:
            c(v, at, problems)

    return check


def _accept(v: Any, at: str, problems: list[str]) -> None:
    return None


def _reject(v: Any, at: str, problems: list[str]) -> None:
    problems.append(f"{at}: no value is allowed here")


def _count(value: Any, path: str) -> int:
    if not _is_number(value) or not float(value).is_integer() or value < 0:
        raise SchemaError(f"{path}: must be a non-negative integer")
    return int(value)


def _number(value: Any, path: str) -> float | int:
    if not _is_number(value):
        raise SchemaError(f"{path}: must be a number")
    return value  # type: ignore[no-any-return]


def _schemas(value: Any, path: str) -> list[Validator]:
    items = _as_list(value)
    if not items:
        raise SchemaError(f"{path}: must be a non-empty array of schemas")
    return [compile_schema(s, f"{path}/{i}") for i, s in enumerate(items)]


def _kw_type(value: Any, _: dict[str, Any], path: str) -> Validator:
    names = [value] if isinstance(value, str) else _as_list(value)
    if not names or any(n not in JSON_TYPES for n in names):
        raise SchemaError(f"{path}: must be one of {', '.join(JSON_TYPES)} or a list of them")

    def check(v: Any, at: str, problems: list[str]) -> None:
        if not any(_is_type(v, n) for n in names):
            problems.append(f"{at}: expected {' or '.join(names)}, got {_type_of(v)}")

    return check


def _kw_enum(value: Any, _: dict[str, Any], path: str) -> Validator:
    options = _as_list(value)
    if not options:
        raise SchemaError(f"{path}: must be a non-empty array")

    def check(v: Any, at: str, problems: list[str]) -> None:
        if not any(_equal(v, o) for o in options):
            problems.append(f"{at}: {_show(v)} is not one of {_show(options)}")

    return check


def _kw_const(value: Any, _: dict[str, Any], path: str) -> Validator:
    def check(v: Any, at: str, problems: list[str]) -> None:
        if not _equal(v, value):
            problems.append(f"{at}: {_show(v)} is not {_show(value)}")

    return check


def _kw_properties(value: Any, _: dict[str, Any], path: str) -> Validator:
    props = _as_dict(value)
    if props is None:
        raise SchemaError(f"{path}: must be an object of schemas")
    compiled = {name: compile_schema(s, f"{path}/{name}") for name, s in props.items()}

    def check(v: Any, at: str, problems: list[str]) -> None:
        obj = _as_dict(v) or {}
        for name in sorted(compiled):
            if name in obj:
                compiled[name](obj[name], f"{at}/{name}", problems)

    return check


def _kw_required(value: Any, _: dict[str, Any], path: str) -> Validator:
    names = _as_list(value)
    if names is None or not all(isinstance(n, str) for n in names):
        raise SchemaError(f"{path}: must be an array of property names")

    def check(v: Any, at: str, problems: list[str]) -> None:
        obj = _as_dict(v)
        if obj is not None:
            problems.extend(f"{at}: missing required property '{n}'" for n in names if n not in obj)

    return check


def _kw_additional(value: Any, siblings: dict[str, Any], path: str) -> Validator:
    known = set(_as_dict(siblings.get("properties")) or ())
    sub = compile_schema(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        obj = _as_dict(v) or {}
        for name in sorted(obj):
            if name not in known:
                if value is False:
                    problems.append(f"{at}: property '{name}' is not allowed")
                else:
                    sub(obj[name], f"{at}/{name}", problems)

    return check


def _kw_items(value: Any, _: dict[str, Any], path: str) -> Validator:
    if isinstance(value, list):
        raise SchemaError(f"{path}: the array form of items is not supported (use one schema for all items)")
    sub = compile_schema(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        for i, item in enumerate(_as_list(v) or ()):
            sub(item, f"{at}/{i}", problems)

    return check


def _kw_unique(value: Any, _: dict[str, Any], path: str) -> Validator:
    if not isinstance(value, bool):
        raise SchemaError(f"{path}: must be a boolean")

    def check(v: Any, at: str, problems: list[str]) -> None:
        items = _as_list(v) or []
        for i, item in enumerate(items):
            if value and any(_equal(item, other) for other in items[:i]):
                problems.append(f"{at}: item {i} is a duplicate")
                return

    return check


def _size(kind: str, limit_name: str, measure: Callable[[Any], int | None], longest: bool) -> Any:
    def build(value: Any, _: dict[str, Any], path: str) -> Validator:
        limit = _count(value, path)

        def check(v: Any, at: str, problems: list[str]) -> None:
            n = measure(v)
            if n is not None and (n > limit if longest else n < limit):
                rel = "more" if longest else "fewer"
                problems.append(f"{at}: {n} {kind}, {rel} than {limit_name} {limit}")

        return check

    return build


def _n_props(v: Any) -> int | None:
    obj = _as_dict(v)
    return None if obj is None else len(obj)


def _n_items(v: Any) -> int | None:
    items = _as_list(v)
    return None if items is None else len(items)


def _n_chars(v: Any) -> int | None:
    return len(v) if isinstance(v, str) else None


def _bound(name: str, passes: Callable[[Any, Any], bool], words: str) -> Any:
    def build(value: Any, _: dict[str, Any], path: str) -> Validator:
        limit = _number(value, path)

        def check(v: Any, at: str, problems: list[str]) -> None:
            if _is_number(v) and not passes(v, limit):
                problems.append(f"{at}: {_show(v)} is {words} {name} {_show(limit)}")

        return check

    return build


def _kw_multiple(value: Any, _: dict[str, Any], path: str) -> Validator:
    if _number(value, path) <= 0:
        raise SchemaError(f"{path}: must be greater than 0")
    step = Fraction(repr(value))

    def check(v: Any, at: str, problems: list[str]) -> None:
        if _is_number(v) and (Fraction(repr(v)) / step).denominator != 1:
            problems.append(f"{at}: {_show(v)} is not a multiple of {_show(value)}")

    return check


def _kw_pattern(value: Any, _: dict[str, Any], path: str) -> Validator:
    if not isinstance(value, str):
        raise SchemaError(f"{path}: must be a string")
    try:
        regex = re.compile(value)
    except re.error as exc:
        raise SchemaError(f"{path}: bad regular expression {value!r}: {exc}") from None

    def check(v: Any, at: str, problems: list[str]) -> None:
        if isinstance(v, str) and regex.search(v) is None:
            problems.append(f"{at}: {_show(v)} does not match pattern {value!r}")

    return check


def _kw_all(value: Any, _: dict[str, Any], path: str) -> Validator:
    subs = _schemas(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        for sub in subs:
            sub(v, at, problems)

    return check


def _matches(sub: Validator, v: Any, at: str) -> bool:
    found: list[str] = []
    sub(v, at, found)
    return not found


def _kw_any(value: Any, _: dict[str, Any], path: str) -> Validator:
    subs = _schemas(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        if not any(_matches(s, v, at) for s in subs):
            problems.append(f"{at}: does not match any schema of anyOf")

    return check


def _kw_one(value: Any, _: dict[str, Any], path: str) -> Validator:
    subs = _schemas(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        n = sum(_matches(s, v, at) for s in subs)
        if n != 1:
            problems.append(f"{at}: matches {n} schemas of oneOf, expected exactly 1")

    return check


def _kw_not(value: Any, _: dict[str, Any], path: str) -> Validator:
    sub = compile_schema(value, path)

    def check(v: Any, at: str, problems: list[str]) -> None:
        if _matches(sub, v, at):
            problems.append(f"{at}: must not match the schema of not")

    return check


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any], str], Validator]] = {
    "type": _kw_type,
    "enum": _kw_enum,
    "const": _kw_const,
    "properties": _kw_properties,
    "required": _kw_required,
    "additionalProperties": _kw_additional,
    "minProperties": _size("properties", "minProperties", _n_props, False),
    "maxProperties": _size("properties", "maxProperties", _n_props, True),
    "items": _kw_items,
    "minItems": _size("items", "minItems", _n_items, False),
    "maxItems": _size("items", "maxItems", _n_items, True),
    "uniqueItems": _kw_unique,
    "minimum": _bound("the minimum", lambda v, lim: v >= lim, "less than"),
    "maximum": _bound("the maximum", lambda v, lim: v <= lim, "greater than"),
    "exclusiveMinimum": _bound("the exclusive minimum", lambda v, lim: v > lim, "not greater than"),
    "exclusiveMaximum": _bound("the exclusive maximum", lambda v, lim: v < lim, "not less than"),
    "multipleOf": _kw_multiple,
    "minLength": _size("characters", "minLength", _n_chars, False),
    "maxLength": _size("characters", "maxLength", _n_chars, True),
    "pattern": _kw_pattern,
    "allOf": _kw_all,
    "anyOf": _kw_any,
    "oneOf": _kw_one,
    "not": _kw_not,
}

# ---------------------------------------------------------------------------------------------------
# base64 (standard alphabet, padded; Go's decoder skips CR and LF)


def open_base64(sb: Sandbox) -> Any:
    """base64.encode/decode as runtime/lua/modules/base64/module.go: one value on success, `nil, err`
    (Invalid) for a non-string or bad data."""

    def encode(data: Any = None) -> Any:
        if not isinstance(data, bytes):
            return fail(sb, INVALID, "string expected")
        return base64.b64encode(data)

    def decode(data: Any = None) -> Any:
        if not isinstance(data, bytes):
            return fail(sb, INVALID, "string expected")
        too_big = _too_big(sb, len(data) // 4 * 3, "decode failed")
        if too_big:
            return fail(sb, INTERNAL, too_big)
        try:
            return base64.b64decode(data.replace(b"\r", b"").replace(b"\n", b""), validate=True)
        except binascii.Error as exc:
            return fail(sb, INVALID, f"decode failed: illegal base64 data: {exc}")

    return module(sb, {"encode": encode, "decode": decode})


# ---------------------------------------------------------------------------------------------------
# hash (runtime/lua/modules/hash/module.go): digests as lowercase hex, or the raw bytes when the flag
# is truthy; FNV-1 (not 1a, as Go's fnv.New32/New64) as a Lua float; HMACs take (data, secret).
# A non-string argument is `nil, err(Invalid)`, not a raised error.


def _fnv1(data: bytes, basis: int, prime: int, bits: int) -> int:
    mask = (1 << bits) - 1
    h = basis
    for byte in data:
        h = ((h * prime) & mask) ^ byte
    return h


_DIGESTS: dict[str, Callable[[], Any]] = {
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "sha1": lambda: hashlib.sha1(usedforsecurity=False),
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
_FNV: dict[str, tuple[int, int, int]] = {
    "fnv32": (0x811C9DC5, 0x01000193, 32),
    "fnv64": (0xCBF29CE484222325, 0x100000001B3, 64),
}


def _truthy(v: Any) -> bool:
    return v is not None and v is not False


def open_hash(sb: Sandbox) -> Any:
    """md5/sha1/sha256/sha512(data, raw), fnv32/fnv64(data), hmac_<digest>(data, secret, raw)."""

    def digest(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(data: Any = None, raw: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            h = _DIGESTS[name]()
            h.update(data)
            return (h.digest() if _truthy(raw) else h.hexdigest()), None

        return run

    def fnv(name: str) -> Callable[..., tuple[Any, Any]]:
        basis, prime, bits = _FNV[name]

        def run(data: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            # Wippy hands the unsigned sum to Lua as a float64 (fnv64 rounds, as Go's conversion does).
            return float(_fnv1(data, basis, prime, bits)), None

        return run

    def mac(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(data: Any = None, secret: Any = None, raw: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            if not isinstance(secret, bytes):
                return fail(sb, INVALID, "secret must be a string")
            h = hmac.new(secret, data, name)
            return (h.digest() if _truthy(raw) else h.hexdigest()), None

        return run

    functions: dict[str, Any] = {name: digest(name) for name in _DIGESTS}
    functions.update({name: fnv(name) for name in _FNV})
    functions.update({f"hmac_{name}": mac(name) for name in ("sha256", "sha512", "sha1", "md5")})
    return module(sb, functions)


# ---------------------------------------------------------------------------------------------------
# yaml (runtime/lua/modules/yaml/module.go): PyYAML, laid out as Go's yaml.v3 lays it out (keys in its
# natural order, 4-space indent, or 2 with options; sequences indented under their key).


class _YamlDumper(yaml.SafeDumper):
    """SafeDumper that indents a sequence under its mapping key, as yaml.v3 does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_YamlDumper.add_representer(str, lambda dumper, value: _yaml_str(dumper, value))


def _natural_before(a: str, b: str) -> int:
    """yaml.v3's key order: letters after other characters, digit runs compared as numbers."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            continue
        if x.isalpha() and y.isalpha():
            return -1 if x < y else 1
        if x.isalpha() or y.isalpha():
            return 1 if x.isalpha() else -1
        if x.isdigit() or y.isdigit():
            leading = (x == "0" or y == "0") and any(c != "0" for c in _digits_before(a, i))
            xa, xn = _digit_run(a, i, leading)
            yb, yn = _digit_run(b, i, leading)
            if xn != yn:
                return -1 if xn < yn else 1
            if xa != yb:
                return -1 if xa < yb else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _digits_before(s: str, i: int) -> str:
    j = i
    while j > 0 and s[j - 1].isdigit():
        j -= 1
    return s[j:i]


def _digit_run(s: str, i: int, leading: bool) -> tuple[int, int]:
    """Where the digit run at `i` ends and its value (1 first when a non-zero digit precedes it)."""
    n = 1 if leading else 0
    j = i
    while j < len(s) and s[j].isdigit():
        n = n * 10 + int(s[j])
        j += 1
    return j, n


def _yaml_ordered(v: Any, field_order: list[str], sort_unordered: bool) -> Any:
    """Mappings in yaml.v3's key order; with options, `field_order` keys first, the rest sorted when
    `sort_unordered` (plain string order) or left in yaml.v3's order."""
    if isinstance(v, list):
        return [_yaml_ordered(x, field_order, sort_unordered) for x in v]
    if not isinstance(v, dict):
        return v
    keys = sorted(v, key=cmp_to_key(_natural_before))
    rank = {name: i for i, name in enumerate(field_order)}
    listed = sorted((k for k in keys if k in rank), key=rank.__getitem__)
    rest = [k for k in keys if k not in rank]
    if sort_unordered:
        rest.sort()
    return {k: _yaml_ordered(v[k], field_order, sort_unordered) for k in [*listed, *rest]}


_BOOL, _INT, _FLOAT, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "timestamp"))


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader reading plain scalars as yaml.v3 does into Go's `any`: only true/false are booleans,
    timestamps stay the strings they are written as, and there are no base-60 numbers."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in found if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)]
    for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_YamlLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)
_YamlLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


_GO_DEPTH = 200


def go_value(v: Any, depth: int = 0) -> Any:
    """A Lua value as Wippy's value.ToGoAny makes it (yaml.encode, jwt payloads): a table with an array
    part is a list of its items 1..#t (other keys dropped), any other table (the empty one too) a map
    with its keys as strings; integers stay integers, floats floats."""
    if isinstance(v, bytes):
        return bytes_to_text(v)
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if lua_type(v) != "table":
        raise EncodeError(f"cannot encode a {lua_type(v)}")
    if depth >= _GO_DEPTH:
        raise EncodeError(f"tables nested deeper than {_GO_DEPTH} levels (a cycle?)")
    n = len(v)
    if n:
        return [go_value(v[i], depth + 1) for i in range(1, n + 1)]
    return {_go_key(k): go_value(x, depth + 1) for k, x in v.items()}


def _go_key(k: Any) -> str:
    if isinstance(k, bytes):
        return bytes_to_text(k)
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, float):
        return format(k, ".14g")
    if isinstance(k, int):
        return str(k)
    raise EncodeError(f"cannot encode a {lua_type(k)} key")


def _yaml_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings as literal blocks, as yaml.v3 writes them."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def open_yaml(sb: Sandbox) -> Any:
    """yaml.encode(table, options)/decode(text) with Wippy's error kinds and wording."""

    def options_of(opts: Any) -> tuple[list[str], bool, bool]:
        if lua_type(opts) != "table":
            return [], False, False
        unordered = opts[b"sort_unordered"]
        order = opts[b"field_order"]
        names: list[str] = []
        if lua_type(order) == "table":
            names = [
                bytes_to_text(x) for x in (order[i] for i in range(1, len(order) + 1)) if isinstance(x, bytes)
            ]
        sort_unordered = unordered is True
        return names, sort_unordered, bool(names) or sort_unordered

    def encode(value: Any = None, opts: Any = None) -> tuple[Any, Any]:
        if lua_type(value) != "table":
            return fail(sb, INVALID, "table expected")
        field_order, sort_unordered, styled = options_of(opts)
        try:
            plain = _yaml_ready(go_value(value))
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"encode failed: {exc}")
        text = yaml.dump(
            _yaml_ordered(plain, field_order, sort_unordered),
            Dumper=_YamlDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            indent=2 if styled else 4,
            width=1 << 30,
        )
        return text.removesuffix("...\n"), None

    def decode(text: Any = None) -> tuple[Any, Any]:
        if not isinstance(text, bytes):
            return fail(sb, INVALID, "string expected")
        if not text:
            return fail(sb, INVALID, "input cannot be empty")
        spare = sb.state.spare_memory()
        try:
            check_yaml(text, max_depth=MAX_DEPTH, max_size=_YAML_MAX if spare is None else spare)
            return sb.values.to_lua(_from_yaml(yaml.load(text, Loader=_YamlLoader))), None
        except YamlLimitError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")
        except yaml.YAMLError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")
        except (EncodeError, RecursionError) as exc:
            return fail(sb, INTERNAL, f"convert to Lua failed: the document has no Lua form: {exc}")

    return module(sb, {"encode": encode, "decode": decode})


_YAML_MAX = 1 << 30  # expanded size limit for yaml.decode in a state without a memory limit


def _too_big(sb: Sandbox, size: int, fname: str) -> str | None:
    """The refusal of a result of `size` bytes that would not fit in the sandbox's memory limit."""
    spare = sb.state.spare_memory()
    if spare is None or size <= spare:
        return None
    return f"{fname}: the result ({size} bytes) would exceed the Lua memory limit"


def _yaml_ready(v: Any) -> Any:
    """Integral floats as integers (as Go writes a float64 like 2.0), containers recursively."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_yaml_ready(x) for x in v]
    if isinstance(v, dict):
        return {k: _yaml_ready(x) for k, x in v.items()}
    return v


def _from_yaml(v: Any) -> Any:
    """YAML-only scalars made Lua-friendly: timestamps become ISO-8601 strings; containers recursively."""
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, list):
        return [_from_yaml(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_yaml(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------------------------------------------
# ctx: context values as they arrive in Wippy from the wippy-context header


class _Dropped:
    __slots__ = ()


_DROPPED = _Dropped()


def context_value(v: Any) -> Any:
    """A context value as Wippy sees it after its JSON header round trip: every number is a
    float64, only strings, numbers, booleans, maps and lists survive (others are dropped)."""
    if isinstance(v, (bool, str, float)):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, Mapping):
        return {str(k): c for k, x in v.items() if (c := context_value(x)) is not _DROPPED}
    if isinstance(v, (list, tuple)):
        return [c for x in v if (c := context_value(x)) is not _DROPPED]
    return _DROPPED


def open_ctx(sb: Sandbox) -> Any:
    """ctx.get/ctx.all over `sb.options.context`, read at each call."""

    def values() -> dict[str, Any]:
        return context_value(sb.options.context)  # type: ignore[no-any-return]

    def get(key: Any = None) -> tuple[Any, Any]:
        name = check_string(key, 1, "get").decode("utf-8", "replace")
        if not name:
            return fail(sb, INVALID, "ctx.get: key must not be empty")
        found = values()
        if name not in found:
            return fail(sb, NOT_FOUND, f"ctx.get: context key '{name}' not found")
        return sb.table(found[name]), None

    def all_values() -> tuple[Any, Any]:
        return sb.table(values()), None

    return module(sb, {"get": get, "all": all_values})


# ---------------------------------------------------------------------------------------------------
# logger: lines `LEVEL [name] message {fields}` into sb.logs and options.log (not allowed in workflows)

LOG_LEVELS = ("debug", "info", "warn", "error")


def open_logger(sb: Sandbox) -> Any:
    """The root logger: no name, no fields."""
    return _logger(sb, "", {})


def _logger(sb: Sandbox, name: str, fields: dict[str, Any]) -> Any:
    def fields_of(value: Any, n: int, method: str) -> dict[str, Any]:
        if value is None:
            return {}
        check_table(value, n, method)
        try:
            found = sb.values.to_python(value)
        except EncodeError as exc:
            raise LuaRaise(f"bad argument #{n} to '{method}' (fields cannot be encoded: {exc})") from None
        if found == []:
            return {}
        if not isinstance(found, dict):
            raise LuaRaise(f"bad argument #{n} to '{method}' (fields must be a table with string keys)")
        return found

    def method_call(this: Any, method: str) -> None:
        if lua_type(this) != "table":
            raise LuaRaise(f"logger.{method} must be called as a method: logger:{method}(...)")

    def emitter(level: str) -> Callable[..., None]:
        def emit(this: Any = None, message: Any = None, extra: Any = None) -> None:
            method_call(this, level)
            text = bytes_to_text(check_string(message, 1, level))
            merged = {**fields, **fields_of(extra, 2, level)}
            prefix = f"[{name}] " if name else ""
            line = f"{level.upper()} {prefix}{text}"
            if merged:
                line += " " + encode_json_python(merged)
            sb.logs.append(line)
            if sb.options.log is not None:
                sb.options.log(line)

        return emit

    def with_fields(this: Any = None, extra: Any = None) -> Any:
        method_call(this, "with")
        return _logger(sb, name, {**fields, **fields_of(check_table(extra, 1, "with"), 1, "with")})

    def named(this: Any = None, child: Any = None) -> Any:
        method_call(this, "named")
        part = bytes_to_text(check_string(child, 1, "named"))
        if not part:
            raise LuaRaise("bad argument #1 to 'named' (name must not be empty)")
        return _logger(sb, f"{name}.{part}" if name else part, fields)

    functions: dict[str, Any] = {level: emitter(level) for level in LOG_LEVELS}
    return module(sb, {**functions, "with": with_fields, "named": named})
