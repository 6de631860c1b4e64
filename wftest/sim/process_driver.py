"""Drives one plain Lua process: its sandbox, its steps, its mailbox and lifecycle events, and how it
ends. What it yields is served by `wftest.sim.processes.PlainProcess`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wftest.app import LuaEntry
from wftest.encoding.jsontext import EncodeError
from wftest.history.failures import ErrorInfo
from wftest.lua.host import LuaHost, sections
from wftest.lua.process import HostCommand
from wftest.lua.sandbox import LuaFailure, SandboxOptions, text
from wftest.lua.state import STATES
from wftest.sim.modules import providers
from wftest.sim.services import ProcessWorld
from wftest.worker.errors import error_info

# The plain-process flavour of the runtime sections: its own `process` module, the rest shared.
_SECTION_CODE = sections(
    {"funcs": "wf_funcs", "timers": "wf_timers", "process": "proc_process", "messaging": "wf_messaging"}
)

EXIT, LINK_DOWN = "pid.exit", "pid.link.down"
TEST_HOST = "process.host"  # the host part of the PIDs of processes a test starts


@dataclass
class ProcessRun:
    """A plain process of the world and how it ended."""

    pid: str
    entry_id: str
    host: str = TEST_HOST
    status: str = "running"  # "running" | "finished" | "failed"
    values: tuple[Any, ...] = ()
    failure: LuaFailure | None = None
    logs: list[str] = field(default_factory=list)
    exit_error: ErrorInfo | None = None  # why it ended abnormally (error, `nil, err` return, kill)

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


class ProcessDriver(LuaHost):
    """Steps one plain process when something it waits for happens; `_execute` serves each command."""

    def __init__(
        self,
        world: ProcessWorld,
        entry: LuaEntry,
        args: tuple[Any, ...],
        pid: str,
        *,
        host: str = TEST_HOST,
        context: dict[str, Any] | None = None,
        parent: str = "",
    ) -> None:
        self.world = world
        self.entry = entry
        self.parent = parent
        self.context: dict[str, Any] = dict(context or {})
        self.run = ProcessRun(pid, entry.id, host)
        self.monitors: dict[str, None] = {}  # PIDs that hear EXIT when this process ends (ordered set)
        self.links: dict[str, None] = {}  # linked process PIDs (ordered set)
        self.names: list[str] = []
        self.on_close: list[Callable[[ProcessRun], None]] = []
        self._link_down = False
        self._wake_pending = False
        options = SandboxOptions(
            clock_ns=lambda: world.now_ns,
            context=self.context,
            deterministic=False,
            seed=world.rng.getrandbits(63),
            log=self.run.logs.append,
            providers={
                "funcs": lambda sb: self.rt.section(b"funcs").funcs,
                "time": self._open_time,
                "process": lambda sb: self.rt.section(b"process").process,
                **providers(world.resources),  # sql, store, env on the world's resources
            },
        )
        if world.memory_limit is not None:
            options.memory_limit = world.memory_limit
        if world.instruction_budget is not None:
            options.instruction_budget = world.instruction_budget
        self._start_host(options, STATES.acquire(options.memory_limit), _SECTION_CODE)
        try:
            self._load(args)
        except BaseException:
            self._release()
            raise

    def _load(self, args: tuple[Any, ...]) -> None:
        self._timers: dict[int, Any] = {}  # handle -> agenda item of its next fire
        self._channels: dict[int, int] = {}  # handle -> the channel it fires into
        self._next_handle = 0
        self._watching: set[str] = set()  # workflow PIDs whose close this process hears of (monitor/link)
        main = self.sb.load_entry(self.world.app, self.entry)
        self.proc.start(main, *(self.sb.table(a) for a in args))

    def _release(self) -> None:
        """The Lua state goes back to the shared pool (processes come and go by the thousand)."""
        state = self.sb.state
        if self.sb.release():
            STATES.give_back(state)

    # -- plumbing ------------------------------------------------------------------------------------

    def _info(self) -> Any:
        return self.sb.table({"pid": self.run.pid, "entry_id": self.entry.id})

    def wake(self) -> None:
        """Step at the current instant (after whatever else is due now)."""
        if not self.run.closed and not self._wake_pending:
            self._wake_pending = True
            self.world.agenda.at(self.world.now_ns, self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self.step()

    def deliver(self, topic: str, sender: str, values: tuple[Any, ...]) -> None:
        """A message from a workflow, another process or the test."""
        if self.run.closed:
            return
        self.rt.deliver(topic.encode(), sender.encode(), *(self.sb.table(v) for v in values))
        self.wake()

    def event(self, event: dict[str, Any]) -> None:
        """A lifecycle event for `process.events()`; a LINK_DOWN kills a process that does not trap
        links (at its next step, as Wippy checks when it flushes the mailbox)."""
        if self.run.closed:
            return
        if event.get("kind") == LINK_DOWN:
            self._link_down = True
        result = event.get("result")
        if isinstance(result, dict):
            error = result.get("error")
            lua_result = (
                {"error": self._lua_error(error)}
                if isinstance(error, ErrorInfo)
                else {"value": result.get("value")}
            )
            event = {**event, "result": lua_result}
        self.rt.deliver_event(self._event_table(event))
        self.wake()

    def _event_table(self, event: dict[str, Any]) -> Any:
        result = event.get("result")
        plain = {k: v for k, v in event.items() if k != "result"}
        table = self.sb.table(plain)
        if isinstance(result, dict):
            out = self.sb.lua.table()
            for key, value in result.items():
                out[key.encode()] = value if key == "error" else self.sb.table(value)
            table.result = out
        return table

    def _traps_links(self) -> bool:
        return bool(self.sb.values.to_python(self.rt.section(b"messaging").options.trap_links))

    # -- stepping ------------------------------------------------------------------------------------

    def step(self) -> None:
        while not self.run.closed:
            if self._link_down:
                self._link_down = False
                if not self._traps_links():
                    self.kill(ErrorInfo("Internal", "linked process failed", False))
                    return
            outcome = self.proc.step()
            if outcome.status == "finished":
                self._finish(outcome.values)
                return
            if outcome.status == "failed":
                self._close("failed", failure=outcome.failure)
                return
            if outcome.status == "deadlock":
                self._close("failed", failure=LuaFailure(outcome.report))
                return
            if not any([self._execute(c) for c in outcome.commands]):
                return

    def _finish(self, values: tuple[Any, ...]) -> None:
        """Main returned: `v, err` with an error (or an error string) second is a failed exit (as Wippy's
        process engine reads a main's return values)."""
        exit_error = None
        if len(values) >= 2 and values[1] is not None:
            second = values[1]
            if bool(self.sb.api.is_error(second)):
                exit_error = error_info(self.sb, second)
            elif isinstance(second, bytes):
                exit_error = ErrorInfo("Internal", text(second), False)
        self._close("finished", values=tuple(self._python(v) for v in values), exit_error=exit_error)

    def kill(self, why: ErrorInfo) -> None:
        """Ended from outside (terminate, a linked process's failure): no more Lua runs."""
        if not self.run.closed:
            self._close("failed", failure=LuaFailure(why.message, kind=why.kind), exit_error=why)

    def _close(
        self,
        status: str,
        *,
        values: tuple[Any, ...] = (),
        failure: LuaFailure | None = None,
        exit_error: ErrorInfo | None = None,
    ) -> None:
        self.run.status, self.run.values, self.run.failure = status, values, failure
        if exit_error is None and failure is not None:
            if failure.error is not None:
                exit_error = error_info(self.sb, failure.error)
            else:
                exit_error = ErrorInfo(failure.kind or "Internal", str(failure), failure.retryable)
        self.run.exit_error = exit_error
        for item in self._timers.values():
            item.cancelled = True
        self.proc.kill_all()
        self._release()
        self._ended()
        callbacks, self.on_close = self.on_close, []
        for callback in callbacks:
            callback(self.run)

    def _python(self, value: Any) -> Any:
        """A returned value as Python: errors as their message, tables that JSON cannot hold as text."""
        if bool(self.sb.api.is_error(value)):
            return text(self.sb.api.error_string(value))
        try:
            return self.sb.values.to_python(value)
        except EncodeError as exc:
            return f"<unencodable value: {exc}>"

    def _args(self, args: Any) -> tuple[Any, ...]:
        return tuple(self._python(args[i]) for i in range(1, int(args.n) + 1))

    def _reply_error(self, task: int, kind: str, message: str) -> bool:
        self.proc.reply(task, None, self.sb.error(kind, message, False))
        return True

    def _reply_info(self, task: int, info: ErrorInfo) -> bool:
        self.proc.reply(task, None, self._lua_error(info))
        return True

    def _lua_error(self, info: ErrorInfo) -> Any:
        return self.sb.error(info.kind, info.full_message(), info.retryable, info.details)

    def _execute(self, host: HostCommand) -> bool:
        """Serve one command; True when the process can run on at once."""
        raise NotImplementedError

    def _ended(self) -> None:
        """Tell the process table this process is gone (after its Lua state is released, before the
        `on_close` callbacks run)."""
        raise NotImplementedError
