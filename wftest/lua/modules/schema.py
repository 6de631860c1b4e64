"""A JSON Schema subset, as the `json` module's validate/validate_string check data against it.

An empty Lua table is both {} and [], so values that came from Lua carry EMPTY in its place, and it
satisfies "object" and "array" alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from wftest.encoding.jsontext import encode_json_python

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


def mark_empty(v: Any) -> Any:
    if isinstance(v, list):
        return [mark_empty(x) for x in v] if v else EMPTY
    if isinstance(v, dict):
        return {k: mark_empty(x) for k, x in v.items()}
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


def validate_data(schema: Validator, data: Any) -> tuple[bool, None]:
    """`true, nil` when `data` satisfies the compiled `schema`; else ValidationError listing every problem."""
    problems: list[str] = []
    schema(data, "#", problems)
    if problems:
        raise ValidationError("; ".join(problems))
    return True, None
