"""Child workflow events: the start request and its failure, the child's start, and the ways it closes.

Each public function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, RetryPolicy, WorkflowType
from temporalio.api.enums.v1 import (
    ParentClosePolicy,
    RetryState,
    StartChildWorkflowExecutionFailedCause,
    WorkflowIdReusePolicy,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    ChildWorkflowExecutionCanceledEventAttributes,
    ChildWorkflowExecutionCompletedEventAttributes,
    ChildWorkflowExecutionFailedEventAttributes,
    ChildWorkflowExecutionStartedEventAttributes,
    ChildWorkflowExecutionTerminatedEventAttributes,
    ChildWorkflowExecutionTimedOutEventAttributes,
    StartChildWorkflowExecutionFailedEventAttributes,
    StartChildWorkflowExecutionInitiatedEventAttributes,
)

from wftest.history.builder import fields
from wftest.history.builder.fields import DEFAULT_WORKFLOW_TASK_TIMEOUT_NS, NO_HEADER, ExecutionRef
from wftest.history.builder.log import EventLog

_NOT_SET = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET


def start_child_workflow_execution_initiated(
    self: EventLog,
    time_ns: int,
    *,
    namespace: str,
    workflow_type: str,
    task_queue: str,
    workflow_task_completed_event_id: int,
    workflow_id: str | None = None,
    input: Sequence[Payload] = (),
    header: Mapping[str, Payload] = NO_HEADER,
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
    if workflow_id is None:
        if not self._run_id:
            raise ValueError(
                "a default child workflow id needs the run id of a WorkflowExecutionStarted event"
            )
        workflow_id = f"{self._run_id}_{self._next_id()}"
    attributes = StartChildWorkflowExecutionInitiatedEventAttributes(
        namespace=namespace,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name=workflow_type),
        task_queue=fields.task_queue(task_queue),
        input=fields.payloads(input),
        workflow_execution_timeout=fields.duration(workflow_execution_timeout_ns),
        workflow_run_timeout=fields.duration(workflow_run_timeout_ns),
        workflow_task_timeout=fields.duration(workflow_task_timeout_ns),
        parent_close_policy=parent_close_policy,
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        workflow_id_reuse_policy=workflow_id_reuse_policy,
        retry_policy=retry_policy,
        cron_schedule=cron_schedule,
        header=fields.header(header),
        memo=fields.memo(memo),
        search_attributes=fields.search_attributes(search_attributes),
    )
    return self._add(time_ns, attributes)


def start_child_workflow_execution_failed(
    self: EventLog,
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
    return self._add(time_ns, attributes)


def _child_event(
    self: EventLog,
    time_ns: int,
    attributes_type: Callable[..., Message],
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    **specific: Any,
) -> int:
    """A child event: the fields that name the child run plus what the event type adds."""
    attributes = attributes_type(**fields.child_fields(child, workflow_type, initiated_event_id), **specific)
    return self._add(time_ns, attributes)


def child_workflow_execution_started(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    header: Mapping[str, Payload] | None = None,
) -> int:
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionStartedEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        header=fields.header(header),
    )


def child_workflow_execution_completed(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
    result: Sequence[Payload] = (),
) -> int:
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionCompletedEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        started_event_id=started_event_id,
        result=fields.payloads(result),
    )


def child_workflow_execution_failed(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
    failure: Failure,
    retry_state: RetryState.ValueType = _NOT_SET,
) -> int:
    """`failure` is the child's own workflow failure; the Go SDK adds the child-workflow wrapper."""
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionFailedEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        started_event_id=started_event_id,
        failure=failure,
        retry_state=retry_state,
    )


def child_workflow_execution_canceled(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
    details: Sequence[Payload] = (),
) -> int:
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionCanceledEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        started_event_id=started_event_id,
        details=fields.payloads(details),
    )


def child_workflow_execution_terminated(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
) -> int:
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionTerminatedEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        started_event_id=started_event_id,
    )


def child_workflow_execution_timed_out(
    self: EventLog,
    time_ns: int,
    *,
    child: ExecutionRef,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
    retry_state: RetryState.ValueType = _NOT_SET,
) -> int:
    return _child_event(
        self,
        time_ns,
        ChildWorkflowExecutionTimedOutEventAttributes,
        child,
        workflow_type,
        initiated_event_id,
        started_event_id=started_event_id,
        retry_state=retry_state,
    )
