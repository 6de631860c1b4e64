"""One workflow execution as Wippy's worker runs it: the events of one workflow task in, that task's
commands out.

It does not know where events come from: the simulator and the replayer both drive it. Values that
are decided outside the code (side-effect values, versions) come from a `Resolver` the driver gives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent

from wftest.app import App, LuaEntry
from wftest.app.model import WorkerEntry
from wftest.encoding.jsontext import EncodeError
from wftest.history.failures import ErrorInfo, wippy_failure
from wftest.lua.host import sections
from wftest.lua.process import HostCommand, StepOutcome
from wftest.lua.sandbox import LuaFailure, Sandbox, SandboxOptions, text
from wftest.lua.state import LuaState
from wftest.worker import commands as cmd
from wftest.worker.errors import error_info
from wftest.worker.events import WorkflowEvents
from wftest.worker.handlers import WorkflowCommands
from wftest.worker.workflow_state import (
    OpenTask,
    PendingActivity,
    PendingChild,
    PendingTimer,
    Resolver,
    WorkflowInfo,
    WorkflowTaskError,
)


def workflow_identity(app: App, workflow_type: str, task_queue: str) -> tuple[str, str]:
    """(client id, worker id) of the worker that runs `workflow_type` from `task_queue`: what Wippy
    builds a workflow's PID from (`{client@worker|workflow id}`, with the worker resolved from the task
    queue). Both live runs and replays call this, so a PID depends only on what the history holds (the
    task queue, the type) and the app; the workflow's own worker wins when it serves the queue."""
    entry = app.entries.get(workflow_type)
    workflow = getattr(entry, "workflow", None) if isinstance(entry, LuaEntry) else None
    own = app.entries.get(workflow.worker) if workflow is not None else None
    worker: Any = own
    if not isinstance(own, WorkerEntry) or (task_queue and own.task_queue != task_queue):
        serving = [w for w in app.workers() if w.task_queue == task_queue]
        if serving:
            worker = serving[0]
    if isinstance(worker, WorkerEntry):
        return worker.client or "app:client", worker.id
    return "app:client", workflow.worker if workflow is not None and workflow.worker else "app:worker"


@dataclass(frozen=True)
class UpdateRequest:
    """An update delivered with a workflow task: a message from `{update|<id>}`."""

    update_id: str
    name: str
    args: tuple[Payload, ...] = ()


