"""The replay hot path's history reader: JSON text (or a `.json`/`.json.gz` file) straight to read-only
event views, without building protobuf messages through `google.protobuf.json_format`.

It accepts what `history_from_json` accepts (proto3 JSON, the legacy UI/tctl export with short enum
names, the CLI's shorthand payloads) and checks the same things. Its only job is speed on good input:
whenever something looks wrong, or merely unusual (field names spelt the protobuf way, say), the whole
document goes through `history_from_json`, which either raises its exact error (naming the file and
event) or returns protobuf events. So both readers reject the same documents with the same messages, and
give the same events.

Every value is checked when the history is read, but converted only when replay reads it: an event view
holds its JSON object and turns a field into its value on first access (replay reads few fields of few
events). A view answers every field read the way temporalio's `HistoryEvent` does: attribute access by
field name, defaults for unset fields, enums as numbers, `HasField` and `WhichOneof`. Timestamps,
durations, payloads and failures are real protobuf messages (replay hands them on to code that builds
protobuf messages around them); every other message is a view.
"""

from __future__ import annotations

import base64
import gc
import gzip
import json
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from wftest.encoding.jsontext import MAX_DEPTH
from wftest.history.jsonio import HistoryFormatError, history_from_json

__all__ = [
    "EventHistory",
    "event_time_ns",
    "events_from_json",
    "history_bytes",
    "read_history",
    "read_history_file",
    "view_to_proto",
]


class EventHistory:
    """A history as replay reads it: `.events` (event views, or protobuf events when the document went
    through the protobuf reader) and the `source` it was read from."""

    __slots__ = ("events", "source")

    def __init__(self, events: list[HistoryEvent], source: str) -> None:
        self.events = events
        self.source = source


class _Bad(Exception):
    """Internal: this document leaves the fast path (the protobuf reader decides what it is)."""


Convert = Callable[[Any], Any]
Check = Callable[[Any], object]


class _View:
    """Base of the generated per-message view classes. `_raw` is the message's (checked) JSON object; a
    field read for the first time is converted from it (by its `_Field`, a class attribute) and kept in
    the instance dict, where later reads find it directly."""

    _spec: _Spec

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def HasField(self, name: str) -> bool:  # noqa: N802 - the protobuf method name
        field = self._spec.by_name.get(name)
        if field is None:
            raise ValueError(f"{self._spec.descriptor.full_name} has no field {name!r}")
        return self._raw.get(field.key) is not None

    def WhichOneof(self, group: str) -> str | None:  # noqa: N802 - the protobuf method name
        for name in self._spec.oneof_names[group]:
            if self._raw.get(self._spec.by_name[name].key) is not None:
                return name
        return None

    def __repr__(self) -> str:
        return f"<{self._spec.descriptor.full_name} view {self._raw!r}>"


_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_FOREIGN_IDS = frozenset({"parent_initiated_event_id", "external_initiated_event_id"})
_ENCODINGS = frozenset({b"json/plain", b"binary/plain", b"binary/null"})
_PAYLOAD_KEYS = frozenset({"data", "metadata"})
# How the checker treats a field's value: the common kinds are tested inline, the rest call a function.
_STR, _MESSAGE, _ENUM, _INT, _CALL = range(5)


class _Field:
    """One field of a message type: its JSON key, how to check and convert its value, its default. On
    the view class it is the (non-data) descriptor that converts the field on first read."""

    __slots__ = ("name", "key", "kind", "check", "convert", "default")

    def __init__(self, field: FieldDescriptor) -> None:
        self.name = field.name
        self.key = field.json_name
        self.kind, self.check = _checker(field)
        self.convert = _converter(field)
        self.default = _default(field)

    def __get__(self, view: _View | None, owner: type | None = None) -> Any:
        if view is None:
            return self
        raw = view._raw.get(self.key)
        value = self.default() if raw is None else self.convert(raw)
        view.__dict__[self.name] = value
        return value


