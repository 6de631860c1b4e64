"""Workflow task events: scheduled, started, completed (with the Go SDK's metadata), failed, timed out.

Each function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.enums.v1 import TimeoutType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    WorkflowTaskCompletedEventAttributes,
    WorkflowTaskFailedEventAttributes,
    WorkflowTaskScheduledEventAttributes,
    WorkflowTaskStartedEventAttributes,
    WorkflowTaskTimedOutEventAttributes,
)
from temporalio.api.sdk.v1 import WorkflowTaskCompletedMetadata

from wftest.history.builder import fields
from wftest.history.builder.fields import DEFAULT_WORKFLOW_TASK_TIMEOUT_NS
from wftest.history.builder.log import EventLog

SDK_NAME = "temporal-go"
SDK_VERSION = "1.42.0"
FIRST_TASK_SDK_FLAGS: tuple[int, ...] = (3,)
"""Go SDK flags recorded on a run's first WorkflowTaskCompleted [P]: 3 = SDKFlagProtocolMessageCommand, which
the Go task handler uses on every new run. Flags 4 and 6 belong to the SDK's own workflow definition and
selectors, which Wippy does not use; pass flag 1 (SDKFlagLimitChangeVersionSASize) in `sdk_flags` on the
task that first calls GetVersion."""


def workflow_task_scheduled(
    self: EventLog,
    time_ns: int,
    *,
    task_queue: str,
    start_to_close_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
    attempt: int = 1,
) -> int:
    attributes = WorkflowTaskScheduledEventAttributes(
        task_queue=fields.task_queue(task_queue),
        start_to_close_timeout=fields.duration(start_to_close_ns),
        attempt=attempt,
    )
    return self._add(time_ns, attributes)


def workflow_task_started(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    identity: str | None = None,
    history_size_bytes: int | None = None,
) -> int:
    """`history_size_bytes` defaults to the serialized size of the events before this one."""
    size = self._history_size() if history_size_bytes is None else history_size_bytes
    attributes = WorkflowTaskStartedEventAttributes(
        scheduled_event_id=scheduled_event_id,
        identity=self._identity_or(identity),
        request_id=fields.request_id(self._next_id()),
        history_size_bytes=size,
    )
    return self._add(time_ns, attributes)


def workflow_task_completed(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    identity: str | None = None,
    sdk_flags: Sequence[int] | None = None,
) -> int:
    """Go SDK metadata: name and version only on the first completed task (the SDK sends them when they
    differ from what history holds), flags only when newly used. `sdk_flags` None = the first task's
    `FIRST_TASK_SDK_FLAGS`, none afterwards. Binary checksum stays empty, metering metadata is empty."""
    if self._sdk_recorded:
        metadata = WorkflowTaskCompletedMetadata(lang_used_flags=sdk_flags or ())
    else:
        flags = FIRST_TASK_SDK_FLAGS if sdk_flags is None else sdk_flags
        metadata = WorkflowTaskCompletedMetadata(
            lang_used_flags=flags, sdk_name=SDK_NAME, sdk_version=SDK_VERSION
        )
        self._sdk_recorded = True
    attributes = WorkflowTaskCompletedEventAttributes(
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        identity=self._identity_or(identity),
        sdk_metadata=metadata,
    )
    attributes.metering_metadata.SetInParent()
    return self._add(time_ns, attributes)


def workflow_task_failed(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    cause: WorkflowTaskFailedCause.ValueType,
    failure: Failure | None = None,
    identity: str | None = None,
) -> int:
    attributes = WorkflowTaskFailedEventAttributes(
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        cause=cause,
        failure=failure,
        identity=self._identity_or(identity),
    )
    return self._add(time_ns, attributes)


def workflow_task_timed_out(
    self: EventLog,
    time_ns: int,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    timeout_type: TimeoutType.ValueType = TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
) -> int:
    attributes = WorkflowTaskTimedOutEventAttributes(
        scheduled_event_id=scheduled_event_id, started_event_id=started_event_id, timeout_type=timeout_type
    )
    return self._add(time_ns, attributes)