class WorkflowExecution(WorkflowEvents, WorkflowCommands):
    """A live workflow: a sandbox, its process, and what its commands are waiting for. Events are
    applied by `WorkflowEvents`, commands served by `WorkflowCommands`; this class runs the task."""

    def __init__(
        self,
        app: App,
        entry: LuaEntry,
        info: WorkflowInfo,
        input: Sequence[Payload],
        *,
        context: Mapping[str, Any] | None = None,
        seed: int = 0,
        memory_limit: int | None = None,
        instruction_budget: int | None = None,
        local_send: Callable[[str, str, tuple[Any, ...], str], None] | None = None,
        lua_state: LuaState | None = None,
    ) -> None:
        self.app = app
        self.entry = entry
        self.info = info
        self.context = dict(context or {})
        self.local_send = local_send  # delivers `process.send` to a local (non-Temporal) process
        self.now_ns = 0
        self.history_length = 0
        self.history_size = 0
        self.closed = False
        options = SandboxOptions(
            clock_ns=lambda: self.now_ns,
            context=self.context,
            deterministic=True,
            seed=seed,
            providers={
                "funcs": self._open_funcs,
                "workflow": self._open_workflow,
                "time": self._open_time,
                "process": lambda sb: self.rt.section(b"process").process,
            },
        )
        if memory_limit is not None:
            options.memory_limit = memory_limit
        if instruction_budget is not None:
            options.instruction_budget = instruction_budget
        self._start_host(options, lua_state, _SECTION_CODE)
        self._main = self.sb.load_entry(app, entry)
        self._input = list(input)
        self._started = False
        self._activities: dict[int, PendingActivity] = {}
        self._timers: dict[str, PendingTimer] = {}
        self._timer_by_handle: dict[int, str] = {}
        self._side_effects = 0
        self._versions: dict[str, int] = {}
        self._signals: dict[int, int] = {}  # SignalExternal / RequestCancelExternal initiated id -> task
        self._children: dict[int, PendingChild] = {}  # by initiated event id
        self._exits: deque[dict[str, Any]] = deque()  # child EXIT events, delivered after signals
        self._updates: deque[UpdateRequest] = deque()  # delivered last in a task
        self._completions: deque[tuple[int, tuple[Any, ...]]] = deque()  # resolved in a later task
        self._pushes: deque[tuple[str, int, Any]] = deque()  # ("future" | "channel", id, value)
        self._task: OpenTask | None = None
        self._resolver: Resolver | None = None
        self.trace_returns = False  # replay reports: find the line the workflow returned from

    # -- module providers ------------------------------------------------------------------------

    def _open_funcs(self, sb: Sandbox) -> Any:
        return self.rt.section(b"funcs").funcs

    def _open_workflow(self, sb: Sandbox) -> Any:
        return self.rt.section(b"workflow")

    def _info(self) -> Any:
        return self.sb.table(
            {
                "workflow_id": self.info.workflow_id,
                "run_id": self.info.run_id,
                "workflow_type": self.info.workflow_type,
                "task_queue": self.info.task_queue,
                "namespace": self.info.namespace,
                "attempt": self.info.attempt,
                "history_length": self.history_length,
                "history_size": self.history_size,
                "pid": self.info.pid,
                "entry_id": self.entry.id,
            }
        )

    # -- one workflow task -----------------------------------------------------------------------

    def workflow_task(
        self,
        events: Sequence[HistoryEvent],
        *,
        started_event_id: int,
        now_ns: int,
        resolver: Resolver,
        history_size: int = 0,
        updates: Sequence[UpdateRequest] = (),
    ) -> list[cmd.AnyCommand]:
        """Run one workflow task. `events` are the history events since the previous task started,
        up to and including this task's WorkflowTaskStarted."""
        if self.closed:
            raise WorkflowTaskError("workflow task on a closed execution")
        self.now_ns = now_ns
        self.history_length = started_event_id
        self.history_size = history_size
        self._task = OpenTask(next_seq=started_event_id + 2)
        self._resolver = resolver
        for event in events:
            self._apply_event(event)
        self._updates.extend(updates)
        if not self._started:
            self._started = True
            args = [self.sb.values.from_payload(p) for p in self._input]
            self.proc.start(self._main, *args)
            if self.trace_returns:
                self.sb.api.trace_returns(self.proc._p.main_handle())
        while self._completions:
            task, values = self._completions.popleft()
            self.proc.reply(task, *values)
        self._run()
        built, self._task = self._task, None
        return built.commands

    def _flush_pushes(self) -> None:
        """Deliver queued internal messages in order; a full channel keeps the rest queued."""
        kept: deque[tuple[str, int, Any]] = deque()
        for item in self._pushes:
            what, target, payload = item
            if what == "future":
                self.rt.resolve_future(target, *payload)
            elif what == "message":
                topic, sender, values = payload
                self.rt.deliver(topic.encode(), sender.encode(), *values)
            elif what == "event":
                self.rt.deliver_event(self.sb.table(payload))
            elif not self.proc.push(target, payload):
                kept.append(item)
        self._pushes = kept
        while self._exits:
            self.rt.deliver_event(self.sb.table(self._exits.popleft()))
        while self._updates:
            update = self._updates.popleft()
            values = tuple(self.sb.values.from_payload(p) for p in update.args)
            self.rt.deliver(update.name.encode(), f"{{update|{update.update_id}}}".encode(), *values)

    # -- stepping: commands are executed in order, synchronous ones resume depth-first ----

    def _run(self) -> None:
        self._flush_pushes()
        stack: list[Iterator[HostCommand]] = []
        outcome = self.proc.step()
        while True:
            if self._closing(outcome):
                return
            stack.append(iter(outcome.commands))
            next_outcome: StepOutcome | None = None
            while stack and next_outcome is None:
                host = next(stack[-1], None)
                if host is None:
                    stack.pop()
                    continue
                if self._execute(host):
                    next_outcome = self.proc.step()
                if self.closed:  # continue-as-new ends the run: later commands are never sent
                    return
            if next_outcome is None:
                return
            outcome = next_outcome

    def _closing(self, outcome: StepOutcome) -> bool:
        if outcome.status == "finished":
            self._complete(outcome.values)
        elif outcome.status == "failed":
            assert outcome.failure is not None
            failure = outcome.failure
            raised = f"{failure.file}:{failure.line}" if failure.file and failure.line else None
            self._fail(self._failure_info(failure), raised)
        elif outcome.status == "deadlock":
            self._fail(ErrorInfo("Internal", outcome.report, False, None, None, None), "?")
        else:
            return False
        return True

    # -- closing -----------------------------------------------------------------------------------

    def _complete(self, values: tuple[Any, ...]) -> None:
        if len(values) >= 2 and values[1] is not None:
            second = values[1]
            if bool(self.sb.api.is_error(second)):
                self._fail(self._error_info(second))
                return
            if isinstance(second, bytes):
                self._fail(ErrorInfo("Internal", text(second), False, None, None, None))
                return
        result: Payload | None = None
        if values:
            try:
                result = self.sb.values.to_payload(values[0])
            except EncodeError as exc:
                self._fail(ErrorInfo("Internal", f"failed to encode result: {exc}", False, None, None, None))
                return
        self._emit(cmd.CompleteWorkflowExecution, self._return_where(), result=result)
        self.closed = True

    def _return_where(self) -> str:
        if not self.trace_returns:
            return "?"
        found = self.sb.api.last_return()
        return text(found) if found is not None else "?"

    def _fail(self, info: ErrorInfo, where: str | None = None) -> None:
        where = where or self._return_where()
        self._emit(cmd.FailWorkflowExecution, where, failure=wippy_failure(info))
        self.closed = True

    def _failure_info(self, failure: LuaFailure) -> ErrorInfo:
        if failure.error is not None:
            return self._error_info(failure.error)
        return ErrorInfo(failure.kind or "Internal", str(failure), failure.retryable, None, None, None)

    def _error_info(self, err: Any) -> ErrorInfo:
        return error_info(self.sb, err)

    def waiting(self, *, lines: bool = False) -> str:
        """Where each live coroutine of the workflow waits (for nondeterminism reports)."""
        return self.proc.waiting(lines=lines)

    def unheard(self) -> tuple[list[str], list[str]]:
        """Topics of signals that arrived and that nothing listens for, and the topics listened to."""
        unheard, heard = self.rt.unheard()
        return [t for t in text(unheard).split("\n") if t], [t for t in text(heard).split("\n") if t]

    def close(self) -> None:
        """Kill every coroutine (the run is over)."""
        self.proc.kill_all()

    def release(self) -> bool:
        """Close and give up the Lua state (see `Sandbox.release`); True when it may host another
        execution. The execution cannot be used any more."""
        self.close()
        reusable = self.sb.release()
        vars(self).clear()
        return reusable


# The workflow flavour of the runtime sections, each loaded when first used.
_SECTION_CODE = sections(
    {name: f"wf_{name}" for name in ("funcs", "timers", "workflow", "process", "messaging")}
)
