"""The world's process host side, as Wippy's process host and topology keep it: PIDs, the name
registry, monitors and links, and who is gone (a message to a finished process fails with NotFound)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from typing import Any

from wftest.app import LuaEntry
from wftest.history.failures import ErrorInfo
from wftest.lua.compiler import CompileError
from wftest.lua.sandbox import LoadError, LuaFailure
from wftest.sim.process_driver import EXIT, LINK_DOWN, TEST_HOST, ProcessDriver, ProcessRun
from wftest.sim.processes import PROCESS_HOST, Mailbox, PlainProcess, runnable_kind
from wftest.sim.services import ProcessWorld
from wftest.worker.workflow_state import parse_pid

CANCEL = "pid.cancel"
DEFAULT_MAX_PROCESSES = 10_000  # a process.host without `host.max_processes`


def _rfc3339(now_ns: int) -> str:
    moment = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


class ProcessTable:
    """The world's process host side: PIDs, names, monitors, links, and the processes that are gone."""

    def __init__(self, world: ProcessWorld) -> None:
        self.world = world
        self.live: dict[str, PlainProcess | Mailbox] = {}
        self.gone: set[str] = set()
        self.names: dict[str, str] = {}  # registered name -> PID
        self.started: list[ProcessRun] = []  # every process, in start order (for reports)
        self._ids = itertools.count(1)

    def new_pid(self, host: str) -> str:
        return f"{{wftest@{host}|0x{next(self._ids):05x}}}"

    # -- starting ------------------------------------------------------------------------------------

    def start(
        self,
        entry: LuaEntry,
        args: tuple[Any, ...],
        *,
        host: str = TEST_HOST,
        context: dict[str, Any] | None = None,
        parent: str = "",
        name: str | None = None,
        messages: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> PlainProcess:
        """A new process of `entry`, first stepped at the current instant (after what is due now)."""
        pid = self.new_pid(host)
        process = PlainProcess(
            self.world, self, entry, args, pid, host=host, context=context or {}, parent=parent
        )
        self.live[pid] = process
        self.started.append(process.run)
        if name:
            self.names[name] = pid
            process.names.append(name)
        for topic, values in messages or []:
            process.deliver(topic, parent, values)
        process.wake()
        return process

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
        """`process.spawn*` on a `process.host`: the new process, the PID a name already holds (Wippy's
        spawn-or-signal: the messages go to it), or the error."""
        if name and name in self.names:
            existing = self.names[name]
            for topic, values in messages:
                self.send(existing, topic, values, parent)
            return existing
        entry = self.world.app.entries.get(entry_id)
        if not isinstance(entry, LuaEntry) or not runnable_kind(entry.kind):
            if entry is None:
                return ErrorInfo("NotFound", f"entry not found: {entry_id}", False)
            return ErrorInfo(
                "Invalid",
                f"unsupported entry kind: '{entry_id}' is a {entry.kind} entry; a process host runs "
                "process.lua and function.lua entries",
                False,
            )
        cap = self.max_processes(host_id)
        running = sum(1 for p in self.live.values() if isinstance(p, PlainProcess) and p.run.host == host_id)
        if running >= cap:
            return ErrorInfo(
                "Unavailable",
                f"host '{host_id}' is at its limit of {cap} processes (host.max_processes): "
                "a spawn loop that never lets its processes finish?",
                False,
            )
        try:
            return self.start(
                entry, args, host=host_id, context=context, parent=parent, name=name, messages=messages
            )
        except (LoadError, CompileError, LuaFailure) as exc:
            return ErrorInfo("Internal", f"spawn failed: {entry_id}: {exc}", False)

    def max_processes(self, host_id: str) -> int:
        host = self.world.app.entries.get(host_id)
        config = host.config.get("host") if host is not None else None
        value = config.get("max_processes") if isinstance(config, Mapping) else None
        return int(value) if isinstance(value, int) and value > 0 else DEFAULT_MAX_PROCESSES

    # -- addressing ----------------------------------------------------------------------------------

    def resolve(self, dest: str) -> str | None:
        """A PID or a registered name → the PID (None: neither)."""
        if dest in self.names:
            return self.names[dest]
        return dest if parse_pid(dest) is not None else None

    def process(self, pid: str) -> PlainProcess | None:
        found = self.live.get(pid)
        return found if isinstance(found, PlainProcess) else None

    def send(self, dest: str, topic: str, values: tuple[Any, ...], sender: str) -> ErrorInfo | None:
        """A message to a process or mailbox by PID or name, or as a signal to a workflow."""
        pid = self.resolve(dest)
        if pid is None:
            return ErrorInfo("NotFound", f"could not resolve '{dest}' as PID or registered name", False)
        target = self.live.get(pid)
        if target is not None:
            target.deliver(topic, sender, values)
            return None
        if pid in self.gone:
            return ErrorInfo("NotFound", f"process not found: {pid}", False)
        parsed = parse_pid(pid)
        run = self.world.find_run(parsed[2]) if parsed is not None else None
        if run is None or run.closed:
            if parsed is not None and self._is_process_host(parsed[1]):
                return ErrorInfo("NotFound", f"process not found: {pid}", False)
            return ErrorInfo("NotFound", f"could not resolve '{dest}' as PID or registered name", False)
        self.world.signal(run, topic, *values, sender=sender)
        return None

    def _is_process_host(self, host: str) -> bool:
        entry = self.world.app.entries.get(host)
        return host == TEST_HOST or (entry is not None and entry.kind == PROCESS_HOST)

    # -- lifecycle -----------------------------------------------------------------------------------

    def closed(self, process: ProcessDriver) -> None:
        """A process ended: its names are released, monitors hear EXIT, links hear LINK_DOWN when it
        ended abnormally (and die of it unless they trap links)."""
        pid = process.run.pid
        self.live.pop(pid, None)
        self.gone.add(pid)
        for name in process.names:
            if self.names.get(name) == pid:
                del self.names[name]
        process.names.clear()
        result: dict[str, Any] = (
            {"error": process.run.exit_error}
            if process.run.exit_error is not None
            else {"value": process.run.result}
        )
        at = self.world.now_ns // 10**9
        for watcher in list(process.monitors):
            target = self.live.get(watcher)
            if target is not None:
                target.event({"kind": EXIT, "from": pid, "at": at, "result": result})
        process.monitors.clear()
        links = list(process.links)
        process.links.clear()
        for other in links:
            peer = self.process(other)
            if peer is None:
                continue
            peer.links.pop(pid, None)
            if process.run.exit_error is not None:
                peer.event({"kind": LINK_DOWN, "from": pid, "at": at, "result": result})

    def terminate(self, pid: str) -> None:
        process = self.process(pid)
        if process is not None:
            process.kill(ErrorInfo("Canceled", "process terminated", False))

    def cancel(self, pid: str, sender: str, reason: str | None) -> None:
        process = self.process(pid)
        if process is not None:
            event: dict[str, Any] = {"kind": CANCEL, "from": sender, "at": _rfc3339(self.world.now_ns)}
            if reason:
                event["reason"] = reason
            process.event(event)

    def report(self) -> list[str]:
        """One line per process the world ran: how it ended, or where it waits."""
        lines = []
        for run in self.started:
            live = self.process(run.pid)
            if live is not None:
                state = f"running; {live.proc.waiting() or 'nothing can wake it'}"
            elif run.exit_error is not None:
                state = f"{run.status}: {run.exit_error.kind}: {run.exit_error.full_message()}"
            else:
                state = f"{run.status}, returned {run.result!r}"
            lines.append(f"process {run.pid} ({run.entry_id}): {state}")
        return lines

    def blocked(self) -> list[str]:
        """Where every live process waits, one line each."""
        lines = []
        for pid, process in self.live.items():
            if isinstance(process, PlainProcess):
                lines.append(f"process {pid} ({process.entry.id}): {process.proc.waiting() or 'nothing'}")
        return lines
