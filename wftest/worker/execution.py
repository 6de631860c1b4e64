"""One workflow execution as Wippy's worker runs it: the events of one workflow task in, that task's
commands out.

It does not know where events come from: the simulator and the replayer both drive it. Values that
are decided outside the code (side-effect values, versions) come from a `Resolver` the driver gives.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from wftest.app import App, LuaEntry
from wftest.app.model import WorkerEntry
from wftest.errors import UserError
from wftest.history import event_types as ev
from wftest.history.failures import (
    ErrorInfo,
    activity_failure,
    canceled_failure,
    child_failure,
    error_from_failure,
    terminated_failure,
    timeout_failure,
    wippy_failure,
)
from wftest.lua.host import LuaHost, sections
from wftest.lua.kinds import Kind
from wftest.lua.modules.time import new_time
from wftest.lua.process import HostCommand, StepOutcome
from wftest.lua.sandbox import LuaFailure, Sandbox, SandboxOptions, text
from wftest.lua.state import LuaState
from wftest.lua.values import EncodeError, encode_json_python, payload_to_python, python_to_payload
from wftest.worker import commands as cmd
from wftest.worker.errors import error_info
from wftest.worker.options import OptionError, activity_options, child_options

SIDE_EFFECT_MARKER = "SideEffect"
VERSION_MARKER = "Version"
CHANGE_VERSION_ATTRIBUTE = "TemporalChangeVersion"


class Resolver(Protocol):
    """Decides what the code cannot: side-effect values and change versions."""

    def side_effect(self, side_effect_id: int, name: str, args: tuple[Any, ...]) -> Payload: ...

    def version(self, change_id: str, min_version: int, max_version: int) -> tuple[int, bool]:
        """The version to use and whether to record a marker for it."""
        ...


class WorkflowTaskError(UserError):
    """The workflow task itself fails (the SDK would panic): e.g. an unsupported version on replay.
    `where` is the Lua `file:line` of the call that asked; `expected`/`actual` what the history holds
    and what the code asked for."""

    def __init__(self, message: str, *, where: str = "", expected: str = "", actual: str = "") -> None:
        super().__init__(message)
        self.where = where
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class WorkflowInfo:
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    namespace: str = "default"
    attempt: int = 1
    client_id: str = "app:client"
    worker_id: str = "app:worker"

    @property
    def pid(self) -> str:
        return f"{{{self.client_id}@{self.worker_id}|{self.workflow_id}}}"


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


@dataclass
class _Activity:
    activity_id: str
    activity_type: str
    task: int | None = None  # funcs.call: the coroutine waiting for the result
    future: int | None = None  # funcs.async: the future to resolve
    cancelled: bool = False


@dataclass(frozen=True)
class UpdateRequest:
    """An update delivered with a workflow task: a message from `{update|<id>}`."""

    update_id: str
    name: str
    args: tuple[Payload, ...] = ()


@dataclass
class _Child:
    workflow_id: str
    workflow_type: str
    pid: str
    spawn: bool  # process.spawn*: the PID at start, an EXIT event at close; else the result at close
    task: int | None = None
    run_id: str = ""
    started_event_id: int = 0


@dataclass
class _Timer:
    kind: str  # "sleep" | "after" | "ticker"
    task: int | None = None
    channel: int | None = None
    duration_ns: int = 0
    alive: bool = True
    handle: int = 0  # what Lua holds for timer:stop()/reset(); stays while a ticker re-arms
    where: str = "?"  # the line that made it: a ticker's re-arms are reported there


@dataclass
class _Task:
    """The commands of the workflow task being built."""

    next_seq: int
    commands: list[cmd.AnyCommand] = field(default_factory=list)


class WorkflowExecution(LuaHost):
    """A live workflow: a sandbox, its process, and what its commands are waiting for."""

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
        self._activities: dict[int, _Activity] = {}
        self._timers: dict[str, _Timer] = {}
        self._timer_by_handle: dict[int, str] = {}
        self._side_effects = 0
        self._versions: dict[str, int] = {}
        self._signals: dict[int, int] = {}  # SignalExternal / RequestCancelExternal initiated id -> task
        self._children: dict[int, _Child] = {}  # by initiated event id
        self._exits: deque[dict[str, Any]] = deque()  # child EXIT events, delivered after signals
        self._updates: deque[UpdateRequest] = deque()  # delivered last in a task
        self._completions: deque[tuple[int, tuple[Any, ...]]] = deque()  # resolved in a later task
        self._pushes: deque[tuple[str, int, Any]] = deque()  # ("future" | "channel", id, value)
        self._task: _Task | None = None
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
        self._task = _Task(next_seq=started_event_id + 2)
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

    def _apply_event(self, event: HistoryEvent) -> None:
        """Hand one history event to what waits on it: one method per event type (`_EVENT_APPLIERS`)."""
        apply = _EVENT_APPLIERS.get(event.event_type)
        if apply is not None:
            apply(self, event)

    def _on_activity_completed(self, event: HistoryEvent) -> None:
        a = event.activity_task_completed_event_attributes
        payloads = a.result.payloads
        value = self.sb.values.from_payload(payloads[0]) if payloads else None
        self._activity_done(a.scheduled_event_id, value, None)

    def _on_activity_failed(self, event: HistoryEvent) -> None:
        f = event.activity_task_failed_event_attributes
        self._activity_failed(f.scheduled_event_id, f.started_event_id, f.failure, f.retry_state)

    def _on_activity_timed_out(self, event: HistoryEvent) -> None:
        t = event.activity_task_timed_out_event_attributes
        self._activity_failed(t.scheduled_event_id, t.started_event_id, t.failure, t.retry_state)

    def _on_activity_canceled(self, event: HistoryEvent) -> None:
        c = event.activity_task_canceled_event_attributes
        err = self._lua_error(ErrorInfo("Canceled", "operation canceled", False, None, None, None))
        self._activity_done(c.scheduled_event_id, None, err)

    def _on_timer_fired(self, event: HistoryEvent) -> None:
        self._timer_fired(event.timer_fired_event_attributes.timer_id)

    def _on_signaled(self, event: HistoryEvent) -> None:
        sig = event.workflow_execution_signaled_event_attributes
        values = tuple(self.sb.values.from_payload(p) for p in sig.input.payloads)
        self._pushes.append(("message", 0, (sig.signal_name, _sender(sig.header), values)))

    def _on_cancel_requested(self, event: HistoryEvent) -> None:
        at = datetime.fromtimestamp(event.event_time.seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._pushes.append(("event", 0, {"kind": "pid.cancel", "from": "{|topology}", "at": at}))

    def _on_child(self, event: HistoryEvent) -> None:
        self._child_event(event.event_type, event)

    def _on_external_cancel_requested(self, event: HistoryEvent) -> None:
        done = event.external_workflow_execution_cancel_requested_event_attributes
        self._signal_done(done.initiated_event_id, None)

    def _on_external_cancel_failed(self, event: HistoryEvent) -> None:
        failed = event.request_cancel_external_workflow_execution_failed_event_attributes
        self._signal_done(failed.initiated_event_id, _UNKNOWN_EXTERNAL)

    def _on_external_signaled(self, event: HistoryEvent) -> None:
        done = event.external_workflow_execution_signaled_event_attributes
        self._signal_done(done.initiated_event_id, None)

    def _on_external_signal_failed(self, event: HistoryEvent) -> None:
        failed = event.signal_external_workflow_execution_failed_event_attributes
        self._signal_done(failed.initiated_event_id, _UNKNOWN_EXTERNAL)

    def _activity_failed(self, scheduled_id: int, started_id: int, failure: Any, retry_state: Any) -> None:
        """The Go SDK hands the workflow an ActivityError around the recorded failure."""
        activity = self._activities.get(scheduled_id)
        if activity is None:
            return
        wrapped = activity_failure(
            failure,
            scheduled_event_id=scheduled_id,
            started_event_id=started_id,
            identity="",
            activity_type=activity.activity_type,
            activity_id=activity.activity_id,
            retry_state=retry_state,
        )
        self._activity_done(scheduled_id, None, self._lua_error(error_from_failure(wrapped)))

    def _activity_done(self, scheduled_id: int, value: Any, err: Any) -> None:
        activity = self._activities.pop(scheduled_id, None)
        if activity is None or activity.cancelled:
            return
        if activity.task is not None:
            self._completions.append((activity.task, (value, err)))
        elif activity.future is not None:
            self._pushes.append(("future", activity.future, (value, err)))

    def _timer_fired(self, timer_id: str) -> None:
        timer = self._timers.get(timer_id)
        if timer is None:
            return
        if timer.kind != "ticker":
            del self._timers[timer_id]
        if not timer.alive:
            return
        if timer.kind == "sleep" and timer.task is not None:
            self._completions.append((timer.task, ()))
        elif timer.channel is not None:
            self._pushes.append(("channel", timer.channel, new_time(self.sb, self.now_ns)))
            if timer.kind == "ticker":
                # re-armed from the event callback, before this task's Lua step.
                del self._timers[timer_id]
                self._timer_by_handle[timer.handle] = self._start_timer(timer, timer.where)

    def _child_event(self, kind: int, event: HistoryEvent) -> None:
        """Child starts and closes, as results (exec) or PIDs and EXIT events (spawn)."""
        if kind == ev.CHILD_WORKFLOW_EXECUTION_STARTED:
            started = event.child_workflow_execution_started_event_attributes
            child = self._children.get(started.initiated_event_id)
            if child is None:
                return
            child.run_id = started.workflow_execution.run_id
            child.started_event_id = event.event_id
            if child.spawn and child.task is not None:
                self._completions.append((child.task, (child.pid.encode(), None)))
                child.task = None
            return
        if kind == ev.START_CHILD_WORKFLOW_EXECUTION_FAILED:
            start_failed = event.start_child_workflow_execution_failed_event_attributes
            child = self._children.pop(start_failed.initiated_event_id, None)
            if child is not None and child.task is not None:
                error = ErrorInfo(
                    "AlreadyExists", f"workflow execution already started: {child.workflow_id}", False
                )
                self._completions.append((child.task, (None, self._lua_error(error))))
            return
        attrs = _child_close_attributes(kind, event)
        child = self._children.pop(attrs.initiated_event_id, None)
        if child is None:
            return
        value: Any = None
        err: Any = None
        if kind == ev.CHILD_WORKFLOW_EXECUTION_COMPLETED:
            payloads = attrs.result.payloads
            value = self.sb.values.from_payload(payloads[0]) if payloads else None
        else:
            if kind == ev.CHILD_WORKFLOW_EXECUTION_FAILED:
                cause: Failure = attrs.failure
            elif kind == ev.CHILD_WORKFLOW_EXECUTION_CANCELED:
                cause = canceled_failure()
            elif kind == ev.CHILD_WORKFLOW_EXECUTION_TERMINATED:
                cause = terminated_failure()
            else:
                cause = timeout_failure(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
            wrapped = child_failure(
                cause,
                namespace=self.info.namespace,
                workflow_id=child.workflow_id,
                run_id=child.run_id,
                workflow_type=child.workflow_type,
                initiated_event_id=attrs.initiated_event_id,
                started_event_id=child.started_event_id,
                retry_state=getattr(attrs, "retry_state", RetryState.RETRY_STATE_UNSPECIFIED),
            )
            err = self._lua_error(error_from_failure(wrapped))
        if not child.spawn and child.task is not None:
            self._completions.append((child.task, (value, err)))
        elif child.spawn:
            result = {"value": value} if err is None else {"error": err}
            self._exits.append(
                {"kind": "pid.exit", "from": child.pid, "at": event.event_time.seconds, "result": result}
            )

    def _signal_done(self, initiated_id: int, error: ErrorInfo | None) -> None:
        task = self._signals.pop(initiated_id, None)
        if task is None:
            return
        if error is None:
            self._completions.append((task, (True, None)))
        else:
            self._completions.append((task, (None, self._lua_error(error))))

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

    def _emit(
        self, command_type: Callable[..., cmd.AnyCommand], where: str, ids: int = 1, **fields: Any
    ) -> cmd.AnyCommand:
        task = self._task
        assert task is not None
        command = command_type(seq=task.next_seq, where=where, **fields)
        task.next_seq += ids
        task.commands.append(command)
        return command

    def _execute(self, host: HostCommand) -> bool:
        """Execute one command; True when it was answered at once (the process must step again)."""
        t = host.table
        # Item access with bytes keys: much cheaper than lupa's attribute access on this hot path.
        kind = text(t[b"kind"])
        where_value = t[b"where"]
        where = text(where_value) if where_value is not None else "?"
        handler = _HANDLERS.get(kind)
        if handler is None:
            self.proc.reply(
                host.task,
                None,
                self._lua_error(
                    ErrorInfo(
                        "Internal", f"unsupported command '{kind}' in a workflow", False, None, None, None
                    )
                ),
            )
            return True
        return handler(self, host.task, t, where)

    # -- command handlers --------------------------------------------------------------------------

    def _activity(self, task: int, t: Any, where: str, *, future: bool) -> bool:
        target = text(t[b"target"])
        try:
            raw_options = t[b"options"]
            call_options = self.sb.values.to_python(raw_options) if raw_options is not None else None
            defaults = self.app.entries[target].call_options if target in self.app.entries else None
            options, explicit_id = activity_options(self.info.task_queue, defaults, call_options)  # type: ignore[arg-type]
            args = t[b"args"]
            to_payload = self.sb.values.to_payload
            payloads = tuple([to_payload(args[i]) for i in range(1, int(args[b"n"]) + 1)])
        except (OptionError, EncodeError) as exc:
            self.proc.reply(
                task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False, None, None, None))
            )
            return True
        assert self._task is not None
        seq = self._task.next_seq
        activity_id = explicit_id or str(seq)
        self._emit(
            cmd.ScheduleActivityTask,
            where,
            activity_id=activity_id,
            activity_type=target,
            input=payloads,
            options=options,
            header=self._header(),
        )
        if future:
            self._activities[seq] = _Activity(activity_id, target, future=seq)
            self.proc.reply(task, seq)
            return True
        self._activities[seq] = _Activity(activity_id, target, task=task)
        return False

    def _activity_call(self, task: int, t: Any, where: str) -> bool:
        return self._activity(task, t, where, future=False)

    def _activity_start(self, task: int, t: Any, where: str) -> bool:
        return self._activity(task, t, where, future=True)

    def _activity_cancel(self, task: int, t: Any, where: str) -> bool:
        """RequestCancelActivityTask for the future's activity. Also when the activity was
        scheduled in this same task (the SDK may drop both commands then [P]; wftest keeps them, so
        history ids stay those the code was given)."""
        seq = int(t.future)
        activity = self._activities.get(seq)
        if activity is not None and not activity.cancelled:
            activity.cancelled = True
            self._emit(cmd.RequestCancelActivityTask, where, scheduled_event_id=seq)
        self.proc.reply(task, True)
        return True

    def _start_timer(self, timer: _Timer, where: str) -> str:
        assert self._task is not None
        timer_id = str(self._task.next_seq)
        self._emit(cmd.StartTimer, where, timer_id=timer_id, duration_ns=timer.duration_ns)
        self._timers[timer_id] = timer
        return timer_id

    def _sleep(self, task: int, t: Any, where: str) -> bool:
        duration = int(t[b"duration"])
        if duration <= 0:
            # no command; resolved at the next workflow task.
            self._completions.append((task, ()))
            return False
        self._start_timer(_Timer("sleep", task=task, duration_ns=duration), where)
        return False

    def _timer_start(self, task: int, t: Any, where: str, kind: str = "after") -> bool:
        timer = _Timer(kind, channel=int(t[b"channel"]), duration_ns=int(t[b"duration"]), where=where)
        timer_id = self._start_timer(timer, where)
        handle = timer.handle = int(timer_id)
        self._timer_by_handle[handle] = timer_id
        self.proc.reply(task, handle)
        return True

    def _ticker_start(self, task: int, t: Any, where: str) -> bool:
        return self._timer_start(task, t, where, kind="ticker")

    def _timer_stop(self, task: int, t: Any, where: str) -> bool:
        timer = self._timers.get(self._timer_by_handle.get(int(t.timer), ""))
        stopped = timer is not None and timer.alive
        if timer is not None:
            timer.alive = False  # no CancelTimer; a later fire is ignored
        self.proc.reply(task, stopped)
        return True

    def _timer_reset(self, task: int, t: Any, where: str) -> bool:
        handle = int(t.timer)
        old = self._timers.get(self._timer_by_handle.get(handle, ""))
        active = old is not None and old.alive
        channel = old.channel if old is not None else None
        if old is not None:
            old.alive = False
        if channel is not None:
            timer = _Timer("after", channel=channel, duration_ns=int(t.duration), handle=handle)
            self._timer_by_handle[handle] = self._start_timer(timer, where)
        self.proc.reply(task, active)
        return True

    def _side_effect(self, task: int, t: Any, where: str) -> bool:
        self._side_effects += 1
        sid = self._side_effects
        args = t.args
        # Lua strings stay bytes: keys and plaintexts of crypto.encrypt.* are binary.
        values = tuple(
            a if isinstance(a, bytes) else self.sb.values.to_python(a)
            for a in (args[i] for i in range(1, int(args.n) + 1))
        )
        assert self._resolver is not None
        try:
            payload = self._resolver.side_effect(sid, text(t.name), values)
        except WorkflowTaskError as exc:
            exc.where = exc.where or where
            raise
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={"side-effect-id": python_to_payload(sid), "data": payload},
            summary="workflow.sideEffect",
        )
        self.proc.reply(task, self.sb.values.from_payload(payload), None)
        return True

    def _version(self, task: int, t: Any, where: str) -> bool:
        change_id = text(t.change_id)
        low, high = int(t.min), int(t.max)
        if change_id in self._versions:
            self.proc.reply(task, self._versions[change_id], None)
            return True
        assert self._resolver is not None
        version, record = self._resolver.version(change_id, low, high)
        if not low <= version <= high:
            raise WorkflowTaskError(
                f"workflow.version({change_id!r}, {low}, {high}): history has version {version}, "
                "which this code no longer supports",
                where=where,
                expected=(
                    f"version {version} of {change_id!r}"
                    if version != -1
                    else f"no Version marker for {change_id!r} (DefaultVersion -1)"
                ),
                actual=f"versions {low}..{high} of {change_id!r}",
            )
        self._versions[change_id] = version
        if record:
            known = [f"{c}-{v}" for c, v in self._versions.items() if c != change_id]
            self._emit(
                cmd.RecordMarker,
                where,
                marker_name=VERSION_MARKER,
                details={"change-id": python_to_payload(change_id), "version": python_to_payload(version)},
            )
            self._emit(
                cmd.UpsertWorkflowSearchAttributes,
                where,
                attributes={CHANGE_VERSION_ATTRIBUTE: python_to_payload([f"{change_id}-{version}", *known])},
            )
        self.proc.reply(task, version, None)
        return True

    def _attrs(self, task: int, t: Any, where: str) -> bool:
        try:
            search = (
                search_attribute_payloads(self.sb.values.to_python(t.search))
                if t.search is not None
                else None
            )
            memo = self.sb.values.to_python(t.memo) if t.memo is not None else None
        except (ValueError, EncodeError) as exc:
            self.proc.reply(
                task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False, None, None, None))
            )
            return True
        if search is not None:
            self._emit(cmd.UpsertWorkflowSearchAttributes, where, attributes=search)
        if memo is not None:
            assert isinstance(memo, dict)
            self._emit(
                cmd.ModifyWorkflowProperties,
                where,
                memo={k: python_to_payload(v) for k, v in sorted(memo.items())},
            )
        self.proc.reply(task, True, None)
        return True

    def _process_send(self, task: int, t: Any, where: str) -> bool:
        """A Temporal target gets SignalExternalWorkflowExecution (answered at a later task); a
        local process gets a SideEffect marker; anything that is not a PID is NotFound."""
        dest, topic = text(t.dest), text(t.topic)
        target = parse_pid(dest)
        if target is None and dest and self._send_to_name(task, t, where, dest):
            return True
        if target is None:
            self.proc.reply(
                task,
                None,
                self._lua_error(
                    ErrorInfo(
                        "NotFound",
                        f"could not resolve '{dest}' as PID or registered name",
                        False,
                        None,
                        None,
                        None,
                    )
                ),
            )
            return True
        node, host, uniq = target
        args = t.args
        if node == "update" and not host:
            return self._update_reply(task, t, where, uniq)
        payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        if node == self.info.client_id or host in (self.info.worker_id, "temporal"):
            assert self._task is not None
            self._signals[self._task.next_seq] = task
            header = {
                "wippy-context": python_to_payload({**self.context, "temporal.signal.from": self.info.pid})
            }
            self._emit(
                cmd.SignalExternalWorkflowExecution,
                where,
                namespace="",
                workflow_id=uniq,
                signal_name=topic,
                input=payloads,
                header=header,
            )
            return False
        self._side_effects += 1
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={
                "side-effect-id": python_to_payload(self._side_effects),
                "data": python_to_payload(True),
            },
            summary="process.send",
        )
        if self.local_send is not None:
            # Delivered only now, on first execution; a replay finds the marker and sends nothing.
            self.local_send(
                dest,
                topic,
                tuple(self.sb.values.to_python(args[i]) for i in range(1, int(args.n) + 1)),
                self.info.pid,
            )
        self.proc.reply(task, True, None)
        return True

    def _send_to_name(self, task: int, t: Any, where: str, name: str) -> bool:
        """A registered name of a local process: the PID it resolves to is recorded as the data of the
        send's SideEffect marker, so a replay reads it from the history (the registry is not there). A
        name that does not resolve records nothing (False)."""
        assert self._resolver is not None
        sid = self._side_effects + 1
        try:
            payload = self._resolver.side_effect(sid, "process.send", (name,))
        except WorkflowTaskError:
            return False  # replay: nothing recorded here, the name did not resolve
        pid = payload_to_python(payload)
        if not isinstance(pid, str) or parse_pid(pid) is None:
            return False
        self._side_effects = sid
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={"side-effect-id": python_to_payload(sid), "data": payload},
            summary="process.send",
        )
        if self.local_send is not None:
            args = t.args
            values = tuple(self.sb.values.to_python(args[i]) for i in range(1, int(args.n) + 1))
            self.local_send(pid, text(t.topic), values, self.info.pid)
        self.proc.reply(task, True, None)
        return True

    def _update_reply(self, task: int, t: Any, where: str, update_id: str) -> bool:
        """`ack` → accept, `nak` (reason) → reject, `ok` (result) / `error` (message) → complete."""
        topic = text(t.topic)
        args = t.args
        first = args[1] if int(args.n) >= 1 else None
        if topic == "ack":
            self._emit(cmd.UpdateResponse, where, update_id=update_id, outcome="accept")
        elif topic == "nak":
            reason = text(first) if isinstance(first, bytes) else ""
            self._emit(cmd.UpdateResponse, where, ids=0, update_id=update_id, outcome="reject", reason=reason)
        elif topic == "ok":
            self._emit(
                cmd.UpdateResponse,
                where,
                update_id=update_id,
                outcome="complete",
                result=self.sb.values.to_payload(first),
            )
        elif topic == "error":
            message = text(first) if isinstance(first, bytes) else "update failed"
            self._emit(
                cmd.UpdateResponse,
                where,
                update_id=update_id,
                outcome="complete",
                failure=wippy_failure(ErrorInfo("Internal", message, False)),
            )
        else:
            return self._reply_invalid(
                task, f"unsupported update reply topic '{topic}' (ack, nak, ok, error)"
            )
        self.proc.reply(task, True, None)
        return True

    def _reply_invalid(self, task: int, message: str) -> bool:
        self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", message, False)))
        return True

    def _child(self, task: int, t: Any, where: str, *, spawn: bool) -> bool:
        target = text(t.target)
        host = text(t.host) if t.host is not None else None
        try:
            raw_options = self.sb.values.to_python(t.options) if t.options is not None else None
            options = child_options(raw_options if isinstance(raw_options, dict) else None)
            overlay = self.sb.values.to_python(t.context) if t.context is not None else {}
            args = t.args
            payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        except (OptionError, EncodeError) as exc:
            self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False)))
            return True
        assert self._task is not None
        seq = self._task.next_seq
        workflow_id = options.pop("workflow_id", None) or f"{self.info.run_id}_{seq}"
        context = {**self.context, **(overlay if isinstance(overlay, dict) else {})}
        header = {"wippy-context": python_to_payload(context)} if context else {}
        self._emit(
            cmd.StartChildWorkflowExecution,
            where,
            namespace="",
            workflow_id=workflow_id,
            workflow_type=target,
            task_queue=host or self.info.task_queue,
            input=payloads,
            header=header,
            **options,
        )
        pid = f"{{{self.info.client_id}@{host or self.info.worker_id}|{workflow_id}}}"
        self._children[seq] = _Child(workflow_id, target, pid, spawn, task=task)
        return False

    def _child_exec(self, task: int, t: Any, where: str) -> bool:
        return self._child(task, t, where, spawn=False)

    def _child_spawn(self, task: int, t: Any, where: str) -> bool:
        return self._child(task, t, where, spawn=True)

    def _continue_as_new(self, task: int, t: Any, where: str) -> bool:
        args = t.args
        try:
            payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        except EncodeError as exc:
            self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False)))
            return True
        self._emit(
            cmd.ContinueAsNewWorkflowExecution,
            where,
            workflow_type=text(t.target) if t.target is not None else self.entry.id,
            task_queue=self.info.task_queue,
            input=payloads,
            header=self._header(),
        )
        self.closed = True
        self.proc.kill_all()
        return False

    def _process_cancel(self, task: int, t: Any, where: str) -> bool:
        dest = text(t.dest)
        target = parse_pid(dest)
        if target is None:
            self.proc.reply(
                task,
                None,
                self._lua_error(
                    ErrorInfo("Internal", f"could not resolve '{dest}' as PID or registered name", False)
                ),
            )
            return True
        assert self._task is not None
        self._signals[self._task.next_seq] = task
        self._emit(cmd.RequestCancelExternalWorkflowExecution, where, namespace="", workflow_id=target[2])
        return False

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

    def _lua_error(self, info: ErrorInfo) -> Any:
        return self.sb.error(info.kind, info.full_message(), info.retryable, info.details)

    def _header(self) -> dict[str, Payload]:
        if not self.context:
            return {}
        return {"wippy-context": python_to_payload(self.context)}

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


def search_attribute_payloads(values: Any) -> dict[str, Payload]:
    """Typed search attributes (payload metadata `type`)."""
    if not isinstance(values, dict):
        raise ValueError("search must be a table of name = value")
    out: dict[str, Payload] = {}
    for name in sorted(values):
        value = values[name]
        if isinstance(value, bool):
            kind = "Bool"
        elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            kind, value = "Int", int(value)
        elif isinstance(value, float):
            kind = "Double"
        elif isinstance(value, str):
            kind = "Keyword"
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            kind = "KeywordList"
        else:
            raise ValueError(f"search attribute {name!r}: unsupported value type {type(value).__name__}")
        payload = Payload(
            metadata={"encoding": b"json/plain", "type": kind.encode()},
            data=encode_json_python(value).encode(),
        )
        out[name] = payload
    return out


# The workflow flavour of the runtime sections, each loaded when first used.
_SECTION_CODE = sections(
    {name: f"wf_{name}" for name in ("funcs", "timers", "workflow", "process", "messaging")}
)

#: The workflow's answer to each kind of host command its Lua can yield.
_HANDLERS: dict[str, Callable[[WorkflowExecution, int, Any, str], bool]] = {
    Kind.activity_call: WorkflowExecution._activity_call,
    Kind.activity_start: WorkflowExecution._activity_start,
    Kind.activity_cancel: WorkflowExecution._activity_cancel,
    Kind.timer_sleep: WorkflowExecution._sleep,
    Kind.timer_start: WorkflowExecution._timer_start,
    Kind.timer_stop: WorkflowExecution._timer_stop,
    Kind.timer_reset: WorkflowExecution._timer_reset,
    Kind.ticker_start: WorkflowExecution._ticker_start,
    Kind.ticker_stop: WorkflowExecution._timer_stop,
    Kind.side_effect: WorkflowExecution._side_effect,
    Kind.version: WorkflowExecution._version,
    Kind.attrs: WorkflowExecution._attrs,
    Kind.process_send: WorkflowExecution._process_send,
    Kind.process_cancel: WorkflowExecution._process_cancel,
    Kind.child_exec: WorkflowExecution._child_exec,
    Kind.child_spawn: WorkflowExecution._child_spawn,
    Kind.continue_as_new: WorkflowExecution._continue_as_new,
}

_CHILD_EVENTS = frozenset(
    {
        ev.CHILD_WORKFLOW_EXECUTION_STARTED,
        ev.START_CHILD_WORKFLOW_EXECUTION_FAILED,
        ev.CHILD_WORKFLOW_EXECUTION_COMPLETED,
        ev.CHILD_WORKFLOW_EXECUTION_FAILED,
        ev.CHILD_WORKFLOW_EXECUTION_CANCELED,
        ev.CHILD_WORKFLOW_EXECUTION_TERMINATED,
        ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
    }
)


# The events a workflow task's batch can hold that the execution acts on (the others only pass by).
_UNKNOWN_EXTERNAL = ErrorInfo("Internal", "unknown external workflow execution", False, None, None, None)

#: The events a workflow's code waits on, each with the method that applies it; the rest need nothing.
_EVENT_APPLIERS: dict[int, Callable[[WorkflowExecution, HistoryEvent], None]] = {
    ev.ACTIVITY_TASK_COMPLETED: WorkflowExecution._on_activity_completed,
    ev.ACTIVITY_TASK_FAILED: WorkflowExecution._on_activity_failed,
    ev.ACTIVITY_TASK_TIMED_OUT: WorkflowExecution._on_activity_timed_out,
    ev.ACTIVITY_TASK_CANCELED: WorkflowExecution._on_activity_canceled,
    ev.TIMER_FIRED: WorkflowExecution._on_timer_fired,
    ev.WORKFLOW_EXECUTION_SIGNALED: WorkflowExecution._on_signaled,
    ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED: WorkflowExecution._on_cancel_requested,
    ev.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: WorkflowExecution._on_external_cancel_requested,
    ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: WorkflowExecution._on_external_cancel_failed,
    ev.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: WorkflowExecution._on_external_signaled,
    ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: WorkflowExecution._on_external_signal_failed,
    **{kind: WorkflowExecution._on_child for kind in _CHILD_EVENTS},
}


def _child_close_attributes(kind: int, event: HistoryEvent) -> Any:
    attributes: dict[int, Any] = {
        ev.CHILD_WORKFLOW_EXECUTION_COMPLETED: event.child_workflow_execution_completed_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_FAILED: event.child_workflow_execution_failed_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_CANCELED: event.child_workflow_execution_canceled_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_TERMINATED: event.child_workflow_execution_terminated_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT: event.child_workflow_execution_timed_out_event_attributes,
    }
    return attributes[kind]


def parse_pid(text_value: str) -> tuple[str, str, str] | None:
    """`{node@host|uniq}` → (node, host, uniq); None when it is not a PID."""
    if not (text_value.startswith("{") and text_value.endswith("}")) or "|" not in text_value:
        return None
    inner = text_value[1:-1]
    address, _, uniq = inner.partition("|")
    node, _, host = address.partition("@")
    return node, host, uniq


def _sender(header: Any) -> str:
    """The sender PID of a signal: `temporal.signal.from` in the `wippy-context` header."""
    payload = header.fields.get("wippy-context") if header is not None else None
    if payload is None:
        return ""
    try:
        values = json.loads(payload.data)
    except ValueError:
        return ""
    sender = values.get("temporal.signal.from") if isinstance(values, dict) else None
    return sender if isinstance(sender, str) and parse_pid(sender) is not None else ""
