"""Histories as JSON text: the proto3 JSON that `temporalio.client.WorkflowHistory.to_json` and the
Temporal CLI write, with stable bytes so histories can be compared across processes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.encoding.jsontext import DecodeError
from wftest.encoding.payloads import ENCODING_JSON, payload_to_python
from wftest.errors import UserError

_EVENT_TYPES: frozenset[object] = frozenset([*EventType.keys(), *EventType.values()]) - {
    "EVENT_TYPE_UNSPECIFIED",
    EventType.EVENT_TYPE_UNSPECIFIED,
}


class HistoryFormatError(UserError, ValueError):
    """A history file that cannot be read; names the file and, when known, the event."""

    def __init__(self, source: str, event_id: int | None, message: str) -> None:
        super().__init__(source, event_id, message)
        self.source = source
        self.event_id = event_id
        self.message = message

    def __str__(self) -> str:
        if self.event_id is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}: event {self.event_id}: {self.message}"


def history_to_json(history: History) -> str:
    """`WorkflowHistory.to_json()` output (proto field order, indent 2, ASCII) with map entries sorted by
    key and a trailing newline: the same history always gives the same bytes."""
    document = json_format.MessageToDict(history)
    _sort_maps(History.DESCRIPTOR, document)
    return json.dumps(document, indent=2) + "\n"


def _sort_maps(descriptor: Descriptor, document: dict[str, Any]) -> None:
    """Reorder every proto map in `document` by key; protobuf's own map iteration order is unspecified."""
    for field in descriptor.fields:
        value = document.get(field.json_name)
        if value is None or field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            document[field.json_name] = dict(sorted(value.items()))
            value_type = field.message_type.fields_by_name["value"].message_type
            if value_type is not None:
                for item in value.values():
                    _sort_message(value_type, item)
        elif isinstance(value, list):
            for item in value:
                _sort_message(field.message_type, item)
        else:
            _sort_message(field.message_type, value)


def _sort_message(descriptor: Descriptor, value: object) -> None:
    # Well-known types (Timestamp, Duration) are JSON strings, not objects: nothing to reorder.
    if isinstance(value, dict):
        _sort_maps(descriptor, value)


def history_from_json(text: str | bytes, *, source: str = "<history>") -> History:
    """Read a history in proto3 JSON (what `history_to_json`, `WorkflowHistory.to_json` and
    `temporal workflow show -o json --no-json-shorthand-payloads` write), the legacy UI/tctl export
    (short enum names), or the CLI's default shorthand payloads. Fields this temporalio version does not
    know are ignored, as temporalio's own reader does, so newer servers' histories still load."""
    document = _load_json(text, source)
    raw_events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(raw_events, list):
        raise HistoryFormatError(source, None, 'not a history: expected a JSON object with an "events" list')
    if not raw_events:
        raise HistoryFormatError(source, None, "history has no events")
    history = History(
        events=[_proto3_event(raw, position, source) for position, raw in enumerate(raw_events, 1)]
    )
    _check_event_ids(history, source)
    _check_references(history, source)
    check_payload_encodings(history, source)
    return history


def _load_json(text: str | bytes, source: str) -> object:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise HistoryFormatError(
                source, None, f"not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise HistoryFormatError(source, None, "not a history: JSON nested too deeply") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            raise HistoryFormatError(
                source, None, f"truncated JSON: the text ends inside a value ({where})"
            ) from None
        raise HistoryFormatError(source, None, f"not valid JSON: {error.msg} ({where})") from None


def _proto3_event(raw: object, position: int, source: str) -> HistoryEvent:
    if not isinstance(raw, dict):
        raise HistoryFormatError(source, position, f"expected a JSON object, found {type(raw).__name__}")
    declared_id = _declared_id(raw, position)
    try:
        normalized: dict[str, Any] = _normalize(HistoryEvent.DESCRIPTOR, raw)
    except ValueError as error:
        raise HistoryFormatError(source, declared_id, str(error)) from None
    raw = normalized
    event_type = raw.get("eventType")
    if event_type is not None and event_type not in _EVENT_TYPES:
        raise HistoryFormatError(source, declared_id, f"unknown eventType {event_type!r}")
    event = HistoryEvent()
    try:
        json_format.ParseDict(raw, event, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise HistoryFormatError(source, declared_id, str(error)) from None
    if event.event_type == EventType.EVENT_TYPE_UNSPECIFIED:
        raise HistoryFormatError(source, declared_id, "missing eventType")
    name = EventType.Name(event.event_type)
    attributes = HistoryEvent.DESCRIPTOR.fields_by_name[
        name.removeprefix("EVENT_TYPE_").lower() + "_event_attributes"
    ]
    if event.WhichOneof("attributes") != attributes.name:
        raise HistoryFormatError(source, declared_id, f"{name} event without {attributes.json_name}")
    return event


# -- the other export formats -------------------------------------------------------------------------
#
# Besides proto3 JSON, two shapes are read and converted field by field, guided by the proto descriptors:
# the legacy UI/tctl export, whose enum values are short names (`"eventType": "WorkflowExecutionStarted"`,
# `"kind": "Normal"`), and the CLI's default shorthand payloads, where a payload is written as the plain
# JSON value it holds (it becomes a json/plain payload of that value; nothing is dropped).

_PAYLOAD = "temporal.api.common.v1.Payload"


def _enum_value(enum: Any, value: object) -> object:
    """A short enum name (`WorkflowExecutionStarted`, `Normal`) as the proto3 name (`EVENT_TYPE_...`)."""
    if not isinstance(value, str) or value in enum.values_by_name:
        return value
    snake = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(value)).upper()
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")  # e.g. EVENT_TYPE_
    if prefix + snake in enum.values_by_name:
        return prefix + snake
    raise ValueError(f"unknown {enum.name} value {value!r}")


