"""Signals and cancel requests this workflow sends to another execution: initiated, delivered, failed.

Each public function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    SignalExternalWorkflowExecutionFailedCause,
)
from temporalio.api.history.v1 import (
    ExternalWorkflowExecutionCancelRequestedEventAttributes,
    ExternalWorkflowExecutionSignaledEventAttributes,
    RequestCancelExternalWorkflowExecutionFailedEventAttributes,
    RequestCancelExternalWorkflowExecutionInitiatedEventAttributes,
    SignalExternalWorkflowExecutionFailedEventAttributes,
    SignalExternalWorkflowExecutionInitiatedEventAttributes,
)

from wftest.history.builder import fields
from wftest.history.builder.fields import NO_HEADER, ExecutionRef
from wftest.history.builder.log import EventLog


def signal_external_workflow_execution_initiated(
    self: EventLog,
    time_ns: int,
    *,
    target: ExecutionRef,
    signal_name: str,
    workflow_task_completed_event_id: int,
    input: Sequence[Payload] = (),
    header: Mapping[str, Payload] = NO_HEADER,
    control: str | None = None,
    child_workflow_only: bool = False,
) -> int:
    """`control` None = the Go SDK default, this event's id."""
    attributes = SignalExternalWorkflowExecutionInitiatedEventAttributes(
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        namespace=target.namespace,
        workflow_execution=target.execution(),
        signal_name=signal_name,
        input=fields.payloads(input),
        control=str(self._next_id()) if control is None else control,
        child_workflow_only=child_workflow_only,
        header=fields.header(header),
    )
    return self._add(time_ns, attributes)


def external_workflow_execution_signaled(
    self: EventLog, time_ns: int, *, target: ExecutionRef, initiated_event_id: int, control: str = ""
) -> int:
    attributes = ExternalWorkflowExecutionSignaledEventAttributes(
        initiated_event_id=initiated_event_id,
        namespace=target.namespace,
        workflow_execution=target.execution(),
        control=control,
    )
    return self._add(time_ns, attributes)


def signal_external_workflow_execution_failed(
    self: EventLog,
    time_ns: int,
    *,
    target: ExecutionRef,
    cause: SignalExternalWorkflowExecutionFailedCause.ValueType,
    initiated_event_id: int,
    workflow_task_completed_event_id: int,
    control: str = "",
) -> int:
    return _external_failed(
        self,
        time_ns,
        SignalExternalWorkflowExecutionFailedEventAttributes,
        target,
        cause,
        initiated_event_id,
        workflow_task_completed_event_id,
        control,
    )


def request_cancel_external_workflow_execution_initiated(
    self: EventLog,
    time_ns: int,
    *,
    target: ExecutionRef,
    workflow_task_completed_event_id: int,
    control: str | None = None,
    child_workflow_only: bool = False,
    reason: str = "",
) -> int:
    """`control` None = the Go SDK default, this event's id. Wippy never sends a reason."""
    attributes = RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        namespace=target.namespace,
        workflow_execution=target.execution(),
        control=str(self._next_id()) if control is None else control,
        child_workflow_only=child_workflow_only,
        reason=reason,
    )
    return self._add(time_ns, attributes)


def external_workflow_execution_cancel_requested(
    self: EventLog, time_ns: int, *, target: ExecutionRef, initiated_event_id: int
) -> int:
    attributes = ExternalWorkflowExecutionCancelRequestedEventAttributes(
        initiated_event_id=initiated_event_id,
        namespace=target.namespace,
        workflow_execution=target.execution(),
    )
    return self._add(time_ns, attributes)


def request_cancel_external_workflow_execution_failed(
    self: EventLog,
    time_ns: int,
    *,
    target: ExecutionRef,
    cause: CancelExternalWorkflowExecutionFailedCause.ValueType,
    initiated_event_id: int,
    workflow_task_completed_event_id: int,
    control: str = "",
) -> int:
    return _external_failed(
        self,
        time_ns,
        RequestCancelExternalWorkflowExecutionFailedEventAttributes,
        target,
        cause,
        initiated_event_id,
        workflow_task_completed_event_id,
        control,
    )


def _external_failed(
    self: EventLog,
    time_ns: int,
    attributes_type: Callable[..., Message],
    target: ExecutionRef,
    cause: int,
    initiated_event_id: int,
    workflow_task_completed_event_id: int,
    control: str,
) -> int:
    """A signal or cancel request the server could not deliver: both events carry the same fields."""
    attributes = attributes_type(
        cause=cause,
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        namespace=target.namespace,
        workflow_execution=target.execution(),
        initiated_event_id=initiated_event_id,
        control=control,
    )
    return self._add(time_ns, attributes)
