"""A history's events checked, by event checkers generated per shape, and read into event views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from wftest.history.fastread.base import _Bad
from wftest.history.fastread.checks import (
    _MAX_SHAPES,
    _attributes,
    _check,
    _compiled,
    _key_lines,
    _oneof_lines,
    _references,
)
from wftest.history.fastread.scalars import _ID, _enum
from wftest.history.fastread.views import _Spec, _spec

_EVENT = _spec(HistoryEvent.DESCRIPTOR)
# Event views keep what replay reads of every event in slots, quicker to fill than an instance dict
# (which still holds the fields converted on first read).
_EVENT.cls = type("HistoryEventView", (_EVENT.cls,), {"__slots__": ("_raw", "event_id", "event_type")})
_EVENT_TYPES = _enum(EventType.DESCRIPTOR)


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
