"""What a timeline is: its lanes of items to draw and its listing of entries, over virtual offsets.

Offsets are virtual nanoseconds from the WorkflowExecutionStarted event. Nothing that differs between two
runs of the same code is kept: no wall-clock times, identities or request ids, and every run id the
history names is replaced by a stable token (`<run>` for this run), also inside payloads and inside ids
such as the Go SDK's default child workflow id `<run id>_<event id>`.

Temporal records only the last attempt of an activity: its ActivityTaskStarted carries the attempt number
and the previous attempt's failure, so the earlier attempts are the stretch between the schedule and the
last start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wftest.errors import UserError

Status = Literal["ok", "failed", "timed_out", "canceled", "terminated", "open"]
LaneKind = Literal["workflow", "activity", "timer", "signal", "marker", "child", "update", "external"]
ItemKind = Literal[
    "start", "task", "close", "event", "activity", "timer", "signal", "marker", "child", "update", "external"
]
Field = tuple[str, str]
"""(name, value); an empty name marks a bare value such as an activity type. Values are never truncated."""

SIDE_EFFECT_MARKER = "SideEffect"
VERSION_MARKER = "Version"
_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
INSTANT_KINDS: frozenset[ItemKind] = frozenset({"start", "close", "event", "signal", "marker"})
"""Item kinds that have no duration."""


class TimelineError(UserError, ValueError):
    """A history the timeline cannot be built from; names the offending event."""

    def __init__(self, event_id: int | None, message: str) -> None:
        super().__init__(event_id, message)
        self.event_id = event_id
        self.message = message

    def __str__(self) -> str:
        return self.message if self.event_id is None else f"event {self.event_id}: {self.message}"


@dataclass(frozen=True)
class Entry:
    """One event group (a workflow task, an activity's close with its start, a timer firing, ...) as one
    line of a listing, placed where the event that defines it is in the history."""

    offset_ns: int
    lane: str
    event: str
    fields: tuple[Field, ...]
    status: Status
    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """Something drawn on a lane: a span from `start_ns` to `end_ns` (None: still open when the history
    ends), or an instant for the INSTANT_KINDS. `started_ns` is when a task, an activity's last attempt
    or a child run started; `attempt` is that attempt's number (0 when the history does not say)."""

    kind: ItemKind
    label: str
    start_ns: int
    end_ns: int | None
    started_ns: int | None
    status: Status
    attempt: int
    fields: tuple[Field, ...]
    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class Lane:
    """A row of the drawing: the workflow itself, one activity, one timer, one child, one signal name, ..."""

    label: str
    kind: LaneKind
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Timeline:
    """One run: its lanes to draw and its listing, in history order."""

    workflow_type: str
    status: Status
    """How the run closed; "open" when the history ends before it does."""
    end_ns: int
    """Offset of the latest event."""
    event_count: int
    lanes: tuple[Lane, ...]
    """In order of first appearance, the workflow's own lane first."""
    entries: tuple[Entry, ...]
