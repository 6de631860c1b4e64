"""The replay hot path's history reader: JSON text (or a `.json`/`.json.gz` file) straight to read-only
event views, without building protobuf messages through `google.protobuf.json_format`.

It accepts what `history_from_json` accepts (proto3 JSON, the legacy UI/tctl export with short enum
names, the CLI's shorthand payloads) and checks the same things. Its only job is speed on good input:
whenever something looks wrong, or merely unusual, the whole document goes through `history_from_json`,
which either raises its exact error (naming the file and event) or returns protobuf events. So both
readers reject the same documents with the same messages, and give the same events.

An event view answers every field read the way temporalio's `HistoryEvent` does: attribute access by
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
from functools import partial
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
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.history.jsonio import HistoryFormatError, history_from_json

__all__ = ["EventHistory", "events_from_json", "read_history", "read_history_file", "view_to_proto"]


class EventHistory:
    """A history as replay reads it: `.events` (event views, or protobuf events when the document went
    through the protobuf reader) and the `source` it was read from."""

    __slots__ = ("events", "source")

    def __init__(self, events: list[HistoryEvent], source: str) -> None:
        self.events = events
        self.source = source


class _Bad(Exception):
    """Internal: this document leaves the fast path (the protobuf reader decides what it is)."""


class _Alias(Exception):
    """Internal: an object spells a field the proto way (`event_id`); it is read the careful way."""


def _alias(value: Any) -> Any:
    raise _Alias


class _View:
    """Base of the generated per-message view classes: an instance's `__dict__` holds the fields that are
    set (by snake_case name); class attributes hold the defaults of the others."""

    _oneofs: dict[str, tuple[str, ...]] = {}
    _full_name = ""

    def HasField(self, name: str) -> bool:  # noqa: N802 - the protobuf method name
        return name in self.__dict__

    def WhichOneof(self, group: str) -> str | None:  # noqa: N802 - the protobuf method name
        for name in self._oneofs[group]:
            if name in self.__dict__:
                return name
        return None

    def __repr__(self) -> str:
        return f"<{self._full_name} view {self.__dict__!r}>"


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

Convert = Callable[[Any], Any]


class _Spec:
    """How to read one message type: a converter per field (by JSON and proto names) and its view class."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.fields: dict[str, tuple[str, Convert]] = {}
        self.all_fields: dict[str, tuple[str, Convert]] = {}
        self.oneofs = tuple(frozenset(f.name for f in o.fields) for o in descriptor.oneofs)
        self.oneof_fields = frozenset().union(*self.oneofs)
        self.references: tuple[str, ...] = ()
        self.cls: type[_View] = type(descriptor.name + "View", (_View,), {})
        self.cls._full_name = descriptor.full_name
        self.cls._oneofs = {o.name: tuple(f.name for f in o.fields) for o in descriptor.oneofs}


_SPECS: dict[str, _Spec] = {}


def _spec(descriptor: Descriptor) -> _Spec:
    found = _SPECS.get(descriptor.full_name)
    if found is not None:
        return found
    spec = _SPECS[descriptor.full_name] = _Spec(descriptor)
    for field in descriptor.fields:
        convert = _converter(field)
        for key in {field.name, field.json_name, field.camelcase_name}:
            spec.all_fields[key] = (field.name, convert)
            # Other spellings than the JSON name are rare: the fast loop hands such objects over.
            spec.fields[key] = (field.name, _alias)
        spec.fields[field.json_name] = (field.name, _fast_converter(field, convert))
        setattr(spec.cls, field.name, _default(field))
    spec.references = tuple(
        f.name
        for f in descriptor.fields
        if f.name.endswith("_event_id")
        and f.name not in _FOREIGN_IDS
        and f.type != FieldDescriptor.TYPE_MESSAGE
    )
    return spec


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _fast_converter(field: FieldDescriptor, convert: Convert) -> Convert:
    """Builtins for the commonest values: they raise TypeError or KeyError on anything else, and the
    message is then read again with the full converters."""
    if field.is_repeated:
        return convert
    if field.type == FieldDescriptor.TYPE_STRING:
        return str.__str__  # the string itself; TypeError for other JSON values
    if field.enum_type is not None:
        return _enum(field.enum_type).names.__getitem__  # the full names; KeyError for others
    return convert


