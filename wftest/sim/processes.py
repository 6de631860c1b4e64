"""Plain Lua processes in the simulated world: `process.lua` and `function.lua` entries run as Wippy
processes on the virtual clock, beside the workflows.

A process is started by a test (`World.run_process`), spawned by another process on a `process.host`
entry, or called as a function (`funcs.call` from a process runs the target as a process of its own). It
starts workflows on a `temporal.worker` host, sends and receives messages, monitors and links to other
processes and to workflows, and registers names. Unlike workflows, a process is not recorded anywhere:
its commands are served on the spot, in the world's one agenda, so a run stays deterministic.

The world's table of processes (PIDs, names, monitors, links) is `wftest.sim.process_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Protocol

from wftest.app import App, LuaEntry
from wftest.encoding.jsontext import GO_NIL
from wftest.encoding.payloads import payload_to_python
from wftest.history.failures import ErrorInfo, error_from_failure
from wftest.lua.kinds import Kind
from wftest.lua.modules.time import new_time
from wftest.lua.process import HostCommand
from wftest.lua.sandbox import text
from wftest.sim.activities import ActivityInfo
from wftest.sim.process_driver import EXIT, LINK_DOWN, TEST_HOST, ProcessDriver, ProcessRun
from wftest.sim.services import ProcessWorld
from wftest.sim.state import SimulationError, WorkflowRun
from wftest.worker.workflow_state import parse_pid

PROCESS_HOST = "process.host"
TEMPORAL_WORKER = "temporal.worker"
MAX_LIVE_PROCESSES = 20_000  # functions called from processes run as processes too: calls in flight


def runnable_kind(kind: str) -> bool:
    """Entry kinds a process host runs: Lua processes and Lua functions."""
    return kind.startswith("process.lua") or kind.startswith("function.lua")


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
    events: list[dict[str, Any]] = field(default_factory=list)

    def deliver(self, topic: str, sender: str, values: tuple[Any, ...]) -> None:
        self.messages.append(Message(topic, tuple(values), sender))

    def event(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class Processes(Protocol):
    """The world's process table as its processes reach it (`wftest.sim.process_table` holds the
    table, which hands itself to every process it makes)."""

    @property
    def live(self) -> Mapping[str, PlainProcess | Mailbox]: ...

    @property
    def gone(self) -> AbstractSet[str]: ...

    @property
    def names(self) -> dict[str, str]: ...

    def start(
        self,
        entry: LuaEntry,
        args: tuple[Any, ...],
        *,
        host: str = TEST_HOST,
        context: dict[str, Any] | None = None,
        parent: str = "",
    ) -> PlainProcess:
        """A new process of `entry`, first stepped at the current instant."""
        ...

    def spawn(
        self,
        entry_id: str,
        host_id: str,
        args: tuple[Any, ...],
        *,
        context: dict[str, Any],
        parent: str,
        name: str | None,
        messages: list[tuple[str, tuple[Any, ...]]],
    ) -> PlainProcess | str | ErrorInfo:
        """`process.spawn*` on a `process.host`: the new process, the PID a name holds, or the error."""
        ...

    def send(self, dest: str, topic: str, values: tuple[Any, ...], sender: str) -> ErrorInfo | None:
        """A message to a process, mailbox or workflow by PID or name (the error when it cannot go)."""
        ...

    def resolve(self, dest: str) -> str | None:
        """A PID or a registered name → the PID (None: neither)."""
        ...

    def process(self, pid: str) -> PlainProcess | None:
        """The live plain process with this PID."""
        ...

    def terminate(self, pid: str) -> None:
        """Kill a live process now."""
        ...

    def cancel(self, pid: str, sender: str, reason: str | None) -> None:
        """A CANCEL event for a live process."""
        ...

    def closed(self, process: ProcessDriver) -> None:
        """A process ended: release its names, tell its monitors and links."""
        ...


class PlainProcess(ProcessDriver):
    """A plain process of the world: serves the commands its Lua yields, one method per kind
    (`_HANDLERS`), on the virtual clock and the world's process table."""

    def __init__(
        self,
        world: ProcessWorld,
        table: Processes,
        entry: LuaEntry,
        args: tuple[Any, ...],
        pid: str,
        *,
        host: str = TEST_HOST,
        context: dict[str, Any] | None = None,
        parent: str = "",
    ) -> None:
        self.table = table
        super().__init__(world, entry, args, pid, host=host, context=context, parent=parent)

    def _ended(self) -> None:
        self.table.closed(self)

    def _execute(self, host: HostCommand) -> bool:
        """Serve one command; True when the process can run on at once."""
        if self.run.closed:  # an earlier command of the same step ended this process
            return False
        t = host.table
        return _HANDLERS.get(text(t.kind), PlainProcess._refuse)(self, host.task, t)

    def _refuse(self, task: int, t: Any) -> bool:
        """A command a plain process does not serve: an Internal error reply (`future:cancel()` of a
        function call only settles the future in Lua)."""
        return self._reply_error(task, "Internal", f"'{text(t.kind)}' is not available in a process")

    # -- time ----------------------------------------------------------------------------------------

    def _sleep(self, task: int, t: Any) -> bool:
        def done() -> None:
            if self.proc.reply(task):
                self.step()

        self._next_handle += 1
        self._timers[-self._next_handle] = self.world.agenda.at(
            self.world.now_ns + max(int(t.duration), 0), done
        )
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
        def done(value: Any, err: Any) -> None:
            if not self.run.closed and self.proc.reply(task, value, err):
                self.wake()

        now = self._run_function(t, done)
        if now is None:
            return False
        self.proc.reply(task, *now)
        return True

    def _async(self, task: int, t: Any) -> bool:
        self._next_handle += 1
        future = self._next_handle
        self.proc.reply(task, future)

        def done(value: Any, err: Any) -> None:
            if not self.run.closed:
                self.rt.resolve_future(future, value, err)
                self.wake()

        now = self._run_function(t, done)
        if now is not None:
            self.world.agenda.at(self.world.now_ns, lambda: done(*now))
        return True

    def _run_function(self, t: Any, done: Callable[[Any, Any], None]) -> tuple[Any, Any] | None:
        """`funcs.call` from a process: a mock answers at once (the value and error are returned); a Lua
        function or process entry of the app runs as a process of its own on the virtual clock (so it can
        sleep, call functions, spawn), with this process's context plus the executor's, as Wippy's
        process-backed functions do, and `done` gets its outcome (None is returned)."""
        args = t.args
        target = text(t.target)
        entry = self.world.app.entries.get(target)
        if target not in self.world.mocks and isinstance(entry, LuaEntry) and runnable_kind(entry.kind):
            running = sum(1 for p in self.table.live.values() if isinstance(p, PlainProcess))
            if running >= MAX_LIVE_PROCESSES:
                return None, self._lua_error(
                    ErrorInfo(
                        "Unavailable",
                        f"cannot call {target}: {running} processes are running (the limit is "
                        f"{MAX_LIVE_PROCESSES}); a function that calls itself without end?",
                        False,
                    )
                )
            extra = self.sb.values.to_python(t.context) if t.context is not None else None
            context = {**self.context, **(extra if isinstance(extra, dict) else {})}
            callee = self.table.start(
                entry, self._args(args), host=TEST_HOST, context=context, parent=self.run.pid
            )

            def finished(run: ProcessRun) -> None:
                if run.exit_error is not None:
                    done(None, self._lua_error(run.exit_error))
                else:
                    value = run.result
                    done(None if value is None else self.sb.table(value), None)

            callee.on_close.append(finished)
            return None
        payloads = [self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1)]
        info = ActivityInfo(target, target, 1, self.world.now_ns, dict(self.context), "")
        outcome = self.world.activity_runner.attempt(target, payloads, info)
        if outcome.error is not None:
            return None, self._lua_error(outcome.error)
        return (self.sb.values.from_payload(outcome.result) if outcome.result is not None else None), None

    # -- messages ------------------------------------------------------------------------------------

    def _send(self, task: int, t: Any) -> bool:
        values = self._args(t.args)
        error = self.table.send(text(t.dest), text(t.topic), values, self.run.pid)
        if error is not None:
            return self._reply_info(task, error)
        self.proc.reply(task, True, None)
        return True

    # -- spawning ------------------------------------------------------------------------------------

    def _host_kind(self, host_id: str) -> str | None:
        host = self.world.app.entries.get(host_id)
        return host.kind if host is not None else None

    def _start(self, task: int, t: Any, *, wait: bool) -> bool:
        host_id = text(t.host)
        kind = self._host_kind(host_id)
        if kind == PROCESS_HOST:
            return self._spawn_process(task, t, wait=wait)
        if kind != TEMPORAL_WORKER:
            what = f"a {kind} entry" if kind else "not an entry of this app"
            return self._reply_error(
                task,
                "Invalid",
                f"host '{host_id}' is {what} (processes run on process.host entries, "
                "workflows on temporal.worker entries)",
            )
        return self._start_workflow(task, t, wait=wait)

    def _spawn_messages(self, t: Any) -> list[tuple[str, tuple[Any, ...]]]:
        messages = []
        if t.messages is not None:
            for i in range(1, len(t.messages) + 1):
                m = t.messages[i]
                messages.append((text(m.topic), self._args(m.args)))
        return messages

    def _spawn_process(self, task: int, t: Any, *, wait: bool) -> bool:
        extra = self.sb.values.to_python(t.context) if t.context is not None else None
        context = {**self.context, **(extra if isinstance(extra, dict) else {})}
        spawned = self.table.spawn(
            text(t.target),
            text(t.host),
            self._args(t.args),
            context=context,
            parent=self.run.pid,
            name=text(t.name) if t.name is not None else None,
            messages=self._spawn_messages(t),
        )
        if isinstance(spawned, ErrorInfo):
            return self._reply_info(task, spawned)
        if isinstance(spawned, str):  # a registered name's process took the messages
            self.proc.reply(task, spawned.encode(), None)
            return True
        if wait:

            def finished(run: ProcessRun) -> None:
                if run.exit_error is not None:
                    reply = (None, self._lua_error(run.exit_error))
                else:
                    reply = (None if run.result is None else self.sb.table(run.result), None)
                if not self.run.closed and self.proc.reply(task, *reply):
                    self.wake()

            spawned.on_close.append(finished)
            return False
        if bool(t.monitor):
            spawned.monitors[self.run.pid] = None
        if bool(t.link):
            spawned.links[self.run.pid] = None
            self.links[spawned.run.pid] = None
        self.proc.reply(task, spawned.run.pid.encode(), None)
        return True

    def _start_workflow(self, task: int, t: Any, *, wait: bool) -> bool:
        options = self.sb.values.to_python(t.options) if t.options is not None else {}
        extra = self.sb.values.to_python(t.context) if t.context is not None else None
        context = {**self.context, **(extra if isinstance(extra, dict) else {})}
        args = t.args
        payloads = [self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1)]
        started = self.world.start_from_process(
            text(t.target),
            text(t.host),
            payloads,
            options if isinstance(options, dict) else {},
            context,
            text(t.name) if t.name is not None else None,
            self._spawn_messages(t),
            self.run.pid,
        )
        if isinstance(started, str):
            return self._reply_error(task, "AlreadyExists" if "already" in started else "Invalid", started)
        run, pid = started
        if wait:
            self.world.watch(run, lambda closed: self._exec_done(task, closed))
            return False
        if bool(t.monitor) or bool(t.link):
            self._monitor(run, pid, monitor=bool(t.monitor), link=bool(t.link))
        self.proc.reply(task, pid.encode(), None)
        return True

    def _spawn(self, task: int, t: Any) -> bool:
        return self._start(task, t, wait=False)

    def _exec(self, task: int, t: Any) -> bool:
        return self._start(task, t, wait=True)

    def _exec_done(self, task: int, run: WorkflowRun) -> None:
        if self.run.closed:
            return
        value, err = self._outcome(run)
        if self.proc.reply(task, value, err):
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

    # -- monitors and links --------------------------------------------------------------------------

    def _monitor(self, run: WorkflowRun, pid: str, *, monitor: bool = True, link: bool = False) -> None:
        """Monitor and/or link to a workflow. Its close reaches a monitor as EXIT; a link hears LINK_DOWN
        when it failed and EXIT when it completed, each with `result` (value or error), as Wippy's
        Temporal peer reports a workflow's end (service/temporal/peer/receiver.go)."""

        def closed(final: WorkflowRun) -> None:
            if pid not in self._watching or self.run.closed:
                return
            value, err = self._outcome(final)
            at = self.world.now_ns // 10**9
            kinds = [EXIT] if monitor else []
            if link:
                kinds.append(EXIT if err is None else LINK_DOWN)
            for kind in kinds:
                out = self.sb.lua.table()
                if err is None:
                    out.value = value
                else:
                    out.error = err
                table = self.sb.table({"kind": kind, "from": pid, "at": at})
                table.result = out
                if kind == LINK_DOWN:
                    self._link_down = True
                self.rt.deliver_event(table)
            self.wake()

        self._watching.add(pid)
        self.world.watch(run, closed)

    def _target(self, task: int, t: Any) -> tuple[str, PlainProcess | WorkflowRun | None] | None:
        """The command's destination (PID or name) as a live process or a workflow run; replies the
        NotFound error and returns None when it names nothing."""
        dest = text(t.dest)
        pid = self.table.resolve(dest)
        if pid is None:
            self._reply_error(task, "NotFound", f"could not resolve '{dest}' as PID or registered name")
            return None
        process = self.table.process(pid)
        if process is not None:
            return pid, process
        parsed = parse_pid(pid)
        run = self.world.find_run(parsed[2]) if parsed is not None and pid not in self.table.gone else None
        return pid, run

    def _monitor_cmd(self, task: int, t: Any, *, link: bool = False) -> bool:
        found = self._target(task, t)
        if found is None:
            return True
        pid, target = found
        on = bool(t.on)
        if isinstance(target, PlainProcess):
            if link:
                if on:
                    target.links[self.run.pid] = None
                    self.links[pid] = None
                else:
                    target.links.pop(self.run.pid, None)
                    self.links.pop(pid, None)
            elif on:
                target.monitors[self.run.pid] = None
            else:
                target.monitors.pop(self.run.pid, None)
        elif isinstance(target, WorkflowRun) and not target.closed:
            if on:
                self._monitor(target, pid, monitor=not link, link=link)
            else:
                self._watching.discard(pid)
        elif on:
            # Wippy reports a process that is already gone at once: EXIT (or LINK_DOWN) with noproc.
            at = self.world.now_ns // 10**9
            gone = ErrorInfo("NotFound", f"process not found: {pid}", False)
            kind = LINK_DOWN if link else EXIT
            self.event({"kind": kind, "from": pid, "at": at, "result": {"error": gone}})
        self.proc.reply(task, True, None)
        return True

    def _link_cmd(self, task: int, t: Any) -> bool:
        return self._monitor_cmd(task, t, link=True)

    def _stop(self, task: int, t: Any, *, terminate: bool) -> bool:
        found = self._target(task, t)
        if found is None:
            return True
        pid, target = found
        if isinstance(target, PlainProcess):
            if terminate:
                self.table.terminate(pid)
            else:
                reason = text(t.arg) if isinstance(t.arg, bytes) else None
                self.table.cancel(pid, self.run.pid, reason)
        elif isinstance(target, WorkflowRun) and not target.closed:
            if terminate:
                self.world.terminate(target, "process.terminate")
            else:
                self.world.request_cancel(target)
        else:
            return self._reply_error(task, "NotFound", f"process not found: {pid}")
        if not self.run.closed:
            self.proc.reply(task, True, None)
        return True

    def _terminate(self, task: int, t: Any) -> bool:
        return self._stop(task, t, terminate=True)

    def _cancel(self, task: int, t: Any) -> bool:
        return self._stop(task, t, terminate=False)

    # -- the name registry ---------------------------------------------------------------------------

    def _register(self, task: int, t: Any) -> bool:
        name = text(t.name)
        pid = text(t.pid) if t.pid is not None else self.run.pid
        holder = self.table.names.get(name)
        if holder is not None and holder != pid:
            return self._reply_error(task, "AlreadyExists", f"name already registered: {name}")
        target = self.table.process(pid)
        if target is None and pid != self.run.pid:
            return self._reply_error(task, "NotFound", f"process not found: {pid}")
        self.table.names[name] = pid
        owner = target if target is not None else self
        if name not in owner.names:
            owner.names.append(name)
        self.proc.reply(task, True, None)
        return True

    def _lookup(self, task: int, t: Any) -> bool:
        name = text(t.name)
        pid = self.table.names.get(name)
        if pid is None:
            return self._reply_error(task, "NotFound", "name not registered")
        self.proc.reply(task, pid.encode(), None)
        return True

    def _unregister(self, task: int, t: Any) -> bool:
        name = text(t.name)
        pid = self.table.names.pop(name, None)
        if pid is not None:
            owner = self.table.process(pid)
            if owner is not None and name in owner.names:
                owner.names.remove(name)
        self.proc.reply(task, pid is not None)
        return True


