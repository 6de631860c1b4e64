"""Append Temporal history events in the shape a Temporal server records for a Go SDK v1.42 worker.

The builder knows nothing about workflows: callers pass the virtual time of each event (Unix nanoseconds)
and the already-encoded payloads, and get back the new event id. Where the Go SDK derives an id from the
event id (activity id, timer id, child workflow id, signal/cancel `control`), leaving that argument out
applies the SDK's rule. Everything else that a server would make up
(task ids, request ids, history sizes) is derived from the event ids, so equal calls give equal histories.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, overload

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import (
    ActivityType,
    Header,
    Memo,
    Payload,
    Payloads,
    RetryPolicy,
    SearchAttributes,
    WorkflowExecution,
    WorkflowType,
)
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    ContinueAsNewInitiator,
    EventType,
    ParentClosePolicy,
    RetryState,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
    TaskQueueKind,
    TimeoutType,
    WorkflowIdReusePolicy,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    ActivityTaskCanceledEventAttributes,
    ActivityTaskCancelRequestedEventAttributes,
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    ActivityTaskStartedEventAttributes,
    ActivityTaskTimedOutEventAttributes,
    ChildWorkflowExecutionCanceledEventAttributes,
    ChildWorkflowExecutionCompletedEventAttributes,
    ChildWorkflowExecutionFailedEventAttributes,
    ChildWorkflowExecutionStartedEventAttributes,
    ChildWorkflowExecutionTerminatedEventAttributes,
    ChildWorkflowExecutionTimedOutEventAttributes,
    ExternalWorkflowExecutionCancelRequestedEventAttributes,
    ExternalWorkflowExecutionSignaledEventAttributes,
    History,
    HistoryEvent,
    MarkerRecordedEventAttributes,
    RequestCancelExternalWorkflowExecutionFailedEventAttributes,
    RequestCancelExternalWorkflowExecutionInitiatedEventAttributes,
    SignalExternalWorkflowExecutionFailedEventAttributes,
    SignalExternalWorkflowExecutionInitiatedEventAttributes,
    StartChildWorkflowExecutionFailedEventAttributes,
    StartChildWorkflowExecutionInitiatedEventAttributes,
    TimerCanceledEventAttributes,
    TimerFiredEventAttributes,
    TimerStartedEventAttributes,
    UpsertWorkflowSearchAttributesEventAttributes,
    WorkflowExecutionCanceledEventAttributes,
    WorkflowExecutionCancelRequestedEventAttributes,
    WorkflowExecutionCompletedEventAttributes,
    WorkflowExecutionContinuedAsNewEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowExecutionSignaledEventAttributes,
    WorkflowExecutionStartedEventAttributes,
    WorkflowExecutionTerminatedEventAttributes,
    WorkflowExecutionTimedOutEventAttributes,
    WorkflowExecutionUpdateAcceptedEventAttributes,
    WorkflowExecutionUpdateCompletedEventAttributes,
    WorkflowPropertiesModifiedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
    WorkflowTaskFailedEventAttributes,
    WorkflowTaskScheduledEventAttributes,
    WorkflowTaskStartedEventAttributes,
    WorkflowTaskTimedOutEventAttributes,
)
from temporalio.api.sdk.v1 import UserMetadata, WorkflowTaskCompletedMetadata
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.update.v1 import Input, Meta, Outcome, Request

from wftest.history import event_types as ev

SECOND_NS = 1_000_000_000
DEFAULT_WORKFLOW_TASK_TIMEOUT_NS = 10 * SECOND_NS
"""Server default for workflow task timeouts (start event, WFT scheduled, children, continue-as-new)."""

DEFAULT_IDENTITY = "wftest"
SDK_NAME = "temporal-go"
SDK_VERSION = "1.42.0"
FIRST_TASK_SDK_FLAGS: tuple[int, ...] = (3,)
"""Go SDK flags recorded on a run's first WorkflowTaskCompleted [P]: 3 = SDKFlagProtocolMessageCommand, which
the Go task handler uses on every new run. Flags 4 and 6 belong to the SDK's own workflow definition and
selectors, which Wippy does not use; pass flag 1 (SDKFlagLimitChangeVersionSASize) in `sdk_flags` on the
task that first calls GetVersion."""

_NO_HEADER: Mapping[str, Payload] = MappingProxyType({})


@dataclass(frozen=True)
class ExecutionRef:
    """Another workflow execution as events name it: the parent, a child, or a signal/cancel target."""

    namespace: str
    workflow_id: str
    run_id: str = ""

    def execution(self) -> WorkflowExecution:
        return WorkflowExecution(workflow_id=self.workflow_id, run_id=self.run_id)


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


def _timestamp(ns: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def _duration(ns: int) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(ns)
    return duration


def _payloads(values: Sequence[Payload]) -> Payloads | None:
    """Go leaves `input`/`result` unset when there are no payloads, so an empty list means "absent"."""
    return Payloads(payloads=values) if values else None


def _header(fields: Mapping[str, Payload] | None) -> Header | None:
    return None if fields is None else Header(fields=fields)


def _task_queue(name: str) -> TaskQueue:
    return TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL)


def _request_id(event_id: int) -> str:
    """A server-style request id that depends only on the event id."""
    return str(uuid.UUID(int=event_id))


class HistoryBuilder:
    """Appends events with consecutive ids from 1; every method returns the id of the event it added.

    `task_id` equals the event id. Event times are not checked for order: the server writes
    ActivityTaskStarted when the attempt closes but stamps it with the attempt's start time, so it can be
    earlier than the events before it. `identity` is the worker (and client) identity used wherever an
    event records one and the caller does not pass another.
    """

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

    def _append(
        self,
        time_ns: int,
        event_type: EventType.ValueType,
        attributes_field: str,
        attributes: Message,
        *,
        user_metadata: UserMetadata | None = None,
    ) -> int:
        event_id = len(self._events) + 1
        fields: dict[str, Any] = {attributes_field: attributes}
        event = HistoryEvent(
            event_id=event_id,
            event_time=_timestamp(time_ns),
            event_type=event_type,
            task_id=event_id,
            user_metadata=user_metadata,
            **fields,
        )
        self._events.append(event)
        return event_id

    def _next_id(self) -> int:
        return len(self._events) + 1

    def _history_size(self) -> int:
        """Serialized size of the events so far, the server's `history_size_bytes`."""
        for event in self._events[self._sized_events :]:
            self._size_bytes += event.ByteSize()
        self._sized_events = len(self._events)
        return self._size_bytes

    # -- workflow execution -------------------------------------------------------------------------------

    def workflow_execution_started(
        self,
        time_ns: int,
        *,
        workflow_type: str,
        task_queue: str,
        run_id: str,
        input: Sequence[Payload] = (),
        header: Mapping[str, Payload] = _NO_HEADER,
        workflow_execution_timeout_ns: int = 0,
        workflow_run_timeout_ns: int = 0,
        workflow_task_timeout_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
        identity: str | None = None,
        attempt: int = 1,
        first_execution_run_id: str | None = None,
        parent: ExecutionRef | None = None,
        parent_initiated_event_id: int = 0,
        continued_execution_run_id: str = "",
        initiator: ContinueAsNewInitiator.ValueType = (
            ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED
        ),
        retry_policy: RetryPolicy | None = None,
        memo: Mapping[str, Payload] | None = None,
        search_attributes: Mapping[str, Payload] | None = None,
        first_workflow_task_backoff_ns: int = 0,
        cron_schedule: str = "",
        workflow_id: str = "",
    ) -> int:
        """The first event, with the run id (original/first run id) and, as current Temporal servers
        record it, the workflow id (older servers left it out: empty here too).
        `first_workflow_task_backoff_ns`: start delay or retry backoff before the first workflow task."""
        self._run_id = run_id
        attributes = WorkflowExecutionStartedEventAttributes(
            workflow_type=WorkflowType(name=workflow_type),
            parent_workflow_namespace=parent.namespace if parent else "",
            parent_workflow_execution=parent.execution() if parent else None,
            parent_initiated_event_id=parent_initiated_event_id,
            task_queue=_task_queue(task_queue),
            input=_payloads(input),
            workflow_execution_timeout=_duration(workflow_execution_timeout_ns),
            workflow_run_timeout=_duration(workflow_run_timeout_ns),
            workflow_task_timeout=_duration(workflow_task_timeout_ns),
            continued_execution_run_id=continued_execution_run_id,
            initiator=initiator,
            original_execution_run_id=run_id,
            identity=self._identity if identity is None else identity,
            first_execution_run_id=run_id if first_execution_run_id is None else first_execution_run_id,
            retry_policy=retry_policy,
            attempt=attempt,
            first_workflow_task_backoff=_duration(first_workflow_task_backoff_ns),
            cron_schedule=cron_schedule,
            memo=None if memo is None else Memo(fields=memo),
            search_attributes=_search_attributes(search_attributes),
            header=_header(header),
            workflow_id=workflow_id,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_STARTED,
            "workflow_execution_started_event_attributes",
            attributes,
        )

    def workflow_execution_completed(
        self, time_ns: int, *, workflow_task_completed_event_id: int, result: Sequence[Payload] = ()
    ) -> int:
        """`result` empty = Lua `return` with no values (no payloads at all)."""
        attributes = WorkflowExecutionCompletedEventAttributes(
            result=_payloads(result), workflow_task_completed_event_id=workflow_task_completed_event_id
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_COMPLETED,
            "workflow_execution_completed_event_attributes",
            attributes,
        )

    def workflow_execution_failed(
        self,
        time_ns: int,
        *,
        failure: Failure,
        workflow_task_completed_event_id: int,
        retry_state: RetryState.ValueType = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
        new_execution_run_id: str = "",
    ) -> int:
        """Default retry state: what the server records for a workflow started without a retry policy;
        `new_execution_run_id` names the run a retry policy starts next."""
        attributes = WorkflowExecutionFailedEventAttributes(
            failure=failure,
            retry_state=retry_state,
            new_execution_run_id=new_execution_run_id,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_FAILED,
            "workflow_execution_failed_event_attributes",
            attributes,
        )

    def workflow_execution_timed_out(
        self, time_ns: int, *, retry_state: RetryState.ValueType = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    ) -> int:
        attributes = WorkflowExecutionTimedOutEventAttributes(retry_state=retry_state)
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_TIMED_OUT,
            "workflow_execution_timed_out_event_attributes",
            attributes,
        )

    def workflow_execution_canceled(
        self, time_ns: int, *, workflow_task_completed_event_id: int, details: Sequence[Payload] = ()
    ) -> int:
        attributes = WorkflowExecutionCanceledEventAttributes(
            workflow_task_completed_event_id=workflow_task_completed_event_id, details=_payloads(details)
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_CANCELED,
            "workflow_execution_canceled_event_attributes",
            attributes,
        )

    def workflow_execution_terminated(
        self, time_ns: int, *, reason: str = "", details: Sequence[Payload] = (), identity: str = ""
    ) -> int:
        attributes = WorkflowExecutionTerminatedEventAttributes(
            reason=reason, details=_payloads(details), identity=identity
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_TERMINATED,
            "workflow_execution_terminated_event_attributes",
            attributes,
        )

    def workflow_execution_continued_as_new(
        self,
        time_ns: int,
        *,
        new_execution_run_id: str,
        workflow_type: str,
        task_queue: str,
        workflow_task_completed_event_id: int,
        input: Sequence[Payload] = (),
        header: Mapping[str, Payload] = _NO_HEADER,
        workflow_run_timeout_ns: int = 0,
        workflow_task_timeout_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
        initiator: ContinueAsNewInitiator.ValueType = (
            ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
        ),
    ) -> int:
        """`process.upgrade(...)`."""
        attributes = WorkflowExecutionContinuedAsNewEventAttributes(
            new_execution_run_id=new_execution_run_id,
            workflow_type=WorkflowType(name=workflow_type),
            task_queue=_task_queue(task_queue),
            input=_payloads(input),
            workflow_run_timeout=_duration(workflow_run_timeout_ns),
            workflow_task_timeout=_duration(workflow_task_timeout_ns),
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            backoff_start_interval=_duration(0),
            initiator=initiator,
            header=_header(header),
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
            "workflow_execution_continued_as_new_event_attributes",
            attributes,
        )

    def workflow_execution_signaled(
        self,
        time_ns: int,
        *,
        signal_name: str,
        input: Sequence[Payload] = (),
        identity: str = "",
        header: Mapping[str, Payload] | None = None,
    ) -> int:
        """`header` None = no header recorded (whether the server copies one is open)."""
        attributes = WorkflowExecutionSignaledEventAttributes(
            signal_name=signal_name, input=_payloads(input), identity=identity, header=_header(header)
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_SIGNALED,
            "workflow_execution_signaled_event_attributes",
            attributes,
        )

    def workflow_execution_cancel_requested(
        self,
        time_ns: int,
        *,
        cause: str = "",
        identity: str = "",
        external_initiated_event_id: int = 0,
        external_execution: ExecutionRef | None = None,
    ) -> int:
        attributes = WorkflowExecutionCancelRequestedEventAttributes(
            cause=cause,
            identity=identity,
            external_initiated_event_id=external_initiated_event_id,
            external_workflow_execution=external_execution.execution() if external_execution else None,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            "workflow_execution_cancel_requested_event_attributes",
            attributes,
        )

    # -- workflow tasks -----------------------------------------------------------------------------------

    def workflow_task_scheduled(
        self,
        time_ns: int,
        *,
        task_queue: str,
        start_to_close_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
        attempt: int = 1,
    ) -> int:
        attributes = WorkflowTaskScheduledEventAttributes(
            task_queue=_task_queue(task_queue),
            start_to_close_timeout=_duration(start_to_close_ns),
            attempt=attempt,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_TASK_SCHEDULED,
            "workflow_task_scheduled_event_attributes",
            attributes,
        )

    def workflow_task_started(
        self,
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
            identity=self._identity if identity is None else identity,
            request_id=_request_id(self._next_id()),
            history_size_bytes=size,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_TASK_STARTED,
            "workflow_task_started_event_attributes",
            attributes,
        )

    def workflow_task_completed(
        self,
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
            identity=self._identity if identity is None else identity,
            sdk_metadata=metadata,
        )
        attributes.metering_metadata.SetInParent()
        return self._append(
            time_ns,
            ev.WORKFLOW_TASK_COMPLETED,
            "workflow_task_completed_event_attributes",
            attributes,
        )

    def workflow_task_failed(
        self,
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
            identity=self._identity if identity is None else identity,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_TASK_FAILED,
            "workflow_task_failed_event_attributes",
            attributes,
        )

    def workflow_task_timed_out(
        self,
        time_ns: int,
        *,
        scheduled_event_id: int,
        started_event_id: int,
        timeout_type: TimeoutType.ValueType = TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
    ) -> int:
        attributes = WorkflowTaskTimedOutEventAttributes(
            scheduled_event_id=scheduled_event_id,
            started_event_id=started_event_id,
            timeout_type=timeout_type,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_TASK_TIMED_OUT,
            "workflow_task_timed_out_event_attributes",
            attributes,
        )

    # -- activities ---------------------------------------------------------------------------------------

    def activity_task_scheduled(
        self,
        time_ns: int,
        *,
        activity_type: str,
        task_queue: str,
        workflow_task_completed_event_id: int,
        activity_id: str | None = None,
        input: Sequence[Payload] = (),
        header: Mapping[str, Payload] = _NO_HEADER,
        schedule_to_close_ns: int = 0,
        schedule_to_start_ns: int = 0,
        start_to_close_ns: int = 0,
        heartbeat_ns: int = 0,
        retry_policy: RetryPolicy | None = None,
        use_workflow_build_id: bool = True,
    ) -> int:
        """`activity_id` None = the Go SDK default, this event's id. `use_workflow_build_id` is what the
        Go SDK sends for an activity on the workflow's own task queue without a versioning intent."""
        event_id = self._next_id()
        attributes = ActivityTaskScheduledEventAttributes(
            activity_id=str(event_id) if activity_id is None else activity_id,
            activity_type=ActivityType(name=activity_type),
            task_queue=_task_queue(task_queue),
            header=_header(header),
            input=_payloads(input),
            schedule_to_close_timeout=_duration(schedule_to_close_ns),
            schedule_to_start_timeout=_duration(schedule_to_start_ns),
            start_to_close_timeout=_duration(start_to_close_ns),
            heartbeat_timeout=_duration(heartbeat_ns),
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            retry_policy=retry_policy,
            use_workflow_build_id=use_workflow_build_id,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_SCHEDULED,
            "activity_task_scheduled_event_attributes",
            attributes,
        )

    def activity_task_started(
        self,
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
            identity=self._identity if identity is None else identity,
            request_id=_request_id(self._next_id()),
            attempt=attempt,
            last_failure=last_failure,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_STARTED,
            "activity_task_started_event_attributes",
            attributes,
        )

    def activity_task_completed(
        self,
        time_ns: int,
        *,
        scheduled_event_id: int,
        started_event_id: int,
        result: Sequence[Payload] = (),
        identity: str | None = None,
    ) -> int:
        attributes = ActivityTaskCompletedEventAttributes(
            result=_payloads(result),
            scheduled_event_id=scheduled_event_id,
            started_event_id=started_event_id,
            identity=self._identity if identity is None else identity,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_COMPLETED,
            "activity_task_completed_event_attributes",
            attributes,
        )

    def activity_task_failed(
        self,
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
            identity=self._identity if identity is None else identity,
            retry_state=retry_state,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_FAILED,
            "activity_task_failed_event_attributes",
            attributes,
        )

    def activity_task_timed_out(
        self,
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
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_TIMED_OUT,
            "activity_task_timed_out_event_attributes",
            attributes,
        )

    def activity_task_cancel_requested(
        self, time_ns: int, *, scheduled_event_id: int, workflow_task_completed_event_id: int
    ) -> int:
        attributes = ActivityTaskCancelRequestedEventAttributes(
            scheduled_event_id=scheduled_event_id,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_CANCEL_REQUESTED,
            "activity_task_cancel_requested_event_attributes",
            attributes,
        )

    def activity_task_canceled(
        self,
        time_ns: int,
        *,
        scheduled_event_id: int,
        started_event_id: int,
        latest_cancel_requested_event_id: int,
        details: Sequence[Payload] = (),
        identity: str | None = None,
    ) -> int:
        attributes = ActivityTaskCanceledEventAttributes(
            details=_payloads(details),
            latest_cancel_requested_event_id=latest_cancel_requested_event_id,
            scheduled_event_id=scheduled_event_id,
            started_event_id=started_event_id,
            identity=self._identity if identity is None else identity,
        )
        return self._append(
            time_ns,
            ev.ACTIVITY_TASK_CANCELED,
            "activity_task_canceled_event_attributes",
            attributes,
        )

    # -- timers -------------------------------------------------------------------------------------------

    def timer_started(
        self,
        time_ns: int,
        *,
        start_to_fire_ns: int,
        workflow_task_completed_event_id: int,
        timer_id: str | None = None,
    ) -> int:
        """`timer_id` None = the Go SDK default, this event's id; the duration is exact to the ns."""
        event_id = self._next_id()
        attributes = TimerStartedEventAttributes(
            timer_id=str(event_id) if timer_id is None else timer_id,
            start_to_fire_timeout=_duration(start_to_fire_ns),
            workflow_task_completed_event_id=workflow_task_completed_event_id,
        )
        return self._append(time_ns, ev.TIMER_STARTED, "timer_started_event_attributes", attributes)

    def timer_fired(self, time_ns: int, *, timer_id: str, started_event_id: int) -> int:
        attributes = TimerFiredEventAttributes(timer_id=timer_id, started_event_id=started_event_id)
        return self._append(time_ns, ev.TIMER_FIRED, "timer_fired_event_attributes", attributes)

    def timer_canceled(
        self,
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
            identity=self._identity if identity is None else identity,
        )
        return self._append(time_ns, ev.TIMER_CANCELED, "timer_canceled_event_attributes", attributes)

    # -- markers and workflow properties ------------------------------------------------------------------

    def marker_recorded(
        self,
        time_ns: int,
        *,
        marker_name: str,
        details: Mapping[str, Sequence[Payload]],
        workflow_task_completed_event_id: int,
        failure: Failure | None = None,
        summary: Payload | None = None,
    ) -> int:
        """`summary` goes to the event's user metadata, where the SideEffect marker keeps
        `"workflow.sideEffect"` / `"process.send"`."""
        attributes = MarkerRecordedEventAttributes(
            marker_name=marker_name,
            details={name: Payloads(payloads=values) for name, values in details.items()},
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            failure=failure,
        )
        return self._append(
            time_ns,
            ev.MARKER_RECORDED,
            "marker_recorded_event_attributes",
            attributes,
            user_metadata=None if summary is None else UserMetadata(summary=summary),
        )

    def upsert_workflow_search_attributes(
        self, time_ns: int, *, search_attributes: Mapping[str, Payload], workflow_task_completed_event_id: int
    ) -> int:
        attributes = UpsertWorkflowSearchAttributesEventAttributes(
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            search_attributes=_search_attributes(search_attributes),
        )
        return self._append(
            time_ns,
            ev.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
            "upsert_workflow_search_attributes_event_attributes",
            attributes,
        )

    def workflow_properties_modified(
        self, time_ns: int, *, upserted_memo: Mapping[str, Payload], workflow_task_completed_event_id: int
    ) -> int:
        attributes = WorkflowPropertiesModifiedEventAttributes(
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            upserted_memo=Memo(fields=upserted_memo),
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_PROPERTIES_MODIFIED,
            "workflow_properties_modified_event_attributes",
            attributes,
        )

    # -- child workflows ----------------------------------------------------------------------------------

    def start_child_workflow_execution_initiated(
        self,
        time_ns: int,
        *,
        namespace: str,
        workflow_type: str,
        task_queue: str,
        workflow_task_completed_event_id: int,
        workflow_id: str | None = None,
        input: Sequence[Payload] = (),
        header: Mapping[str, Payload] = _NO_HEADER,
        workflow_execution_timeout_ns: int = 0,
        workflow_run_timeout_ns: int = 0,
        workflow_task_timeout_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
        parent_close_policy: ParentClosePolicy.ValueType = ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
        workflow_id_reuse_policy: WorkflowIdReusePolicy.ValueType = (
            WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
        ),
        retry_policy: RetryPolicy | None = None,
        cron_schedule: str = "",
        memo: Mapping[str, Payload] | None = None,
        search_attributes: Mapping[str, Payload] | None = None,
    ) -> int:
        """`workflow_id` None = the Go SDK default `<this run id>_<this event id>`. The policy defaults
        are the values the server fills in for Wippy's unspecified ones."""
        event_id = self._next_id()
        if workflow_id is None:
            if not self._run_id:
                raise ValueError(
                    "a default child workflow id needs the run id of a WorkflowExecutionStarted event"
                )
            workflow_id = f"{self._run_id}_{event_id}"
        attributes = StartChildWorkflowExecutionInitiatedEventAttributes(
            namespace=namespace,
            workflow_id=workflow_id,
            workflow_type=WorkflowType(name=workflow_type),
            task_queue=_task_queue(task_queue),
            input=_payloads(input),
            workflow_execution_timeout=_duration(workflow_execution_timeout_ns),
            workflow_run_timeout=_duration(workflow_run_timeout_ns),
            workflow_task_timeout=_duration(workflow_task_timeout_ns),
            parent_close_policy=parent_close_policy,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            workflow_id_reuse_policy=workflow_id_reuse_policy,
            retry_policy=retry_policy,
            cron_schedule=cron_schedule,
            header=_header(header),
            memo=None if memo is None else Memo(fields=memo),
            search_attributes=_search_attributes(search_attributes),
        )
        return self._append(
            time_ns,
            ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
            "start_child_workflow_execution_initiated_event_attributes",
            attributes,
        )

    def start_child_workflow_execution_failed(
        self,
        time_ns: int,
        *,
        namespace: str,
        workflow_id: str,
        workflow_type: str,
        cause: StartChildWorkflowExecutionFailedCause.ValueType,
        initiated_event_id: int,
        workflow_task_completed_event_id: int,
    ) -> int:
        attributes = StartChildWorkflowExecutionFailedEventAttributes(
            namespace=namespace,
            workflow_id=workflow_id,
            workflow_type=WorkflowType(name=workflow_type),
            cause=cause,
            initiated_event_id=initiated_event_id,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
        )
        return self._append(
            time_ns,
            ev.START_CHILD_WORKFLOW_EXECUTION_FAILED,
            "start_child_workflow_execution_failed_event_attributes",
            attributes,
        )

    def child_workflow_execution_started(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        header: Mapping[str, Payload] | None = None,
    ) -> int:
        attributes = ChildWorkflowExecutionStartedEventAttributes(
            namespace=child.namespace,
            initiated_event_id=initiated_event_id,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            header=_header(header),
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_STARTED,
            "child_workflow_execution_started_event_attributes",
            attributes,
        )

    def child_workflow_execution_completed(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
        result: Sequence[Payload] = (),
    ) -> int:
        attributes = ChildWorkflowExecutionCompletedEventAttributes(
            result=_payloads(result),
            namespace=child.namespace,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            initiated_event_id=initiated_event_id,
            started_event_id=started_event_id,
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_COMPLETED,
            "child_workflow_execution_completed_event_attributes",
            attributes,
        )

    def child_workflow_execution_failed(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
        failure: Failure,
        retry_state: RetryState.ValueType = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
    ) -> int:
        """`failure` is the child's own workflow failure; the Go SDK adds the child-workflow wrapper."""
        attributes = ChildWorkflowExecutionFailedEventAttributes(
            failure=failure,
            namespace=child.namespace,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            initiated_event_id=initiated_event_id,
            started_event_id=started_event_id,
            retry_state=retry_state,
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_FAILED,
            "child_workflow_execution_failed_event_attributes",
            attributes,
        )

    def child_workflow_execution_canceled(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
        details: Sequence[Payload] = (),
    ) -> int:
        attributes = ChildWorkflowExecutionCanceledEventAttributes(
            details=_payloads(details),
            namespace=child.namespace,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            initiated_event_id=initiated_event_id,
            started_event_id=started_event_id,
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_CANCELED,
            "child_workflow_execution_canceled_event_attributes",
            attributes,
        )

    def child_workflow_execution_terminated(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
    ) -> int:
        attributes = ChildWorkflowExecutionTerminatedEventAttributes(
            namespace=child.namespace,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            initiated_event_id=initiated_event_id,
            started_event_id=started_event_id,
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_TERMINATED,
            "child_workflow_execution_terminated_event_attributes",
            attributes,
        )

    def child_workflow_execution_timed_out(
        self,
        time_ns: int,
        *,
        child: ExecutionRef,
        workflow_type: str,
        initiated_event_id: int,
        started_event_id: int,
        retry_state: RetryState.ValueType = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
    ) -> int:
        attributes = ChildWorkflowExecutionTimedOutEventAttributes(
            namespace=child.namespace,
            workflow_execution=child.execution(),
            workflow_type=WorkflowType(name=workflow_type),
            initiated_event_id=initiated_event_id,
            started_event_id=started_event_id,
            retry_state=retry_state,
        )
        return self._append(
            time_ns,
            ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
            "child_workflow_execution_timed_out_event_attributes",
            attributes,
        )

    # -- external workflows: signals and cancel requests --------------------------------------------------

    def signal_external_workflow_execution_initiated(
        self,
        time_ns: int,
        *,
        target: ExecutionRef,
        signal_name: str,
        workflow_task_completed_event_id: int,
        input: Sequence[Payload] = (),
        header: Mapping[str, Payload] = _NO_HEADER,
        control: str | None = None,
        child_workflow_only: bool = False,
    ) -> int:
        """`control` None = the Go SDK default, this event's id."""
        event_id = self._next_id()
        attributes = SignalExternalWorkflowExecutionInitiatedEventAttributes(
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
            signal_name=signal_name,
            input=_payloads(input),
            control=str(event_id) if control is None else control,
            child_workflow_only=child_workflow_only,
            header=_header(header),
        )
        return self._append(
            time_ns,
            ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            "signal_external_workflow_execution_initiated_event_attributes",
            attributes,
        )

    def external_workflow_execution_signaled(
        self, time_ns: int, *, target: ExecutionRef, initiated_event_id: int, control: str = ""
    ) -> int:
        attributes = ExternalWorkflowExecutionSignaledEventAttributes(
            initiated_event_id=initiated_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
            control=control,
        )
        return self._append(
            time_ns,
            ev.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
            "external_workflow_execution_signaled_event_attributes",
            attributes,
        )

    def signal_external_workflow_execution_failed(
        self,
        time_ns: int,
        *,
        target: ExecutionRef,
        cause: SignalExternalWorkflowExecutionFailedCause.ValueType,
        initiated_event_id: int,
        workflow_task_completed_event_id: int,
        control: str = "",
    ) -> int:
        attributes = SignalExternalWorkflowExecutionFailedEventAttributes(
            cause=cause,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
            initiated_event_id=initiated_event_id,
            control=control,
        )
        return self._append(
            time_ns,
            ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
            "signal_external_workflow_execution_failed_event_attributes",
            attributes,
        )

    def request_cancel_external_workflow_execution_initiated(
        self,
        time_ns: int,
        *,
        target: ExecutionRef,
        workflow_task_completed_event_id: int,
        control: str | None = None,
        child_workflow_only: bool = False,
        reason: str = "",
    ) -> int:
        """`control` None = the Go SDK default, this event's id. Wippy never sends a reason."""
        event_id = self._next_id()
        attributes = RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
            control=str(event_id) if control is None else control,
            child_workflow_only=child_workflow_only,
            reason=reason,
        )
        return self._append(
            time_ns,
            ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            "request_cancel_external_workflow_execution_initiated_event_attributes",
            attributes,
        )

    def external_workflow_execution_cancel_requested(
        self, time_ns: int, *, target: ExecutionRef, initiated_event_id: int
    ) -> int:
        attributes = ExternalWorkflowExecutionCancelRequestedEventAttributes(
            initiated_event_id=initiated_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
        )
        return self._append(
            time_ns,
            ev.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            "external_workflow_execution_cancel_requested_event_attributes",
            attributes,
        )

    def request_cancel_external_workflow_execution_failed(
        self,
        time_ns: int,
        *,
        target: ExecutionRef,
        cause: CancelExternalWorkflowExecutionFailedCause.ValueType,
        initiated_event_id: int,
        workflow_task_completed_event_id: int,
        control: str = "",
    ) -> int:
        attributes = RequestCancelExternalWorkflowExecutionFailedEventAttributes(
            cause=cause,
            workflow_task_completed_event_id=workflow_task_completed_event_id,
            namespace=target.namespace,
            workflow_execution=target.execution(),
            initiated_event_id=initiated_event_id,
            control=control,
        )
        return self._append(
            time_ns,
            ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
            "request_cancel_external_workflow_execution_failed_event_attributes",
            attributes,
        )

    # -- updates ---------------------------------------------------------------------------------

    def workflow_execution_update_accepted(
        self,
        time_ns: int,
        *,
        update_id: str,
        name: str,
        args: Sequence[Payload] = (),
        sequencing_event_id: int,
        identity: str = "",
    ) -> int:
        """The workflow sent `ack` for an update (Wippy's Accept protocol message)."""
        request = Request(
            meta=Meta(update_id=update_id, identity=identity), input=Input(name=name, args=_payloads(args))
        )
        attributes = WorkflowExecutionUpdateAcceptedEventAttributes(
            protocol_instance_id=update_id,
            accepted_request_message_id=f"{update_id}/request",
            accepted_request_sequencing_event_id=sequencing_event_id,
            accepted_request=request,
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            "workflow_execution_update_accepted_event_attributes",
            attributes,
        )

    def workflow_execution_update_completed(
        self,
        time_ns: int,
        *,
        update_id: str,
        accepted_event_id: int,
        result: Sequence[Payload] = (),
        failure: Failure | None = None,
    ) -> int:
        """The workflow sent `ok` (result) or `error` (failure) for an accepted update."""
        outcome = (
            Outcome(failure=failure)
            if failure is not None
            else Outcome(success=_payloads(result) or Payloads())
        )
        attributes = WorkflowExecutionUpdateCompletedEventAttributes(
            meta=Meta(update_id=update_id), accepted_event_id=accepted_event_id, outcome=outcome
        )
        return self._append(
            time_ns,
            ev.WORKFLOW_EXECUTION_UPDATE_COMPLETED,
            "workflow_execution_update_completed_event_attributes",
            attributes,
        )


def _search_attributes(fields: Mapping[str, Payload] | None) -> SearchAttributes | None:
    return None if fields is None else SearchAttributes(indexed_fields=fields)