def _converter(field: FieldDescriptor) -> Convert:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        item = _item_converter(field.message_type.fields_by_name["value"])

        def mapping(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise _Bad
            return {key: item(v) for key, v in value.items()}

        return mapping
    item = _item_converter(field)
    if not field.is_repeated:
        return item

    def repeated(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Bad
        return [item(v) for v in value]

    return repeated


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
    return partial(_message, _spec(message))


_ENUMS: dict[str, _Enum] = {}


def _enum(enum: EnumDescriptor) -> _Enum:
    found = _ENUMS.get(enum.full_name)
    if found is None:
        found = _ENUMS[enum.full_name] = _Enum(enum)
    return found


def _default(field: FieldDescriptor) -> object:
    if _is_map(field):
        return MappingProxyType({})
    if field.is_repeated:
        return ()
    message = field.message_type
    if message is None:
        return field.default_value
    name = message.full_name
    if name == Timestamp.DESCRIPTOR.full_name:
        return Timestamp()
    if name == Duration.DESCRIPTOR.full_name:
        return Duration()
    if name == Payload.DESCRIPTOR.full_name:
        return Payload()
    if name == Failure.DESCRIPTOR.full_name:
        return Failure()
    return _LazyDefault(message, field.name)


class _LazyDefault:
    """The empty view of a message type, made on first read (message types refer to each other)."""

    def __init__(self, descriptor: Descriptor, name: str) -> None:
        self.descriptor = descriptor
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> object:
        empty = _spec(self.descriptor).cls()
        if owner is not None:
            setattr(owner, self.name, empty)  # later reads find it directly
        return empty


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


# -- converting --------------------------------------------------------------------------------------


def _message(spec: _Spec, raw: Any) -> _View:
    """A JSON object of message `spec` as a view."""
    if type(raw) is not dict:
        raise _Bad
    out: dict[str, Any] = {}
    fields = spec.fields
    try:
        for key, value in raw.items():
            entry = fields.get(key)
            if entry is not None and value is not None:  # unknown fields are ignored; null means unset
                out[entry[0]] = entry[1](value)
    except (_Alias, TypeError, KeyError):
        return _careful_message(spec, raw)
    if spec.oneofs and len(spec.oneof_fields & out.keys()) > 1:
        for group in spec.oneofs:
            if len(group & out.keys()) > 1:
                raise _Bad
    view = spec.cls()
    view.__dict__ = out
    return view


def _careful_message(spec: _Spec, raw: dict[str, Any]) -> _View:
    """`_message` with the full converters and every spelling of field names (`event_id`, `eventId`)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        entry = spec.all_fields.get(key)
        if entry is None or value is None:
            continue
        if entry[0] in out:
            raise _Bad  # the same field under two names
        out[entry[0]] = entry[1](value)
    for group in spec.oneofs:
        if len(group & out.keys()) > 1:
            raise _Bad
    view = spec.cls()
    view.__dict__ = out
    return view


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
    return bytes((tag,)) + _varint(len(data)) + data


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


def _failure(value: Any) -> Failure:
    """Failures are protobuf messages: replay wraps them into the failures it hands the workflow."""
    return Failure(**_kwargs(_message(_spec(Failure.DESCRIPTOR), value)))


_TIME_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z\Z")
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" → days since 1970-01-01


def _timestamp(value: Any) -> Timestamp:
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
        return stamp
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
    return Timestamp(seconds=seconds, nanos=int(fraction.ljust(9, "0")) if fraction else 0)


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


_DURATION_RE = re.compile(r"(\d+)(?:\.(\d{1,9}))?s\Z")


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
# The attributes field each event type must carry, and the reading spec of its message.
_ATTRIBUTES: dict[int, tuple[str, _Spec]] = {}
for _value_descriptor in EventType.DESCRIPTOR.values[1:]:
    _field = HistoryEvent.DESCRIPTOR.fields_by_name[
        _value_descriptor.name.removeprefix("EVENT_TYPE_").lower() + "_event_attributes"
    ]
    assert _field.message_type is not None
    _ATTRIBUTES[_value_descriptor.number] = (_field.name, _spec(_field.message_type))


def _events(document: object) -> list[HistoryEvent]:
    if type(document) is not dict:
        raise _Bad
    raw_events = document.get("events")
    if type(raw_events) is not list or not raw_events:
        raise _Bad
    events: list[Any] = []
    for position, raw in enumerate(raw_events, 1):
        event = _message(_EVENT, raw)
        fields = event.__dict__
        if fields.get("event_id") != position:
            raise _Bad
        kind = fields.get("event_type")
        if not kind:
            raise _Bad
        name, attributes_spec = _ATTRIBUTES[kind]
        attributes = fields.get(name)
        if attributes is None:
            raise _Bad  # missing, or another event type's attributes
        set_fields = attributes.__dict__
        for reference in attributes_spec.references:
            target = set_fields.get(reference)
            if target and (target < 0 or target >= position):
                raise _Bad
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
    return EventHistory(events_from_json(text, source=source), source)


def read_history_file(path: str | os.PathLike[str]) -> EventHistory:
    """A `.json` or `.json.gz` history file."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise HistoryFormatError(source, None, f"cannot read the file: {error.strerror}") from None
    if source.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise HistoryFormatError(source, None, f"not a readable gzip file ({error})") from None
    return read_history(data, source=source)


def view_to_proto(event: HistoryEvent) -> HistoryEvent:
    """The protobuf message of an event view (protobuf events are returned as they are)."""
    if isinstance(event, HistoryEvent):
        return event
    return HistoryEvent(**_kwargs(event))


def _kwargs(view: Any) -> dict[str, Any]:
    convert: Callable[[Any], Any] = _plain
    return {name: convert(value) for name, value in view.__dict__.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, _View):
        return _kwargs(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def as_history(events: list[HistoryEvent]) -> History:
    """A protobuf `History` of events read by either reader."""
    return History(events=[view_to_proto(event) for event in events])
