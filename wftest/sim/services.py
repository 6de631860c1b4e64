"""What the world's own parts (links between workflows, the HTTP handler runner, plain processes) ask of
the world: the protocols `World` satisfies, so those parts never import the world module."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from wftest.app import App
from wftest.sim.activities import ActivityRunner, Mock
from wftest.sim.resources import Resources
from wftest.sim.state import Parent, StartOptions, WorkflowRun, WorkflowState
from wftest.sim.timing import Agenda


class Executions(Protocol):
    """The workflow executions of a world, as one workflow's commands reach another."""

    @property
    def now_ns(self) -> int: ...

    def workflow_state(self, workflow_id: str) -> WorkflowState | None:
        """The execution with this id (its latest run), if there is one."""
        ...

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
        """A new execution, its WorkflowExecutionStarted recorded."""
        ...

    def serve_without_code(self, wf: WorkflowState) -> None:
        """Close a run that has no Lua behind it (a Python workflow mock, or an unknown type)."""
        ...

    def close(
        self, wf: WorkflowState, status: str, *, result: Payload | None = None, failure: Failure | None = None
    ) -> None:
        """The run is over; what its close sets off (parent report, watchers, cron) follows."""
        ...


class AppTime(Protocol):
    """A world's app, its virtual now and the agenda of what is due when."""

    @property
    def app(self) -> App: ...

    @property
    def now_ns(self) -> int: ...

    @property
    def agenda(self) -> Agenda: ...


class Clock(AppTime, Protocol):
    """A world's virtual clock, as code that must wait for the world to move drives it."""

    def advance(self, duration_ns: int) -> None:
        """Let `duration_ns` of virtual time pass, doing everything due in it."""
        ...


class ProcessWorld(AppTime, Protocol):
    """A world as its plain processes and their table reach it: its app and time, resources and activity
    mocks, and the workflows a process starts, watches, signals and stops."""

    @property
    def rng(self) -> random.Random: ...

    @property
    def memory_limit(self) -> int | None: ...

    @property
    def instruction_budget(self) -> int | None: ...

    @property
    def resources(self) -> Resources: ...

    @property
    def mocks(self) -> Mapping[str, Mock]: ...

    @property
    def activity_runner(self) -> ActivityRunner: ...

    def start_from_process(
        self,
        workflow_type: str,
        host: str,
        payloads: list[Payload],
        options: dict[str, Any],
        context: dict[str, Any],
        name: str | None,
        messages: list[tuple[str, tuple[Any, ...]]],
        sender: str,
    ) -> tuple[WorkflowRun, str] | str:
        """A top-level workflow started on a `temporal.worker` host: (run, PID), or an error message."""
        ...

    def find_run(self, workflow_id: str) -> WorkflowRun | None:
        """The latest run with this workflow id, if there is one."""
        ...

    def watch(self, run: WorkflowRun, callback: Callable[[WorkflowRun], None]) -> None:
        """Call `callback(run)` when this run (or the run it continues as) closes."""
        ...

    def signal(self, run: WorkflowRun, name: str, *args: Any, sender: str | None = None) -> None:
        """A message to a running workflow, now."""
        ...

    def terminate(self, run: WorkflowRun, reason: str = "") -> None:
        """Stop a running workflow now."""
        ...

    def request_cancel(self, run: WorkflowRun, reason: str = "") -> None:
        """Ask a running workflow to cancel."""
        ...
