"""Workflow tasks on the simulated server: the worker runs a workflow's new events, and each command it
returns appends its events and sets in motion what it asks for (an activity, a timer, a message to
another workflow, a child, the run's close). See `timing.py` for when each event is appended."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import ParentClosePolicy
from typing_extensions import assert_never

from wftest.encoding.payloads import python_to_payload
from wftest.history.builder import ExecutionRef
from wftest.lua.modules.effects import produce
from wftest.replay.replayer import NondeterminismError, replay_into
from wftest.sim import links
from wftest.sim.activity_tasks import retry_policy_proto
from wftest.sim.links import header_context
from wftest.sim.state import IDENTITY, SimulationError, WorkflowState
from wftest.sim.workflows import WorkflowTable
from wftest.worker import commands as cmd
from wftest.worker.execution import UpdateRequest

if TYPE_CHECKING:
    from wftest.sim.perturbation import Perturber


class Resolver:
    """Side-effect values from the world's seeded generator; versions are always the newest."""

    def __init__(self, rng: random.Random, names: Callable[[str], str | None] = lambda name: None) -> None:
        self.rng = rng
        self.names = names  # a registered process name -> its PID

    def side_effect(self, side_effect_id: int, name: str, args: tuple[Any, ...]) -> Payload:
        if name == "process.send":  # a workflow sends to a registered name: the PID it stands for
            return python_to_payload(self.names(str(args[0])))
        return python_to_payload(produce(name, self.rng, args))

    def version(self, change_id: str, min_version: int, max_version: int) -> tuple[int, bool]:
        return max_version, True


