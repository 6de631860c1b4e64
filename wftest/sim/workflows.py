"""The world's workflow executions and their lifecycle: a run is launched, closes, and what its close sets
off follows (a retry, the next cron run, continue-as-new, the parent's report, the close watchers)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import RetryState
from temporalio.api.failure.v1 import Failure

from wftest.app import App, LuaEntry
from wftest.encoding.jsontext import GO_NIL
from wftest.encoding.payloads import payload_to_python, python_to_payload
from wftest.history.failures import ErrorInfo, error_from_failure, wippy_failure
from wftest.lua.sandbox import DEFAULT_MEMORY_LIMIT
from wftest.lua.state import STATES
from wftest.sim import links
from wftest.sim.activities import ActivityInfo, ActivityRunner, Attempt, Mock, retry_interval, should_retry
from wftest.sim.activity_tasks import ActivityTasks, retry_policy_proto
from wftest.sim.cron import parse_cron
from wftest.sim.links import header_context
from wftest.sim.state import IDENTITY, Parent, StartOptions, WorkflowRun, WorkflowState
from wftest.sim.timing import Agenda
from wftest.worker import commands as cmd
from wftest.worker.execution import WorkflowExecution, workflow_identity
from wftest.worker.workflow_state import WorkflowInfo

LocalSend = Callable[[str, str, tuple[Any, ...], str], None]


class WorkflowTable:
    """The executions of one world by workflow id (start order), from launch to close and successor."""

    def __init__(
        self,
        app: App,
        *,
        clock: Callable[[], int],
        agenda: Agenda,
        rng: random.Random,
        activities: ActivityTasks,
        activity_runner: ActivityRunner,
        workflow_mocks: dict[str, Mock],
        memory_limit: int | None,
        instruction_budget: int | None,
        local_send: LocalSend,
    ) -> None:
        self.app = app
        self._clock = clock
        self.agenda = agenda
        self.rng = rng
        self.activities = activities
        self.activity_runner = activity_runner
        self.workflow_mocks = workflow_mocks  # child workflow types served from Python
        self.memory_limit = memory_limit
        self.instruction_budget = instruction_budget
        self.local_send = local_send  # what a workflow sends to a plain process
        self.states: dict[str, WorkflowState] = {}
        self._watchers: dict[str, list[Callable[[WorkflowRun], None]]] = {}

    @property
    def now_ns(self) -> int:
        return self._clock()

    def workflow_state(self, workflow_id: str) -> WorkflowState | None:
        """The state of the workflow with this id (its latest run), if the world has one."""
        return self.states.get(workflow_id)

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
            execution = self.new_execution(entry, info, payloads, context, self.rng.getrandbits(63))  # type: ignore[arg-type]
        wf = WorkflowState(run, execution, info, context, parent=parent, options=options)  # type: ignore[arg-type]
        self.states[wid] = wf
        if options.start_delay_ns > 0:
            wf.not_before_ns = self.now_ns + options.start_delay_ns
            self.agenda.at(wf.not_before_ns, lambda: None)  # wakes the dispatcher then
        if timeout_ns > 0:
            self.agenda.at(self.now_ns + options.start_delay_ns + timeout_ns, lambda: self._time_out(wf))
        return wf

    def new_execution(
        self,
        entry: LuaEntry,
        info: WorkflowInfo,
        payloads: list[Payload],
        context: dict[str, Any],
        seed: int,
        *,
        live: bool = True,
    ) -> WorkflowExecution:
        """A worker's execution of one run, with the world's limits. A live one runs in a pooled Lua
        state and its sends reach plain processes; one that must replay first (a crash's fresh worker)
        gets its own state and sends nothing until it is given `local_send`."""
        limit = self.memory_limit if self.memory_limit is not None else DEFAULT_MEMORY_LIMIT
        pooled = STATES.acquire(limit) if live else None
        return WorkflowExecution(
            self.app,
            entry,
            info,
            payloads,
            context=context,
            seed=seed,
            memory_limit=self.memory_limit,
            instruction_budget=self.instruction_budget,
            local_send=self.local_send if live else None,
            lua_state=pooled,
        )

    def _new_run_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _retry(self, wf: WorkflowState, failure: Failure) -> tuple[str, int] | None:
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
        self._follow(old, successor.run)

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

    def fail(self, wf: WorkflowState, command: cmd.FailWorkflowExecution, completed: int) -> None:
        retry = self._retry(wf, command.failure)
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

    def continue_as_new(
        self, wf: WorkflowState, command: cmd.ContinueAsNewWorkflowExecution, completed: int
    ) -> None:
        """The run closes as ContinuedAsNew and a new run of the same workflow id starts."""
        context = header_context(command.header)
        if wf.execution is not None:
            wf.execution.close()
        self.activities.drop(wf)
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
        self._follow(old, successor.run)
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
        self.activities.drop(wf)
        self.release(wf)
        links.apply_close_policy(self, wf)
        if wf.run.next_run is not None:
            return  # a retry goes on under the same workflow id: parents and monitors wait for it
        if wf.options.cron_schedule and status != "terminated":
            self._schedule_cron(wf)
        links.report_to_parent(self, wf)
        for watcher in self._watchers.pop(_run_key(wf.run), []):
            watcher(wf.run)

    def release(self, wf: WorkflowState) -> None:
        """The run is over: its coroutines end and its Lua state goes back to the pool."""
        execution = wf.execution
        if execution is None:
            return
        state = execution.sb.state
        wf.execution = None  # type: ignore[assignment]
        if execution.release():
            STATES.give_back(state)

    def _follow(self, old: WorkflowRun, successor: WorkflowRun) -> None:
        """`successor` continues `old` (a retry or continue-as-new): the chain links, and whoever waits
        for the close of `old` waits for it instead."""
        old.next_run, successor.previous_run = successor, old
        watchers = self._watchers.pop(_run_key(old), [])
        if watchers:
            self._watchers[_run_key(successor)] = watchers

    def watch(self, run: WorkflowRun, callback: Callable[[WorkflowRun], None]) -> None:
        """Call `callback(run)` when this run closes (continue-as-new passes it on to the next run)."""
        run = run.latest
        if run.closed:
            self.agenda.at(self.now_ns, lambda: callback(run))
            return
        self._watchers.setdefault(_run_key(run), []).append(callback)


def _run_key(run: WorkflowRun) -> str:
    return run.workflow_id + "/" + run.run_id


def _workflow_retry_state(options: StartOptions, retrying: bool) -> RetryState.ValueType:
    if options.retry_policy is None:
        return RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    if retrying:
        return RetryState.RETRY_STATE_IN_PROGRESS
    attempts = options.retry_policy.maximum_attempts
    if attempts and options.attempt >= attempts:
        return RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    return RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