class _Spec:
    """How to read one message type: its fields by JSON key and by name, and its view class."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.by_key: dict[str, _Field] = {}
        self.by_name: dict[str, _Field] = {}
        self.checks: dict[str, tuple[int, Any]] = {}
        self.strings = frozenset(
            f.json_name
            for f in descriptor.fields
            if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated
        )
        # Other spellings of field names: an object that uses them goes to the protobuf reader.
        self.aliases = frozenset(
            name for f in descriptor.fields for name in (f.name, f.camelcase_name) if name != f.json_name
        )
        self.oneofs = tuple(frozenset(f.json_name for f in o.fields) for o in descriptor.oneofs)
        self.oneof_keys = frozenset().union(*self.oneofs)
        self.oneof_names = {o.name: tuple(f.name for f in o.fields) for o in descriptor.oneofs}
        self.references: tuple[str, ...] = ()
        self.shapes: dict[tuple[str, ...], Callable[[dict[str, Any]], None]] = {}
        # For event attributes: checkers that also check the references against the event's position.
        self.event_shapes: dict[tuple[str, ...], Callable[[dict[str, Any], int], None]] = {}
        self.cls: type[_View] = type(descriptor.name + "View", (_View,), {"_spec": self})


_SPECS: dict[str, _Spec] = {}


def _spec(descriptor: Descriptor) -> _Spec:
    found = _SPECS.get(descriptor.full_name)
    if found is not None:
        return found
    spec = _SPECS[descriptor.full_name] = _Spec(descriptor)  # registered first: types refer to each other
    for field in descriptor.fields:
        entry = _Field(field)
        spec.by_key[entry.key] = spec.by_name[entry.name] = entry
        setattr(spec.cls, entry.name, entry)
        spec.checks[entry.key] = (entry.kind, entry.check)
    spec.references = tuple(
        f.json_name
        for f in descriptor.fields
        if f.name.endswith("_event_id")
        and f.name not in _FOREIGN_IDS
        and f.type != FieldDescriptor.TYPE_MESSAGE
    )
    return spec


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _value_field(field: FieldDescriptor) -> FieldDescriptor:
    assert field.message_type is not None
    return field.message_type.fields_by_name["value"]


# -- checking (every value, when the history is read) ------------------------------------------------


def _checker(field: FieldDescriptor) -> tuple[int, Any]:
    if _is_map(field):
        item = _item_check(_value_field(field))

        def check_map(value: Any) -> None:
            if type(value) is not dict:
                raise _Bad
            for v in value.values():
                item(v)

        return _CALL, check_map
    if field.is_repeated:
        item = _item_check(field)

        def check_list(value: Any) -> None:
            if type(value) is not list:
                raise _Bad
            for v in value:
                item(v)

        return _CALL, check_list
    if field.type == FieldDescriptor.TYPE_STRING:
        return _STR, None
    if field.type in _INT_RANGES:
        # Ids as JSON strings of few enough digits to be in range are surely fine; others are converted.
        low, high = _INT_RANGES[field.type]
        return _INT, (len(str(high)) - 1, _int_converter(low, high))
    if field.enum_type is not None:
        return _ENUM, _enum(field.enum_type)
    message = field.message_type
    if message is not None and message.full_name not in _LEAF_CHECKS:
        return _MESSAGE, _spec(message)
    return _CALL, _item_check(field)


def _item_check(field: FieldDescriptor) -> Check:
    message = field.message_type
    if message is not None:
        leaf = _LEAF_CHECKS.get(message.full_name)
        if leaf is not None:
            return leaf
        spec = _spec(message)
        return lambda value: _check(spec, value)
    if field.enum_type is not None:
        return _enum(field.enum_type).value
    return _item_converter(field)  # scalars: converting is checking


_MAX_SHAPES = 256  # checkers generated per message type; objects of further shapes take the loop


def _check(spec: _Spec, raw: Any) -> None:
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


def _shape_checker(spec: _Spec, shape: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    """The checker of objects with exactly the keys `shape`: what `_check_keys` does for them, unrolled.
    Keys and helpers are bound as names of the generated function's globals, never written into code."""
    names: dict[str, Any] = {}
    lines = ["def check(raw):"]
    for i, key in enumerate(shape):
        lines += _key_lines(spec, i, key, names)
    lines += _oneof_lines(spec, shape, names)
    lines.append("    return None")
    return _compiled(spec, lines, names)


