"""What the fast reader's modules share: the signal to leave the fast path, integer ranges, field kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from google.protobuf.descriptor import Descriptor, FieldDescriptor


class _Bad(Exception):
    """Internal: this document leaves the fast path (the protobuf reader decides what it is)."""


Convert = Callable[[Any], Any]
Check = Callable[[Any], object]


class CheckSpec(Protocol):
    """What the generated checkers read of a message type's spec (`views._Spec`)."""

    descriptor: Descriptor
    checks: dict[str, tuple[int, Any]]
    strings: frozenset[str]
    aliases: frozenset[str]
    oneofs: tuple[frozenset[str], ...]
    oneof_keys: frozenset[str]
    references: tuple[str, ...]
    shapes: dict[tuple[str, ...], Callable[[dict[str, Any]], None]]
    event_shapes: dict[tuple[str, ...], Callable[[dict[str, Any], int], None]]


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


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _value_field(field: FieldDescriptor) -> FieldDescriptor:
    assert field.message_type is not None
    return field.message_type.fields_by_name["value"]
