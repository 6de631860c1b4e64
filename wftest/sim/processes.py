"""Plain Lua processes in the simulated world: a function or process entry run as a Wippy process (as a
Wippy test runs), on the virtual clock. From one, code starts workflows on a `temporal.worker` host,
signals them, monitors them and receives their replies (spec §1.5, §2.7, §2.12).

Unlike workflows, a process is not recorded anywhere: its commands are served on the spot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wftest.app import LuaEntry
from wftest.history.failures import ErrorInfo, error_from_failure
from wftest.lua.compiler import bytecode
from wftest.lua.modules.time import duration_ns, new_time
from wftest.lua.process import HostCommand, LuaProcess
from wftest.lua.sandbox import LIB, LuaFailure, Sandbox, SandboxOptions, text
from wftest.lua.values import GO_NIL, EncodeError, payload_to_python
from wftest.sim.activities import ActivityInfo
from wftest.sim.state import WorkflowRun
from wftest.worker.execution import parse_pid

if TYPE_CHECKING:
    from wftest.sim.world import World

_SECTIONS = {
    name.encode(): bytecode((LIB / f"{file}.lua").read_bytes(), f"={file}.lua")
    for name, file in (
        ("funcs", "wf_funcs"),
        ("timers", "wf_timers"),
        ("process", "proc_process"),
        ("messaging", "wf_messaging"),
    )
}


@dataclass
class ProcessRun:
    """A plain process started in the world."""

    pid: str
    entry_id: str
    status: str = "running"  # "running" | "finished" | "failed"
    values: tuple[Any, ...] = ()
    failure: LuaFailure | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status != "running"

    @property
    def result(self) -> Any:
        """The first return value, as Python."""
        return self.values[0] if self.values else None

    @property
    def error(self) -> Any:
        """The second return value (a Wippy test's `nil, err`), as Python (errors as their message)."""
        return self.values[1] if len(self.values) > 1 else None


@dataclass(frozen=True)
class Message:
    """A message a mailbox received: its topic, its values (one per payload) and the sender's PID."""

    topic: str
    values: tuple[Any, ...]
    sender: str

    @property
    def payload(self) -> Any:
        """The first value (most messages carry one), or None."""
        return self.values[0] if self.values else None


@dataclass
class Mailbox:
    """An address for test code: what workflows and processes send to its PID is kept, in order."""

    pid: str
    messages: list[Message] = field(default_factory=list)

    def deliver(self, topic: str, sender: str, values: tuple[Any, ...]) -> None:
        self.messages.append(Message(topic, tuple(values), sender))


class PlainProcess:
    """Drives one plain process: steps it when something it waits for happens, serves its commands."""

    def __init__(self, world: World, entry: LuaEntry, args: tuple[Any, ...], pid: str) -> None:
        self.world = world
        self.entry = entry
        self.run = ProcessRun(pid, entry.id)
        options = SandboxOptions(
            clock_ns=lambda: world.now_ns,
            deterministic=False,
            seed=world.rng.getrandbits(63),
            log=self.run.logs.append,
            providers={
                "funcs": lambda sb: self.rt.section(b"funcs").funcs,
                "time": self._open_time,
                "process": lambda sb: self.rt.section(b"process").process,
                **world.resources.providers(),  # sql, store, env on the world's resources
            },
        )
        if world.memory_limit is not None:
            options.memory_limit = world.memory_limit
        if world.instruction_budget is not None:
            options.instruction_budget = world.instruction_budget
        self.sb = Sandbox(options)
        self.proc = LuaProcess(self.sb)
        host = self.sb.lua.table_from(
            {
                b"duration_ns": self.sb.host_function(self._duration),
                b"info": self.sb.host_function(self._info),
                b"sections": self.sb.lua.table_from(_SECTIONS),
            }
        )
        self.rt = self.sb.library_api("workflow_runtime.lua", self.proc.table, host)
        self._timers: dict[int, Any] = {}  # handle -> agenda item of its next fire
        self._channels: dict[int, int] = {}  # handle -> the channel it fires into
        self._next_handle = 0
        self._watching: set[str] = set()  # PIDs whose close this process hears of (monitor/link)
        main = self.sb.load_entry(world.app, entry)
        self.proc.start(main, *(self.sb.table(a) for a in args))
        self.wake()

    # -- plumbing ------------------------------------------------------------------------------------

    def _open_time(self, sb: Sandbox) -> Any:
        from wftest.lua.modules.time import open_time

        module = open_time(sb)
        self.rt.extend(module, self.rt.section(b"timers"))
        return module

    def _duration(self, value: Any) -> tuple[Any, ...]:
        try:
            return (duration_ns(self.sb, value),)
        except ValueError as exc:
            return None, str(exc)

    def _info(self) -> Any:
        return self.sb.table({"pid": self.run.pid, "entry_id": self.entry.id})

    def wake(self) -> None:
        """Step at the current instant (after whatever else is due now)."""
        if not self.run.closed:
            self.world.agenda.at(self.world.now_ns, self.step)

    def deliver(self, topic: str, sender: str, values: tuple[Any, ...]) -> None:
        """A message from a workflow or another process."""
        if self.run.closed:
            return
        self.rt.deliver(topic.encode(), sender.encode(), *(self.sb.table(v) for v in values))
        self.wake()

    def event(self, event: dict[str, Any]) -> None:
        if self.run.closed:
            return
        self.rt.deliver_event(self.sb.table(event))
        self.wake()

    # -- stepping ------------------------------------------------------------------------------------

    def step(self) -> None:
        while not self.run.closed:
            outcome = self.proc.step()
            if outcome.status == "finished":
                self._close("finished", values=tuple(self._python(v) for v in outcome.values))
                return
            if outcome.status == "failed":
                self._close("failed", failure=outcome.failure)
                return
            if outcome.status == "deadlock":
                self._close("failed", failure=LuaFailure(outcome.report))
                return
            if not any([self._execute(c) for c in outcome.commands]):
                return

    def _close(self, status: str, *, values: tuple[Any, ...] = (), failure: LuaFailure | None = None) -> None:
        self.run.status, self.run.values, self.run.failure = status, values, failure
        for item in self._timers.values():
            item.cancelled = True
        self.proc.kill_all()

    def _python(self, value: Any) -> Any:
        """A returned value as Python: errors as their message, tables that JSON cannot hold as text."""
        if bool(self.sb.api.is_error(value)):
            return text(self.sb.api.error_string(value))
        try:
            return self.sb.values.to_python(value)
        except EncodeError as exc:
            return f"<unencodable value: {exc}>"

    def _reply_error(self, task: int, kind: str, message: str) -> bool:
        self.proc.reply(task, None, self.sb.error(kind, message, False))
        return True

    def _execute(self, host: HostCommand) -> bool:
        """Serve one command; True when the process can run on at once."""
        t = host.table
        kind = text(t.kind)
        handler = _HANDLERS.get(kind)
        if handler is None:
            return self._reply_error(host.task, "Internal", f"'{kind}' is not available in a process")
        return handler(self, host.task, t)

    # -- time ----------------------------------------------------------------------------------------

    def _sleep(self, task: int, t: Any) -> bool:
        def done() -> None:
            self.proc.reply(task)
            self.step()

        self.world.agenda.at(self.world.now_ns + max(int(t.duration), 0), done)
        return False

    def _arm(self, handle: int, channel: int, duration: int, *, repeat: bool) -> None:
        def fire() -> None:
            self.proc.push(channel, new_time(self.sb, self.world.now_ns))
            if repeat:
                self._arm(handle, channel, duration, repeat=True)
            else:
                self._timers.pop(handle, None)
            self.step()

        self._timers[handle] = self.world.agenda.at(self.world.now_ns + duration, fire)
        self._channels[handle] = channel

    def _timer(self, task: int, t: Any, *, repeat: bool = False) -> bool:
        self._next_handle += 1
        self._arm(self._next_handle, int(t.channel), int(t.duration), repeat=repeat)
        self.proc.reply(task, self._next_handle)
        return True

    def _ticker(self, task: int, t: Any) -> bool:
        return self._timer(task, t, repeat=True)

    def _timer_stop(self, task: int, t: Any) -> bool:
        item = self._timers.pop(int(t.timer), None)
        if item is not None:
            item.cancelled = True
        self.proc.reply(task, item is not None)
        return True

    def _timer_reset(self, task: int, t: Any) -> bool:
        """timer:reset(d): the old fire is dropped and the timer fires d from now (true if it was active)."""
        handle = int(t.timer)
        item = self._timers.pop(handle, None)
        if item is not None:
            item.cancelled = True
        channel = self._channels.get(handle)
        if channel is not None:
            self._arm(handle, channel, int(t.duration), repeat=False)
        self.proc.reply(task, item is not None)
        return True

    # -- functions -----------------------------------------------------------------------------------

    def _call(self, task: int, t: Any) -> bool:
        value, err = self._run_function(t)
        self.proc.reply(task, value, err)
        return True

    def _async(self, task: int, t: Any) -> bool:
        value, err = self._run_function(t)
        self._next_handle += 1
        future = self._next_handle
        self.proc.reply(task, future)

        def resolve() -> None:
            self.rt.resolve_future(future, value, err)
            self.step()

        self.world.agenda.at(self.world.now_ns, resolve)
        return True

    def _run_function(self, t: Any) -> tuple[Any, Any]:
        """`funcs.call` from a process runs the function now: a mock, else the app's entry (one attempt)."""
        args = t.args
        payloads = [self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1)]
        target = text(t.target)
        info = ActivityInfo(target, target, 1, self.world.now_ns, {}, "")
        outcome = self.world.activity_runner.attempt(target, payloads, info)
        if outcome.error is not None:
            return None, self._lua_error(outcome.error)
        return (self.sb.values.from_payload(outcome.result) if outcome.result is not None else None), None

    def _lua_error(self, info: ErrorInfo) -> Any:
        return self.sb.error(info.kind, info.full_message(), info.retryable, info.details)

    # -- messages and workflows ----------------------------------------------------------------------

    def _send(self, task: int, t: Any) -> bool:
        args = t.args
        values = tuple(self.sb.values.to_python(args[i]) for i in range(1, int(args.n) + 1))
        ok, message = self.world.route_message(text(t.dest), text(t.topic), values, self.run.pid)
        if ok:
            self.proc.reply(task, True, None)
            return True
        return self._reply_error(task, "NotFound", message)

    def _start(self, task: int, t: Any, *, wait: bool) -> bool:
        options = self.sb.values.to_python(t.options) if t.options is not None else {}
        context = self.sb.values.to_python(t.context) if t.context is not None else {}
        args = t.args
        payloads = [self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1)]
        messages = []
        if t.messages is not None:
            for i in range(1, len(t.messages) + 1):
                m = t.messages[i]
                margs = m.args
                messages.append(
                    (
                        text(m.topic),
                        tuple(self.sb.values.to_python(margs[j]) for j in range(1, int(margs.n) + 1)),
                    )
                )
        started = self.world.start_from_process(
            text(t.target),
            text(t.host),
            payloads,
            options if isinstance(options, dict) else {},
            context if isinstance(context, dict) else {},
            text(t.name) if t.name is not None else None,
            messages,
            self.run.pid,
        )
        if isinstance(started, str):
            return self._reply_error(task, "AlreadyExists" if "already" in started else "Invalid", started)
        run, pid = started
        if wait:
            self.world.watch(run, lambda closed: self._exec_done(task, closed))
            return False
        if bool(t.monitor) or bool(t.link):
            self._monitor(run, pid, link=bool(t.link))
        self.proc.reply(task, pid.encode(), None)
        return True

    def _spawn(self, task: int, t: Any) -> bool:
        return self._start(task, t, wait=False)

    def _exec(self, task: int, t: Any) -> bool:
        return self._start(task, t, wait=True)

    def _exec_done(self, task: int, run: WorkflowRun) -> None:
        value, err = self._outcome(run)
        self.proc.reply(task, value, err)
        self.step()

    def _outcome(self, run: WorkflowRun) -> tuple[Any, Any]:
        if run.status == "completed":
            value = payload_to_python(run.result_payload) if run.result_payload is not None else None
            return (None if value is GO_NIL else self.sb.table(value)), None
        if run.status == "terminated":
            return None, self.sb.error("Canceled", "workflow terminated", False)
        if run.status == "timed_out":
            return None, self.sb.error("Timeout", "workflow timed out", False)
        assert run.failure is not None
        return None, self._lua_error(error_from_failure(run.failure))

    def _monitor(self, run: WorkflowRun, pid: str, *, link: bool) -> None:
        def closed(final: WorkflowRun) -> None:
            if pid not in self._watching:
                return
            value, err = self._outcome(final)
            if link and final.status != "completed":
                trap = bool(self.sb.values.to_python(self.rt.section(b"messaging").options.trap_links))
                if not trap:
                    self._close(
                        "failed", failure=LuaFailure(f"linked process {pid} terminated", kind="Canceled")
                    )
                    return
                self.event({"kind": "pid.link.down", "from": pid, "at": self.world.now_ns // 10**9})
                return
            result = {"value": value} if err is None else {"error": err}
            self.event({"kind": "pid.exit", "from": pid, "at": self.world.now_ns // 10**9, "result": result})

        self._watching.add(pid)
        self.world.watch(run, closed)

    def _monitor_cmd(self, task: int, t: Any, *, link: bool = False) -> bool:
        dest = text(t.dest)
        target = parse_pid(dest)
        run = self.world.find_run(target[2]) if target is not None else None
        if run is None:
            return self._reply_error(task, "NotFound", f"could not resolve '{dest}' as a running process")
        if bool(t.on):
            self._monitor(run, dest, link=link)
        else:
            self._watching.discard(dest)
        self.proc.reply(task, True, None)
        return True

    def _link_cmd(self, task: int, t: Any) -> bool:
        return self._monitor_cmd(task, t, link=True)

    def _stop_workflow(self, task: int, t: Any, *, terminate: bool) -> bool:
        dest = text(t.dest)
        target = parse_pid(dest)
        run = self.world.find_run(target[2]) if target is not None else None
        if run is None or run.closed:
            return self._reply_error(task, "NotFound", f"could not resolve '{dest}' as a running workflow")
        if terminate:
            self.world.terminate(run, "process.terminate")
        else:
            self.world.request_cancel(run)
        self.proc.reply(task, True, None)
        return True

    def _terminate(self, task: int, t: Any) -> bool:
        return self._stop_workflow(task, t, terminate=True)

    def _cancel(self, task: int, t: Any) -> bool:
        return self._stop_workflow(task, t, terminate=False)


_HANDLERS: dict[str, Callable[[PlainProcess, int, Any], bool]] = {
    "timer.sleep": PlainProcess._sleep,
    "timer.start": PlainProcess._timer,
    "ticker.start": PlainProcess._ticker,
    "timer.stop": PlainProcess._timer_stop,
    "ticker.stop": PlainProcess._timer_stop,
    "timer.reset": PlainProcess._timer_reset,
    "activity.call": PlainProcess._call,
    "activity.start": PlainProcess._async,
    "process.send": PlainProcess._send,
    "proc.spawn": PlainProcess._spawn,
    "proc.exec": PlainProcess._exec,
    "proc.monitor": PlainProcess._monitor_cmd,
    "proc.link": PlainProcess._link_cmd,
    "proc.terminate": PlainProcess._terminate,
    "proc.cancel": PlainProcess._cancel,
}