def _attributes(spec: _Spec, raw: Any, position: int) -> None:
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


def _references(spec: _Spec, raw: dict[str, Any], position: int) -> None:
    for reference in spec.references:
        target = raw.get(reference)
        if target is not None:
            target = _ID(target)
            if target and (target < 0 or target >= position):
                raise _Bad


def _attributes_checker(spec: _Spec, shape: tuple[str, ...]) -> Callable[[dict[str, Any], int], None]:
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


def _key_lines(spec: _Spec, i: int, key: str, names: dict[str, Any]) -> list[str]:
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
    if kind == _INT:  # see `_checker`; small JSON numbers are in every integer type's range
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
    if arg is _check_time:  # times and durations already seen are known good (see `_known`)
        names.update(_GT=_GOOD_TIMES, _ct=_check_time)
        return [get, "    if type(v) is not str or v not in _GT:", "        if v is not None: _ct(v)"]
    if arg is _check_duration:
        names.update(_GDU=_GOOD_DURATIONS, _cd=_check_duration)
        return [get, "    if type(v) is not str or v not in _GDU:", "        if v is not None: _cd(v)"]
    if kind == _STR:
        return [get, "    if type(v) is not str and v is not None: raise _Bad"]
    names[f"F{i}"] = arg
    return [get, f"    if v is not None: F{i}(v)"]


def _oneof_lines(spec: _Spec, shape: tuple[str, ...], names: dict[str, Any]) -> list[str]:
    lines = []
    for g, group in enumerate(spec.oneofs):
        if len(group.intersection(shape)) > 1:
            names[f"G{g}"] = tuple(group)
            lines.append(f"    if sum(1 for k in G{g} if raw.get(k) is not None) > 1: raise _Bad")
    return lines


def _compiled(spec: _Spec, lines: list[str], names: dict[str, Any]) -> Callable[..., Any]:
    names.update(_Bad=_Bad, _check=_check)
    exec(compile("\n".join(lines), f"<check {spec.descriptor.name}>", "exec"), names)  # noqa: S102
    checker: Callable[..., Any] = names["check"]
    return checker


def _check_keys(spec: _Spec, raw: dict[str, Any]) -> None:
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


# Metadata `encoding` values (base64) found to name an encoding the fast path reads, and whether it is
# json/plain (whose data must be JSON).
_GOOD_ENCODINGS: dict[object, bool] = {}
# json/plain data (base64) already found to be JSON: histories repeat payloads (the same input handed
# to every activity, `null` results), and a set lookup is much quicker than decoding and parsing.
_GOOD_JSON: set[str] = set()


def _check_payload(value: Any) -> None:
    if type(value) is not dict:
        return  # the CLI's shorthand: a JSON value, read as a json/plain payload
    # The usual payload, quickly: metadata of an encoding already seen, data already seen or checked.
    metadata = value.get("metadata")
    if (
        type(metadata) is dict
        and len(metadata) == 1
        and (is_json := _GOOD_ENCODINGS.get(metadata.get("encoding"))) is not None
        and (len(value) == 1 or (len(value) == 2 and "data" in value))
    ):
        data = value.get("data")
        if is_json:
            if data not in _GOOD_JSON:
                _check_json(data)
        elif data is not None and data not in _SHORT_BYTES:
            _bytes(data)
        return
    if "data" in value or "metadata" in value:
        if not value.keys() <= _PAYLOAD_KEYS:
            raise _Bad
        encoding = _metadata(metadata)[1]
        if encoding not in _ENCODINGS:
            raise _Bad
        data = value.get("data")
        if encoding == _JSON_PLAIN:
            _check_json(data)
        elif data is not None:
            _bytes(data)
        if type(metadata) is dict and metadata.keys() == {"encoding"} and len(_GOOD_ENCODINGS) < 64:
            _GOOD_ENCODINGS[metadata["encoding"]] = encoding == _JSON_PLAIN
    # Anything else is the CLI's shorthand.


