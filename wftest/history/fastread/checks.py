"""Checkers of message objects, generated per shape (the keys in their order) as straight-line code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wftest.history.fastread.base import _ENUM, _INT, _MESSAGE, _STR, CheckSpec, _Bad
from wftest.history.fastread.scalars import _GOOD_DURATIONS, _GOOD_TIMES, _ID, _check_duration, _check_time

_MAX_SHAPES = 256  # checkers generated per message type; objects of further shapes take the loop


def _check(spec: CheckSpec, raw: Any) -> None:
    """Raise `_Bad` unless `raw` is a JSON object the protobuf reader reads as message `spec`, the
    fast path's way (JSON field names). Objects of one message type mostly come in a few shapes (the
    same keys in the same order): each shape gets a checker of its own, straight-line code that tests
    exactly the keys it has, which is several times quicker than looking every key up."""
    if type(raw) is not dict:
        raise _Bad
    shape = tuple(raw)
    checker = spec.shapes.get(shape)
    if checker is None:
        if len(spec.shapes) >= _MAX_SHAPES:
            _check_keys(spec, raw)
            return
        checker = spec.shapes[shape] = _shape_checker(spec, shape)
    checker(raw)


def _shape_checker(spec: CheckSpec, shape: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    """The checker of objects with exactly the keys `shape`: what `_check_keys` does for them, unrolled.
    Keys and helpers are bound as names of the generated function's globals, never written into code."""
    names: dict[str, Any] = {}
    lines = ["def check(raw):"]
    for i, key in enumerate(shape):
        lines += _key_lines(spec, i, key, names)
    lines += _oneof_lines(spec, shape, names)
    lines.append("    return None")
    return _compiled(spec, lines, names)


def _attributes(spec: CheckSpec, raw: Any, position: int) -> None:
    """`_check` for the attributes of the event at `position`, and their references: ids of earlier
    events, or 0 for none."""
    if type(raw) is not dict:
        raise _Bad
    shape = tuple(raw)
    if len(spec.event_shapes) >= _MAX_SHAPES:
        _check(spec, raw)
        _references(spec, raw, position)
        return
    checker = spec.event_shapes[shape] = _attributes_checker(spec, shape)
    checker(raw, position)


def _references(spec: CheckSpec, raw: dict[str, Any], position: int) -> None:
    for reference in spec.references:
        target = raw.get(reference)
        if target is not None:
            target = _ID(target)
            if target and (target < 0 or target >= position):
                raise _Bad


def _attributes_checker(spec: CheckSpec, shape: tuple[str, ...]) -> Callable[[dict[str, Any], int], None]:
    """`_shape_checker` for event attributes: a reference is range-checked with the number its check
    reads."""
    names: dict[str, Any] = {}
    lines = ["def check(raw, p):"]
    for i, key in enumerate(shape):
        if key not in spec.references:
            lines += _key_lines(spec, i, key, names)
            continue
        kind, arg = spec.checks[key]
        assert kind == _INT, key  # ids of events
        names[f"K{i}"] = key
        names[f"D{i}"], names[f"C{i}"] = arg
        lines += [
            f"    v = raw[K{i}]",
            f"    if type(v) is str and len(v) <= D{i} and v.isdigit() and v.isascii(): r = int(v)",
            "    elif v is None: r = 0",
            f"    else: r = C{i}(v)",
            "    if r and (r < 0 or r >= p): raise _Bad",
        ]
    lines += _oneof_lines(spec, shape, names)
    lines.append("    return None")
    return _compiled(spec, lines, names)


