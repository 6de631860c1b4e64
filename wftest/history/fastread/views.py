"""Views of messages and the specs of message types: how each field is checked, converted and defaulted."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from wftest.history.fastread.base import (
    _CALL,
    _ENUM,
    _FOREIGN_IDS,
    _INT,
    _INT_RANGES,
    _MESSAGE,
    _STR,
    Check,
    Convert,
    _Bad,
    _is_map,
    _value_field,
)
from wftest.history.fastread.checks import _check
from wftest.history.fastread.payloads import _check_payload, _payload
from wftest.history.fastread.scalars import (
    _bool,
    _bytes,
    _check_duration,
    _check_time,
    _double,
    _duration,
    _enum,
    _float32,
    _int_converter,
    _str,
    _timestamp,
)


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


def _failure(value: Any) -> Failure:
    """Failures are protobuf messages: replay wraps them into the failures it hands the workflow."""
    return Failure(**_kwargs(_spec(Failure.DESCRIPTOR).cls(value)))


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