_JSON_PLAIN = b"json/plain"


def _check_json(data: Any) -> None:
    """Raise `_Bad` unless json/plain `data` (base64) is surely JSON to the protobuf reader: no data (an
    empty payload) is not JSON, and data nested deeper than wftest nests JSON is left to it (its parser's
    depth limit depends on the caller's stack)."""
    if data is None:
        raise _Bad
    decoded = _bytes(data)
    try:
        parsed = orjson.loads(decoded)
    except orjson.JSONDecodeError:
        raise _Bad from None
    if len(decoded) > _DEEP and decoded.count(b"[") + decoded.count(b"{") > MAX_DEPTH:
        if _depth(parsed) > MAX_DEPTH:
            raise _Bad
    if len(_GOOD_JSON) >= 4096:  # `_known`, inline: this runs for every new payload
        _GOOD_JSON.clear()
    _GOOD_JSON.add(data)


_DEEP = 2 * MAX_DEPTH  # data shorter than this cannot nest deeper than MAX_DEPTH


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (0 for a scalar)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            item = list(item.values())
        elif type(item) is not list:
            continue
        deepest = max(deepest, depth)
        stack.extend((each, depth + 1) for each in item)
    return deepest


_GOOD_DATES: set[str] = set()


# The common spellings, ranges included (dates are checked once each): one pattern match per value.
_PLAIN_TIME = re.compile(
    r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?Z\Z"
)
_PLAIN_DURATION = re.compile(r"[0-9]{1,11}(\.[0-9]{1,9})?s\Z")


# Time and duration strings already checked: histories repeat them (a virtual clock's times, the same
# timeouts in every command), and a set lookup is much quicker than a pattern match.
_GOOD_TIMES: set[str] = set()
_GOOD_DURATIONS: set[str] = set()


def _known(good: set[str], value: str) -> None:
    """Remember a checked value. A full set starts afresh: distinct times still repeat nearby."""
    if len(good) >= 4096:
        good.clear()
    good.add(value)


def _check_time(value: Any) -> None:
    """`_time_parts` without the arithmetic."""
    if type(value) is not str:
        raise _Bad
    if _PLAIN_TIME.match(value) is None or value[:10] not in _GOOD_DATES:
        _time_parts(value)
        if _TIME_RE.match(value) is not None and len(_GOOD_DATES) < 4096:
            _GOOD_DATES.add(value[:10])
    _known(_GOOD_TIMES, value)


def _check_duration(value: Any) -> None:
    if type(value) is not str:
        raise _Bad
    if _PLAIN_DURATION.match(value) is None:
        _duration(value)
    _known(_GOOD_DURATIONS, value)


_LEAF_CHECKS: dict[str, Check] = {
    Payload.DESCRIPTOR.full_name: _check_payload,
    Timestamp.DESCRIPTOR.full_name: _check_time,
    Duration.DESCRIPTOR.full_name: _check_duration,
}


# -- converting (a field, when replay first reads it) ------------------------------------------------


def _converter(field: FieldDescriptor) -> Convert:
    if _is_map(field):
        item = _item_converter(_value_field(field))
        return lambda value: {key: item(v) for key, v in value.items()}
    item = _item_converter(field)
    if not field.is_repeated:
        return item
    return lambda value: [item(v) for v in value]