#: A plain process's answer to each kind of host command its Lua can yield.
_HANDLERS: dict[str, Callable[[PlainProcess, int, Any], bool]] = {
    Kind.timer_sleep: PlainProcess._sleep,
    Kind.timer_start: PlainProcess._timer,
    Kind.ticker_start: PlainProcess._ticker,
    Kind.timer_stop: PlainProcess._timer_stop,
    Kind.ticker_stop: PlainProcess._timer_stop,
    Kind.timer_reset: PlainProcess._timer_reset,
    Kind.activity_call: PlainProcess._call,
    Kind.activity_start: PlainProcess._async,
    Kind.activity_cancel: PlainProcess._refuse,
    Kind.process_send: PlainProcess._send,
    Kind.proc_spawn: PlainProcess._spawn,
    Kind.proc_exec: PlainProcess._exec,
    Kind.proc_monitor: PlainProcess._monitor_cmd,
    Kind.proc_link: PlainProcess._link_cmd,
    Kind.proc_terminate: PlainProcess._terminate,
    Kind.proc_cancel: PlainProcess._cancel,
    Kind.proc_register: PlainProcess._register,
    Kind.proc_lookup: PlainProcess._lookup,
    Kind.proc_unregister: PlainProcess._unregister,
}


def unknown_process_entry(app: App, entry_id: str) -> SimulationError:
    known = ", ".join(e.id for e in app.entries.values() if runnable_kind(e.kind)) or "none"
    return SimulationError(
        f"'{entry_id}' is not a function or process entry of this app (process.lua and function.lua "
        f"entries: {known})"
    )
