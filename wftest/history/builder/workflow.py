"""Events of the workflow run itself: its start and close, and the signals, cancel requests and updates it
receives.

Each function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from temporalio.api.common.v1 import Payload, Payloads, RetryPolicy, WorkflowType
from temporalio.api.enums.v1 import ContinueAsNewInitiator, RetryState
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
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
)
from temporalio.api.update.v1 import Input, Meta, Outcome, Request

from wftest.history.builder import fields
from wftest.history.builder.fields import DEFAULT_WORKFLOW_TASK_TIMEOUT_NS, NO_HEADER, ExecutionRef
from wftest.history.builder.log import EventLog

_NOT_SET = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET


def workflow_execution_started(
    self: EventLog,
    time_ns: int,
    *,
    workflow_type: str,
    task_queue: str,
    run_id: str,
    input: Sequence[Payload] = (),
    header: Mapping[str, Payload] = NO_HEADER,
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
        task_queue=fields.task_queue(task_queue),
        input=fields.payloads(input),
        workflow_execution_timeout=fields.duration(workflow_execution_timeout_ns),
        workflow_run_timeout=fields.duration(workflow_run_timeout_ns),
        workflow_task_timeout=fields.duration(workflow_task_timeout_ns),
        continued_execution_run_id=continued_execution_run_id,
        initiator=initiator,
        original_execution_run_id=run_id,
        identity=self._identity_or(identity),
        first_execution_run_id=run_id if first_execution_run_id is None else first_execution_run_id,
        retry_policy=retry_policy,
        attempt=attempt,
        first_workflow_task_backoff=fields.duration(first_workflow_task_backoff_ns),
        cron_schedule=cron_schedule,
        memo=fields.memo(memo),
        search_attributes=fields.search_attributes(search_attributes),
        header=fields.header(header),
        workflow_id=workflow_id,
    )
    return self._add(time_ns, attributes)


def workflow_execution_completed(
    self: EventLog, time_ns: int, *, workflow_task_completed_event_id: int, result: Sequence[Payload] = ()
) -> int:
    """`result` empty = Lua `return` with no values (no payloads at all)."""
    attributes = WorkflowExecutionCompletedEventAttributes(
        result=fields.payloads(result), workflow_task_completed_event_id=workflow_task_completed_event_id
    )
    return self._add(time_ns, attributes)


def workflow_execution_failed(
    self: EventLog,
    time_ns: int,
    *,
    failure: Failure,
    workflow_task_completed_event_id: int,
    retry_state: RetryState.ValueType = _NOT_SET,
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
    return self._add(time_ns, attributes)


def workflow_execution_timed_out(
    self: EventLog, time_ns: int, *, retry_state: RetryState.ValueType = _NOT_SET
) -> int:
    return self._add(time_ns, WorkflowExecutionTimedOutEventAttributes(retry_state=retry_state))


def workflow_execution_canceled(
    self: EventLog, time_ns: int, *, workflow_task_completed_event_id: int, details: Sequence[Payload] = ()
) -> int:
    attributes = WorkflowExecutionCanceledEventAttributes(
        workflow_task_completed_event_id=workflow_task_completed_event_id, details=fields.payloads(details)
    )
    return self._add(time_ns, attributes)


def workflow_execution_terminated(
    self: EventLog, time_ns: int, *, reason: str = "", details: Sequence[Payload] = (), identity: str = ""
) -> int:
    attributes = WorkflowExecutionTerminatedEventAttributes(
        reason=reason, details=fields.payloads(details), identity=identity
    )
    return self._add(time_ns, attributes)


def workflow_execution_continued_as_new(
    self: EventLog,
    time_ns: int,
    *,
    new_execution_run_id: str,
    workflow_type: str,
    task_queue: str,
    workflow_task_completed_event_id: int,
    input: Sequence[Payload] = (),
    header: Mapping[str, Payload] = NO_HEADER,
    workflow_run_timeout_ns: int = 0,
    workflow_task_timeout_ns: int = DEFAULT_WORKFLOW_TASK_TIMEOUT_NS,
    initiator: ContinueAsNewInitiator.ValueType = (ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW),
) -> int:
    """`process.upgrade(...)`."""
    attributes = WorkflowExecutionContinuedAsNewEventAttributes(
        new_execution_run_id=new_execution_run_id,
        workflow_type=WorkflowType(name=workflow_type),
        task_queue=fields.task_queue(task_queue),
        input=fields.payloads(input),
        workflow_run_timeout=fields.duration(workflow_run_timeout_ns),
        workflow_task_timeout=fields.duration(workflow_task_timeout_ns),
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        backoff_start_interval=fields.duration(0),
        initiator=initiator,
        header=fields.header(header),
    )
    return self._add(time_ns, attributes)


def workflow_execution_signaled(
    self: EventLog,
    time_ns: int,
    *,
    signal_name: str,
    input: Sequence[Payload] = (),
    identity: str = "",
    header: Mapping[str, Payload] | None = None,
) -> int:
    """`header` None = no header recorded (whether the server copies one is open)."""
    attributes = WorkflowExecutionSignaledEventAttributes(
        signal_name=signal_name, input=fields.payloads(input), identity=identity, header=fields.header(header)
    )
    return self._add(time_ns, attributes)


def workflow_execution_cancel_requested(
    self: EventLog,
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
    return self._add(time_ns, attributes)


def workflow_execution_update_accepted(
    self: EventLog,
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
        meta=Meta(update_id=update_id, identity=identity), input=Input(name=name, args=fields.payloads(args))
    )
    attributes = WorkflowExecutionUpdateAcceptedEventAttributes(
        protocol_instance_id=update_id,
        accepted_request_message_id=f"{update_id}/request",
        accepted_request_sequencing_event_id=sequencing_event_id,
        accepted_request=request,
    )
    return self._add(time_ns, attributes)


def workflow_execution_update_completed(
    self: EventLog,
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
        else Outcome(success=fields.payloads(result) or Payloads())
    )
    attributes = WorkflowExecutionUpdateCompletedEventAttributes(
        meta=Meta(update_id=update_id), accepted_event_id=accepted_event_id, outcome=outcome
    )
    return self._add(time_ns, attributes)
