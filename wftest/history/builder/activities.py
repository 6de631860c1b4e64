"""Activity task events: scheduled, started, and the ways an attempt or a cancel request closes.

Each function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from temporalio.api.common.v1 import ActivityType, Payload, RetryPolicy
from temporalio.api.enums.v1 import RetryState
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    ActivityTaskCanceledEventAttributes,
    ActivityTaskCancelRequestedEventAttributes,
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    ActivityTaskStartedEventAttributes,
    ActivityTaskTimedOutEventAttributes,
)

from wftest.history.builder import fields
from wftest.history.builder.fields import NO_HEADER
from wftest.history.builder.log import EventLog


def activity_task_scheduled(
    self: EventLog,
    time_ns: int,
    *,
    activity_type: str,
    task_queue: str,
    workflow_task_completed_event_id: int,
    activity_id: str | None = None,
    input: Sequence[Payload] = (),
    header: Mapping[str, Payload] = NO_HEADER,
    schedule_to_close_ns: int = 0,
    schedule_to_start_ns: int = 0,
    start_to_close_ns: int = 0,
    heartbeat_ns: int = 0,
    retry_policy: RetryPolicy | None = None,
    use_workflow_build_id: bool = True,
) -> int:
    """`activity_id` None = the Go SDK default, this event's id. `use_workflow_build_id` is what the
    Go SDK sends for an activity on the workflow's own task queue without a versioning intent."""
    attributes = ActivityTaskScheduledEventAttributes(
        activity_id=str(self._next_id()) if activity_id is None else activity_id,
        activity_type=ActivityType(name=activity_type),
        task_queue=fields.task_queue(task_queue),
        header=fields.header(header),
        input=fields.payloads(input),
        schedule_to_close_timeout=fields.duration(schedule_to_close_ns),
        schedule_to_start_timeout=fields.duration(schedule_to_start_ns),
        start_to_close_timeout=fields.duration(start_to_close_ns),
        heartbeat_timeout=fields.duration(heartbeat_ns),
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        retry_policy=retry_policy,
        use_workflow_build_id=use_workflow_build_id,
    )
    return self._add(time_ns, attributes)


def activity_task_started(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    attempt: int = 1,
    last_failure: Failure | None = None,
    identity: str | None = None,
) -> int:
    """Appended when the attempt closes, stamped with its start time; `last_failure` is the failure of
    the previous attempt when `attempt` > 1."""
    attributes = ActivityTaskStartedEventAttributes(
        scheduled_event_id=scheduled_event_id,
        identity=self._identity_or(identity),
        request_id=fields.request_id(self._next_id()),
        attempt=attempt,
        last_failure=last_failure,
    )
    return self._add(time_ns, attributes)


def activity_task_completed(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    result: Sequence[Payload] = (),
    identity: str | None = None,
) -> int:
    attributes = ActivityTaskCompletedEventAttributes(
        result=fields.payloads(result),
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        identity=self._identity_or(identity),
    )
    return self._add(time_ns, attributes)


def activity_task_failed(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    failure: Failure,
    retry_state: RetryState.ValueType,
    identity: str | None = None,
) -> int:
    """`failure` is the activity's own failure; the Go SDK adds the ActivityError wrapper itself."""
    attributes = ActivityTaskFailedEventAttributes(
        failure=failure,
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        identity=self._identity_or(identity),
        retry_state=retry_state,
    )
    return self._add(time_ns, attributes)


def activity_task_timed_out(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    failure: Failure,
    retry_state: RetryState.ValueType,
) -> int:
    """`started_event_id` is 0 for a schedule-to-start timeout; `failure` carries timeout_failure_info."""
    attributes = ActivityTaskTimedOutEventAttributes(
        failure=failure,
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        retry_state=retry_state,
    )
    return self._add(time_ns, attributes)


def activity_task_cancel_requested(
    self: EventLog, time_ns: int, *, scheduled_event_id: int, workflow_task_completed_event_id: int
) -> int:
    attributes = ActivityTaskCancelRequestedEventAttributes(
        scheduled_event_id=scheduled_event_id,
        workflow_task_completed_event_id=workflow_task_completed_event_id,
    )
    return self._add(time_ns, attributes)


def activity_task_canceled(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    latest_cancel_requested_event_id: int,
    details: Sequence[Payload] = (),
    identity: str | None = None,
) -> int:
    attributes = ActivityTaskCanceledEventAttributes(
        details=fields.payloads(details),
        latest_cancel_requested_event_id=latest_cancel_requested_event_id,
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        identity=self._identity_or(identity),
    )
    return self._add(time_ns, attributes)
