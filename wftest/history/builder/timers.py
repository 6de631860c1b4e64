"""Timer events: started, fired, canceled.

Each function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from temporalio.api.history.v1 import (
    TimerCanceledEventAttributes,
    TimerFiredEventAttributes,
    TimerStartedEventAttributes,
)

from wftest.history.builder import fields
from wftest.history.builder.log import EventLog


def timer_started(
    self: EventLog,
    time_ns: int,
    *,
    start_to_fire_ns: int,
    workflow_task_completed_event_id: int,
    timer_id: str | None = None,
) -> int:
    """`timer_id` None = the Go SDK default, this event's id; the duration is exact to the ns."""
    attributes = TimerStartedEventAttributes(
        timer_id=str(self._next_id()) if timer_id is None else timer_id,
        start_to_fire_timeout=fields.duration(start_to_fire_ns),
        workflow_task_completed_event_id=workflow_task_completed_event_id,
    )
    return self._add(time_ns, attributes)


def timer_fired(self: EventLog, time_ns: int, *, timer_id: str, started_event_id: int) -> int:
    return self._add(time_ns, TimerFiredEventAttributes(timer_id=timer_id, started_event_id=started_event_id))


def timer_canceled(
    self: EventLog,
    time_ns: int,
    *,
    timer_id: str,
    started_event_id: int,
    workflow_task_completed_event_id: int,
    identity: str | None = None,
) -> int:
    attributes = TimerCanceledEventAttributes(
        timer_id=timer_id,
        started_event_id=started_event_id,
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        identity=self._identity_or(identity),
    )
    return self._add(time_ns, attributes)
