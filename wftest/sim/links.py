"""Workflow-to-workflow links on the simulated server: signals and cancel requests one workflow sends
another, child workflows (start, report back, parent close policies). They work on the world's
executions through `services.Executions`, recorded when a workflow task's commands ask for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
)

from wftest.encoding.payloads import payload_to_python
from wftest.history.builder import ExecutionRef
from wftest.sim.services import Executions
from wftest.sim.state import IDENTITY, Parent, StartOptions, WorkflowState
from wftest.worker import commands as cmd


def first_positive(*values: int) -> int:
    """The run timeout wins over the execution timeout (each run is timed alone here)."""
    return next((v for v in values if v > 0), 0)


def header_context(header: Mapping[str, Payload]) -> dict[str, Any]:
    """The Wippy context a start or signal carries in its `wippy-context` header."""
    payload = header.get("wippy-context")
    value = payload_to_python(payload) if payload is not None else None
    return value if isinstance(value, dict) else {}


def deliver_external_signal(
    workflows: Executions,
    sender: WorkflowState,
    command: cmd.SignalExternalWorkflowExecution,
    initiated: int,
    completed: int,
) -> None:
    """The target hears the signal, or the sender's history says it was not found."""

    def reach(target: WorkflowState, ref: ExecutionRef) -> None:
        target.run.builder.workflow_execution_signaled(
            workflows.now_ns,
            signal_name=command.signal_name,
            input=list(command.input),
            identity=IDENTITY,
            header=dict(command.header),
        )
        sender.run.builder.external_workflow_execution_signaled(
            workflows.now_ns, target=ref, initiated_event_id=initiated, control=command.control
        )

    def miss(ref: ExecutionRef) -> None:
        sender.run.builder.signal_external_workflow_execution_failed(
            workflows.now_ns,
            target=ref,
            initiated_event_id=initiated,
            cause=SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
            workflow_task_completed_event_id=completed,
            control=command.control,
        )

    _reach_external(workflows, sender, command.namespace, command.workflow_id, reach, miss)


def deliver_cancel(
    workflows: Executions,
    sender: WorkflowState,
    command: cmd.RequestCancelExternalWorkflowExecution,
    initiated: int,
    completed: int,
) -> None:
    """The target hears the cancel request, or the sender's history says it was not found."""

    def reach(target: WorkflowState, ref: ExecutionRef) -> None:
        target.run.builder.workflow_execution_cancel_requested(
            workflows.now_ns,
            identity=IDENTITY,
            external_initiated_event_id=initiated,
            external_execution=ExecutionRef(
                namespace="", workflow_id=sender.info.workflow_id, run_id=sender.info.run_id
            ),
        )
        sender.run.builder.external_workflow_execution_cancel_requested(
            workflows.now_ns, target=ref, initiated_event_id=initiated
        )

    def miss(ref: ExecutionRef) -> None:
        sender.run.builder.request_cancel_external_workflow_execution_failed(
            workflows.now_ns,
            target=ref,
            cause=CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
            initiated_event_id=initiated,
            workflow_task_completed_event_id=completed,
            control=command.control,
        )

    _reach_external(workflows, sender, command.namespace, command.workflow_id, reach, miss)


def _reach_external(
    workflows: Executions,
    sender: WorkflowState,
    namespace: str,
    workflow_id: str,
    reach: Callable[[WorkflowState, ExecutionRef], None],
    miss: Callable[[ExecutionRef], None],
) -> None:
    """A command aimed at another workflow: `reach` it while it runs, else `miss`; either way the sender
    (and a reached target) has new events. A sender that closed meanwhile sends nothing."""
    if sender.run.closed:
        return
    ref = ExecutionRef(namespace=namespace, workflow_id=workflow_id)
    target = workflows.workflow_state(workflow_id)
    if target is None or target.run.closed:
        miss(ref)
    else:
        reach(target, ref)
        target.new_events = True
    sender.new_events = True


