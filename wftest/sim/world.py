"""The simulated server: one virtual universe per test, with its clock, its executions and their
histories. It never runs workflow Lua itself; it asks `worker/` for each workflow task.

See `timing.py` for when each event is appended.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import (
    ParentClosePolicy,
    RetryState,
)
from temporalio.api.failure.v1 import Failure
from typing_extensions import assert_never

from wftest.app import App, LuaEntry
from wftest.history.builder import ExecutionRef
from wftest.history.failures import ErrorInfo, error_from_failure, wippy_failure
from wftest.lua.modules.effects import produce
from wftest.lua.sandbox import DEFAULT_MEMORY_LIMIT
from wftest.lua.state import STATES
from wftest.lua.values import GO_NIL, payload_to_python, python_to_payload
from wftest.replay import roundtrip
from wftest.replay.replayer import NondeterminismError, ReplayResult, replay_history, replay_into
from wftest.sim import links
from wftest.sim.activities import (
    ActivityError,
    ActivityInfo,
    ActivityRunner,
    Attempt,
    Mock,
    MockFn,
    retry_interval,
    should_retry,
)
from wftest.sim.activity_tasks import ActivityTasks, retry_policy_proto
from wftest.sim.cron import parse_cron
from wftest.sim.http import WorldHttp
from wftest.sim.links import first_positive, header_context
from wftest.sim.process_driver import ProcessRun
from wftest.sim.process_table import ProcessTable
from wftest.sim.processes import Mailbox, runnable_kind, unknown_process_entry
from wftest.sim.resources import Resources
from wftest.sim.state import (
    IDENTITY,
    Parent,
    QueryError,
    SimulationError,
    StartOptions,
    UnknownWorkflowError,
    UpdateHandle,
    WorkflowRun,
    WorkflowState,
)
from wftest.sim.timing import DEFAULT_START_NS, Agenda
from wftest.worker import commands as cmd
from wftest.worker.execution import UpdateRequest, WorkflowExecution, workflow_identity
from wftest.worker.handlers import search_attribute_payloads
from wftest.worker.options import OptionError, duration_option, retry_policy
from wftest.worker.workflow_state import WorkflowInfo

if TYPE_CHECKING:
    from wftest.sim.perturbation import Perturber

DEFAULT_ATTEMPT_CAP = 100


class _Resolver:
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


class World:
    """A deterministic simulated Temporal server running one Wippy app on a virtual clock."""

    def __init__(
        self,
        app: App,
        *,
        start_ns: int = DEFAULT_START_NS,
        seed: int = 0,
        attempt_cap: int = DEFAULT_ATTEMPT_CAP,
        memory_limit: int | None = None,
        instruction_budget: int | None = None,
        strict_activities: bool = False,
        perturbation: Perturber | None = None,
    ) -> None:
        self.app = app
        self.perturbation = perturbation  # an exploration seed's choices (wftest.explore); None: fixed timing
        self.now_ns = start_ns
        self.seed = seed
        self.rng = random.Random(seed)
        self.memory_limit = memory_limit
        self.instruction_budget = instruction_budget
        self.mocks: dict[str, Mock] = {}
        self.workflow_mocks: dict[str, Mock] = {}  # child workflow types served from Python
        self.agenda = Agenda()
        self._workflows: dict[str, WorkflowState] = {}
        self._ids = itertools.count(1)
        self.resources = Resources(app, lambda: self.now_ns)  # the app's databases, stores, env
        self.resources.http = WorldHttp(self)  # the app's HTTP service in-process, the test's route fakes
        self.activity_runner = ActivityRunner(
            app, self.mocks, self.rng, strict=strict_activities, resources=self.resources
        )
        self._activities = ActivityTasks(
            self.agenda, self.activity_runner, attempt_cap, lambda: self.now_ns, perturbation
        )
        self.processes = ProcessTable(self)  # plain processes, mailboxes, names, monitors, links
        self._watchers: dict[str, list[Callable[[WorkflowRun], None]]] = {}
        self._worker_uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self._generated_ids = itertools.count(1)
        self._resolver = _Resolver(self.rng, lambda name: self.processes.names.get(name))

    # -- setup -------------------------------------------------------------------------------------

    def mock(
        self,
        activity_type: str,
        fn: MockFn | Any = None,
        *,
        duration_ns: int = 0,
        error: ActivityError | None = None,
        duration_bounds_ns: tuple[int, int] | None = None,
    ) -> None:
        """Serve `activity_type` from Python: a callable of (args, info), a fixed value, or an error.
        `duration_bounds_ns` is the range an exploration may pick each attempt's duration from."""
        if error is not None:
            failure = error

            def raise_error(args: Sequence[Any], info: ActivityInfo) -> Any:
                raise failure

            self.mocks[activity_type] = Mock(raise_error, duration_ns)
        elif callable(fn):
            self.mocks[activity_type] = Mock(fn, duration_ns)
        else:
            value = fn
            self.mocks[activity_type] = Mock(lambda args, info: value, duration_ns)
        self.mocks[activity_type].duration_bounds_ns = duration_bounds_ns

    def mock_workflow(self, workflow_type: str, fn: MockFn, *, duration_ns: int = 0) -> None:
        """Serve child workflows of `workflow_type` from Python: no Lua runs; the child's history is its
        start and, `duration_ns` later, its completion with `fn(args, info)` (or failure if it raises
        ActivityError)."""
        self.workflow_mocks[workflow_type] = Mock(fn, duration_ns)

    # -- starting ----------------------------------------------------------------------------------

    def start(
        self,
        workflow: str,
        *args: Any,
        workflow_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        signals: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> WorkflowRun:
        """Start a workflow entry with Python arguments (one payload each). `options` are Wippy's start
        options (the names: `execution_timeout`, `retry_policy`, `memo`, `cron_schedule`, ...);
        `signals` are (topic, args) messages recorded right after the start, before the first task."""
        entry = self.app.entries.get(workflow)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("workflow."):
            known = ", ".join(e.id for e in self.app.workflows()) or "none"
            raise UnknownWorkflowError(
                f"'{workflow}' is not a workflow entry of this app (workflows: {known})"
            )
        wid = workflow_id or f"{entry.name}-{next(self._ids)}"
        if wid in self._workflows and not self._workflows[wid].run.closed:
            raise SimulationError(f"workflow id '{wid}' is already running")
        flat = {
            str(k).removeprefix("temporal.").removeprefix("workflow."): v
            for k, v in sorted((options or {}).items())
        }
        worker = self.app.entries.get(entry.workflow.worker if entry.workflow is not None else "")
        try:
            start = _start_options(flat, getattr(worker, "task_queue", None), self.now_ns)
        except (OptionError, ValueError) as exc:
            raise SimulationError(f"bad start options for '{workflow}': {exc}") from exc
        payloads = [python_to_payload(a) for a in args]
        wf = self.launch(entry.id, wid, payloads, dict(context or {}), None, start)
        for topic, values in signals:
            self._append_signal(wf, topic, tuple(values), None)
        self._dispatch_due()
        return wf.run

    def pid_of(self, workflow_id: str) -> str:
        """The PID Wippy code uses to reach this workflow (`{client@worker|workflow id}`)."""
        wf = self._workflows.get(workflow_id)
        if wf is None:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        return wf.info.pid

    def unheard(self, workflow_id: str) -> tuple[list[str], list[str]]:
        """Signal topics that arrived and nothing listens for, and the topics the workflow listens to."""
        wf = self._workflows.get(workflow_id)
        return wf.execution.unheard() if wf is not None and wf.execution is not None else ([], [])

    def waiting(self, workflow_id: str) -> str:
        """Where the workflow's coroutines wait (empty when it has no code running)."""
        wf = self._workflows.get(workflow_id)
        return wf.execution.waiting() if wf is not None and wf.execution is not None else ""

    def workflow_state(self, workflow_id: str) -> WorkflowState | None:
        """The state of the workflow with this id (its latest run), if the world has one."""
        return self._workflows.get(workflow_id)

    def launch(
        self,
        workflow_type: str,
        wid: str,
        payloads: list[Payload],
        context: dict[str, Any],
        parent: Parent | None,
        options: StartOptions | None = None,
        run_id: str | None = None,
    ) -> WorkflowState:
        """Create an execution and its WorkflowExecutionStarted; an unknown type fails at once."""
        options = options or StartOptions()
        task_queue, timeout_ns = options.task_queue, options.timeout_ns
        run_id = run_id or self._new_run_id()
        entry = self.app.entries.get(workflow_type)
        known = isinstance(entry, LuaEntry) and entry.kind.startswith("workflow.")
        known = known and workflow_type not in self.workflow_mocks
        worker = entry.workflow.worker if known and entry.workflow is not None else "app:worker"  # type: ignore[union-attr]
        worker_entry = self.app.entries.get(worker)
        queue = task_queue or getattr(worker_entry, "task_queue", None) or "default"
        client = getattr(worker_entry, "client", None) or "app:client"
        if known:
            client, worker = workflow_identity(self.app, workflow_type, queue)
        info = WorkflowInfo(
            wid, run_id, workflow_type, queue, attempt=options.attempt, client_id=client, worker_id=worker
        )
        run = WorkflowRun(lambda: self.now_ns, wid, run_id, entry if known else None, self.now_ns)  # type: ignore[arg-type]
        header = {"wippy-context": python_to_payload(context)} if context else {}
        run.builder.workflow_execution_started(
            self.now_ns,
            workflow_type=workflow_type,
            task_queue=queue,
            input=payloads,
            header=header,
            run_id=run_id,
            identity=IDENTITY,
            parent=parent.ref if parent is not None else None,
            parent_initiated_event_id=parent.initiated_event_id if parent is not None else 0,
            workflow_execution_timeout_ns=timeout_ns,
            attempt=options.attempt,
            retry_policy=retry_policy_proto(options.retry_policy),
            memo=options.memo,
            search_attributes=options.search_attributes,
            first_workflow_task_backoff_ns=options.start_delay_ns,
            cron_schedule=options.cron_schedule,
            workflow_id=wid,
        )
        execution = None
        if known:
            limit = self.memory_limit if self.memory_limit is not None else DEFAULT_MEMORY_LIMIT
            execution = WorkflowExecution(
                self.app,
                entry,  # type: ignore[arg-type]
                info,
                payloads,
                context=context,
                seed=self.rng.getrandbits(63),
                memory_limit=self.memory_limit,
                instruction_budget=self.instruction_budget,
                local_send=self._local_send,
                lua_state=STATES.acquire(limit),
            )
        wf = WorkflowState(run, execution, info, context, parent=parent, options=options)  # type: ignore[arg-type]
        self._workflows[wid] = wf
        if options.start_delay_ns > 0:
            wf.not_before_ns = self.now_ns + options.start_delay_ns
            self.agenda.at(wf.not_before_ns, lambda: None)  # wakes the dispatcher then
        if timeout_ns > 0:
            self.agenda.at(self.now_ns + options.start_delay_ns + timeout_ns, lambda: self._time_out(wf))
        return wf

    def _new_run_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _retry_run(self, wf: WorkflowState, failure: Failure) -> tuple[str, int] | None:
        """A failed run with a retry policy that allows another attempt: (next run id, backoff)."""
        policy = wf.options.retry_policy
        if policy is None:
            return None
        error = error_from_failure(failure)
        if not should_retry(policy, wf.options.attempt, error):
            return None
        return self._new_run_id(), retry_interval(policy, wf.options.attempt)

    def _start_retry(self, wf: WorkflowState, run_id: str, backoff_ns: int) -> None:
        """The workflow retry policy: the next attempt is a new run of the same workflow id."""
        old = wf.run
        first = old.builder.events[0].workflow_execution_started_event_attributes
        options = replace(wf.options, attempt=wf.options.attempt + 1, start_delay_ns=backoff_ns)
        successor = self.launch(
            old.entry.id if old.entry is not None else wf.info.workflow_type,
            old.workflow_id,
            list(first.input.payloads),
            dict(wf.context),
            wf.parent,
            options,
            run_id=run_id,
        )
        old.next_run, successor.run.previous_run = successor.run, old
        watchers = self._watchers.pop(old.workflow_id + "/" + old.run_id, [])
        if watchers:
            self._watchers[successor.run.workflow_id + "/" + successor.run.run_id] = watchers

    def _schedule_cron(self, wf: WorkflowState) -> None:
        """A cron run closed: the next run of the same workflow id waits for the next matching minute."""
        old = wf.run
        first = old.builder.events[0].workflow_execution_started_event_attributes
        delay = parse_cron(wf.options.cron_schedule).next_after(self.now_ns) - self.now_ns
        options = replace(wf.options, attempt=1, start_delay_ns=delay)
        successor = self.launch(
            wf.info.workflow_type,
            old.workflow_id,
            list(first.input.payloads),
            dict(wf.context),
            wf.parent,
            options,
        )
        old.next_cron_run, successor.run.previous_run = successor.run, old

    def _time_out(self, wf: WorkflowState) -> None:
        if wf.run.closed:
            return
        wf.run.builder.workflow_execution_timed_out(self.now_ns)
        self.close(wf, "timed_out")

    def serve_without_code(self, wf: WorkflowState) -> None:
        """A run with no Lua behind it: a Python workflow mock, or an unregistered type."""
        mock = self.workflow_mocks.get(wf.info.workflow_type)
        if mock is None:
            self._fail_unregistered(wf)
            return
        first = wf.run.builder.events[0].workflow_execution_started_event_attributes
        args = [None if v is GO_NIL else v for v in map(payload_to_python, first.input.payloads)]
        wid = wf.info.workflow_id
        info = ActivityInfo(wid, wf.info.workflow_type, wf.options.attempt, self.now_ns, {}, wid)
        outcome = self.activity_runner.call_mock(mock, args, info)
        self.agenda.at(self.now_ns + outcome.duration_ns, lambda: self._finish_mocked(wf, outcome))

    def _finish_mocked(self, wf: WorkflowState, outcome: Attempt) -> None:
        if wf.run.closed:
            return
        if outcome.error is not None:
            failure = wippy_failure(outcome.error)
            wf.run.builder.workflow_execution_failed(
                self.now_ns, failure=failure, workflow_task_completed_event_id=0
            )
            self.close(wf, "failed", failure=failure)
            return
        result = [outcome.result] if outcome.result is not None else []
        wf.run.builder.workflow_execution_completed(
            self.now_ns, result=result, workflow_task_completed_event_id=0
        )
        self.close(wf, "completed", result=outcome.result)

    def _fail_unregistered(self, wf: WorkflowState) -> None:
        """No such workflow entry: the run fails with Wippy's NotFound at once (a real worker would never
        pick it up; failing makes the mistake visible)."""
        message = f"workflow type '{wf.info.workflow_type}' is not registered"
        failure = wippy_failure(ErrorInfo("NotFound", message, False))
        wf.run.builder.workflow_execution_failed(
            self.now_ns, failure=failure, workflow_task_completed_event_id=0
        )
        self.close(wf, "failed", failure=failure)

    # -- running -----------------------------------------------------------------------------------

    def run_until_closed(self, run: WorkflowRun, *, limit_ns: int | None = None) -> WorkflowRun:
        """Advance virtual time until `run` closes, following continue-as-new to the chain's last run
        (or until nothing is left to happen, or the limit)."""
        deadline = None if limit_ns is None else self.now_ns + limit_ns
        while not run.latest.closed:
            due = self.agenda.next_due()
            if due is None or (deadline is not None and due > deadline):
                break
            self._advance_to(due)
        return run

    def advance(self, duration_ns: int) -> None:
        """Let `duration_ns` of virtual time pass, processing everything due in it."""
        target = self.now_ns + duration_ns
        while True:
            due = self.agenda.next_due()
            if due is None or due > target:
                break
            self._advance_to(due)
        self.now_ns = target

    def run_all(self) -> None:
        """Process everything until nothing is due."""
        while (due := self.agenda.next_due()) is not None:
            self._advance_to(due)

    def _advance_to(self, due_ns: int) -> None:
        self.now_ns = max(self.now_ns, due_ns)
        while (item := self.agenda.pop_due(self.now_ns)) is not None:
            item.action()
        self._dispatch_due()

    def _dispatch_due(self) -> None:
        """Run a workflow task for every workflow with new events (creation order), until quiet."""
        progressed = True
        while progressed:
            progressed = False
            for wf in list(self._workflows.values()):
                runnable = wf.execution is not None and not wf.run.closed  # mocked children run no tasks
                if wf.new_events and runnable and self.now_ns >= wf.not_before_ns:
                    wf.new_events = False
                    self._workflow_task(wf)
                    progressed = True
            while (item := self.agenda.pop_due(self.now_ns)) is not None:
                item.action()
                progressed = True

    # -- workflow tasks ----------------------------------------------------------------------------

    def _workflow_task(self, wf: WorkflowState) -> None:
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
            resolver=self._resolver,
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
        fresh = WorkflowExecution(
            self.app,
            entry,
            wf.info,
            list(started.input.payloads),
            context=header_context(started.header.fields),
            seed=perturbation.recovery_seed(wf.info.workflow_id, wf.info.run_id, task),
            memory_limit=self.memory_limit,
            instruction_budget=self.instruction_budget,
        )
        self._release(wf)
        try:
            replay_into(fresh, history, strict=True)
        except NondeterminismError as exc:
            raise exc.reworded(
                f"worker crash after workflow task {task} of workflow {wf.info.workflow_id}: a fresh worker "
                f"replaying the history so far diverged\n{exc}"
            ) from None
        fresh.local_send = self._local_send  # a replay sends nothing; from now on it does
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
                self._continue_as_new(wf, command, completed)
            case cmd.UpdateResponse():
                self._update_response(wf, command, started=wf.last_started_id)
            case cmd.CompleteWorkflowExecution():
                b.workflow_execution_completed(
                    self.now_ns,
                    result=[command.result] if command.result is not None else [],
                    workflow_task_completed_event_id=completed,
                )
                self.close(wf, "completed", result=command.result)
            case cmd.FailWorkflowExecution():
                self._fail(wf, command, completed)
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
        self._activities.schedule(wf, command, event_id)

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
        self.agenda.at(self.now_ns, lambda: self._activities.cancel(wf, scheduled, requested))

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
        self.agenda.at(self.now_ns, lambda: signal(self, wf, command, initiated, completed))

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
        self.agenda.at(self.now_ns, lambda: links.start_child(self, wf, command, initiated, completed))

    def _cancel_external(
        self, wf: WorkflowState, command: cmd.RequestCancelExternalWorkflowExecution, completed: int
    ) -> None:
        target = ExecutionRef(namespace=command.namespace, workflow_id=command.workflow_id)
        initiated = wf.run.builder.request_cancel_external_workflow_execution_initiated(
            self.now_ns, target=target, workflow_task_completed_event_id=completed, control=command.control
        )
        self.agenda.at(self.now_ns, lambda: links.deliver_cancel(self, wf, command, initiated, completed))

    def _fail(self, wf: WorkflowState, command: cmd.FailWorkflowExecution, completed: int) -> None:
        retry = self._retry_run(wf, command.failure)
        wf.run.builder.workflow_execution_failed(
            self.now_ns,
            failure=command.failure,
            workflow_task_completed_event_id=completed,
            retry_state=_workflow_retry_state(wf.options, retry is not None),
            new_execution_run_id=retry[0] if retry else "",
        )
        if retry is not None:
            self._start_retry(wf, *retry)
        self.close(wf, "failed", failure=command.failure)

    def _continue_as_new(
        self, wf: WorkflowState, command: cmd.ContinueAsNewWorkflowExecution, completed: int
    ) -> None:
        """The run closes as ContinuedAsNew and a new run of the same workflow id starts."""
        context = header_context(command.header)
        if wf.execution is not None:
            wf.execution.close()
        self._activities.drop(wf)
        old = wf.run
        old.status = "continued_as_new"
        old.close_ns = self.now_ns
        successor = self.launch(
            command.workflow_type,
            old.workflow_id,
            list(command.input),
            context,
            wf.parent,
            replace(wf.options, task_queue=command.task_queue, attempt=1, start_delay_ns=0),
        )
        old.builder.workflow_execution_continued_as_new(
            self.now_ns,
            new_execution_run_id=successor.info.run_id,
            workflow_type=command.workflow_type,
            task_queue=command.task_queue,
            workflow_task_completed_event_id=completed,
            input=list(command.input),
            header=dict(command.header),
        )
        old.next_run, successor.run.previous_run = successor.run, old
        watchers = self._watchers.pop(old.workflow_id + "/" + old.run_id, [])
        if watchers:
            self._watchers[successor.run.workflow_id + "/" + successor.run.run_id] = watchers
        successor.children = wf.children
        if successor.execution is None:
            self.serve_without_code(successor)

    def close(
        self, wf: WorkflowState, status: str, *, result: Payload | None = None, failure: Failure | None = None
    ) -> None:
        wf.run.status = status
        wf.run.result_payload = result
        wf.run.failure = failure
        wf.run.close_ns = self.now_ns
        if wf.execution is not None:
            wf.run.unheard = wf.execution.unheard()
        self._activities.drop(wf)
        self._release(wf)
        links.apply_close_policy(self, wf)
        if wf.run.next_run is not None:
            return  # a retry goes on under the same workflow id: parents and monitors wait for it
        if wf.options.cron_schedule and status != "terminated":
            self._schedule_cron(wf)
        links.report_to_parent(self, wf)
        for watcher in self._watchers.pop(wf.run.workflow_id + "/" + wf.run.run_id, []):
            watcher(wf.run)

    def _release(self, wf: WorkflowState) -> None:
        """The run is over: its coroutines end and its Lua state goes back to the pool."""
        execution = wf.execution
        if execution is None:
            return
        state = execution.sb.state
        wf.execution = None  # type: ignore[assignment]
        if execution.release():
            STATES.give_back(state)

    def terminate(self, run: WorkflowRun | str, reason: str = "") -> None:
        """Terminate a workflow now (no workflow code runs)."""
        wf = self._open(run)
        wf.run.builder.workflow_execution_terminated(self.now_ns, reason=reason, identity=IDENTITY)
        self.close(wf, "terminated")
        self._dispatch_due()

    def query(self, run: WorkflowRun | str, name: str) -> Any:
        """Query a workflow: `pid` gives the workflow id, `state` an empty table; no workflow code
        runs and nothing is recorded."""
        workflow_id = run if isinstance(run, str) else run.workflow_id
        if workflow_id not in self._workflows:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        if name == "pid":
            return workflow_id
        if name == "state":
            return {}
        raise QueryError(f"unknown query type: {name}")

    def check_replay(self, run: WorkflowRun, *, strict: bool = True) -> ReplayResult:
        """Replay a finished run's history with the same code (strict by default: a rerun of unchanged
        code must give identical commands); raises NondeterminismError with the report. In round-trip
        mode the history goes through its JSON first and always replays strictly."""
        if roundtrip.enabled():
            return roundtrip.replay_via_json(
                self.app,
                run.history,
                workflow=run.entry.id if run.entry is not None else None,
                seed=self.seed + 1,
            )
        return replay_history(
            self.app,
            run.history,
            strict=strict,
            workflow_id=run.workflow_id,
            workflow=run.entry.id if run.entry is not None else None,
            seed=self.seed + 1,
        )

    def get(self, workflow_id: str) -> WorkflowRun:
        """The latest run with this workflow id (children included)."""
        wf = self._workflows.get(workflow_id)
        if wf is None:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        return wf.run

    # -- plain processes --------------------------------------------------------------------

    def run_process(
        self,
        entry_id: str,
        *args: Any,
        host: str | None = None,
        context: Mapping[str, Any] | None = None,
        parent: str = "",
        monitor: bool = False,
    ) -> ProcessRun:
        """Run a `process.lua` or `function.lua` entry as a plain Wippy process (as a Wippy test runs, or
        on the `process.host` entry `host`), with `ctx` values `context`; `parent` (a mailbox PID) is its
        parent and, with `monitor`, hears its EXIT. It goes on as virtual time passes, e.g. with
        `run_until_idle()`."""
        entry = self.app.entries.get(entry_id)
        if not isinstance(entry, LuaEntry) or not runnable_kind(entry.kind):
            raise unknown_process_entry(self, entry_id)
        if host is not None:
            kind = self.app.entries[host].kind if host in self.app.entries else None
            if kind != "process.host":
                hosts = ", ".join(e.id for e in self.app.by_kind("process.host")) or "none"
                raise SimulationError(
                    f"'{host}' is not a process.host entry of this app (process hosts: {hosts})"
                )
        process = self.processes.start(
            entry, args, host=host or "process.host", context=dict(context or {}), parent=parent
        )
        if monitor and parent:
            process.monitors[parent] = None
        self._dispatch_due()
        return process.run

    def terminate_process(self, pid: str) -> None:
        """Kill a plain process now (its links hear LINK_DOWN, its monitors EXIT)."""
        if self.processes.process(pid) is None:
            raise SimulationError(f"no running process {pid} in this world")
        self.processes.terminate(pid)
        self._dispatch_due()

    def cancel_process(self, pid: str, reason: str = "", sender: str = "") -> None:
        """Ask a plain process to stop: a CANCEL event on its `process.events()`."""
        if self.processes.process(pid) is None:
            raise SimulationError(f"no running process {pid} in this world")
        self.processes.cancel(pid, sender, reason or None)
        self._dispatch_due()

    def send(self, dest: str, topic: str, *values: Any, sender: str = "") -> None:
        """Send a message to a process, mailbox or workflow (PID or registered name) now."""
        error = self.processes.send(dest, topic, values, sender)
        if error is not None:
            raise SimulationError(f"cannot send {topic!r} to {dest}: {error.message}")
        self._dispatch_due()

    def process_waiting(self, pid: str) -> str:
        """Where a plain process's coroutines wait (empty when it is not a running process)."""
        process = self.processes.process(pid)
        return process.proc.waiting() if process is not None else ""

    def processes_report(self) -> list[str]:
        """Every plain process the world ran: how it ended or where it waits (for failure reports)."""
        return self.processes.report()

    def processes_waiting(self) -> list[str]:
        """Where every live plain process waits, one line each (for reports of a blocked test)."""
        return self.processes.blocked()

    def mailbox(self) -> Mailbox:
        """A new PID for test code: give it as a signal's sender, and read what is sent back to it."""
        box = Mailbox(self.processes.new_pid("process.host"))
        self.processes.live[box.pid] = box
        return box

    def run_until_idle(self, *, limit_ns: int | None = None) -> None:
        """Advance virtual time until nothing is due (or the limit)."""
        deadline = None if limit_ns is None else self.now_ns + limit_ns
        while (due := self.agenda.next_due()) is not None and (deadline is None or due <= deadline):
            self._advance_to(due)

    @property
    def runs(self) -> tuple[WorkflowRun, ...]:
        """The latest run of every workflow in the world, in start order."""
        return tuple(wf.run.latest for wf in self._workflows.values())

    def all_runs(self) -> list[WorkflowRun]:
        """Every run, in start order; each continue-as-new, retry or cron chain from its first run."""
        out: list[WorkflowRun] = []
        for latest in self.runs:
            chain: list[WorkflowRun] = []
            run: WorkflowRun | None = latest
            while run is not None:
                chain.append(run)
                run = run.previous_run
            out.extend(reversed(chain))
        return out

    def find_run(self, workflow_id: str) -> WorkflowRun | None:
        wf = self._workflows.get(workflow_id)
        return wf.run.latest if wf is not None else None

    def watch(self, run: WorkflowRun, callback: Callable[[WorkflowRun], None]) -> None:
        """Call `callback(run)` when this run closes (continue-as-new passes it on to the next run)."""
        run = run.latest
        if run.closed:
            self.agenda.at(self.now_ns, lambda: callback(run))
            return
        self._watchers.setdefault(run.workflow_id + "/" + run.run_id, []).append(callback)

    def _local_send(self, dest: str, topic: str, values: tuple[Any, ...], sender: str) -> None:
        target = self.processes.live.get(dest)
        if target is not None:
            target.deliver(topic, sender, values)

    def route_message(self, dest: str, topic: str, values: tuple[Any, ...], sender: str) -> tuple[bool, str]:
        """A message to a process, mailbox or workflow by PID or registered name."""
        error = self.processes.send(dest, topic, values, sender)
        return (True, "") if error is None else (False, error.message)

    def start_from_process(
        self,
        workflow_type: str,
        host: str,
        payloads: list[Payload],
        options: dict[str, Any],
        context: dict[str, Any],
        name: str | None,
        messages: list[tuple[str, tuple[Any, ...]]],
        sender: str,
    ) -> tuple[WorkflowRun, str] | str:
        """Start a top-level workflow on a `temporal.worker` host: the workflow id (option, name,
        or generated), the conflict policy and its defaults, and startup messages (sent first, also to an
        existing execution under use_existing). Returns (run, PID) or an error message."""
        worker = self.app.entries.get(host)
        if worker is None or worker.kind != "temporal.worker":
            return f"host '{host}' is not a temporal.worker entry of this app"
        entry = self.app.entries.get(workflow_type)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("workflow."):
            return f"'{workflow_type}' is not a workflow entry of this app"
        flat = {
            str(k).removeprefix("temporal.").removeprefix("workflow."): v for k, v in sorted(options.items())
        }
        explicit = flat.get("id") or name
        workflow_id = str(explicit) if explicit else f"{self._worker_uuid}_0x{next(self._generated_ids):05x}"
        policy = str(flat.get("id_conflict_policy") or ("use_existing" if explicit else "fail")).lower()
        error_when_started = bool(flat.get("execution_error_when_already_started", not explicit))
        client = getattr(worker, "client", None) or "app:client"
        pid = f"{{{client}@{host}|{workflow_id}}}"
        try:
            start = _start_options(flat, getattr(worker, "task_queue", None), self.now_ns)
        except (OptionError, ValueError) as exc:
            return str(exc)
        existing = self.find_run(workflow_id)
        reuse = str(flat.get("id_reuse_policy") or "allow_duplicate").lower()
        if existing is not None and existing.closed:
            if reuse == "reject_duplicate" or (
                reuse == "allow_duplicate_failed_only" and existing.status == "completed"
            ):
                return f"workflow execution already started: {workflow_id} (id_reuse_policy {reuse})"
        if existing is not None and not existing.closed:
            if policy == "terminate_existing":
                self.terminate(existing, "terminated by a new start (terminate_existing)")
            elif policy == "use_existing" and not error_when_started:
                for topic, values in messages:
                    self.signal(existing, topic, *values, sender=sender)
                return existing, pid
            else:
                return f"workflow execution already started: {workflow_id}"
        full_context = {**context, "temporal.signal.from": sender} if messages else dict(context)
        wf = self.launch(
            entry.id,
            workflow_id,
            payloads,
            full_context,
            None,
            start,
        )
        for topic, values in messages:
            wf.run.builder.workflow_execution_signaled(
                self.now_ns,
                signal_name=topic,
                input=[python_to_payload(v) for v in values],
                identity=IDENTITY,
                header={"wippy-context": python_to_payload({"temporal.signal.from": sender})},
            )
        self.agenda.at(self.now_ns, self._dispatch_due)
        return wf.run, pid

    def update(self, run: WorkflowRun | str, name: str, *args: Any) -> UpdateHandle:
        """Send an update: the workflow sees a message from `{update|<id>}` and answers with
        `ack`/`nak`, then `ok`/`error`; the handle follows its status."""
        wf = self._open(run)
        handle = UpdateHandle(f"update-{next(self._ids)}", name, tuple(python_to_payload(a) for a in args))
        wf.updates[handle.update_id] = handle
        wf.pending_updates.append(handle)
        wf.new_events = True
        self._dispatch_due()
        return handle

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

    def _open(self, run: WorkflowRun | str) -> WorkflowState:
        workflow_id = run if isinstance(run, str) else run.workflow_id
        wf = self._workflows.get(workflow_id)
        if wf is None or wf.run.closed:
            raise SimulationError(f"workflow '{workflow_id}' is not running")
        return wf

    def signal(self, run: WorkflowRun | str, name: str, *args: Any, sender: str | None = None) -> None:
        """Send a signal (a Wippy message with topic `name`, one payload per argument) now."""
        self._append_signal(self._open(run), name, args, sender)
        self._dispatch_due()

    def signal_at(
        self, run: WorkflowRun, offset_ns: int, name: str, *args: Any, sender: str | None = None
    ) -> None:
        """Send a signal `offset_ns` after the run started (ignored if the run has closed by then)."""

        def send() -> None:
            latest = run.latest
            if not latest.closed:
                self._append_signal(self._workflows[latest.workflow_id], name, args, sender)

        self.agenda.at(max(run.start_ns + offset_ns, self.now_ns), send)

    def _append_signal(self, wf: WorkflowState, name: str, args: tuple[Any, ...], sender: str | None) -> None:
        header = {"wippy-context": python_to_payload({"temporal.signal.from": sender})} if sender else None
        wf.run.builder.workflow_execution_signaled(
            self.now_ns,
            signal_name=name,
            input=[python_to_payload(a) for a in args],
            identity=IDENTITY,
            header=header,
        )
        wf.new_events = True

    def request_cancel(self, run: WorkflowRun | str, reason: str = "") -> None:
        """Request cancellation: the workflow sees a CANCEL event and decides what to do."""
        wf = self._open(run)
        wf.run.builder.workflow_execution_cancel_requested(self.now_ns, cause=reason, identity=IDENTITY)
        wf.new_events = True
        self._dispatch_due()

    # -- timers ------------------------------------------------------------------------------------

    def _timer_fired(self, wf: WorkflowState, timer_id: str, started_event_id: int) -> None:
        if wf.run.closed:
            return
        wf.run.builder.timer_fired(self.now_ns, timer_id=timer_id, started_event_id=started_event_id)
        wf.new_events = True


def _start_options(flat: Mapping[str, Any], worker_queue: str | None, now_ns: int) -> StartOptions:
    """Start options of a workflow started from a process (the seed's Full Options Reference)."""
    cron = str(flat.get("cron_schedule") or "")
    delay = duration_option("start_delay", flat.get("start_delay", 0))
    if cron:
        delay = parse_cron(cron).next_after(now_ns) - now_ns  # the first run waits for its minute too
    memo = flat.get("memo")
    search = flat.get("search_attributes")
    policy = flat.get("retry_policy")
    return StartOptions(
        task_queue=str(flat.get("task_queue") or worker_queue or "") or None,
        timeout_ns=first_positive(
            duration_option("run_timeout", flat.get("run_timeout", 0)),
            duration_option("execution_timeout", flat.get("execution_timeout", 0)),
        ),
        start_delay_ns=delay,
        cron_schedule=cron,
        memo={k: python_to_payload(v) for k, v in sorted(memo.items())} if isinstance(memo, dict) else None,
        search_attributes=search_attribute_payloads(search) if isinstance(search, dict) else None,
        retry_policy=retry_policy(policy) if policy is not None else None,
    )


def _workflow_retry_state(options: StartOptions, retrying: bool) -> RetryState.ValueType:
    if options.retry_policy is None:
        return RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    if retrying:
        return RetryState.RETRY_STATE_IN_PROGRESS
    attempts = options.retry_policy.maximum_attempts
    if attempts and options.attempt >= attempts:
        return RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    return RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE


_CLOSE_POLICIES = {
    "terminate": ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
    "abandon": ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON,
    "request_cancel": ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
}
