"""The state of one workflow execution between its tasks: who it is, what its coroutines wait on, and
the helpers that event application and command handling share."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from temporalio.api.common.v1 import Payload

from wftest.app import App, LuaEntry
from wftest.encoding.payloads import python_to_payload
from wftest.errors import UserError
from wftest.history.failures import ErrorInfo
from wftest.lua.host import LuaHost
from wftest.worker import commands as cmd


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
    """Who the workflow is: what `workflow.info()` and its PID tell."""

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


@dataclass
class PendingActivity:
    """An activity that a coroutine (`funcs.call`) or a future (`funcs.async`) waits on, by scheduled id."""

    activity_id: str
    activity_type: str
    task: int | None = None  # funcs.call: the coroutine waiting for the result
    future: int | None = None  # funcs.async: the future to resolve
    cancelled: bool = False


@dataclass
class PendingChild:
    """A child workflow that its parent waits on, by initiated id."""

    workflow_id: str
    workflow_type: str
    pid: str
    spawn: bool  # process.spawn*: the PID at start, an EXIT event at close; else the result at close
    task: int | None = None
    run_id: str = ""
    started_event_id: int = 0


@dataclass
class PendingTimer:
    """A sleep, timer or ticker, by timer id."""

    kind: str  # "sleep" | "after" | "ticker"
    task: int | None = None
    channel: int | None = None
    duration_ns: int = 0
    alive: bool = True
    handle: int = 0  # what Lua holds for timer:stop()/reset(); stays while a ticker re-arms
    where: str = "?"  # the line that made it: a ticker's re-arms are reported there


@dataclass
class OpenTask:
    """The commands of the workflow task being built."""

    next_seq: int
    commands: list[cmd.AnyCommand] = field(default_factory=list)


def parse_pid(text_value: str) -> tuple[str, str, str] | None:
    """`{node@host|uniq}` → (node, host, uniq); None when it is not a PID."""
    if not (text_value.startswith("{") and text_value.endswith("}")) or "|" not in text_value:
        return None
    inner = text_value[1:-1]
    address, _, uniq = inner.partition("|")
    node, _, host = address.partition("@")
    return node, host, uniq


class ExecutionState(LuaHost):
    """What a workflow execution keeps between tasks, set up by `WorkflowExecution.__init__`."""

    app: App
    entry: LuaEntry
    info: WorkflowInfo
    context: dict[str, Any]
    local_send: Callable[[str, str, tuple[Any, ...], str], None] | None
    now_ns: int
    closed: bool
    _activities: dict[int, PendingActivity]
    _timers: dict[str, PendingTimer]
    _timer_by_handle: dict[int, str]
    _side_effects: int
    _versions: dict[str, int]
    _signals: dict[int, int]
    _children: dict[int, PendingChild]
    _exits: deque[dict[str, Any]]
    _completions: deque[tuple[int, tuple[Any, ...]]]
    _pushes: deque[tuple[str, int, Any]]
    _task: OpenTask | None
    _resolver: Resolver | None

    def _emit(
        self, command_type: Callable[..., cmd.AnyCommand], where: str, ids: int = 1, **fields: Any
    ) -> cmd.AnyCommand:
        task = self._task
        assert task is not None
        command = command_type(seq=task.next_seq, where=where, **fields)
        task.next_seq += ids
        task.commands.append(command)
        return command

    def _lua_error(self, info: ErrorInfo) -> Any:
        return self.sb.error(info.kind, info.full_message(), info.retryable, info.details)

    def _header(self) -> dict[str, Payload]:
        if not self.context:
            return {}
        return {"wippy-context": python_to_payload(self.context)}

    def _start_timer(self, timer: PendingTimer, where: str) -> str:
        assert self._task is not None
        timer_id = str(self._task.next_seq)
        self._emit(cmd.StartTimer, where, timer_id=timer_id, duration_ns=timer.duration_ns)
        self._timers[timer_id] = timer
        return timer_id