def start_child(
    workflows: Executions,
    parent: WorkflowState,
    command: cmd.StartChildWorkflowExecution,
    initiated: int,
    completed: int,
) -> None:
    if parent.run.closed:
        return
    b = parent.run.builder
    existing = workflows.workflow_state(command.workflow_id)
    if existing is not None and not existing.run.closed:
        b.start_child_workflow_execution_failed(
            workflows.now_ns,
            namespace=command.namespace,
            workflow_id=command.workflow_id,
            workflow_type=command.workflow_type,
            cause=StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
            initiated_event_id=initiated,
            workflow_task_completed_event_id=completed,
        )
        parent.new_events = True
        return
    # The child's run id is drawn first so ChildWorkflowExecutionStarted can name it.
    started = b.last_event_id + 1
    link = Parent(
        parent.info.workflow_id,
        ExecutionRef(namespace="", workflow_id=parent.info.workflow_id, run_id=parent.info.run_id),
        initiated,
        started,
        command.parent_close_policy or "terminate",
    )
    context = header_context(command.header)
    child = workflows.launch(
        command.workflow_type,
        command.workflow_id,
        list(command.input),
        context,
        link,
        StartOptions(
            command.task_queue, first_positive(command.run_timeout_ns, command.execution_timeout_ns)
        ),
    )
    b.child_workflow_execution_started(
        workflows.now_ns,
        child=ExecutionRef(namespace="", workflow_id=child.info.workflow_id, run_id=child.info.run_id),
        workflow_type=command.workflow_type,
        initiated_event_id=initiated,
        header=dict(command.header),
    )
    parent.children.append(command.workflow_id)
    parent.new_events = True
    if child.execution is None:
        workflows.serve_without_code(child)


def report_to_parent(workflows: Executions, child: WorkflowState) -> None:
    """Append the child's close to its parent's history."""
    link = child.parent
    if link is None:
        return
    parent = workflows.workflow_state(link.workflow_id)
    if parent is None or parent.run.closed:
        return
    b = parent.run.builder
    ref = ExecutionRef(namespace="", workflow_id=child.info.workflow_id, run_id=child.info.run_id)
    status = child.run.status
    initiated, started = link.initiated_event_id, link.started_event_id
    wtype = child.info.workflow_type
    if status == "completed":
        result = [child.run.result_payload] if child.run.result_payload is not None else []
        b.child_workflow_execution_completed(
            workflows.now_ns,
            child=ref,
            workflow_type=wtype,
            initiated_event_id=initiated,
            started_event_id=started,
            result=result,
        )
    elif status == "failed":
        assert child.run.failure is not None
        b.child_workflow_execution_failed(
            workflows.now_ns,
            child=ref,
            workflow_type=wtype,
            initiated_event_id=initiated,
            started_event_id=started,
            failure=child.run.failure,
        )
    elif status == "terminated":
        b.child_workflow_execution_terminated(
            workflows.now_ns,
            child=ref,
            workflow_type=wtype,
            initiated_event_id=initiated,
            started_event_id=started,
        )
    elif status == "timed_out":
        b.child_workflow_execution_timed_out(
            workflows.now_ns,
            child=ref,
            workflow_type=wtype,
            initiated_event_id=initiated,
            started_event_id=started,
        )
    parent.new_events = True


def apply_close_policy(workflows: Executions, parent: WorkflowState) -> None:
    for wid in parent.children:
        child = workflows.workflow_state(wid)
        if child is None or child.run.closed or child.parent is None:
            continue
        if child.parent.close_policy == "terminate":
            child.run.builder.workflow_execution_terminated(
                workflows.now_ns, reason="by parent close policy", identity=IDENTITY
            )
            workflows.close(child, "terminated")
        elif child.parent.close_policy == "request_cancel":
            child.run.builder.workflow_execution_cancel_requested(
                workflows.now_ns, cause="by parent close policy", identity=IDENTITY
            )
            child.new_events = True