def _item_converter(field: FieldDescriptor) -> Convert:
    kind = field.type
    if kind in _INT_RANGES:
        return _int_converter(*_INT_RANGES[kind])
    if kind == FieldDescriptor.TYPE_STRING:
        return _str
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _double
    if kind == FieldDescriptor.TYPE_FLOAT:
        return _float32
    if field.enum_type is not None:
        return _enum(field.enum_type).value
    message = field.message_type
    assert message is not None
    name = message.full_name
    if name == Timestamp.DESCRIPTOR.full_name:
        return _timestamp
    if name == Duration.DESCRIPTOR.full_name:
        return _duration
    if name == Payload.DESCRIPTOR.full_name:
        return _payload
    if name == Failure.DESCRIPTOR.full_name:
        return _failure
    if name.startswith("google.protobuf."):
        raise AssertionError(f"history messages hold no {name}")  # the reader would need to learn it
    return _spec(message).cls


def _default(field: FieldDescriptor) -> Callable[[], Any]:
    if _is_map(field):
        return lambda: MappingProxyType({})
    if field.is_repeated:
        return tuple
    message = field.message_type
    if message is None:
        value = field.default_value
        return lambda: value
    protobuf = {
        Timestamp.DESCRIPTOR.full_name: Timestamp,
        Duration.DESCRIPTOR.full_name: Duration,
        Payload.DESCRIPTOR.full_name: Payload,
        Failure.DESCRIPTOR.full_name: Failure,
    }.get(message.full_name)
    if protobuf is not None:
        return protobuf
    return lambda: _spec(message).cls({})


class _Enum:
    """Names (full, and short legacy ones once seen) and numbers of one enum."""

    def __init__(self, enum: EnumDescriptor) -> None:
        self.names: dict[str, int] = {v.name: v.number for v in enum.values}
        self.numbers = frozenset(v.number for v in enum.values)
        self.prefix = enum.values[0].name.removesuffix("UNSPECIFIED")

    def value(self, raw: Any) -> int:
        number = self.names.get(raw) if type(raw) is str else None
        if number is not None:
            return number
        if type(raw) is str:
            # The legacy export's short name, e.g. `WorkflowExecutionStarted` for EVENT_TYPE_...
            snake = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(raw)).upper()
            number = self.names.get(self.prefix + snake)
            if number is None:
                raise _Bad
            self.names[raw] = number
            return number
        if type(raw) is int and raw in self.numbers:
            return raw
        raise _Bad


_ENUMS: dict[str, _Enum] = {}


def _enum(enum: EnumDescriptor) -> _Enum:
    found = _ENUMS.get(enum.full_name)
    if found is None:
        found = _ENUMS[enum.full_name] = _Enum(enum)
    return found


def _failure(value: Any) -> Failure:
    """Failures are protobuf messages: replay wraps them into the failures it hands the workflow."""
    return Failure(**_kwargs(_spec(Failure.DESCRIPTOR).cls(value)))


# -- scalars -----------------------------------------------------------------------------------------


def _int_converter(low: int, high: int) -> Convert:
    def convert(value: Any) -> int:
        kind = type(value)
        if kind is str and " " not in value:
            try:
                number = int(value)
            except ValueError:
                raise _Bad from None
        elif kind is int:
            number = value
        elif kind is float and value.is_integer():
            number = int(value)
        else:
            raise _Bad
        if number < low or number > high:
            raise _Bad
        return number

    return convert


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Bad
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Bad
    return value


def _double(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _Bad


def _float32(value: Any) -> float:
    number = _double(value)
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", number))[0]
    except OverflowError:
        raise _Bad from None
    return rounded


_SHORT_BYTES: dict[str, bytes] = {}


def _bytes(value: Any) -> bytes:
    """protobuf's own reading of a bytes field: URL-safe or standard base64, padding optional."""
    if type(value) is not str:
        raise _Bad
    found = _SHORT_BYTES.get(value)
    if found is not None:
        return found
    encoded = value.encode()
    try:
        decoded = base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))
    except ValueError:
        raise _Bad from None
    if len(value) <= 24 and len(_SHORT_BYTES) < 1024:
        _SHORT_BYTES[value] = decoded  # metadata values ("json/plain", ...) repeat in every payload
    return decoded


