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

import gc
import gzip
import os
from pathlib import Path

import orjson
from temporalio.api.history.v1 import HistoryEvent

from wftest.history.fastread.base import _Bad
from wftest.history.fastread.events import _events
from wftest.history.fastread.scalars import _time_parts
from wftest.history.fastread.views import _kwargs, _View
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
