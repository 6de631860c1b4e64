"""What the simulated server keeps per workflow execution, and its errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History

from wftest.app import LuaEntry
from wftest.encoding.jsontext import GO_NIL
from wftest.encoding.payloads import payload_to_python
from wftest.errors import UserError
from wftest.history.builder import ExecutionRef, HistoryBuilder
from wftest.history.jsonio import history_to_json
from wftest.worker import commands as cmd
from wftest.worker.execution import WorkflowExecution
from wftest.worker.workflow_state import WorkflowInfo

IDENTITY = "wftest@simulator"  # the worker identity the simulated server records


class SimulationError(UserError):
    """The simulation cannot go on (not a workflow failure): e.g. an endless activity retry."""


class UnknownWorkflowError(SimulationError):
    """The workflow to start is not a workflow entry of the app."""


class QueryError(SimulationError):
    """The workflow rejected a query (Wippy answers only `pid` and `state`)."""


@dataclass
class ActivityState:
    """One scheduled activity: the command, its attempts, and the agenda item in flight."""

    command: cmd.ScheduleActivityTask
    scheduled_event_id: int
    scheduled_ns: int
    attempt: int = 1
    started_ns: int = 0
    last_failure: Failure | None = None
    pending: Any = None  # the agenda item closing the attempt in flight, or starting the next one
    running: bool = False  # an attempt is in flight
    cancel_requested: bool = False


class WorkflowRun:
    """A workflow started in the world: its status, result and history."""

    def __init__(
        self, clock: Callable[[], int], workflow_id: str, run_id: str, entry: LuaEntry | None, start_ns: int
    ) -> None:
        self._clock = clock
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.entry = entry
        self.start_ns = start_ns
        self.close_ns: int | None = None
        #: At close: topics of signals that arrived and nothing listened for, and the topics listened to.
        self.unheard: tuple[list[str], list[str]] = ([], [])
        self.status = "running"
        self.result_payload: Payload | None = None
        self.failure: Failure | None = None
        self.builder = HistoryBuilder()
        self.next_run: WorkflowRun | None = None  # the run that followed (continue-as-new or a retry)
        self.previous_run: WorkflowRun | None = None
        self.next_cron_run: WorkflowRun | None = None  # cron: the run scheduled when this one closed

    @property
    def latest(self) -> WorkflowRun:
        """The last run of this workflow's continue-as-new chain."""
        run = self
        while run.next_run is not None:
            run = run.next_run
        return run

    @property
    def closed(self) -> bool:
        return self.status != "running"

    @property
    def result(self) -> Any:
        """The decoded result (None when the workflow returned nothing)."""
        return _decoded(self.result_payload)

    @property
    def history(self) -> History:
        return self.builder.build()

    def history_json(self) -> str:
        return history_to_json(self.history)

    @property
    def elapsed_ns(self) -> int:
        end = self.close_ns if self.close_ns is not None else self._clock()
        return end - self.start_ns


@dataclass(frozen=True)
class Parent:
    """Where a child reports back: the parent's id and the StartChildWorkflowExecutionInitiated event."""

    workflow_id: str
    ref: ExecutionRef
    initiated_event_id: int
    started_event_id: int
    close_policy: str


@dataclass(frozen=True)
class StartOptions:
    """How a run starts beyond its type, id, input and context."""

    task_queue: str | None = None
    timeout_ns: int = 0  # run (or execution) timeout, on the virtual clock
    start_delay_ns: int = 0  # no workflow task before this
    memo: dict[str, Payload] | None = None
    search_attributes: dict[str, Payload] | None = None
    retry_policy: cmd.RetryPolicy | None = None  # retries of a failed run as a new run
    attempt: int = 1
    cron_schedule: str = ""  # each run starts at the next matching minute; a closed run schedules the next


@dataclass
class UpdateHandle:
    """An update sent to a workflow: admitted, then accepted or rejected, then completed."""

    update_id: str
    name: str
    args: tuple[Payload, ...]
    status: str = "admitted"  # "admitted" | "accepted" | "rejected" | "completed"
    accepted_event_id: int = 0
    delivered_started_id: int = 0  # the WorkflowTaskStarted of the task that delivered it
    result_payload: Payload | None = None
    failure: Failure | None = None
    reason: str = ""

    @property
    def result(self) -> Any:
        """The decoded result (None when the update returned nothing)."""
        return _decoded(self.result_payload)


@dataclass
class WorkflowState:
    """The server's view of one execution: its run, the worker driving it, and what is in flight."""

    run: WorkflowRun
    execution: WorkflowExecution  # None once the run closed (its Lua state went back to the pool)
    info: WorkflowInfo
    context: dict[str, Any] = field(default_factory=dict)  # the Wippy context it started with
    parent: Parent | None = None
    children: list[str] = field(default_factory=list)
    last_started_id: int = 0
    new_events: bool = True
    activities: dict[int, ActivityState] = field(default_factory=dict)
    updates: dict[str, UpdateHandle] = field(default_factory=dict)
    options: StartOptions = field(default_factory=StartOptions)
    not_before_ns: int = 0  # start delay or retry backoff: no workflow task earlier
    pending_updates: list[UpdateHandle] = field(default_factory=list)


def _decoded(payload: Payload | None) -> Any:
    """A result payload as Python; Lua's nil and no payload at all are both None."""
    if payload is None:
        return None
    value = payload_to_python(payload)
    return None if value is GO_NIL else value


def unheard_report(unheard: list[str], heard: list[str]) -> list[str]:
    """One line per signal topic that arrived and nothing listened for, with the closest listened topic."""
    lines = []
    for topic in unheard:
        close = difflib.get_close_matches(topic, heard, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        lines.append(f"signal topic {topic!r} arrived, but nothing listens for it{hint}")
    return lines