def _varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _wire(tag: int, data: bytes) -> bytes:
    size = len(data)
    if size < 0x80:
        return bytes((tag, size)) + data
    return bytes((tag,)) + _varint(size) + data


# Payload metadata as JSON object items → its serialized protobuf bytes and its encoding.
_METADATA: dict[tuple[tuple[str, Any], ...], tuple[bytes, bytes]] = {}


def _metadata(raw: Any) -> tuple[bytes, bytes]:
    if raw is None:
        return b"", b""
    if type(raw) is not dict:
        raise _Bad
    key = tuple(raw.items())
    found = _METADATA.get(key)
    if found is not None:
        return found
    wire = b"".join(_wire(0x0A, _wire(0x0A, k.encode()) + _wire(0x12, _bytes(v))) for k, v in raw.items())
    decoded = {k: _bytes(v) for k, v in raw.items()}
    found = (wire, decoded.get("encoding", b""))
    if len(_METADATA) < 256:
        _METADATA[key] = found
    return found


def _payload(value: Any) -> Payload:
    if type(value) is dict and ("data" in value or "metadata" in value):
        if not value.keys() <= _PAYLOAD_KEYS:
            raise _Bad
        wire, encoding = _metadata(value.get("metadata"))
        data = value.get("data")
        if data is not None:
            wire += _wire(0x12, _bytes(data))
        if encoding not in _ENCODINGS:
            raise _Bad
        return Payload.FromString(wire)
    # The CLI's shorthand: the payload written as the JSON value it holds (as `history_from_json`).
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z\Z"
)
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" → days since 1970-01-01


def _timestamp(value: Any) -> Timestamp:
    seconds, nanos = _time_parts(value)
    return Timestamp(seconds=seconds, nanos=nanos)


def _time_parts(value: Any) -> tuple[int, int]:
    """RFC 3339 in UTC (what Temporal writes) read directly; other spellings through protobuf."""
    if type(value) is not str:
        raise _Bad
    match = _TIME_RE.match(value)
    if match is None:
        stamp = Timestamp()
        try:
            stamp.FromJsonString(value)
        except ValueError:
            raise _Bad from None
        return stamp.seconds, stamp.nanos
    date = value[:10]
    days = _DAYS.get(date)
    if days is None:
        days = _days(int(value[:4]), int(value[5:7]), int(value[8:10]))
        if len(_DAYS) < 4096:
            _DAYS[date] = days
    hour, minute, second, fraction = match.group(4, 5, 6, 7)
    if hour > "23" or minute > "59" or second > "59":
        raise _Bad
    seconds = days * 86400 + int(hour) * 3600 + int(minute) * 60 + int(second)
    return seconds, int(fraction.ljust(9, "0")) if fraction else 0


