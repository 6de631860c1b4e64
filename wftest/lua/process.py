"""A Wippy Lua process: the scheduler of `lib/process.lua` driven from Python, one step at a time.

Workflows and plain processes both run on this. A step runs every ready coroutine until all are
blocked, and reports the host commands they yielded in yield order; the driver answers each command
with `reply`, feeds host-owned channels with `push`, and steps again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wftest.lua import engine
from wftest.lua.sandbox import LuaFailure, Sandbox
from wftest.lua.watchdog import WATCHDOG, task_timeout

# The fields of the scheduler's API (`lib/process.lua`) the host calls.
_FIELDS = (
    *("start", "step", "reply", "external_channel", "channel_id", "push", "close", "waiting"),
    *("kill_all", "main_handle"),
)


@dataclass(frozen=True)
class HostCommand:
    task: int  # the coroutine that waits for the reply
    table: Any  # the Lua command table


@dataclass(frozen=True)
class StepOutcome:
    """What one step ended in: exactly one of the fields below is meaningful, named by `status`."""

    status: str  # "commands" | "idle" | "finished" | "failed" | "deadlock"
    commands: tuple[HostCommand, ...] = ()
    values: tuple[Any, ...] = ()
    failure: LuaFailure | None = None
    report: str = ""


class LuaProcess:
    """The scheduler of one sandbox. Create it before loading the entry (it installs `channel` and
    `coroutine.spawn`), then `start` the entry's function."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._p = sandbox.library_api("process.lua", fields=_FIELDS)
        self.table = self._p.table  # the Lua-side scheduler API, for other bundled Lua halves
        # One watched turn for every step (steps never nest), its limit read once: a step is the hot path.
        self._turn = WATCHDOG.watch(sandbox.describe_turn, task_timeout())

    def start(self, fn: Any, *args: Any) -> None:
        self._p.start(fn, *args)

    def step(self) -> StepOutcome:
        try:
            with self._turn:
                result = self._p.step()
        except engine.LuaError as exc:
            return StepOutcome("failed", failure=self.sandbox.lua_failure(exc))
        if self.sandbox.state.exhausted and not (isinstance(result, tuple) and result[0] == b"failed"):
            return StepOutcome("failed", failure=self.sandbox.lua_failure(None))
        if not isinstance(result, tuple):
            return StepOutcome(result.decode())
        status = result[0]
        if status == b"commands":
            pairs = zip(result[1::2], result[2::2], strict=True)
            return StepOutcome("commands", commands=tuple([HostCommand(t, c) for t, c in pairs]))
        if status == b"finished":
            return StepOutcome("finished", values=result[2 : 2 + result[1]])
        if status == b"failed":
            return StepOutcome("failed", failure=self.sandbox.describe_failure(result[1]))
        if status == b"deadlock":
            return StepOutcome("deadlock", report=result[1].decode())
        return StepOutcome(status.decode())

    def reply(self, task: int, *values: Any) -> bool:
        """Queue `task` to resume with `values` at the next step."""
        return bool(self._p.reply(task, *values))

    def external_channel(self, size: int) -> Any:
        """A channel the host feeds (timers, futures, subscriptions)."""
        return self._p.external_channel(size)

    def channel_id(self, channel: Any) -> int | None:
        cid = self._p.channel_id(channel)
        return None if cid is None else int(cid)

    def push(self, channel_id: int, value: Any) -> bool:
        """Offer a value to a host-fed channel; False when nobody can take it yet."""
        return bool(self._p.push(channel_id, value))

    def close(self, channel_id: int) -> None:
        self._p.close(channel_id)

    def waiting(self, *, lines: bool = False) -> str:
        """Where each live coroutine waits (empty when none is alive); with `lines`, also the Lua
        `file:line` it waits at."""
        return bytes(self._p.waiting(lines)).decode("utf-8", "replace")

    def kill_all(self) -> None:
        self._p.kill_all()