def _shorthand_payload(value: object) -> object:
    if isinstance(value, dict) and ("data" in value or "metadata" in value):
        return value
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    return {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(data).decode(),
    }


def _normalize_value(field: Any, value: object) -> object:
    if field.enum_type is not None:
        return _enum_value(field.enum_type, value)
    message = field.message_type
    if message is None:
        return value
    if message.full_name == _PAYLOAD:
        return _shorthand_payload(value)
    if message.GetOptions().map_entry:
        value_field = message.fields_by_name["value"]
        if isinstance(value, dict):
            return {k: _normalize_value(value_field, v) for k, v in value.items()}
        return value
    return _normalize(message, value)


def _normalize(descriptor: Any, raw: object) -> Any:
    """Legacy enum names and shorthand payloads of one message (recursively) in proto3 JSON form."""
    if not isinstance(raw, dict):
        return raw
    out: dict[str, Any] = {}
    for key, value in raw.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is None:
            out[key] = value
        elif field.is_repeated and not (field.message_type and field.message_type.GetOptions().map_entry):
            out[key] = [_normalize_value(field, v) for v in value] if isinstance(value, list) else value
        else:
            out[key] = _normalize_value(field, value)
    return out


def _declared_id(raw: dict[str, Any], position: int) -> int:
    """The event's own `eventId` when it is readable, else its 1-based position, for error messages."""
    try:
        return int(raw["eventId"])
    except (KeyError, TypeError, ValueError):
        return position


def _check_event_ids(history: History, source: str) -> None:
    for position, event in enumerate(history.events, 1):
        if event.event_id == 0:
            raise HistoryFormatError(source, position, "missing eventId")
        if event.event_id != position:
            raise HistoryFormatError(
                source,
                event.event_id,
                f"expected event id {position} here: event ids must run 1, 2, 3, ... without gaps",
            )


# Ids that point into another execution's history, not this one.
_FOREIGN_IDS = frozenset({"parent_initiated_event_id", "external_initiated_event_id"})


def _check_references(history: History, source: str) -> None:
    """Every `..._event_id` attribute must name an earlier event of this history."""
    for event in history.events:
        which = event.WhichOneof("attributes")
        if which is None:
            continue
        attributes = getattr(event, which)
        for field, value in attributes.ListFields():
            if (
                not field.name.endswith("_event_id")
                or field.name in _FOREIGN_IDS
                or not isinstance(value, int)
            ):
                continue
            if value <= 0 or value >= event.event_id:
                raise HistoryFormatError(
                    source,
                    event.event_id,
                    f"{field.name} {value} does not name an earlier event of this history",
                )


_ENCODINGS = frozenset({b"json/plain", b"binary/plain", b"binary/null"})


def _payloads_in(message: Any) -> Iterator[Any]:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        values = (
            value.values()
            if field.message_type.GetOptions().map_entry
            else (value if field.is_repeated else [value])
        )
        for item in values:
            if field.message_type.GetOptions().map_entry:
                item_type = field.message_type.fields_by_name["value"].message_type
                if item_type is None:
                    continue
                if item_type.full_name == _PAYLOAD:
                    yield item
                else:
                    yield from _payloads_in(item)
            elif field.message_type.full_name == _PAYLOAD:
                yield item
            else:
                yield from _payloads_in(item)


def check_payload_encodings(history: History, source: str = "<history>") -> None:
    """Wippy reads only json/plain, binary/plain and binary/null payloads."""
    for event in history.events:
        for payload in _payloads_in(event):
            encoding = payload.metadata.get("encoding", b"")
            if encoding not in _ENCODINGS:
                shown = encoding.decode("utf-8", "replace") or "(none)"
                raise HistoryFormatError(
                    source, event.event_id, f"unsupported temporal payload encoding {shown!r}"
                )
            if encoding == ENCODING_JSON:
                try:
                    payload_to_python(payload)
                except DecodeError as exc:
                    raise HistoryFormatError(
                        source, event.event_id, f"a json/plain payload is not JSON: {exc}"
                    ) from None