def _days(year: int, month: int, day: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= month_days[month - 1]:
        raise _Bad
    years = year - 1
    days = years * 365 + years // 4 - years // 100 + years // 400 + _DAYS_BEFORE_MONTH[month - 1] + day - 1
    if month > 2 and leap:
        days += 1
    return days - 719162


_DURATION_RE = re.compile(r"([0-9]+)(?:\.([0-9]{1,9}))?s\Z")


def _duration(value: Any) -> Duration:
    if type(value) is not str:
        raise _Bad
    match = _DURATION_RE.match(value)
    if match is None:
        duration = Duration()
        try:
            duration.FromJsonString(value)
        except ValueError:
            raise _Bad from None
        return duration
    seconds, fraction = match.groups()
    if int(seconds) > 315_576_000_000:
        raise _Bad
    return Duration(seconds=int(seconds), nanos=int(fraction.ljust(9, "0")) if fraction else 0)


# -- events ------------------------------------------------------------------------------------------

_EVENT = _spec(HistoryEvent.DESCRIPTOR)
# Event views keep what replay reads of every event in slots, quicker to fill than an instance dict
# (which still holds the fields converted on first read).
_EVENT.cls = type("HistoryEventView", (_EVENT.cls,), {"__slots__": ("_raw", "event_id", "event_type")})
_EVENT_TYPES = _enum(EventType.DESCRIPTOR)
_ID = _int_converter(*_INT_RANGES[FieldDescriptor.TYPE_INT64])
# The attributes each event type must carry: their JSON key and message type.
_ATTRIBUTES: dict[int, tuple[str, _Spec]] = {}
# The same by attributes key: the event type's name and number, and the attributes' message type.
_KINDS: dict[str, tuple[str, int, _Spec]] = {}
for _value_descriptor in EventType.DESCRIPTOR.values[1:]:
    _field = HistoryEvent.DESCRIPTOR.fields_by_name[
        _value_descriptor.name.removeprefix("EVENT_TYPE_").lower() + "_event_attributes"
    ]
    assert _field.message_type is not None
    _ATTRIBUTES[_value_descriptor.number] = (_field.json_name, _spec(_field.message_type))
    _KINDS[_field.json_name] = (_value_descriptor.name, _value_descriptor.number, _spec(_field.message_type))

_EventCheck = Callable[[dict[str, Any], int], int]
# Event checkers by shape. An event's shape names its attributes, so its checker also knows the event
# type and references to expect, and checks what makes the event part of the history in the same
# straight-line code as its fields.
_EVENT_CHECKS: dict[tuple[str, ...], _EventCheck] = {}


def _event(raw: Any, position: int) -> int:
    """Check the event at `position` (from 1) the general way; returns its event type number. Events
    of unusual shapes (no attributes, or several) and of shapes beyond the generated ones take it."""
    _check(_EVENT, raw)
    event_id = raw.get("eventId")
    if event_id != position and event_id != str(position) and _ID(event_id) != position:
        raise _Bad
    kind = raw.get("eventType")
    if kind is None:
        raise _Bad
    number = _EVENT_TYPES.value(kind)
    if number not in _ATTRIBUTES:
        raise _Bad  # an unspecified event type
    key, spec = _ATTRIBUTES[number]
    attributes = raw.get(key)
    if attributes is None:
        raise _Bad  # missing (or another event type's)
    _references(spec, attributes, position)
    return number


def _event_check(raw: dict[str, Any]) -> _EventCheck:
    """The checker of events of `raw`'s shape, generated on first sight."""
    shape = tuple(raw)
    if len(_EVENT_CHECKS) >= _MAX_SHAPES:
        return _event
    check = _EVENT_CHECKS[shape] = _event_shape_checker(shape)
    return check


def _event_shape_checker(shape: tuple[str, ...]) -> _EventCheck:
    """`_event` unrolled for events with exactly the keys `shape`, as `_shape_checker` is for other
    messages. The event type is tested first, against the one the attributes key names: an event whose
    type and attributes disagree is left to `_event`, so it meets exactly the same checks."""
    kinds = [key for key in shape if key in _KINDS]
    if len(kinds) != 1 or "eventId" not in shape or "eventType" not in shape:
        return _event
    name, number, spec = _KINDS[kinds[0]]
    names: dict[str, Any] = {"_ET": _EVENT_TYPES.value, "_ID": _ID, "_event": _event}
    names.update(TN=name, TV=number, KT="eventType")
    lines = [
        "def check(raw, p):",
        "    v = raw[KT]",
        "    if v != TN and _ET(v) != TV: return _event(raw, p)",
    ]
    for i, key in enumerate(shape):
        if key == "eventType":
            continue
        if key == "eventId":  # the position, spelt any way int64 may be: valid whenever it matches
            names[f"K{i}"] = key
            lines += [f"    v = raw[K{i}]", "    if v != str(p) and v != p and _ID(v) != p: raise _Bad"]
            continue
        if key != kinds[0]:
            lines += _key_lines(_EVENT, i, key, names)
            continue
        names[f"K{i}"], names["S"], names["A"] = key, spec, spec.event_shapes
        names["_attributes"] = _attributes
        lines += [
            f"    v = raw[K{i}]",
            "    if type(v) is not dict: raise _Bad",  # unset (or not an object): a bad event
            "    c = A.get(tuple(v))",
            "    if c is None: _attributes(S, v, p)",
            "    else: c(v, p)",
        ]
    lines += _oneof_lines(_EVENT, shape, names)
    lines.append("    return TV")
    check: _EventCheck = _compiled(_EVENT, lines, names)
    return check


def _events(document: object) -> list[HistoryEvent]:
    if type(document) is not dict:
        raise _Bad
    raw_events = document.get("events")
    if type(raw_events) is not list or not raw_events:
        raise _Bad
    events: list[Any] = []
    new: Any = _EVENT.cls
    alloc = object.__new__
    checks = _EVENT_CHECKS
    for position, raw in enumerate(raw_events, 1):
        check = checks.get(tuple(raw)) if type(raw) is dict else _event
        if check is None:
            check = _event_check(raw)
        event = alloc(new)
        event._raw = raw
        event.event_id = position
        event.event_type = check(raw, position)
        events.append(event)
    return events


def events_from_json(text: str | bytes, *, source: str = "<history>") -> list[HistoryEvent]:
    """The events of a history JSON document, as views (or protobuf events when the document is
    unusual); raises `HistoryFormatError` exactly as `history_from_json` does."""
    collecting = gc.isenabled()
    gc.disable()  # many small objects, all alive until the history goes: collections would only rescan them
    try:
        return _events(orjson.loads(text))
    except (_Bad, orjson.JSONDecodeError, RecursionError, TypeError, KeyError, ValueError):
        pass
    finally:
        if collecting:
            gc.enable()
    # The protobuf reader raises the precise error, or reads what the fast path declined.
    return list(history_from_json(text, source=source).events)


def read_history(text: str | bytes, *, source: str = "<history>") -> EventHistory:
    """A history JSON document as replay reads it."""
    return EventHistory(events_from_json(text, source=source), source)


def history_bytes(path: str | os.PathLike[str]) -> bytes:
    """The text of a `.json` history file, or of a `.json.gz` one uncompressed."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise HistoryFormatError(source, None, f"cannot read the file: {error.strerror}") from None
    if not source.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as error:
        raise HistoryFormatError(source, None, f"not a readable gzip file ({error})") from None


def read_history_file(path: str | os.PathLike[str]) -> EventHistory:
    """A `.json` or `.json.gz` history file."""
    return read_history(history_bytes(path), source=os.fspath(path))


def event_time_ns(event: HistoryEvent) -> int:
    """`event.event_time.ToNanoseconds()`, read straight from a view's JSON (replay reads every task's
    start time; the Timestamp message would be built only to be read once)."""
    if isinstance(event, _View) and "event_time" not in event.__dict__:
        raw = event._raw.get("eventTime")
        if raw is None:
            return 0
        seconds, nanos = _time_parts(raw)  # checked when the history was read
        return seconds * 1_000_000_000 + nanos
    return int(event.event_time.ToNanoseconds())


def view_to_proto(event: HistoryEvent) -> HistoryEvent:
    """The protobuf message of an event view (protobuf events are returned as they are)."""
    if isinstance(event, HistoryEvent):
        return event
    return HistoryEvent(**_kwargs(event))


def _kwargs(view: _View) -> dict[str, Any]:
    """Keyword arguments for the protobuf message of a view: its set fields, converted."""
    fields = view._spec.by_key
    out: dict[str, Any] = {}
    for key, value in view._raw.items():
        field = fields.get(key)
        if field is not None and value is not None:
            out[field.name] = _plain(getattr(view, field.name))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, _View):
        return _kwargs(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
