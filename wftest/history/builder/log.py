"""The event list every event family appends to: ids, times, and what later events derive from it.

Everything a server would make up (task ids, request ids, history sizes) is derived from the event ids, so
equal calls give equal histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from google.protobuf.message import Message
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.api.sdk.v1 import UserMetadata

from wftest.history.builder.fields import timestamp

DEFAULT_IDENTITY = "wftest"


def _event_kinds() -> dict[str, tuple[EventType.ValueType, str]]:
    """Attributes message name → (event type, HistoryEvent field), by Temporal's naming rule
    `EVENT_TYPE_X` ↔ `x_event_attributes`."""
    kinds: dict[str, tuple[EventType.ValueType, str]] = {}
    for field in HistoryEvent.DESCRIPTOR.oneofs_by_name["attributes"].fields:
        type_name = "EVENT_TYPE_" + field.name.removesuffix("_event_attributes").upper()
        if field.message_type is not None and type_name in EventType.keys():
            kinds[field.message_type.full_name] = (EventType.Value(type_name), field.name)
    return kinds


_EVENT_KINDS = _event_kinds()


class _EventsView(Sequence[HistoryEvent]):
    """Read-only live view of the builder's events (no copy per access)."""

    __slots__ = ("_events",)

    def __init__(self, events: list[HistoryEvent]) -> None:
        self._events = events

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryEvent]: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | Sequence[HistoryEvent]:
        if isinstance(index, slice):
            return tuple(self._events[index])
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)


class EventLog:
    """Events with consecutive ids from 1, `task_id` equal to the event id, and the state that later
    events derive from earlier ones (the run id, whether the SDK name was recorded, the history size)."""

    def __init__(self, *, identity: str = DEFAULT_IDENTITY) -> None:
        self._identity = identity
        self._events: list[HistoryEvent] = []
        self._view = _EventsView(self._events)
        self._run_id = ""
        self._sdk_recorded = False
        self._sized_events = 0
        self._size_bytes = 0

    @property
    def events(self) -> Sequence[HistoryEvent]:
        return self._view

    @property
    def last_event_id(self) -> int:
        return len(self._events)

    def build(self) -> History:
        return History(events=self._events)

    def _add(self, time_ns: int, attributes: Message, *, user_metadata: UserMetadata | None = None) -> int:
        """Append the event whose type the attributes message names; returns its id."""
        event_type, field = _EVENT_KINDS[attributes.DESCRIPTOR.full_name]
        event_id = len(self._events) + 1
        fields: dict[str, Any] = {field: attributes}
        event = HistoryEvent(
            event_id=event_id,
            event_time=timestamp(time_ns),
            event_type=event_type,
            task_id=event_id,
            user_metadata=user_metadata,
            **fields,
        )
        self._events.append(event)
        return event_id

    def _next_id(self) -> int:
        return len(self._events) + 1

    def _identity_or(self, identity: str | None) -> str:
        return self._identity if identity is None else identity

    def _history_size(self) -> int:
        """Serialized size of the events so far, the server's `history_size_bytes`."""
        for event in self._events[self._sized_events :]:
            self._size_bytes += event.ByteSize()
        self._sized_events = len(self._events)
        return self._size_bytes