class WorkflowTasks:
    """Runs the workflow tasks of a world's executions and records what their commands ask for."""

    def __init__(self, workflows: WorkflowTable, resolver: Resolver, perturbation: Perturber | None) -> None:
        self.workflows = workflows
        self.resolver = resolver
        self.perturbation = perturbation  # an exploration seed may crash the worker after a task
        self.agenda = workflows.agenda
        self.activities = workflows.activities

    @property
    def now_ns(self) -> int:
        return self.workflows.now_ns

    def run(self, wf: WorkflowState) -> None:
        """One workflow task: the worker runs the new events, and each command it returns is recorded."""
        b = wf.run.builder
        scheduled = b.workflow_task_scheduled(self.now_ns, task_queue=wf.info.task_queue)
        started = b.workflow_task_started(self.now_ns, scheduled_event_id=scheduled, identity=IDENTITY)
        events = b.events[wf.last_started_id : started]
        size = b.events[started - 1].workflow_task_started_event_attributes.history_size_bytes
        updates = [UpdateRequest(u.update_id, u.name, u.args) for u in wf.pending_updates]
        for u in wf.pending_updates:
            u.delivered_started_id = started
        wf.pending_updates.clear()
        commands = wf.execution.workflow_task(
            events,
            started_event_id=started,
            now_ns=self.now_ns,
            resolver=self.resolver,
            history_size=size,
            updates=updates,
        )
        completed = b.workflow_task_completed(
            self.now_ns, scheduled_event_id=scheduled, started_event_id=started, identity=IDENTITY
        )
        wf.last_started_id = started
        for command in commands:
            self._record(wf, command, completed)
        if self.perturbation is not None:
            self._maybe_crash(wf, self.perturbation)

    def _maybe_crash(self, wf: WorkflowState, perturbation: Perturber) -> None:
        """Exploration: the worker may crash after this task. Its execution is dropped and a fresh one (a
        fresh Lua runtime) replays the history so far, as a real worker would, then carries on; a
        divergence raises NondeterminismError."""
        entry, old = wf.run.entry, wf.execution
        can_crash = entry is not None and old is not None and not wf.run.closed
        task = perturbation.after_workflow_task(wf.info.workflow_id, wf.info.run_id, can_crash=can_crash)
        if task is None or entry is None:
            return
        history = wf.run.history
        started = history.events[0].workflow_execution_started_event_attributes
        fresh = self.workflows.new_execution(
            entry,
            wf.info,
            list(started.input.payloads),
            header_context(started.header.fields),
            perturbation.recovery_seed(wf.info.workflow_id, wf.info.run_id, task),
            live=False,
        )
        self.workflows.release(wf)
        try:
            replay_into(fresh, history, strict=True)
        except NondeterminismError as exc:
            raise exc.reworded(
                f"worker crash after workflow task {task} of workflow {wf.info.workflow_id}: a fresh worker "
                f"replaying the history so far diverged\n{exc}"
            ) from None
        fresh.local_send = self.workflows.local_send  # a replay sends nothing; from now on it does
        wf.execution = fresh

    def _record(self, wf: WorkflowState, command: cmd.AnyCommand, completed: int) -> None:
        """Append the events a command makes and set in motion what it asks for (one method per kind)."""
        b = wf.run.builder
        if b.last_event_id + 1 != command.seq:
            raise SimulationError(
                f"internal: command {command.describe()} expected event id {command.seq}, "
                f"history is at {b.last_event_id}"
            )
        match command:
            case cmd.ScheduleActivityTask():
                self._schedule_activity(wf, command, completed)
            case cmd.StartTimer():
                self._start_timer(wf, command, completed)
            case cmd.RecordMarker():
                b.marker_recorded(
                    self.now_ns,
                    marker_name=command.marker_name,
                    details={k: [v] for k, v in command.details.items()},
                    workflow_task_completed_event_id=completed,
                    summary=python_to_payload(command.summary) if command.summary else None,
                )
            case cmd.UpsertWorkflowSearchAttributes():
                b.upsert_workflow_search_attributes(
                    self.now_ns, search_attributes=dict(command.attributes),
                    workflow_task_completed_event_id=completed,
                )
            case cmd.ModifyWorkflowProperties():
                b.workflow_properties_modified(
                    self.now_ns, upserted_memo=dict(command.memo), workflow_task_completed_event_id=completed
                )
            case cmd.RequestCancelActivityTask():
                self._cancel_activity(wf, command, completed)
            case cmd.SignalExternalWorkflowExecution():
                self._signal_external(wf, command, completed)
            case cmd.StartChildWorkflowExecution():
                self._start_child(wf, command, completed)
            case cmd.RequestCancelExternalWorkflowExecution():
                self._cancel_external(wf, command, completed)
            case cmd.ContinueAsNewWorkflowExecution():
                self.workflows.continue_as_new(wf, command, completed)
            case cmd.UpdateResponse():
                self._update_response(wf, command, started=wf.last_started_id)
            case cmd.CompleteWorkflowExecution():
                b.workflow_execution_completed(
                    self.now_ns,
                    result=[command.result] if command.result is not None else [],
                    workflow_task_completed_event_id=completed,
                )
                self.workflows.close(wf, "completed", result=command.result)
            case cmd.FailWorkflowExecution():
                self.workflows.fail(wf, command, completed)
            case _:
                assert_never(command)

    def _schedule_activity(
        self, wf: WorkflowState, command: cmd.ScheduleActivityTask, completed: int
    ) -> None:
        o = command.options
        event_id = wf.run.builder.activity_task_scheduled(
            self.now_ns,
            activity_id=command.activity_id,
            activity_type=command.activity_type,
            task_queue=o.task_queue,
            input=list(command.input),
            header=dict(command.header),
            schedule_to_close_ns=o.schedule_to_close_ns,
            schedule_to_start_ns=o.schedule_to_start_ns,
            start_to_close_ns=o.start_to_close_ns,
            heartbeat_ns=o.heartbeat_ns,
            retry_policy=retry_policy_proto(o.retry_policy),
            workflow_task_completed_event_id=completed,
        )
        self.activities.schedule(wf, command, event_id)

    def _start_timer(self, wf: WorkflowState, command: cmd.StartTimer, completed: int) -> None:
        now = self.now_ns
        event_id = wf.run.builder.timer_started(
            now, timer_id=command.timer_id, start_to_fire_ns=command.duration_ns,
            workflow_task_completed_event_id=completed,
        )
        self.agenda.at(now + command.duration_ns, lambda: self._timer_fired(wf, command.timer_id, event_id))

    def _cancel_activity(
        self, wf: WorkflowState, command: cmd.RequestCancelActivityTask, completed: int
    ) -> None:
        scheduled = command.scheduled_event_id
        requested = wf.run.builder.activity_task_cancel_requested(
            self.now_ns, scheduled_event_id=scheduled, workflow_task_completed_event_id=completed
        )
        # resolved after this task's commands are all recorded, at the same instant
        self.agenda.at(self.now_ns, lambda: self.activities.cancel(wf, scheduled, requested))

    def _signal_external(
        self, wf: WorkflowState, command: cmd.SignalExternalWorkflowExecution, completed: int
    ) -> None:
        target = ExecutionRef(namespace=command.namespace, workflow_id=command.workflow_id)
        initiated = wf.run.builder.signal_external_workflow_execution_initiated(
            self.now_ns,
            target=target,
            signal_name=command.signal_name,
            workflow_task_completed_event_id=completed,
            input=list(command.input),
            header=dict(command.header),
            control=command.control,
        )
        signal = links.deliver_external_signal
        self.agenda.at(self.now_ns, lambda: signal(self.workflows, wf, command, initiated, completed))

    def _start_child(
        self, wf: WorkflowState, command: cmd.StartChildWorkflowExecution, completed: int
    ) -> None:
        initiated = wf.run.builder.start_child_workflow_execution_initiated(
            self.now_ns,
            namespace=command.namespace,
            workflow_type=command.workflow_type,
            task_queue=command.task_queue,
            workflow_task_completed_event_id=completed,
            workflow_id=command.workflow_id,
            input=list(command.input),
            header=dict(command.header),
            workflow_execution_timeout_ns=command.execution_timeout_ns,
            workflow_run_timeout_ns=command.run_timeout_ns,
            parent_close_policy=_CLOSE_POLICIES[command.parent_close_policy or "terminate"],
        )
        start = links.start_child
        self.agenda.at(self.now_ns, lambda: start(self.workflows, wf, command, initiated, completed))

    def _cancel_external(
        self, wf: WorkflowState, command: cmd.RequestCancelExternalWorkflowExecution, completed: int
    ) -> None:
        target = ExecutionRef(namespace=command.namespace, workflow_id=command.workflow_id)
        initiated = wf.run.builder.request_cancel_external_workflow_execution_initiated(
            self.now_ns, target=target, workflow_task_completed_event_id=completed, control=command.control
        )
        cancel = links.deliver_cancel
        self.agenda.at(self.now_ns, lambda: cancel(self.workflows, wf, command, initiated, completed))

    def _update_response(self, wf: WorkflowState, command: cmd.UpdateResponse, *, started: int) -> None:
        handle = wf.updates.get(command.update_id)
        if handle is None:
            raise SimulationError(
                f"workflow {wf.info.workflow_id} answered unknown update '{command.update_id}'"
            )
        b = wf.run.builder
        if command.outcome == "reject":
            handle.status, handle.reason = "rejected", command.reason
        elif command.outcome == "accept":
            handle.accepted_event_id = b.workflow_execution_update_accepted(
                self.now_ns,
                update_id=handle.update_id,
                name=handle.name,
                args=list(handle.args),
                sequencing_event_id=handle.delivered_started_id - 1,
                identity=IDENTITY,
            )
            handle.status = "accepted"
        else:
            if handle.status != "accepted":
                raise SimulationError(
                    f"update '{handle.update_id}' completed before it was accepted (send ack first)"
                )
            b.workflow_execution_update_completed(
                self.now_ns,
                update_id=handle.update_id,
                accepted_event_id=handle.accepted_event_id,
                result=[command.result] if command.result is not None else [],
                failure=command.failure,
            )
            handle.status, handle.result_payload, handle.failure = (
                "completed",
                command.result,
                command.failure,
            )

    def _timer_fired(self, wf: WorkflowState, timer_id: str, started_event_id: int) -> None:
        if wf.run.closed:
            return
        wf.run.builder.timer_fired(self.now_ns, timer_id=timer_id, started_event_id=started_event_id)
        wf.new_events = True


_CLOSE_POLICIES = {
    "terminate": ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
    "abandon": ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON,
    "request_cancel": ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
}