def _key_lines(spec: CheckSpec, i: int, key: str, names: dict[str, Any]) -> list[str]:
    """The generated lines that check `raw[key]` (the `i`th key of the shape), binding what they need
    into `names`."""
    names[f"K{i}"] = key
    if key in spec.strings:
        return [f"    v = raw[K{i}]", "    if type(v) is not str and v is not None: raise _Bad"]
    entry = spec.checks.get(key)
    if entry is None:  # unknown fields are ignored, as temporalio does; other spellings are not
        return ["    raise _Bad"] if key in spec.aliases else []
    kind, arg = entry
    # Each test is ordered for the usual value: the `None` test (unset) comes only where that fails.
    get = f"    v = raw[K{i}]"
    if kind == _MESSAGE:  # the nested object's shape checker called directly (an empty one is fine)
        names[f"S{i}"], names[f"H{i}"] = arg, arg.shapes
        return [
            get,
            "    if type(v) is dict:",
            "        if v:",
            f"            c = H{i}.get(tuple(v))",
            f"            if c is None: _check(S{i}, v)",
            "            else: c(v)",
            "    elif v is not None: raise _Bad",
        ]
    if kind == _INT:  # see `views._checker`; small JSON numbers are in every integer type's range
        names[f"D{i}"], names[f"C{i}"] = arg
        names["_I31"] = 2**31 - 1
        return [
            get,
            "    if type(v) is str:",
            f"        if not (len(v) <= D{i} and v.isdigit() and v.isascii()): C{i}(v)",
            f"    elif v is not None and (type(v) is not int or v < 0 or v > _I31): C{i}(v)",
        ]
    if kind == _ENUM:
        names[f"N{i}"], names[f"E{i}"] = arg.names, arg.value
        return [get, f"    if type(v) is not str or v not in N{i}:", f"        if v is not None: E{i}(v)"]
    if arg is _check_time:  # times and durations already seen are known good (see `scalars._known`)
        names.update(_GT=_GOOD_TIMES, _ct=_check_time)
        return [get, "    if type(v) is not str or v not in _GT:", "        if v is not None: _ct(v)"]
    if arg is _check_duration:
        names.update(_GDU=_GOOD_DURATIONS, _cd=_check_duration)
        return [get, "    if type(v) is not str or v not in _GDU:", "        if v is not None: _cd(v)"]
    if kind == _STR:
        return [get, "    if type(v) is not str and v is not None: raise _Bad"]
    names[f"F{i}"] = arg
    return [get, f"    if v is not None: F{i}(v)"]


def _oneof_lines(spec: CheckSpec, shape: tuple[str, ...], names: dict[str, Any]) -> list[str]:
    lines = []
    for g, group in enumerate(spec.oneofs):
        if len(group.intersection(shape)) > 1:
            names[f"G{g}"] = tuple(group)
            lines.append(f"    if sum(1 for k in G{g} if raw.get(k) is not None) > 1: raise _Bad")
    return lines


def _compiled(spec: CheckSpec, lines: list[str], names: dict[str, Any]) -> Callable[..., Any]:
    names.update(_Bad=_Bad, _check=_check)
    exec(compile("\n".join(lines), f"<check {spec.descriptor.name}>", "exec"), names)  # noqa: S102
    checker: Callable[..., Any] = names["check"]
    return checker


def _check_keys(spec: CheckSpec, raw: dict[str, Any]) -> None:
    """`_check` by looking every key up (objects of shapes beyond the generated ones)."""
    checks = spec.checks
    strings = spec.strings
    for key, value in raw.items():
        if key in strings:
            if type(value) is not str and value is not None:
                raise _Bad
            continue
        entry = checks.get(key)
        if entry is None:
            if key in spec.aliases:
                raise _Bad
            continue  # unknown fields are ignored, as temporalio does
        if value is None:
            continue  # null means unset
        kind = entry[0]
        if kind == _STR:
            if type(value) is not str:
                raise _Bad
        elif kind == _MESSAGE:
            _check(entry[1], value)
        elif kind == _INT:
            digits, convert = entry[1]
            if not (type(value) is str and len(value) <= digits and value.isdigit() and value.isascii()):
                convert(value)
        elif kind == _ENUM:
            if type(value) is not str or value not in entry[1].names:
                entry[1].value(value)
        else:
            entry[1](value)
    if spec.oneofs and len(spec.oneof_keys.intersection(raw)) > 1:
        for group in spec.oneofs:
            if sum(1 for key in group if raw.get(key) is not None) > 1:
                raise _Bad
